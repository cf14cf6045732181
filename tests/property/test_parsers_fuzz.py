"""Hostile text for siglink's parsers: signature text (``Signature.parse``) and C declarations
(:func:`siglink.native.cdecl.describe`). Any input gives a result or a :class:`SiglinkError`
subclass, never another exception."""

from __future__ import annotations

import contextlib
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siglink.contracts.signature import Signature
from siglink.errors import SiglinkError

SIGNATURE_TOKENS = ["(", ")", "[", "]", ",", "/", "*", "**", ":", "=", "->", "...", "a", "b",
                    "self", "int", "str", "list", "None", "|", "'x'", "1", "lambda", "yield",
                    "Literal", "typing.Any", " ", "\\", "#", "\n", "\x00", '"', "{", "}"]
C_TOKENS = ["int", "char", "unsigned", "long", "struct", "union", "enum", "typedef", "const",
            "void", "*", "(", ")", "[", "]", "{", "}", ";", ",", "x", "f", "s", "t", "...",
            "=", "1", ":", "#define", "#include", "<stdio.h>", "\n", "__attribute__((x))",
            "static", "inline", "_Bool", "float", "double", "__int128", "volatile", "sizeof"]


def _tokens(tokens: list[str], max_size: int) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(tokens), max_size=max_size).map(" ".join)


class TestSignatureTextParsesOrRaisesSiglinkError:
    """Any text gives a Signature or a SiglinkError subclass."""

    @settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.one_of(_tokens(SIGNATURE_TOKENS, 30).map(lambda t: f"({t})"),
                     _tokens(SIGNATURE_TOKENS, 30), st.text(max_size=60)))
    def test_any_text(self, text: str) -> None:
        try:
            parsed = Signature.parse(text)
        except SiglinkError:
            return
        # The text form writes defaults as ``=...`` (a manifest keeps their values apart),
        # so the round trip restores them: ``(a = a)`` is ``(a=...)`` with default ``a``.
        again = Signature.parse(str(parsed))
        assert str(again) == str(parsed)
        assert again.with_defaults(parsed.defaults) == parsed

    @pytest.mark.parametrize("depth", [50, 500, 5000, 50_000])
    def test_deep_nesting(self, depth: int) -> None:
        for text in ("(a: " + "list[" * depth + "int" + "]" * depth + ")",
                     "(a=" + "(" * depth + ")" * depth + ")",
                     "(a: '" + "[" * depth + "')"):
            with contextlib.suppress(SiglinkError):
                Signature.parse(text)


needs_cc = pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler (cc)")


@needs_cc
class TestCDeclarationsDescribeOrRaiseSiglinkError:
    """Any declaration text gives a declarations document or a SiglinkError subclass."""

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.one_of(_tokens(C_TOKENS, 25), st.text(max_size=40)))
    def test_any_text(self, text: str) -> None:
        from siglink.native.cdecl import describe

        try:
            document = describe(text + "\n", text=True, cache=False)
        except SiglinkError:
            return
        assert document["schema"] == 1 and isinstance(document["functions"], dict)

    @pytest.mark.parametrize("text", [
        "int f(" + "int (*" * 300 + "x" + ")(int)" * 300 + ");",
        "struct s { " + "struct { " * 300 + "int x; " + "} a; " * 300 + "};",
        "int f(void);" * 2000,
        "int a[999999999999999999999];",
        "#define X (" * 100 + "\nint f(void);",
        "int \x00 f(void);",
        "typedef int t; t t;",
        "struct s { int x : 99; };",
    ])
    def test_hostile_declarations(self, text: str) -> None:
        from siglink.native.cdecl import describe

        with contextlib.suppress(SiglinkError):
            describe(text, text=True, cache=False)
