"""Hostile text for siglink's parsers: signature text (``Signature.parse``) and C declarations
(:func:`siglink.native.cdecl.describe`). Any input gives a result or a :class:`SiglinkError`
subclass, never another exception."""

from __future__ import annotations

import contextlib
import os
import shutil

import pytest
from hostile_text import hostile_text
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


SURROGATE_TOKENS = ["\ud800", "\udcff", "x\udc80", "'\udfff'"]


def _tokens(tokens: list[str], max_size: int) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(tokens), max_size=max_size).map(" ".join)


class TestSignatureTextParsesOrRaisesSiglinkError:
    """Any text gives a Signature or a SiglinkError subclass."""

    @settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.one_of(_tokens(SIGNATURE_TOKENS + SURROGATE_TOKENS, 30).map(lambda t: f"({t})"),
                     _tokens(SIGNATURE_TOKENS, 30), st.text(max_size=60), hostile_text(60)))
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
    @given(st.one_of(_tokens(C_TOKENS + SURROGATE_TOKENS, 25), st.text(max_size=40),
                     hostile_text(40)))
    def test_any_text(self, text: str) -> None:
        from siglink.native.cdecl import describe

        try:
            document = describe(text + "\n", text=True, cache=False)
        except SiglinkError:
            return
        assert document["schema"] == 1 and isinstance(document["functions"], dict)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(st.one_of(_tokens(C_TOKENS, 6).map(str.encode), st.binary(max_size=6)),
                    max_size=12).map(b" ".join))
    def test_any_header_bytes(self, data: bytes) -> None:
        """A header file of any bytes (a name that is not UTF-8 among them): declarations or a
        SiglinkError naming it."""
        import tempfile

        from siglink.native.cdecl import describe

        with tempfile.TemporaryDirectory() as tmp:
            header = os.path.join(os.fsencode(tmp), b"h\xff.h")
            with open(header, "wb") as f:
                f.write(data + b"\n")
            try:
                document = describe(os.fsdecode(header), text=False, cache=False)
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
