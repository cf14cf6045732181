"""The rules for a class's bases (P13) and for records: enums (P23), TypedDicts and
NamedTuples (P22). A mixin of :class:`siglink.contracts.compat._Exports`."""

from __future__ import annotations

from typing import Final, Literal

from siglink.contracts._signature_rules import (
    _BREAK,
    _NO,
    _OK,
    _REVIEW,
    _YES,
    _Findings,
    _is_subtype,
    _to_compare,
)
from siglink.contracts._typeshed_table import generic_params
from siglink.contracts.manifest import Export, ExportKind
from siglink.contracts.rules import Rule
from siglink.contracts.types import ClassGraph, TypeRef, parse_type


class _RecordRules:
    """Comparisons of a class's bases and of record flavors, given a class graph and the
    direction values flow in."""

    __slots__ = ()

    classes: ClassGraph
    direction: Literal["in", "out"]

    def _bases(self, out: _Findings, expected: Export, provided: Export,
               relied: frozenset[str] | None = None) -> None:
        """A class that no longer derives from a base it had (directly or through its other
        bases) is no longer usable as that base: annotations, ``isinstance`` and ``except``
        clauses written for the base reject its instances. What the consumer receives is
        wider than promised: P13, at path ``bases``. Added bases are harmless (not reported).
        ``relied``: only these ancestors are checked (the ones the consumer relies on), else
        every direct base.
        """
        new = [parse_type(b) for b in provided.bases if b not in _INERT_BASES]
        found = f"({', '.join(provided.bases)})"
        for base in expected.bases if relied is None else sorted(relied):
            if base in _INERT_BASES or base in provided.bases:
                continue
            old = parse_type(base)
            decisions = [_is_subtype(b, old, self.classes) for b in new]
            if _YES in decisions:
                continue
            if all(_known(b, self.classes) for b in new):
                out.add(Rule.P13, "bases", base, found, _BREAK,
                        f"no longer a subclass of {base}")
            else:
                out.unverified.append(f"bases: {base} vs {found}")

    def _enum(self, out: _Findings, expected: Export, provided: Export,
              used: frozenset[str] | None = None) -> None:
        """P23: removed or renumbered members break; added ones are fine going in, a review
        coming out (the consumer may not handle them). Only the members in ``used`` are
        compared, when given (the consumer's recorded uses)."""
        old = {n: m for n, m in expected.members.items() if m.kind is ExportKind.ATTRIBUTE}
        new = {n: m for n, m in provided.members.items() if m.kind is ExportKind.ATTRIBUTE}
        for name, member in old.items():
            if used is not None and name not in used:
                continue  # a member the consumer never reaches
            other = new.get(name)
            path = f"member {name}"
            if other is None:
                out.add(Rule.P23, path, member.value or name, "absent", _BREAK,
                        "enum member removed")
            elif None in (member.value, other.value):
                # ``auto()`` under a ``_generate_next_value_`` not followed statically
                out.unverified.append(f"{path}: value not known statically")
            elif member.value != other.value:
                out.add(Rule.P23, path, member.value, other.value, _BREAK, "enum value changed")
        for name, member in new.items():
            if name not in old:
                severity = _OK if self.direction == "in" else _REVIEW
                out.add(Rule.P23, f"member {name}", "absent", member.value or name, severity,
                        "enum member added")

    def _typeddict(self, out: _Findings, expected: Export, provided: Export) -> None:
        """P22 for TypedDicts, following the typing spec's structural assignability: the
        dict flows from ``source`` (who builds it) to ``target`` (who reads it)."""
        old = {n: m for n, m in expected.members.items() if m.kind is ExportKind.ATTRIBUTE}
        new = {n: m for n, m in provided.members.items() if m.kind is ExportKind.ATTRIBUTE}
        inward = self.direction == "in"
        source, target = (old, new) if inward else (new, old)
        for name, key in target.items():
            path = f"key {name}"
            have = source.get(name)
            if have is None:
                if not key.optional:
                    out.add(Rule.P22, path, "absent" if inward else "required",
                            "required" if inward else "absent", _BREAK,
                            "required key added" if inward else "required key removed")
                else:
                    # The typing spec rejects this too; at run time a missing optional key
                    # is what the reader must handle anyway.
                    out.add(Rule.P22, path, "absent" if inward else "optional",
                            "optional" if inward else "absent", _OK,
                            "optional key added" if inward else "optional key removed")
                continue
            if have.optional and not key.optional:
                out.add(Rule.P22, path, _required(old[name]), _required(new[name]), _BREAK,
                        "the reader needs a key the builder may leave out")
            elif key.optional and not have.optional:
                out.add(Rule.P22, path, _required(old[name]), _required(new[name]), _REVIEW,
                        "required-ness changed (the typing spec rejects it; safe at run time)")
            self._invariant(out, path, old[name].type, new[name].type)
        for name in source:
            if name not in target:
                severity = _REVIEW if inward else _OK
                out.add(Rule.P22, f"key {name}", "present" if inward else "absent",
                        "absent" if inward else "present", severity,
                        "key removed: the library no longer reads it" if inward
                        else "key added")

    def _invariant(
        self, out: _Findings, path: str, expected: TypeRef | None, provided: TypeRef | None
    ) -> None:
        pair = _to_compare(out, path, expected, provided)
        if pair is None:
            return
        expected, provided = pair
        there = _is_subtype(expected, provided, self.classes)
        back = _is_subtype(provided, expected, self.classes)
        if there is _NO or back is _NO:
            out.add(Rule.P22, path, expected, provided, _BREAK,
                    "a mutable key's value type must stay the same")
        elif there is not _YES or back is not _YES:
            out.unverified.append(f"{path}: {expected} vs {provided}")

    def _namedtuple(self, out: _Findings, expected: Export, provided: Export) -> None:
        """P22: a NamedTuple's fields are positions; their order is fixed."""
        old = [n for n, m in expected.members.items() if m.kind is ExportKind.ATTRIBUTE]
        new = [n for n, m in provided.members.items() if m.kind is ExportKind.ATTRIBUTE]
        if new[: len(old)] != old:
            out.add(Rule.P22, "fields", f"({', '.join(old)})", f"({', '.join(new)})", _BREAK,
                    "NamedTuple field order is fixed")
        elif len(new) > len(old):
            out.add(Rule.P22, "fields", f"({', '.join(old)})", f"({', '.join(new)})", _REVIEW,
                    "fields added: unpacking and len() change")



_INERT_BASES: Final = frozenset(
    f"{module}.{name}" for module in ("typing", "typing_extensions")
    for name in ("Generic", "Protocol")
) | {"object", "builtins.object", "abc.ABC"}


def _known(t: TypeRef, classes: ClassGraph, depth: int = 0) -> bool:
    """Are all of a class's ancestors recorded (so that "not a subclass" is a fact)?"""
    if t.is_unknown or depth > 32:
        return False
    if generic_params(t.name) is not None or t.name == "object":
        return True
    return t.name in classes and all(_known(b, classes, depth + 1)
                                     for b in classes.bases(t.name))



def _required(key: Export) -> str:
    return "optional" if key.optional else "required"
