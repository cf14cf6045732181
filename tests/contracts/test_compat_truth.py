"""Link truth (docs/design.md §3.6): what a consumer's recorded use needs of an export, as
tables of (old, new, use, expected findings). A finding is ``RULE PATH`` with ``!`` for
incompatible and ``?`` for review; ``~`` marks an unverified verdict without findings."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from test_compat_binding import calls, compile_def, landings, pairs, same

from siglink.contracts.compat import check_export
from siglink.contracts.manifest import Arguments, CallShape, Export, ExportKind
from siglink.contracts.signature import Signature
from siglink.contracts.verdict import Severity, Verdict

K = ExportKind
MARK = {Severity.INCOMPATIBLE: "!", Severity.REVIEW: "?", Severity.HARMLESS: ""}


def outcome(verdict: Verdict) -> list[str]:
    found = sorted(f"{p.rule}{MARK[p.severity]} {p.path}".strip() for p in verdict.problems
                   if p.severity is not Severity.HARMLESS)
    if not found and verdict.unverified and not verdict.identical:
        return ["~"]
    return found


def fn(sig: str, *overloads: str, **extra: Any) -> Export:
    return Export("lib.f", K.FUNCTION, module="lib", signature=Signature.parse(sig),
                  overloads=tuple(Signature.parse(o) for o in overloads), **extra)


def method(sig: str, kind: ExportKind = K.METHOD) -> Export:
    return Export("lib.C.m", kind, module="lib", signature=Signature.parse(sig))


def klass(members: dict[str, Export], bases: tuple[str, ...] = (), **extra: Any) -> Export:
    return Export("lib.C", K.CLASS, module="lib", signature=Signature.parse("()"),
                  members=members, bases=bases, **extra)


def enum(**values: str) -> Export:
    members = {n: Export(f"lib.E.{n}", K.ATTRIBUTE, module="lib", value=v)
               for n, v in values.items()}
    return Export("lib.E", K.CLASS, module="lib", members=members, bases=("enum.Enum",),
                  flavor="enum")


CALL_KW = (CallShape(1, ("strict",)),)
CALL_POS = (CallShape(1),)

# (old, new, use: keyword arguments of check_export, expected)
KEYWORDS = [
    # A keyword the old version named, now only taken by **kwargs: it binds, and means
    # something only if the body reads it.
    pytest.param(fn("(x, strict=False, **kw)"), fn("(x, **kw)", kwargs_read=()),
                 {"calls": CALL_KW}, ["P6! param strict"], id="kwargs-never-read"),
    pytest.param(fn("(x, strict=False, **kw)"), fn("(x, **kw)", kwargs_read=("strict",)),
                 {"calls": CALL_KW}, ["P6? param strict"], id="kwargs-read"),
    pytest.param(fn("(x, strict=False, **kw)"), fn("(x, **kw)", kwargs_read=("**",)),
                 {"calls": CALL_KW}, ["P6? param strict"], id="kwargs-passed-on"),
    # a body not read (a stub, a compiled function): the contract decides, as before
    pytest.param(fn("(x, strict=False, **kw)"), fn("(x, **kw)"), {"calls": CALL_KW},
                 ["P6! param strict"], id="kwargs-body-unknown"),
    pytest.param(fn("(x, strict=False, **kw)"), fn("(x, **kw)", kwargs_read=()),
                 {"calls": CALL_POS, "calls_complete": True}, ["P6? param strict"],
                 id="keyword-not-passed"),
    pytest.param(fn("(x, **kw)", kwargs_read=()), fn("(x, *, y=1, **kw)", kwargs_read=()),
                 {"calls": (CallShape(1, ("other",)),)}, ["~"], id="went-to-kwargs-before-too"),
    # **kwargs newly added: the removed parameter is a break unless the body reads its key
    pytest.param(fn("(x, strict=False)"), fn("(x, **kw)", kwargs_read=()), {"calls": CALL_KW},
                 ["P6! param strict"], id="new-kwargs-never-read"),
    pytest.param(fn("(x, strict=False)"), fn("(x, **kw)", kwargs_read=("strict",)),
                 {"calls": CALL_KW}, ["P6? param strict"], id="new-kwargs-read"),
]

IMPLEMENTATION = [
    # Overloads unchanged, the implementation dropped as_bytes= (Werkzeug 3.0 Headers.get):
    pytest.param(
        fn("(key, default=None, type=None, as_bytes=False)", "(key: str) -> str",
           "(key: str, default: str) -> str"),
        fn("(key, default=None, type=None)", "(key: str) -> str",
           "(key: str, default: str) -> str"),
        {"calls": (CallShape(1, ("as_bytes",)),)},
        ["P16! implementation param as_bytes", "P16! param as_bytes",
         "P6? implementation param as_bytes"],
        id="call-the-implementation-refuses"),
    pytest.param(
        fn("(key, default=None, type=None, as_bytes=False)", "(key: str) -> str"),
        fn("(key, default=None, type=None)", "(key: str) -> str"),
        {"calls": (CallShape(1),)}, ["P6? implementation param as_bytes"],
        id="call-the-implementation-takes"),
]

MEMBERS = [
    pytest.param(klass({"m": method("(a)"), "n": method("(a)")}),
                 klass({"m": method("(a)"), "n": Export("lib.C.n", K.PROPERTY, module="lib")}),
                 {"members": ("m",)}, [], id="unused-member-changed-kind"),
    pytest.param(klass({"m": method("(a)"), "n": method("(a)")}),
                 klass({"m": method("(a)"), "n": Export("lib.C.n", K.PROPERTY, module="lib")}),
                 {"members": ("n",)}, ["R6! member n"], id="used-member-changed-kind"),
    pytest.param(klass({"m": method("(a)"), "n": method("(a)")}),
                 klass({"m": method("(a)")}), {}, ["P1! member n"], id="no-usage-recorded"),
    pytest.param(klass({"m": method("(a)")}), klass({}, bases=("other.Base",)),
                 {"members": ("m",)}, ["~"], id="absent-but-base-unread"),
    pytest.param(klass({"m": method("(a)")}), klass({}, bases=("object",)),
                 {"members": ("m",)}, ["P1! member m"], id="absent-all-bases-known"),
    pytest.param(klass({"m": method("(a)", K.CLASSMETHOD)}),
                 klass({"m": method("(a)", K.STATICMETHOD)}), {"members": ("m",)},
                 ["R6? member m"], id="classmethod-to-staticmethod"),
    pytest.param(klass({"m": method("(a)", K.CLASSMETHOD)}),
                 klass({"m": method("(a, b)", K.STATICMETHOD)}), {"members": ("m",)},
                 ["P3! member m param b", "R6? member m"], id="kind-and-signature"),
    pytest.param(klass({}, bases=("lib.Base",)), klass({}, bases=("object",)),
                 {"members": ()}, [], id="lost-base-never-named"),
    pytest.param(klass({}, bases=("lib.Base",)), klass({}, bases=("object",)),
                 {"members": ("__bases__",)}, ["P13! bases"], id="lost-base-named"),
]

ENUMS = [
    pytest.param(enum(A="1", B="2"), enum(A="1"), {"members": ("A",)}, [],
                 id="unused-member-removed"),
    pytest.param(enum(A="1", B="2"), enum(A="1"), {"members": ("B",)}, ["P23! member B"],
                 id="used-member-removed"),
    pytest.param(enum(A="1", B="2"), enum(A="1", B="3"), {"members": ("A",)}, [],
                 id="unused-member-renumbered"),
    pytest.param(enum(A="1", B="2"), enum(A="1", B="3"), {}, ["P23! member B"],
                 id="whole-enum"),
]


ONE = (CallShape(1),)
ARGUMENTS = [
    # P11 judged by the arguments the consumer visibly passes (all its calls seen):
    pytest.param(fn("(x: int | str) -> None"), fn("(x: int) -> None"),
                 {"calls": ONE, "calls_complete": True, "arguments": (Arguments(("int",)),)},
                 ["P11? param x"], id="narrowed-still-admits"),
    pytest.param(fn("(x: int | str) -> None"), fn("(x: int) -> None"),
                 {"calls": ONE, "calls_complete": True,
                  "arguments": (Arguments(("int",)), Arguments(("str",)))},
                 ["P11! param x"], id="narrowed-excludes-one"),
    pytest.param(fn("(x: int | str) -> None"), fn("(x: int) -> None"),
                 {"calls": ONE, "calls_complete": True, "arguments": (Arguments(("",)),)},
                 ["P11? param x"], id="argument-not-evident"),
    pytest.param(fn("(x: int | str) -> None"), fn("(x: int) -> None"),
                 {"calls": ONE, "arguments": (Arguments(("int",)),), "consumer": True},
                 ["P11? param x"], id="calls-not-complete"),
    pytest.param(fn("(x: int | str) -> None"), fn("(x: int) -> None"),
                 {"calls": ONE, "arguments": (Arguments(("int",)),)},
                 ["P11! param x"], id="calls-not-complete-contract"),
    pytest.param(fn("(x: int | str) -> None"), fn("(x: int) -> None"),
                 {"calls": ONE, "arguments": (Arguments(("str",)),), "consumer": True},
                 ["P11! param x"], id="calls-not-complete-one-excluded"),
    pytest.param(fn("(x: int | str) -> None"), fn("(x: int) -> None"),
                 {"calls": ONE, "arguments": (Arguments(("int",)),), "policy": "strict",
                  "consumer": True},
                 ["P11! param x"], id="calls-not-complete-strict"),
    pytest.param(fn("(*, key: int | str) -> None"), fn("(*, key: int) -> None"),
                 {"calls": (CallShape(0, ("key",)),), "calls_complete": True,
                  "arguments": (Arguments((), (("key", "bool"),)),)},
                 ["P11? param key"], id="keyword-subtype"),
    pytest.param(klass({"m": method("(item: lib.V | str) -> bool")}),
                 klass({"m": method("(item: lib.V) -> bool")}),
                 {"members": ("m",), "arguments": (Arguments(("lib.V",), (), "m"),)},
                 ["P11? member m param item"], id="member-argument-admitted"),
    pytest.param(klass({"m": method("(item: lib.V | str) -> bool")}),
                 klass({"m": method("(item: lib.V) -> bool")}),
                 {"members": ("m",), "arguments": (Arguments(("str",), (), "m"),)},
                 ["P11! member m param item"], id="member-argument-excluded"),
    # unknown argument types follow the principle for methods as for direct calls
    pytest.param(klass({"m": method("(item: lib.V | str) -> bool")}),
                 klass({"m": method("(item: lib.V) -> bool")}),
                 {"members": ("m",), "arguments": (Arguments(("",), (), "m"),)},
                 ["P11? member m param item"], id="member-argument-not-evident"),
    pytest.param(klass({"m": method("(item: lib.V | str) -> bool")}),
                 klass({"m": method("(item: lib.V) -> bool")}),
                 {"members": ("m",), "arguments": (Arguments(("",), (), "m"),
                                                   Arguments(("str",), (), "m"))},
                 ["P11! member m param item"], id="member-one-unknown-one-excluded"),
    # a literal passed by keyword, visibly excluded
    pytest.param(klass({"m": method("(item: lib.V | str) -> bool")}),
                 klass({"m": method("(item: lib.V) -> bool")}),
                 {"members": ("m",), "arguments": (Arguments((), (("item", "str"),), "m"),)},
                 ["P11! member m param item"], id="member-keyword-literal-excluded"),
    pytest.param(fn("(x: int | str) -> None"), fn("(x: int) -> None"),
                 {"calls": (CallShape(0, ("x",)),), "calls_complete": True,
                  "arguments": (Arguments((), (("x", "str"),)),)},
                 ["P11! param x"], id="keyword-literal-excluded"),
    pytest.param(fn("(x: int | str) -> None"), fn("(x: int) -> None"),
                 {"calls": ONE, "calls_complete": True,
                  "arguments": (Arguments(("",)), Arguments(("bool",)))},
                 ["P11? param x"], id="unknown-and-admitted"),
]


OVERLOADS = [
    # One overload split in two that together accept every call of the old one:
    pytest.param(fn("(a)", "(a: int | str) -> int | str"),
                 fn("(a)", "(a: int) -> int", "(a: str) -> str"), {}, [], id="split"),
    pytest.param(fn("(a)", "(a: int | str | bytes) -> int"),
                 fn("(a)", "(a: int) -> int", "(a: str) -> int"), {}, ["P21! overload"],
                 id="split-loses-a-case"),
    pytest.param(fn("(a)", "(a: int | str, b: int | None = None) -> int"),
                 fn("(a)", "(a: int, b: int | None = None) -> int",
                    "(a: str, b: int | None = None) -> int"), {}, [], id="split-two-params"),
    # Usage mode: only the recorded calls count.
    pytest.param(fn("(a)", "(a: int | str | bytes) -> int"),
                 fn("(a)", "(a: int) -> int", "(a: str) -> int"),
                 {"calls": ONE, "calls_complete": True, "arguments": (Arguments(("int",)),)},
                 ["P21? overload"], id="usage-recorded-calls-fit"),
    pytest.param(fn("(a)", "(a: int | str | bytes) -> int"),
                 fn("(a)", "(a: int) -> int", "(a: str) -> int"),
                 {"calls": ONE, "calls_complete": True, "arguments": (Arguments(("bytes",)),)},
                 ["P21! overload"], id="usage-recorded-call-excluded"),
]


def protocol(sig: str | None) -> Export:
    """attrs 23.2's ``class AttrsInstance(Protocol)``: what 23.1 had as a plain class."""
    return Export("lib.C", K.CLASS, module="lib", flavor="protocol", bases=("typing.Protocol",),
                  signature=None if sig is None else Signature.parse(sig))


PROTOCOLS = [
    # Calling a Protocol raises TypeError: R7 for a consumer that calls the class; one that
    # only imports it (for an annotation) still runs; without complete calls (the class is
    # passed on, or `siglink diff` asks) the contract keeps the flavor change a break.
    pytest.param(klass({}), protocol("()"), {"calls": (CallShape(0),), "calls_complete": True},
                 ["R7!"], id="protocol-called"),
    pytest.param(klass({}), protocol(None), {"calls": (CallShape(0),)}, ["R7!"],
                 id="protocol-called-unknown-constructor"),
    pytest.param(klass({}), protocol("()"), {"calls": (), "calls_complete": True}, ["R6?"],
                 id="protocol-imported-only"),
    pytest.param(klass({}), protocol("()"), {}, ["R6!"], id="protocol-contract"),
    pytest.param(protocol("()"), protocol("()"), {"calls": ()}, [], id="still-a-protocol"),
]


@pytest.mark.parametrize(("old", "new", "use", "expected"),
                         [*KEYWORDS, *IMPLEMENTATION, *MEMBERS, *ENUMS, *ARGUMENTS, *OVERLOADS,
                          *PROTOCOLS])
def test_rule(old: Export, new: Export, use: dict[str, Any], expected: list[str]) -> None:
    assert outcome(check_export(old, new, **use)) == expected


def test_an_enum_value_not_known_statically_is_unverified() -> None:
    old = Export("lib.E", K.CLASS, module="lib", flavor="enum", bases=("enum.Enum",), members={
        "A": Export("lib.E.A", K.ATTRIBUTE, module="lib", value=None)})
    new = enum(A="1")
    verdict = check_export(old, new)
    assert verdict.ok and verdict.unverified == ("member A: value not known statically",)


def test_third_party_calls_reach_the_implementation() -> None:
    """A consumer that recorded only its calls: the implementation decides as well."""
    provided = fn("(key, default=None)", "(key: str) -> str",
                  "(key: str, as_bytes: bool) -> bytes")
    verdict = check_export(None, provided, calls=[CallShape(1, ("as_bytes",))])
    assert [p.explain() for p in verdict.problems] == [
        "P16 implementation param as_bytes: expected f(_, as_bytes=_), found "
        "(key, default=...); the call passes as_bytes= by keyword (incompatible)"]


# -- calls outside the typed overloads (Python runs the implementation) ------------------------

OPEN_OVERLOADS = ("(file: str, mode: str) -> int", "(file: str, mode: bytes) -> bytes")


def opener(sig: str, *, where: str = "lib/__init__.py:1") -> Export:
    """rich's ``progress.open``: every overload names ``mode`` without a default; the
    implementation has ``mode="r"``."""
    return fn(sig, *OPEN_OVERLOADS, location=where)


OUTSIDE = [
    pytest.param(opener("(file, mode='r')"), opener("(file, mode='r', buffering=-1)"),
                 {"calls": ONE}, ["P21? overload"], id="binds-the-implementation-only"),
    pytest.param(opener("(file, mode='r')"), opener("(file, mode='r', buffering=-1)"),
                 {"calls": ONE, "policy": "strict"}, ["P21! overload"],
                 id="binds-the-implementation-only-strict"),
    # implementation read from a stub (or none): the overloads decide
    pytest.param(opener("(file, mode='r')", where="lib/__init__.pyi:1"),
                 opener("(file, mode='r', buffering=-1)", where="lib/__init__.pyi:1"),
                 {"calls": ONE}, ["P3! param mode"], id="implementation-from-a-stub"),
    # the implementation binds the call, but the argument now lands in another parameter
    pytest.param(opener("(file, mode='r')"), opener("(mode='r', file=None)"),
                 {"calls": (CallShape(1),)},
                 ["P21? overload", "P4! implementation param file",
                  "P4? implementation param file", "P4? implementation param mode"],
                 id="lands-elsewhere"),
    # usage mode: an overload no new one covers, the recorded call binds the implementation
    pytest.param(fn("(a, b=None)", "(a: int, b: int) -> int", location="lib/m.py:1"),
                 fn("(a, b=None)", "(a: str, b: int) -> int", location="lib/m.py:1"),
                 {"calls": ONE, "calls_complete": True}, ["P21? overload", "P21? overload"],
                 id="usage-outside-overloads"),
    pytest.param(fn("(a, b=None)", "(a: int, b: int) -> int", location="lib/m.py:1"),
                 fn("(a, b=None)", "(a: str, b: int) -> int", location="lib/m.py:1"),
                 {"calls": ONE, "calls_complete": True, "policy": "strict"},
                 ["P21! overload", "P21! overload"], id="usage-outside-overloads-strict"),
]


@pytest.mark.parametrize(("old", "new", "use", "expected"), OUTSIDE)
def test_calls_outside_the_overloads(old: Export, new: Export, use: dict[str, Any],
                                     expected: list[str]) -> None:
    assert outcome(check_export(old, new, **use)) == expected


def test_an_unchanged_export_called_outside_its_overloads() -> None:
    """The linker checks an unchanged export's recorded calls with ``expected=None``."""
    provided = opener("(file, mode='r')")
    assert outcome(check_export(None, provided, calls=ONE)) == ["P21? overload"]
    assert outcome(check_export(None, provided, calls=ONE, policy="strict")) == [
        "P21! overload"]
    stub = opener("(file, mode='r')", where="lib/__init__.pyi:1")
    assert outcome(check_export(None, stub, calls=ONE)) == ["P3! param mode"]
    # a call neither the overloads nor the implementation bind
    assert outcome(check_export(None, provided, calls=(CallShape(3),))) == [
        "P6! implementation param *args", "P6! param *args"]


# -- imported only -----------------------------------------------------------------------------

IMPORTED_ONLY = {"calls": (), "calls_complete": True}
NAMES_ONLY = [
    # packaging 24.1 default_environment: return widened
    pytest.param(fn("() -> dict[str, str]"), fn("() -> dict[str, str | None]"), IMPORTED_ONLY,
                 ["P13? return"], id="return-widened"),
    pytest.param(fn("() -> dict[str, str]"), fn("() -> dict[str, str | None]"),
                 {**IMPORTED_ONLY, "policy": "strict"}, ["P13! return"],
                 id="return-widened-strict"),
    pytest.param(fn("() -> dict[str, str]"), fn("() -> dict[str, str | None]"),
                 {"calls": (CallShape(),), "calls_complete": True}, ["P13! return"],
                 id="return-widened-called"),
    # pluggy 1.5 HookspecOpts: a required TypedDict key added
    pytest.param(Export("lib.T", K.CLASS, module="lib", flavor="typeddict", members={
                     "a": Export("lib.T.a", K.ATTRIBUTE, module="lib", type=None)}),
                 Export("lib.T", K.CLASS, module="lib", flavor="typeddict", members={
                     "a": Export("lib.T.a", K.ATTRIBUTE, module="lib", type=None),
                     "b": Export("lib.T.b", K.ATTRIBUTE, module="lib", type=None)}),
                 {**IMPORTED_ONLY, "members": ()}, ["P22? key b"], id="typeddict-key-added"),
    # a class whose kind changed (blinker 1.8 WeakNamespace)
    pytest.param(klass({}), Export("lib.C", K.ATTRIBUTE, module="lib"),
                 {**IMPORTED_ONLY, "members": ()}, ["R6?"], id="kind-changed"),
    # a class whose members are reached (an annotated parameter) is not imported only
    pytest.param(klass({"m": method("(a)")}), klass({}, bases=("object",)),
                 {**IMPORTED_ONLY, "members": ("m",)}, ["P1! member m"], id="member-used"),
]


@pytest.mark.parametrize(("old", "new", "use", "expected"), NAMES_ONLY)
def test_a_name_imported_only(old: Export, new: Export, use: dict[str, Any],
                              expected: list[str]) -> None:
    assert outcome(check_export(old, new, **use)) == expected


def test_a_name_imported_only_still_needs_to_exist() -> None:
    assert outcome(check_export(fn("() -> int"), None, **IMPORTED_ONLY)) == ["P1!"]


# -- against Python's own binding --------------------------------------------------------------

def typed(sig: Signature) -> Signature:
    """The typed overload of an implementation: every parameter required (as rich's
    ``open`` overloads name ``mode`` without a default)."""
    return Signature(tuple(dataclasses.replace(p, default=None) for p in sig.params))


def binds(func: Any, n: int, keywords: tuple[str, ...]) -> dict[str, Any] | None:
    try:
        return dict(func(*(f"pos{i}" for i in range(n)), **{k: f"kw:{k}" for k in keywords}))
    except TypeError:
        return None


@settings(max_examples=300, derandomize=True, deadline=None)
@given(pairs())
def test_calls_are_judged_by_what_python_binds(pair: tuple[Signature, Signature]) -> None:
    """The implementation changes, the typed overload (every parameter required) stays: a
    recorded call is accepted exactly when Python binds it to the new implementation with
    every argument in the same parameter as before; under ``strict`` it must also fit the
    overload."""
    before, after = pair
    overload = typed(before)
    old = Export("lib.f", K.FUNCTION, module="lib", signature=before, overloads=(overload,),
                 location="lib/__init__.py:1")
    new = dataclasses.replace(old, signature=after, digest="")
    old_f, new_f, typed_f = compile_def(before), compile_def(after), compile_def(overload)
    for n, keywords in calls(before, after):
        was = binds(old_f, n, keywords)
        if was is None:
            continue  # not a call the consumer could have made
        now = binds(new_f, n, keywords)
        args = [f"pos{i}" for i in range(n)]
        runs = now is not None and all(
            same(where, landings(now, after)[value], value in args, before, after)
            for value, where in landings(was, before).items())
        call = (CallShape(n, keywords),)
        # as the linker does: an unchanged export's calls are checked against it alone
        expected = None if old.digest == new.digest else old
        verdict = check_export(expected, new, calls=call, calls_complete=True)
        context = f"f{call[0]} {before} -> {after}\n{verdict.explain()}"
        if verdict.ok:
            assert now is not None, f"accepted, but Python does not bind it: {context}"
        if runs:
            assert verdict.ok, f"refused, but Python binds it the same: {context}"
        strict = check_export(expected, new, calls=call, calls_complete=True, policy="strict")
        if strict.ok:
            assert now is not None and binds(typed_f, n, keywords) is not None, context


def member_of(kind: ExportKind = K.METHOD, sig: str | None = None, **extra: Any) -> Export:
    return Export("lib.C.m", kind, module="lib",
                  signature=None if sig is None else Signature.parse(sig), **extra)


OLD_M = klass({"m": method("(a: int | str)")})
ONLY_WRITTEN = {"members": ("m",), "written": ("m",)}
POSITIONAL_M = (Arguments(("",), (), "m"),)
# (old, new, use, expected): a member used only by a name written on an object of unknown
# type, and a member whose calls are all recorded (called).
MEMBER_USES = [
    pytest.param(OLD_M, klass({"m": method("(b: int | str)")}), ONLY_WRITTEN,
                 ["P16? member m param a"], id="written-renamed"),
    pytest.param(OLD_M, klass({"m": method("(b: int | str)")}),
                 {**ONLY_WRITTEN, "policy": "strict"}, ["P16! member m param a"],
                 id="written-renamed-strict"),
    pytest.param(OLD_M, klass({"m": method("(a: int)")}), ONLY_WRITTEN,
                 ["P11? member m param a"], id="written-narrowed"),
    pytest.param(OLD_M, klass({}), ONLY_WRITTEN, ["P1! member m"], id="written-removed"),
    pytest.param(OLD_M, klass({"m": member_of(K.PROPERTY)}), ONLY_WRITTEN,
                 ["R6! member m"], id="written-no-longer-callable"),
    pytest.param(OLD_M, klass({"m": member_of(K.ATTRIBUTE)}), ONLY_WRITTEN,
                 ["R6? member m"], id="written-now-a-value-of-unknown-type"),
    pytest.param(OLD_M, klass({"m": method("(b: int | str)")}),
                 {"members": ("m",), "called": ("m",), "arguments": POSITIONAL_M},
                 ["P16? member m param a"], id="called-positionally-renamed"),
    pytest.param(OLD_M, klass({"m": method("(b: int | str)")}),
                 {"members": ("m",), "called": ("m",),
                  "arguments": (Arguments((), (("a", ""),), "m"),)},
                 ["P16! member m param a"], id="called-by-keyword-renamed"),
    pytest.param(OLD_M, klass({"m": method("(b: int | str)")}),
                 {"members": ("m",), "arguments": POSITIONAL_M},
                 ["P16! member m param a"], id="calls-not-complete-renamed"),
    pytest.param(OLD_M, klass({"m": method("(a: int)")}),
                 {"members": ("m",), "called": ("m",), "written": ("m",),
                  "arguments": (Arguments(("str",), (), "m"),)},
                 ["P11! member m param a"], id="called-and-written-excluded-argument"),
    # a renamed positional-only parameter: the argument evidence is read by position
    pytest.param(OLD_M, klass({"m": method("(b: int, /)")}),
                 {"members": ("m",), "arguments": (Arguments(("int",), (), "m"),)},
                 ["P11? member m param a", "P16! member m param a"], id="renamed-narrowed-fits"),
    pytest.param(OLD_M, klass({"m": method("(b: int, /)")}),
                 {"members": ("m",), "called": ("m",),
                  "arguments": (Arguments(("str",), (), "m"),)},
                 ["P11! member m param a", "P16? member m param a"],
                 id="renamed-narrowed-excluded"),
]


@pytest.mark.parametrize(("old", "new", "use", "expected"), MEMBER_USES)
def test_member_uses(old: Export, new: Export, use: dict[str, Any], expected: list[str]
                     ) -> None:
    assert outcome(check_export(old, new, **use)) == expected


def test_a_member_also_written_where_its_calls_are_unknown_is_unverified() -> None:
    verdict = check_export(OLD_M, klass({"m": method("(b: int | str)")}),
                           members=("m",), called=("m",), written=("m",),
                           arguments=POSITIONAL_M)
    assert verdict.ok
    assert any("used only by a name written" in u for u in verdict.unverified)
