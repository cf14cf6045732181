"""A property's setter and deleter (``Export.setter``/``Export.deleter``): what a consumer
that assigns (``name=``) or deletes (``name-``) a member needs, and what ``diff`` reports
(docs/design.md §3.3 R6, §3.6; docs/design-notes.md, "Link truth")."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siglink.contracts.compat import check_export
from siglink.contracts.diff import diff_manifests
from siglink.contracts.manifest import Export, ExportKind, Manifest, Unit
from siglink.contracts.types import parse_type
from siglink.contracts.verdict import Verdict


def _box(kind: ExportKind, setter: bool | None = None,
         deleter: bool | None = None) -> Export:
    size = Export("lib.Box.size", kind, type=parse_type("int"), setter=setter, deleter=deleter)
    return Export("lib.Box", ExportKind.CLASS, members={"size": size})


ATTRIBUTE = _box(ExportKind.ATTRIBUTE)
UNKNOWN = _box(ExportKind.PROPERTY)  # an older manifest: not recorded
READ_ONLY = _box(ExportKind.PROPERTY, setter=False, deleter=False)
SETTABLE = _box(ExportKind.PROPERTY, setter=True, deleter=False)
DELETABLE = _box(ExportKind.PROPERTY, setter=False, deleter=True)
FULL = _box(ExportKind.PROPERTY, setter=True, deleter=True)

READ, ASSIGN, DELETE = ["size"], ["size", "size="], ["size", "size-"]
BOTH = ["size", "size=", "size-"]


def _r6(verdict: Verdict) -> list[tuple[str, str]]:
    return [(p.rule.value, p.severity.value) for p in verdict.problems]


@pytest.mark.parametrize(("old", "new", "used", "ok"), [
    (ATTRIBUTE, SETTABLE, ASSIGN, True),
    (ATTRIBUTE, READ_ONLY, ASSIGN, False),
    (ATTRIBUTE, UNKNOWN, ASSIGN, False),  # not recorded: refused, as before
    (ATTRIBUTE, READ_ONLY, READ, True),
    (ATTRIBUTE, SETTABLE, DELETE, False),
    (ATTRIBUTE, DELETABLE, DELETE, True),
    (ATTRIBUTE, DELETABLE, ASSIGN, False),
    (ATTRIBUTE, SETTABLE, BOTH, False),
    (ATTRIBUTE, FULL, BOTH, True),
    (ATTRIBUTE, _box(ExportKind.PROPERTY, setter=True), BOTH, False),  # deleter unknown
    (SETTABLE, READ_ONLY, ASSIGN, False),  # the setter removed
    (SETTABLE, READ_ONLY, READ, True),
    (UNKNOWN, READ_ONLY, ASSIGN, False),  # assigned in the version built against: it had one
    (READ_ONLY, SETTABLE, ASSIGN, True),  # a setter added
    (FULL, SETTABLE, DELETE, False),  # the deleter removed
    (FULL, SETTABLE, ASSIGN, True),
    (SETTABLE, UNKNOWN, ASSIGN, True),  # not recorded now: as before, unverified
    (SETTABLE, ATTRIBUTE, BOTH, True),  # an attribute takes both
], ids=["attr->setter, assigned", "attr->no setter, assigned", "attr->unknown, assigned",
        "attr->no setter, read", "attr->setter only, deleted", "attr->deleter, deleted",
        "attr->deleter only, assigned", "attr->setter only, both", "attr->both, both",
        "attr->deleter unknown, both", "setter removed, assigned", "setter removed, read",
        "unknown->no setter, assigned", "setter added", "deleter removed, deleted",
        "deleter removed, assigned", "property->unknown, assigned", "property->attribute"])
def test_what_a_consumer_that_writes_a_member_needs(old: Export, new: Export, used: list[str],
                                                    ok: bool) -> None:
    verdict = check_export(old, new, members=used, consumer=True)
    assert verdict.ok is ok, verdict.explain()
    if not ok:
        assert ("R6", "incompatible") in _r6(verdict)


def test_the_refusal_names_what_the_property_lacks() -> None:
    verdict = check_export(ATTRIBUTE, READ_ONLY, members=ASSIGN, consumer=True)
    assert verdict.explain() == (
        "R6 member size: expected attribute, found property; kind changed; the consumer "
        "assigns it, and the property has no setter (incompatible)")
    removed = check_export(SETTABLE, READ_ONLY, members=ASSIGN, consumer=True)
    assert removed.explain() == (
        "R6 member size: expected property with a setter, found property without a setter; "
        "the property lost its setter; the consumer assigns it (incompatible)")


def test_an_attribute_that_became_a_settable_property_reads_as_the_attribute() -> None:
    """The assignment is served; the value read is still compared (P13 where it widened)."""
    verdict = check_export(ATTRIBUTE, SETTABLE, members=ASSIGN, consumer=True)
    assert _r6(verdict) == [("R6", "harmless")]
    assert "has a setter" in verdict.problems[0].note
    widened = dataclasses.replace(SETTABLE.members["size"], type=parse_type("int | None"),
                                  digest="")
    new = dataclasses.replace(SETTABLE, members={"size": widened}, digest="")
    assert [p.rule.value for p in check_export(ATTRIBUTE, new, members=ASSIGN).incompatible] \
        == ["P13"]


def test_a_written_name_on_an_unknown_object_is_a_review() -> None:
    """``x.size = 1`` on an object of unknown type may not be a ``Box``: review, unverified
    (incompatible under ``strict``)."""
    for old in (ATTRIBUTE, SETTABLE):
        verdict = check_export(old, READ_ONLY, members=ASSIGN, written=["size"])
        assert verdict.ok and ("R6", "review") in _r6(verdict), verdict.explain()
        assert verdict.unverified
        strict = check_export(old, READ_ONLY, members=ASSIGN, written=["size"],
                              policy="strict")
        assert not strict.ok


def test_an_unknown_setter_where_one_was_recorded_is_unverified() -> None:
    verdict = check_export(SETTABLE, UNKNOWN, members=ASSIGN)
    assert verdict.ok
    assert verdict.unverified == (
        "member size: whether the property still has a setter is not recorded",)


def _release(version: str, box: Export) -> Manifest:
    return Manifest(Unit("lib", version), {box.path: box})


@pytest.mark.parametrize(("old", "new", "breaking"), [
    (SETTABLE, READ_ONLY, True),  # a consumer that assigns it fails
    (FULL, SETTABLE, True),  # ... that deletes it
    (READ_ONLY, SETTABLE, False),  # a setter added
    (UNKNOWN, READ_ONLY, False),  # not known to have had one
    (SETTABLE, UNKNOWN, False),  # not known to have lost it
], ids=["setter removed", "deleter removed", "setter added", "was unknown", "is unknown"])
def test_diff_reports_a_removed_setter(old: Export, new: Export, breaking: bool) -> None:
    """``siglink diff`` has no consumer record: a setter removed breaks every consumer that
    assigns the member."""
    result = diff_manifests(_release("1.0", old), _release("1.1", new))
    assert result.breaking is breaking
    if breaking:
        (path, verdict), = result.incompatible
        assert path == "lib.Box" and verdict is not None
        assert [(p.rule.value, p.path) for p in verdict.incompatible] == [
            ("R6", "lib.Box member size")]
        assert "a consumer that" in verdict.incompatible[0].note


def test_setter_and_deleter_round_trip_and_take_part_in_the_digest() -> None:
    manifest = _release("1.0", SETTABLE)
    again = Manifest.loads(manifest.dumps())
    size = again.exports["lib.Box"].members["size"]
    assert (size.setter, size.deleter) == (True, False)
    assert again.exports["lib.Box"].digest == SETTABLE.digest
    assert len({SETTABLE.digest, READ_ONLY.digest, UNKNOWN.digest, FULL.digest}) == 4


def test_an_old_manifest_without_the_fields_loads_as_unknown() -> None:
    """A manifest written before setters were recorded: no ``setter``/``deleter`` keys (or
    null) read as not known, and its digest is what it was."""
    old = {"format": 1, "unit": {"name": "lib", "version": "1.0"},
           "exports": {"lib.Box": {"kind": "class", "members": {
               "size": {"kind": "property", "type": "int"},
               "other": {"kind": "property", "type": "int", "setter": None}}}}}
    manifest = Manifest.loads(json.dumps(old))
    members = manifest.exports["lib.Box"].members
    assert (members["size"].setter, members["size"].deleter) == (None, None)
    assert members["other"].setter is None
    assert "setter" not in manifest.dumps()
    assert members["size"].digest == UNKNOWN.members["size"].digest


_ACCESS = st.sampled_from([False, None, True])
_RANK = {False: 0, None: 1, True: 2}


class TestMoreAccessNeverRefusesMore:
    """R6 (docs/design.md §3.3): what a property takes decides only uses that need it. A new
    version whose property takes more (a setter or deleter where there was none or it was not
    known) is never refused where the one that takes less is linked, for any use and either
    kind built against; and the manifest keeps both fields, digest included."""

    @settings(max_examples=200, deadline=None)
    @given(st.sampled_from([ExportKind.ATTRIBUTE, ExportKind.PROPERTY]),
           st.tuples(_ACCESS, _ACCESS), st.tuples(_ACCESS, _ACCESS),
           st.sets(st.sampled_from(["size=", "size-"])), st.booleans())
    def test_monotone(self, kind: ExportKind, one: tuple[bool | None, bool | None],
                      other: tuple[bool | None, bool | None], writes: set[str],
                      guessed: bool) -> None:
        fewer = [min(a, b, key=_RANK.__getitem__) for a, b in zip(one, other, strict=True)]
        more = [max(a, b, key=_RANK.__getitem__) for a, b in zip(one, other, strict=True)]
        old = _box(kind, setter=True, deleter=True) if kind is ExportKind.PROPERTY else (
            _box(kind))
        used = ["size", *sorted(writes)]
        written = ["size"] if guessed else []
        less_ok, more_ok = (
            check_export(old, _box(ExportKind.PROPERTY, *access), members=used,
                         written=written, consumer=True)
            for access in (fewer, more))
        assert not less_ok.ok or more_ok.ok, (less_ok.explain(), more_ok.explain())
        if not writes:
            assert more_ok.ok and less_ok.ok  # a reader needs neither

    @settings(max_examples=50, deadline=None)
    @given(_ACCESS, _ACCESS)
    def test_round_trip(self, setter: bool | None, deleter: bool | None) -> None:
        box = _box(ExportKind.PROPERTY, setter, deleter)
        again = Manifest.loads(_release("1.0", box).dumps()).exports["lib.Box"]
        size = again.members["size"]
        assert (size.setter, size.deleter) == (setter, deleter)
        assert again.digest == box.digest
