"""A class keeps its identity when it moves between public modules: Werkzeug 3.0 defines
``Headers`` in ``werkzeug.datastructures.headers`` and re-exports it from
``werkzeug.datastructures``, where 2.2 defines it. Annotations naming either are one class
when the library (the candidate, or the version built against) exports one under the other's
name. A TypeVar that moved module is the same TypeVar."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from siglink.contracts.compat import check, check_export, class_graph
from siglink.contracts.manifest import Export, ExportKind
from siglink.contracts.signature import Signature
from siglink.contracts.types import ClassGraph, Decision, is_subtype, parse_type

OLD = "werkzeug.datastructures.Headers"
NEW = "werkzeug.datastructures.headers.Headers"


def headers(defined_in: str, returns: str) -> Export:
    """``Headers`` exported at ``werkzeug.datastructures.Headers``, defined in ``defined_in``,
    whose ``copy()`` returns ``returns``."""
    copy = Export(f"{OLD}.copy", ExportKind.METHOD, signature=Signature.parse(f"() -> {returns}"),
                  module=defined_in)
    return Export(OLD, ExportKind.CLASS, members={"copy": copy}, module=defined_in,
                  signature=Signature.parse("()"))


V22 = headers("werkzeug.datastructures", OLD)  # 2.2: defined where it is exported
V30 = headers("werkzeug.datastructures.headers", NEW)  # 3.0: defined in a submodule
V30_EXPORT_TABLE = [V30, Export(NEW, ExportKind.CLASS, members=V30.members,
                                module="werkzeug.datastructures.headers",
                                signature=Signature.parse("()"))]


def test_the_graph_knows_both_names_of_a_re_exported_class() -> None:
    graph = class_graph(V30_EXPORT_TABLE)
    assert graph.canonical(OLD) == NEW and OLD in graph
    assert is_subtype(parse_type(OLD), parse_type(NEW), graph) is Decision.YES
    assert is_subtype(parse_type(NEW), parse_type(OLD), graph) is Decision.YES
    assert is_subtype(parse_type(f"list[{OLD}]"), parse_type(f"list[{NEW}]"),
                      graph) is Decision.YES


def test_two_classes_of_one_short_name_stay_two() -> None:
    graph = ClassGraph({"a.K": ["object"], "b.K": ["object"]})
    assert is_subtype(parse_type("a.K"), parse_type("b.K"), graph) is Decision.NO


@pytest.mark.parametrize(("built", "candidate", "table"), [
    # built against 3.0 (annotations name the submodule), linked against 2.2: the version
    # built against exported the class under the name the candidate defines it by
    (V30, V22, [V22]),
    # built against 2.2, linked against 3.0, which re-exports the class
    (V22, V30, V30_EXPORT_TABLE),
], ids=["3.0 built, 2.2 candidate", "2.2 built, 3.0 candidate"])
def test_a_class_that_moved_module_is_the_same_class(built: Export, candidate: Export,
                                                     table: list[Export]) -> None:
    verdict = check_export(built, candidate, classes=class_graph(table), members=["copy"])
    assert verdict.ok, verdict.explain()
    assert not [p for p in verdict.problems if p.rule in ("P13", "P11", "P21")]


def test_a_class_the_candidate_defines_elsewhere_is_not_aliased() -> None:
    """The candidate has a class of its own at the old defining name: no alias, its own
    class decides (here an unrelated one, so copy() widened: P13)."""
    other = Export(NEW, ExportKind.CLASS, module="werkzeug.datastructures.headers")
    verdict = check_export(V30, V22, classes=class_graph([V22, other]), members=["copy"])
    assert [p.rule for p in verdict.incompatible] == ["P13"]


def test_the_aliased_graph_is_one_object_per_alias_set() -> None:
    graph = class_graph([V22])
    assert graph.aliased({NEW: OLD}) is graph.aliased({NEW: OLD})
    assert graph.aliased({OLD: OLD}) is graph
    copy = pickle.loads(pickle.dumps(graph.aliased({NEW: OLD})))
    assert copy == graph.aliased({NEW: OLD}) and copy.canonical(NEW) == OLD


def test_a_typevar_that_moved_module_is_the_same_typevar() -> None:
    """``~werkzeug.datastructures.mixins.K`` (3.0) and ``~werkzeug.datastructures.K`` (2.2):
    compared by name, not by the module defining it."""
    verdict = check("(key: ~werkzeug.datastructures.mixins.K) -> "
                    "~werkzeug.datastructures.mixins.T",
                    "(key: ~werkzeug.datastructures.K) -> ~werkzeug.datastructures.T")
    assert verdict.ok and not verdict.unverified
    assert {p.severity.value for p in verdict.problems} <= {"harmless"}
    other = check("(key: ~pkg.K) -> ~pkg.V", "(key: ~pkg.K) -> ~pkg.W")
    assert other.unverified  # another TypeVar: not decided


def _client(kind: ExportKind) -> Export:
    jar = Export("lib.Client.cookie_jar", kind, type=parse_type("lib.Jar | None"))
    return Export("lib.Client", ExportKind.CLASS, members={"cookie_jar": jar})


ATTRIBUTE, PROPERTY = _client(ExportKind.ATTRIBUTE), _client(ExportKind.PROPERTY)


@pytest.mark.parametrize(("old", "new", "used", "ok"), [
    (ATTRIBUTE, PROPERTY, ["cookie_jar"], True),  # read only: a property reads the same
    (ATTRIBUTE, PROPERTY, ["cookie_jar", "cookie_jar="], False),  # assigned: needs a setter
    (PROPERTY, ATTRIBUTE, ["cookie_jar", "cookie_jar="], True),  # an attribute serves all
    (ATTRIBUTE, PROPERTY, None, False),  # uses not recorded: the contract decides (R6)
], ids=["read", "assigned", "property to attribute", "not recorded"])
def test_attribute_to_property_is_compatible_for_reads(old: Export, new: Export,
                                                      used: list[str] | None,
                                                      ok: bool) -> None:
    verdict = check_export(old, new, members=used)
    assert verdict.ok is ok, verdict.explain()
    assert [p.rule for p in verdict.problems] == ["R6"]


def test_a_property_read_still_compares_its_type() -> None:
    """Werkzeug 2.3 ``Client.cookie_jar``: a property of another type than the attribute."""
    changed = dataclasses.replace(PROPERTY.members["cookie_jar"], type=parse_type(
        "collections.abc.Iterable[lib.Cookie] | None"), digest="")
    new = dataclasses.replace(PROPERTY, members={"cookie_jar": changed}, digest="")
    verdict = check_export(ATTRIBUTE, new, members=["cookie_jar"])
    assert [p.rule for p in verdict.incompatible] == ["P13"]


def test_an_assignment_seen_only_through_the_fallback_is_unverified() -> None:
    """``x.cookie_jar = ...`` on an object of unknown type may not be a ``Client`` at all."""
    used = ["cookie_jar", "cookie_jar="]
    verdict = check_export(ATTRIBUTE, PROPERTY, members=used, written=["cookie_jar"])
    assert verdict.ok and [p.rule for p in verdict.problems] == ["R6"]
    assert verdict.unverified
    strict = check_export(ATTRIBUTE, PROPERTY, members=used, written=["cookie_jar"],
                          policy="strict")
    assert [p.rule for p in strict.incompatible] == ["R6"]
