"""An attribute typed ``Callable[[...], R]`` is compared as the function it holds (not R6)."""

from __future__ import annotations

from siglink.contracts.compat import as_function, check_export
from siglink.contracts.manifest import CallShape, Export, ExportKind
from siglink.contracts.signature import Signature
from siglink.contracts.types import parse_type


def fn(sig: str) -> Export:
    return Export("lib.f", ExportKind.FUNCTION, "lib", signature=Signature.parse(sig))


def held(type_text: str) -> Export:
    return Export("lib.f", ExportKind.ATTRIBUTE, "lib", type=parse_type(type_text))


def rules(expected: Export, provided: Export, **kw: object) -> list[str]:
    verdict = check_export(expected, provided, **kw)  # type: ignore[arg-type]
    return [p.rule for p in verdict.incompatible]


def test_callable_attribute_becomes_a_positional_only_function() -> None:
    made = as_function(held("collections.abc.Callable[[str, int], bool]"))
    assert made.kind is ExportKind.FUNCTION and made.type is None
    assert str(made.signature) == "(p0: str, p1: int, /) -> bool"
    anything = as_function(held("collections.abc.Callable[..., bool]"))
    assert str(anything.signature) == "(*args, **kwargs) -> bool"
    plain = held("int")
    assert as_function(plain) is plain


def test_function_to_callable_attribute_is_compared_as_functions() -> None:
    assert rules(fn("(prompt: str, /) -> str"),
                 held("collections.abc.Callable[[str], str]")) == []
    assert rules(held("collections.abc.Callable[[str], str]"),
                 fn("(prompt: str) -> str")) == []
    # a keyword call no longer binds: a real break, named by its rule and not by R6
    broken = rules(fn("(prompt: str) -> str"), held("collections.abc.Callable[[str], str]"))
    assert broken and "R6" not in broken
    assert rules(fn("(a: str) -> str"), held("collections.abc.Callable[[str, str], str]")) != []
    assert rules(fn("() -> str"), held("int")) == ["R6"]


def test_calls_only_bind_to_a_callable_attribute() -> None:
    provided = held("collections.abc.Callable[[str], str]")
    assert rules(None, provided, calls=[CallShape(1)]) == []  # type: ignore[arg-type]
    assert rules(None, provided, calls=[CallShape(2)]) != []  # type: ignore[arg-type]


def method(sig: str) -> Export:
    return Export("lib.C.m", ExportKind.METHOD, "lib", signature=Signature.parse(sig))


def holder(type_text: str) -> Export:
    """A class attribute bound to a factory's result (``m = make("m")``, ``make`` returning
    ``type_text``)."""
    return Export("lib.C.m", ExportKind.ATTRIBUTE, "lib", type=parse_type(type_text))


def test_method_to_callable_class_attribute_is_compared_as_methods() -> None:
    made = "collections.abc.Callable[..., lib.C]"
    # the callable takes anything: every call of the method binds
    assert rules(method("() -> lib.C"), holder(made)) == []
    # the method that replaced a callable of unknown shape: unverified, not R6 nor P20
    verdict = check_export(holder(made), method("() -> lib.C"))
    assert verdict.ok and verdict.unverified
    assert rules(holder(made), method("() -> lib.C"), policy="strict") == ["P20", "P20"]
    # the recorded calls decide when complete
    assert rules(holder(made), method("() -> lib.C"), calls=(CallShape(0),),
                 calls_complete=True) == []
    assert rules(holder(made), method("() -> lib.C"), calls=(CallShape(1),),
                 calls_complete=True) == ["P20"]
    # a value that is no callable stays R6
    assert rules(method("() -> lib.C"), holder("int")) == ["R6"]
