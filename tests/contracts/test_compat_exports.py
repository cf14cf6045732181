"""Whole exports: P1, R6, P21 overloads, classes and members, P22 records, P23 enums, attributes,
direction, and release diffs (docs/design.md §3.3)."""

from __future__ import annotations

from typing import Any

import pytest

from siglink.contracts.compat import check_export, class_graph
from siglink.contracts.diff import ReleaseDiff, diff_manifests
from siglink.contracts.manifest import CallShape, Export, ExportKind, Manifest, Unit
from siglink.contracts.signature import Signature
from siglink.contracts.types import parse_type
from siglink.contracts.verdict import Severity, Verdict
from siglink.errors import BadInputError

K = ExportKind
MARK = {Severity.INCOMPATIBLE: "!", Severity.REVIEW: "?", Severity.HARMLESS: ""}


def findings(verdict: Verdict) -> list[str]:
    return sorted(f"{p.rule}{MARK[p.severity]} {p.path}".strip() for p in verdict.problems)


def fn(sig: str, kind: ExportKind = K.FUNCTION, path: str = "lib.f", **extra: Any) -> Export:
    return Export(path, kind, module="lib", signature=Signature.parse(sig), **extra)


def attr(type_text: str | None, path: str = "lib.x", kind: ExportKind = K.ATTRIBUTE,
         **extra: Any) -> Export:
    return Export(path, kind, module="lib",
                  type=None if type_text is None else parse_type(type_text), **extra)


def cls(path: str = "lib.C", sig: str | None = "()", members: dict[str, Export] | None = None,
        **extra: Any) -> Export:
    return Export(path, K.CLASS, module="lib",
                  signature=None if sig is None else Signature.parse(sig),
                  members=members or {}, **extra)


def both(old: Export, new: Export, **options: Any) -> tuple[list[str], list[str]]:
    return (findings(check_export(old, new, **options)),
            findings(check_export(new, old, **options)))


class TestExportLevel:
    def test_p1_removed(self) -> None:
        verdict = check_export(fn("(a: int) -> int"), None)
        assert verdict.explain() == (
            "P1: expected function (a: int) -> int, found absent; renamed, moved or removed "
            "(incompatible)")
        assert not verdict.ok
        # Paths are relative to the export; the empty path is the export itself.
        assert verdict.prefixed("lib.f").explain() == (
            "P1 lib.f: expected function (a: int) -> int, found absent; renamed, moved or "
            "removed (incompatible)")

    def test_identical_exports(self) -> None:
        verdict = check_export(fn("(a: int) -> int"), fn("(a: int) -> int"))
        assert verdict.identical and verdict.ok

    @pytest.mark.parametrize(
        ("old", "new"),
        [
            (K.FUNCTION, K.ASYNC_FUNCTION),
            (K.METHOD, K.CLASSMETHOD),
            (K.METHOD, K.STATICMETHOD),
            (K.CLASSMETHOD, K.STATICMETHOD),
            (K.METHOD, K.ASYNC_METHOD),
            (K.METHOD, K.PROPERTY),
        ],
    )
    def test_r6_kind_changed(self, old: ExportKind, new: ExportKind) -> None:
        """R6: "kind changed: function/class, instance/class/static method, property,
        sync/async: break" -- both ways."""
        a, b = fn("(a: int) -> int", old), fn("(a: int) -> int", new)
        assert both(a, b) == (["R6!"], ["R6!"])

    def test_r6_function_to_class(self) -> None:
        assert both(fn("(a: int)"), cls("lib.f", "(a: int)")) == (["R6!"], ["R6!"])

    def test_function_rules_apply(self) -> None:
        assert both(fn("(a: int, b: str = 'x') -> None"), fn("(a: int) -> None")) == (
            ["P6! param b"], ["P2 param b"])

    def test_calls_reach_the_function_rules(self) -> None:
        old, new = fn("(a, b)"), fn("(a, c)")
        verdict = check_export(old, new, calls=[CallShape(2)], calls_complete=True)
        assert verdict.ok and verdict.usage_compatible
        assert findings(verdict) == ["P16? param b"]

    def test_attribute_types_are_read(self) -> None:
        """A module attribute the consumer reads is covariant, like a return type."""
        assert both(attr("float"), attr("int")) == (["P12 type"], ["P13! type"])
        assert both(attr("int"), attr("int | None")) == (["P13! type"], ["P12 type"])

    def test_attribute_without_annotation_is_unverified(self) -> None:
        verdict = check_export(attr(None), attr("int"))
        assert verdict.ok and verdict.unverified == ("type: no annotation",)

    def test_direction_out_flips_variance(self) -> None:
        """A callback the library calls: the consumer's implementation must accept every call
        the new library makes."""
        old, new = fn("(a: int) -> None"), fn("(a: int, b: str) -> None")
        assert findings(check_export(old, new)) == ["P3! param b"]
        out = check_export(old, new, direction="out")
        assert findings(out) == ["P6! param b"]
        assert out.problems[0].expected == "absent"  # "expected" stays the consumer's side
        assert findings(check_export(fn("(a: int)"), fn("(a: float)"), direction="out")) == [
            "P11! param a"]

    def test_bad_direction_and_policy(self) -> None:
        with pytest.raises(BadInputError, match="unknown direction 'sideways'"):
            check_export(fn("()"), fn("()"), direction="sideways")
        with pytest.raises(BadInputError, match="unknown policy 'none'"):
            check_export(fn("()"), fn("()"), policy="none")


class TestOverloads:
    """P21: "each old overload covered by an assignable new one"."""

    def overloaded(self, *sigs: str) -> Export:
        return Export("lib.f", K.FUNCTION, module="lib",
                      overloads=tuple(Signature.parse(s) for s in sigs))

    def test_covered(self) -> None:
        old = self.overloaded("(a: int) -> int", "(a: str) -> str")
        new = self.overloaded("(a: str) -> str", "(a: int) -> int", "(a: bytes) -> bytes")
        verdict = check_export(old, new)
        assert verdict.ok and findings(verdict) == []
        assert findings(check_export(new, old)) == ["P21! overload 3"]

    def test_overloads_collapsed_into_one_signature(self) -> None:
        old = self.overloaded("(a: int) -> int", "(a: str) -> str")
        new = fn("(a: int | str) -> int | str")
        assert findings(check_export(old, new)) == ["P21! overload 1", "P21! overload 2"]
        wider = fn("(a: int | str, b: int = 0) -> int")
        assert findings(check_export(self.overloaded("(a: int) -> int"), wider)) == [
            "P10 overload param a", "P2 overload param b"]

    def test_implementation_signature_is_reviewed(self) -> None:
        """The overloads are the typed contract; what breaks in the implementation's own
        signature (Werkzeug 3.0 dropped ``as_bytes=`` from ``Headers.get``) reaches only
        untyped callers: a review."""
        sigs = ("(key: str) -> str", "(key: str, default: int) -> str | int")
        old = Export("lib.get", K.FUNCTION, module="lib",
                     signature=Signature.parse("(key, default=None, as_bytes=None)"),
                     overloads=tuple(Signature.parse(s) for s in sigs))
        new = Export("lib.get", K.FUNCTION, module="lib",
                     signature=Signature.parse("(key, default=None)"),
                     overloads=old.overloads)
        verdict = check_export(old, new)
        assert verdict.ok
        assert verdict.explain() == (
            "P6 implementation param as_bytes: expected as_bytes=..., found absent; parameter "
            "removed; only untyped callers reach it (review)")
        assert findings(check_export(new, old)) == []  # P2 (harmless) is not repeated

    def test_calls_bind_to_some_overload(self) -> None:
        old = self.overloaded("(a: int) -> int", "(a: str, b: int) -> str")
        verdict = check_export(None, old, calls=[CallShape(2), CallShape(1)])
        assert verdict.ok
        assert findings(check_export(None, old, calls=[CallShape(3)])) == ["P6! param *args"]


class TestClasses:
    def test_constructor_and_members(self) -> None:
        old = cls(sig="(size: int)", members={
            "grow": fn("(by: int) -> None", K.METHOD, "lib.C.grow"),
            "area": attr("float", "lib.C.area", K.PROPERTY),
            "make": fn("(n: int) -> lib.C", K.CLASSMETHOD, "lib.C.make"),
        })
        new = cls(sig="(size: int, *, color: str = 'red')", members={
            "grow": fn("(by: int, /) -> None", K.METHOD, "lib.C.grow"),
            "area": attr("int", "lib.C.area", K.PROPERTY),
            "make": fn("(n: int) -> lib.C", K.STATICMETHOD, "lib.C.make"),
            "extra": fn("() -> None", K.METHOD, "lib.C.extra"),
        })
        assert findings(check_export(old, new)) == [
            "P12 member area type",
            "P18! member grow param by",
            "P2 constructor param color",
            "R6? member make",  # classmethod -> staticmethod: the same callable to callers
        ]

    def test_member_removed(self) -> None:
        old = cls(members={"grow": fn("()", K.METHOD, "lib.C.grow"),
                           "_private": fn("()", K.METHOD, "lib.C._private")})
        new = cls(members={})
        assert findings(check_export(old, new)) == ["P1! member grow"]

    def test_bases_recorded_into_the_class_graph(self) -> None:
        dog = cls("lib.Dog", bases=("lib.Animal",))
        old = fn("() -> lib.Animal")
        new = fn("() -> lib.Dog")
        graph = class_graph([dog, cls("lib.Animal")])
        assert findings(check_export(old, new, classes=graph)) == ["P12 return"]
        assert findings(check_export(old, new)) == ["P13! return"]
        nested = cls("lib.Zoo", members={"Dog": dog})
        assert findings(check_export(old, new, classes=class_graph([nested]))) == ["P12 return"]

    def test_base_class_lost(self) -> None:
        """A class that stops deriving from a base is not usable as that base any more
        (annotations, isinstance, except): P13 at ``bases``; gaining a base is harmless."""
        animal, pet = cls("lib.Animal"), cls("lib.Pet", bases=("lib.Animal",))
        dog = cls("lib.Dog", bases=("lib.Animal",))
        assert both(dog, cls("lib.Dog")) == (["P13! bases"], [])
        verdict = check_export(dog, cls("lib.Dog"))
        assert verdict.explain() == (
            "P13 bases: expected lib.Animal, found (); no longer a subclass of lib.Animal "
            "(incompatible)")
        # Still an Animal through its new base: nothing lost.
        via_pet = cls("lib.Dog", bases=("lib.Pet",))
        graph = class_graph([animal, pet, via_pet])
        assert findings(check_export(dog, via_pet, classes=graph)) == []
        # Unless the graph says otherwise, a base outside what is known stays unverified.
        verdict = check_export(dog, via_pet)
        assert verdict.ok and verdict.unverified == ("bases: lib.Animal vs (lib.Pet)",)
        # The builtin exceptions relate as typeshed declares them.
        value_error = cls("lib.Bad", bases=("ValueError",))
        key_error = cls("lib.Bad", bases=("KeyError",))
        exception = cls("lib.Bad", bases=("Exception",))
        assert both(value_error, exception) == (["P13! bases"], [])
        assert findings(check_export(cls("lib.Bad", bases=("LookupError",)), key_error)) == []
        # Bases that add nothing (object, ABC, Generic) are not contracts.
        assert findings(check_export(cls(bases=("abc.ABC", "typing.Generic")), cls())) == []

    def test_dataclass(self) -> None:
        """P22: constructors by the function rules, fields by the attribute rules."""
        old = cls("lib.Point", "(x: float, y: float)", flavor="dataclass", members={
            "x": attr("float", "lib.Point.x"), "y": attr("float", "lib.Point.y")})
        new = cls("lib.Point", "(x: float, y: float, z: float = 0.0)", flavor="dataclass",
                  members={"x": attr("float", "lib.Point.x"), "y": attr("int", "lib.Point.y"),
                           "z": attr("float", "lib.Point.z")})
        assert both(old, new) == (
            ["P12 member y type", "P2 constructor param z"],
            ["P1! member z", "P13! member y type", "P6! constructor param z"],
        )

    def test_flavor_change(self) -> None:
        plain = cls("lib.P", "(x: int)")
        data = cls("lib.P", "(x: int)", flavor="dataclass")
        assert both(plain, data) == (["R6"], ["R6"])
        assert both(data, cls("lib.P", "(x: int)", flavor="namedtuple")) == (["R6!"], ["R6!"])


class TestRecords:
    def namedtuple(self, *fields: str) -> Export:
        sig = "(" + ", ".join(f"{f}: int" for f in fields) + ")"
        return cls("lib.NT", sig, flavor="namedtuple",
                   members={f: attr("int", f"lib.NT.{f}") for f in fields})

    def test_namedtuple_order_is_fixed(self) -> None:
        assert both(self.namedtuple("a", "b"), self.namedtuple("b", "a")) == (
            ["P22! fields", "P4! constructor param a", "P4! constructor param b"],
            ["P22! fields", "P4! constructor param a", "P4! constructor param b"],
        )

    def test_namedtuple_field_added(self) -> None:
        assert both(self.namedtuple("a"), self.namedtuple("a", "b")) == (
            ["P22? fields", "P3! constructor param b"],
            ["P1! member b", "P22! fields", "P6! constructor param b"],
        )

    def typeddict(self, **keys: tuple[str, bool]) -> Export:
        return cls("lib.TD", None, flavor="typeddict", members={
            name: attr(t, f"lib.TD.{name}", optional=optional)
            for name, (t, optional) in keys.items()})

    @pytest.mark.parametrize(
        ("old", "new", "inward", "outward"),
        [
            # a required key added: a consumer building the dict lacks it
            ({"a": ("int", False)}, {"a": ("int", False), "b": ("int", False)},
             ["P22! key b"], ["P22 key b"]),
            # an optional key added
            ({"a": ("int", False)}, {"a": ("int", False), "b": ("int", True)},
             ["P22 key b"], ["P22 key b"]),
            # a key removed: the library no longer reads it / the consumer reads it
            ({"a": ("int", False), "b": ("int", False)}, {"a": ("int", False)},
             ["P22? key b"], ["P22! key b"]),
            # required -> optional
            ({"a": ("int", False)}, {"a": ("int", True)}, ["P22? key a"], ["P22! key a"]),
            # optional -> required
            ({"a": ("int", True)}, {"a": ("int", False)}, ["P22! key a"], ["P22? key a"]),
            # value types of mutable keys are invariant
            ({"a": ("int", False)}, {"a": ("float", False)}, ["P22! key a"], ["P22! key a"]),
            ({"a": ("list[int]", False)}, {"a": ("typing.List[int]", False)}, [], []),
        ],
    )
    def test_typeddict(self, old: dict[str, tuple[str, bool]], new: dict[str, tuple[str, bool]],
                       inward: list[str], outward: list[str]) -> None:
        """P22: TypedDicts by the typing spec's structural rules (deviations: see compat)."""
        a, b = self.typeddict(**old), self.typeddict(**new)
        assert findings(check_export(a, b)) == inward
        assert findings(check_export(a, b, direction="out")) == outward


class TestEnums:
    """P23: "members added (inputs ok; outputs review); removed or renumbered: break"."""

    def enum(self, **members: str) -> Export:
        return cls("lib.Color", "(value)", flavor="enum", members={
            name: Export(f"lib.Color.{name}", K.ATTRIBUTE, module="lib", value=value)
            for name, value in members.items()})

    def test_member_added(self) -> None:
        old, new = self.enum(RED="1"), self.enum(RED="1", BLUE="2")
        assert findings(check_export(old, new)) == ["P23 member BLUE"]
        assert findings(check_export(old, new, direction="out")) == ["P23? member BLUE"]
        assert findings(check_export(new, old)) == ["P23! member BLUE"]

    def test_member_renumbered(self) -> None:
        assert both(self.enum(RED="1"), self.enum(RED="2")) == (
            ["P23! member RED"], ["P23! member RED"])


def manifest(version: str, *exports: Export) -> Manifest:
    return Manifest(Unit("lib", version), exports={e.path: e for e in exports})


class TestReleaseDiff:
    def test_diff(self) -> None:
        old = manifest("1.0", fn("(a: int) -> int", path="lib.f"), fn("()", path="lib.g"),
                       fn("(a)", path="lib.h"), attr("int", "lib.x"))
        new = manifest("2.0", fn("(a: int, b: int = 0) -> int", path="lib.f"),
                       fn("(b)", path="lib.h"), attr("int", "lib.x"), fn("()", path="lib.k"))
        diff = diff_manifests(old, new)
        assert isinstance(diff, ReleaseDiff)
        # Every problem of a diff names its export.
        assert [(p, findings(v)) for p, v in diff.removed if v is not None] == [
            ("lib.g", ["P1! lib.g"])]
        assert [(p, findings(v)) for p, v in diff.incompatible if v is not None] == [
            ("lib.h", ["P16! lib.h param a"])]
        assert [(p, findings(v)) for p, v in diff.compatible if v is not None] == [
            ("lib.f", ["P2 lib.f param b"])]
        assert diff.added == [("lib.k", None)]
        assert diff.breaking and diff.reviews == []

    def test_round_trip_through_json_is_identical(self) -> None:
        old = manifest("1.0", fn("(a: int = 1, *, b: str = 'x') -> int"),
                       cls(members={"m": fn("(a) -> None", K.METHOD, "lib.C.m")}))
        again = Manifest.loads(old.dumps())
        diff = diff_manifests(old, again)
        assert not (diff.removed or diff.incompatible or diff.compatible or diff.added)
        assert not diff.breaking
