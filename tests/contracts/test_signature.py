"""Signatures: parsing, canonical text, digests, validation, live objects (docs/design.md §3.1)."""

from __future__ import annotations

import enum
import functools
import inspect
import pickle
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siglink.contracts import signature as signature_module
from siglink.contracts.signature import Param, ParamKind, Signature
from siglink.contracts.types import TypeContext, parse_type
from siglink.errors import BadInputError, SignatureSyntaxError

PO = ParamKind.POSITIONAL_ONLY
PK = ParamKind.POSITIONAL_OR_KEYWORD
KO = ParamKind.KEYWORD_ONLY


class TestCanonicalText:
    @pytest.mark.parametrize(
        ("text", "canonical"),
        [
            ("()", "()"),
            ("() -> None", "() -> None"),
            ("(a, b)", "(a, b)"),
            ("(a: int, /, b: str = ..., *args: int, c: float, **kw: str) -> list[int]",
             "(a: int, /, b: str = ..., *args: int, c: float, **kw: str) -> list[int]"),
            # keyword-only parameters sorted by name, defaults written "..."
            ("(*, z=1, a, m: int = 2)", "(*, a, m: int = ..., z=...)"),
            ("(x, *rest, z, a)", "(x, *rest, a, z)"),
            # types normalized (docs/design.md §3.2)
            ("(a: List[int], b: Optional[str] = None) -> Dict[str, Any]",
             "(a: list[int], b: str | None = ...) -> dict[str, typing.Any]"),
            ("(a: 'Sequence[int]')", "(a: collections.abc.Sequence[int])"),
            ("  (a ,b= 3 ) ->int  ", "(a, b=...) -> int"),
            ("(a, /)", "(a, /)"),
            ("(a, /, *, b)", "(a, /, *, b)"),
            ("(**kw)", "(**kw)"),
            ("(a: int,\n b: str)", "(a: int, b: str)"),
        ],
    )
    def test_canonical(self, text: str, canonical: str) -> None:
        sig = Signature.parse(text)
        assert str(sig) == canonical
        assert str(Signature.parse(canonical)) == canonical

    @pytest.mark.parametrize(
        ("text", "defaults"),
        [
            ("(a=1, b='x', c=None, *, d=(1, 2), e=-1.5)",
             {"a": "1", "b": "'x'", "c": "None", "d": "(1, 2)", "e": "-1.5"}),
            ('(a="x")', {"a": "'x'"}),  # normalized through ast.unparse
            ("(a=..., b=os.sep)", {"a": "...", "b": "os.sep"}),
            ("(a, b)", {}),
        ],
    )
    def test_default_values_are_recorded(self, text: str, defaults: dict[str, str]) -> None:
        assert Signature.parse(text).defaults == defaults

    def test_kinds_and_types(self) -> None:
        sig = Signature.parse("(a: int, /, b: str = 'x', *args: int, c: float, **kw: str) -> None")
        assert sig.params == (
            Param("a", PO, parse_type("int")),
            Param("b", PK, parse_type("str"), "'x'"),
            Param("args", ParamKind.VAR_POSITIONAL, parse_type("int")),
            Param("c", KO, parse_type("float")),
            Param("kw", ParamKind.VAR_KEYWORD, parse_type("str")),
        )
        assert sig.returns == parse_type("None")
        assert Signature.parse("(a)").returns is None

    def test_annotations_resolve_in_the_given_context(self) -> None:
        context = TypeContext(module="pkg.mod", names={"t": "typing", "Node": "pkg.tree.Node"})
        sig = Signature.parse("(a: t.Optional[Node], b: Local) -> t.Any", context)
        assert str(sig) == "(a: pkg.tree.Node | None, b: pkg.mod.Local) -> typing.Any"

    def test_unreadable_annotation_is_unknown(self) -> None:
        assert str(Signature.parse("(a: 1 + 2)")) == "(a: unknown)"


class TestSyntaxErrors:
    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("(a, b c)", "invalid syntax\n    (a, b c)\n          ^"),
            ("a, b", "a signature starts with '('\n    a, b\n    ^"),
            ("f(a)", "a signature starts with '('\n    f(a)\n    ^"),
            ("(a, b, a)", "duplicate parameter 'a'\n    (a, b, a)\n           ^"),
            ("(a=1, b)",
             "non-default argument follows default argument\n    (a=1, b)\n          ^"),
            ("(**kw, a)",
             "arguments cannot follow var-keyword argument\n    (**kw, a)\n           ^"),
            ("(a) -> int: pass", "invalid syntax\n    (a) -> int: pass\n                    ^"),
            ("(a", "'(' was never closed\n    (a\n    ^"),
            # Nothing of the internal 'def _(...): ...' wrapper leaks into a message.
            ("(a: int) -> ", "missing return type after '->'\n    (a: int) -> \n               ^"),
            ("(a: int) ->", "missing return type after '->'\n    (a: int) ->\n               ^"),
            ("(a: int) int",
             "unexpected text after the signature\n    (a: int) int\n             ^"),
            ("(a: int", "'(' was never closed\n    (a: int\n           ^"),
        ],
    )
    def test_caret_under_the_span(self, text: str, message: str) -> None:
        with pytest.raises(SignatureSyntaxError) as info:
            Signature.parse(text)
        assert str(info.value) == f"invalid signature: {message}"
        assert info.value.text == text
        assert isinstance(info.value, BadInputError)
        assert isinstance(info.value, ValueError)

    def test_no_code_smuggled_after_the_signature(self) -> None:
        with pytest.raises(SignatureSyntaxError, match=r"unexpected text|invalid syntax"):
            Signature.parse("(a): ...\ndef g(b)")


class TestValues:
    def test_immutable_hashable_picklable(self) -> None:
        sig = Signature.parse("(a: int, *, b: str = 'x') -> None")
        with pytest.raises(AttributeError):
            sig.params = ()
        assert hash(sig) == hash(Signature.parse("(a: int, *, b: str = 'x') -> None"))
        assert {sig: 1}[Signature.parse("(a: int, *, b: str = 'x') -> None")] == 1
        assert pickle.loads(pickle.dumps(sig)) == sig

    @pytest.mark.parametrize(
        "text", ["()", "(a, /, b=1, *c, d, e='x', **f) -> int", "(a: list[int] | None = None)"]
    )
    def test_repr_pastes_back(self, text: str) -> None:
        sig = Signature.parse(text)
        namespace = {"Signature": Signature, "Param": Param, "ParamKind": ParamKind,
                     "parse_type": parse_type}
        assert eval(repr(sig), namespace) == sig
        for param in sig.params:
            assert eval(repr(param), namespace) == param

    def test_keyword_only_order_is_normalized(self) -> None:
        one = Signature([Param("b", KO), Param("a", KO)])
        assert [p.name for p in one.params] == ["a", "b"]
        assert one == Signature([Param("a", KO), Param("b", KO)])

    @pytest.mark.parametrize(
        ("params", "message"),
        [
            ([Param("a", PK), Param("a", KO)], "duplicate parameter 'a'"),
            ([Param("a", KO), Param("b", PK)],
             "parameter b: positional-or-keyword parameter out of order"),
            ([Param("a", PK, default="1"), Param("b", PK)],
             "parameter b without a default follows a, which has one"),
            ([Param("a", ParamKind.VAR_POSITIONAL), Param("b", ParamKind.VAR_POSITIONAL)],
             "parameter b: var-positional parameter out of order"),
        ],
    )
    def test_validated_when_built(self, params: list[Param], message: str) -> None:
        with pytest.raises(BadInputError) as info:
            Signature(params)
        assert str(info.value) == message

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (("1a", PK), "invalid parameter name '1a'"),
            (("a", ParamKind.VAR_KEYWORD, None, "1"),
             "parameter a: var-keyword parameters have no default"),
            (("a", "positional"), "parameter a: kind must be a ParamKind"),
        ],
    )
    def test_param_validated(self, args: tuple[Any, ...], message: str) -> None:
        with pytest.raises(BadInputError) as info:
            Param(*args)
        assert str(info.value) == message

    def test_digest_covers_defaults_not_keyword_order(self) -> None:
        base = Signature.parse("(a, *, b=1, c=2)")
        assert Signature.parse("(a, *, c=2, b=1)").digest == base.digest
        assert Signature.parse("(a, *, b=1, c=3)").digest != base.digest
        assert Signature.parse("(a, *, b=1, c=...)").digest != base.digest
        assert Signature.parse("(a, /, *, b=1, c=2)").digest != base.digest
        assert len(base.digest) == 32

    def test_with_defaults_restores_manifest_values(self) -> None:
        sig = Signature.parse("(a, b: int = ..., *, c=...)")
        restored = sig.with_defaults({"b": "3", "c": "'x'"})
        assert restored == Signature.parse("(a, b: int = 3, *, c='x')")
        assert str(restored) == str(sig)
        assert restored.digest != sig.digest
        assert sig.with_defaults({}) is sig

    @pytest.mark.parametrize("bad", [{"a": "1"}, {"zz": "1"}])
    def test_with_defaults_refuses_unknown_names(self, bad: dict[str, str]) -> None:
        with pytest.raises(BadInputError, match=r"no parameter '(a|zz)' with a default"):
            Signature.parse("(a, b=...)").with_defaults(bad)


TYPES = ("int", "str | None", "list[int]", "collections.abc.Mapping[str, float]", "typing.Any")


@st.composite
def typed_signatures(draw: st.DrawFn) -> Signature:
    names = draw(st.lists(st.sampled_from("abcdef"), unique=True, max_size=5))
    params: list[Param] = []
    kinds = sorted(draw(st.lists(st.sampled_from((PO, PK, KO)), min_size=len(names),
                                 max_size=len(names))), key=list(ParamKind).index)
    defaulted = False
    for name, kind in zip(names, kinds, strict=True):
        default = draw(st.sampled_from((None, "1", "'x'", "None", "...")))
        if kind is not KO:
            defaulted = defaulted or default is not None
            default = (default or "0") if defaulted else None
        annotation = draw(st.none() | st.sampled_from(TYPES).map(parse_type))
        params.append(Param(name, kind, annotation, default))
    if draw(st.booleans()):
        index = sum(p.kind is not KO for p in params)
        params.insert(index, Param("args", ParamKind.VAR_POSITIONAL,
                                   draw(st.none() | st.sampled_from(TYPES).map(parse_type))))
    if draw(st.booleans()):
        params.append(Param("kw", ParamKind.VAR_KEYWORD))
    returns = draw(st.none() | st.sampled_from(TYPES).map(parse_type))
    return Signature(params, returns)


class TestRoundTrip:
    """docs/design.md §3.1: the canonical text parses back to the same signature, with the
    same digest."""

    @settings(max_examples=200, derandomize=True, deadline=None)
    @given(typed_signatures())
    def test_parse_of_canonical_text(self, sig: Signature) -> None:
        again = Signature.parse(str(sig)).with_defaults(sig.defaults)
        assert again == sig
        assert again.digest == sig.digest
        assert str(again) == str(sig)


# -- live objects -------------------------------------------------------------------------------


class Color(enum.Enum):
    RED = 1


def plain(a, b: int = 2, /, c: str = "x", *args: float, d: Color = Color.RED, **kw: bytes) -> None:  # type: ignore[no-untyped-def]
    """Every kind of parameter."""


def stringly(a: Sequence[int] | None, b: list[Color]) -> Callable[[int], str]:
    """Annotations as strings, resolved in this module."""
    raise NotImplementedError


def odd_defaults(a: object = object(), b: float = float("nan"), c: Any = print,
                 d: tuple[int, ...] = (1, 2), e: dict[str, int] | None = None) -> None:
    """Defaults with no stable text become '...'."""


class Widget:
    def method(self, a: int, *, b: str = "") -> bool:
        return True

    @classmethod
    def make(cls, size: int) -> Widget:
        return cls()

    @staticmethod
    def helper(x: int) -> int:
        return x


class Tree:
    """A class whose constructor's annotations are strings naming this module's classes."""

    def __init__(self, root: Widget, kids: Sequence[Tree] = (), *, color: Color | None = None
                 ) -> None: ...


def decorated(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    return wrapper


class TestFromCallable:
    @pytest.mark.parametrize(
        ("obj", "text"),
        [
            (plain, "(a, b: int = ..., /, c: str = ..., *args: float, "
                    "d: test_signature.Color = ..., **kw: bytes) -> None"),
            (stringly, "(a: collections.abc.Sequence[int] | None, b: list[test_signature.Color])"
                       " -> collections.abc.Callable[[int], str]"),
            (Widget().method, "(a: int, *, b: str = ...) -> bool"),
            (Widget.make, "(size: int) -> test_signature.Widget"),
            (Widget.helper, "(x: int) -> int"),
            (decorated(plain), "(a, b: int = ..., /, c: str = ..., *args: float, "
                               "d: test_signature.Color = ..., **kw: bytes) -> None"),
            (functools.partial(plain, 1, 2), "(c: str = ..., *args: float, "
                                             "d: test_signature.Color = ..., **kw: bytes) -> None"),
            (len, "(obj, /)"),
            (dict.get, "(self, key, default=..., /)"),
            (Color, "(value, names=..., *, boundary=..., module=..., qualname=..., start=..., "
                    "type=...)"),
            # A class: its constructor, string annotations resolved in its module, no return.
            (Tree, "(root: test_signature.Widget, kids: collections.abc.Sequence["
                   "test_signature.Tree] = ..., *, color: test_signature.Color | None = ...)"),
        ],
    )
    def test_reads_live_objects(self, obj: Callable[..., Any], text: str) -> None:
        assert str(Signature.from_callable(obj)) == text

    def test_default_texts(self) -> None:
        assert Signature.from_callable(plain).defaults == {
            "b": "2", "c": "'x'", "d": "test_signature.Color.RED"}
        assert Signature.from_callable(odd_defaults).defaults == {
            "a": "...", "b": "...", "c": "builtins.print", "d": "(1, 2)", "e": "None"}

    def test_drop_first(self) -> None:
        assert str(Signature.from_callable(Widget.method, drop_first=True)) == (
            "(a: int, *, b: str = ...) -> bool")
        assert str(Signature.from_callable(Widget.__dict__["make"])) == (
            "(size: int) -> test_signature.Widget")
        with pytest.raises(BadInputError, match="needs a first positional parameter"):
            Signature.from_callable(lambda *, a: a, drop_first=True)

    @pytest.mark.parametrize("fn", [plain, stringly, odd_defaults, Widget.method, Widget.helper])
    def test_code_path_agrees_with_inspect(self, fn: Callable[..., Any]) -> None:
        fast = signature_module._from_function(fn, False)  # type: ignore[arg-type]
        slow = signature_module._from_inspect(fn, False)
        assert fast == slow
        assert [p.name for p in fast.params] == list(inspect.signature(fn).parameters)

    def test_no_signature(self) -> None:
        with pytest.raises(BadInputError) as info:
            Signature.from_callable(getattr)  # a builtin without a text signature
        assert str(info.value) == (
            "getattr: no signature can be read (no signature found for builtin "
            "<built-in function getattr>)")
