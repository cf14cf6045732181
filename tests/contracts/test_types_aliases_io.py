"""Type aliases, callback protocols and the ``typing.IO`` family, with mypy as the oracle.

A library's module-level alias (``_E = Callable[[Any], M]``, ``_E: TypeAlias = ...``) and a
callback protocol that is exactly a ``Callable`` (MarkupSafe 3's ``_TPEscape``) read as their
expansion, so a release that spells the annotation the other way changes nothing; and
``BinaryIO``/``TextIO`` are ``IO[bytes]``/``IO[str]``, as typeshed declares them (with the
``_typeshed`` protocols stubs name: ``SupportsKeysAndGetItem``, ``SupportsRead``/``Write``). Each
answer is checked against mypy's on the same code (one ``mypy.api.run`` per test).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mypy import api as mypy_api

from siglink.contracts.types import Decision, TypeRef, is_subtype, parse_type
from siglink.python.exports import extract_tree

ERROR = re.compile(r"^[^:]+\.py:(\d+): error: ")


def mypy_errors(folder: Path, main: str) -> set[int]:
    """The lines of ``main`` (a file in ``folder``) mypy reports an error on."""
    out, err, _ = mypy_api.run([
        "--no-incremental", "--cache-dir", "/dev/null", "--no-error-summary",
        "--hide-error-context", "--no-color-output", "--python-version", "3.11",
        str(folder / main)])
    assert not err.strip(), err
    lines = {int(m.group(1)) for line in out.splitlines() if (m := ERROR.match(line))
             and line.startswith(str(folder / main))}
    others = [line for line in out.splitlines() if " error: " in line
              and not line.startswith(str(folder / main))]
    assert not others, others
    return lines


# -- the typing.IO family ---------------------------------------------------------------------

IO_PAIRS = [
    ("typing.BinaryIO", "typing.IO[bytes]"),
    ("typing.TextIO", "typing.IO[str]"),
    ("typing.IO[bytes]", "typing.BinaryIO"),
    ("typing.IO[str]", "typing.TextIO"),
    ("typing.BinaryIO", "typing.IO[str]"),
    ("typing.TextIO", "typing.IO[bytes]"),
    ("typing.TextIO", "typing.BinaryIO"),
    ("typing.BinaryIO", "typing.IO[bytes] | None"),
    ("typing.TextIO", "collections.abc.Iterator[str]"),
    ("typing.BinaryIO", "collections.abc.Iterable[bytes]"),
    ("typing.IO[str]", "collections.abc.Iterable[bytes]"),
    ("typing.IO[bytes]", "collections.abc.Iterable[bytes]"),
    ("io.BytesIO", "typing.BinaryIO"),
    ("io.BytesIO", "typing.IO[bytes]"),
    ("io.BytesIO", "typing.IO[str]"),
    ("io.BytesIO", "io.IOBase"),
    ("io.StringIO", "typing.TextIO"),
    ("io.StringIO", "typing.IO[str]"),
    ("io.StringIO", "io.TextIOBase"),
    ("io.StringIO", "typing.BinaryIO"),
    ("io.TextIOWrapper", "typing.TextIO"),
    ("io.TextIOBase", "typing.TextIO"),
    ("io.BufferedIOBase", "typing.BinaryIO"),
    ("io.BufferedReader", "typing.BinaryIO"),
    ("io.BufferedWriter", "typing.IO[bytes]"),
    ("io.BufferedRandom", "typing.BinaryIO"),
    ("io.FileIO", "typing.IO[bytes]"),
    ("list[typing.BinaryIO]", "collections.abc.Sequence[typing.IO[bytes]]"),
    ("list[typing.BinaryIO]", "list[typing.IO[bytes]]"),
    ("dict[str, typing.TextIO]", "collections.abc.Mapping[str, typing.IO[str]]"),
    # typeshed's protocols that library stubs name (werkzeug's Headers.update)
    ("_typeshed.SupportsKeysAndGetItem[str, str]",
     "_typeshed.SupportsKeysAndGetItem[str, int | str]"),
    ("_typeshed.SupportsKeysAndGetItem[str, int | str]",
     "_typeshed.SupportsKeysAndGetItem[str, str]"),
    ("_typeshed.SupportsKeysAndGetItem[str, str]",
     "_typeshed.SupportsKeysAndGetItem[object, str]"),
    ("dict[str, int]", "_typeshed.SupportsKeysAndGetItem[str, int]"),
    ("collections.abc.Mapping[str, bool]", "_typeshed.SupportsKeysAndGetItem[str, int]"),
    ("list[str]", "_typeshed.SupportsKeysAndGetItem[int, str]"),
    ("typing.TextIO", "_typeshed.SupportsRead[str]"),
    ("typing.BinaryIO", "_typeshed.SupportsRead[str]"),
    ("io.BytesIO", "_typeshed.SupportsWrite[bytes]"),
    ("_typeshed.SupportsWrite[str]", "typing.TextIO"),
    ("_typeshed.SupportsRead[bool]", "_typeshed.SupportsRead[int]"),
    ("_typeshed.SupportsWrite[int]", "_typeshed.SupportsWrite[bool]"),
    ("_typeshed.SupportsWrite[bool]", "_typeshed.SupportsWrite[int]"),
]


def test_the_io_family_agrees_with_mypy(tmp_path: Path) -> None:
    lines = ["from __future__ import annotations", "import collections.abc", "import io",
             "import typing", "if typing.TYPE_CHECKING:", "    import _typeshed", ""]
    first = len(lines) + 1
    for i, (sub, sup) in enumerate(IO_PAIRS):
        lines.append(f"def f{i}(x: {sub}) -> {sup}: return x")
    (tmp_path / "io_pairs.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
    refused = mypy_errors(tmp_path, "io_pairs.py")
    wrong = []
    for i, (sub, sup) in enumerate(IO_PAIRS):
        mypy_yes = first + i not in refused
        ours = is_subtype(parse_type(sub), parse_type(sup))
        if ours is not (Decision.YES if mypy_yes else Decision.NO):
            wrong.append(f"{sub} <: {sup}: siglink {ours.value}, mypy {mypy_yes}")
    assert not wrong, "\n".join(wrong)


# -- aliases and callback protocols -----------------------------------------------------------

LIB = '''
from __future__ import annotations

import typing as t
from collections.abc import Callable
from typing import TypeAlias


class Markup(str):
    pass


_Plain = Callable[[t.Any], Markup]
_Marked: TypeAlias = "t.Callable[[t.Any], Markup]"


class _Callback(t.Protocol):
    def __call__(self, s: t.Any, /) -> Markup: ...


class _OldStyle(t.Protocol):
    def __call__(self, __s: t.Any) -> Markup: ...


class _ByKeyword(t.Protocol):  # callers may pass s=...: more than a Callable
    def __call__(self, s: t.Any) -> Markup: ...


class _WithMore(t.Protocol):
    name: str

    def __call__(self, s: t.Any, /) -> Markup: ...


def direct(escape: Callable[[t.Any], Markup]) -> None: ...
def plain(escape: _Plain) -> None: ...
def marked(escape: _Marked) -> None: ...
def callback(escape: _Callback) -> None: ...
def old_style(escape: _OldStyle) -> None: ...
def by_keyword(escape: _ByKeyword) -> None: ...
def with_more(escape: _WithMore) -> None: ...
'''
SPELLINGS = {"plain": "_Plain", "marked": "_Marked", "callback": "_Callback",
             "old_style": "_OldStyle", "by_keyword": "_ByKeyword", "with_more": "_WithMore"}
EXPANDED = {"plain", "marked", "callback", "old_style"}


@pytest.fixture(scope="module")
def escape_types(tmp_path_factory: pytest.TempPathFactory) -> dict[str, TypeRef]:
    root = tmp_path_factory.mktemp("lib")
    (root / "esc").mkdir()
    (root / "esc" / "__init__.py").write_text(LIB, encoding="utf-8")
    manifest = extract_tree(root, ["esc"], name="esc", version="1")
    out = {}
    for name in ("direct", *SPELLINGS):
        signature = manifest.exports[f"esc.{name}"].signature
        assert signature is not None
        [param] = signature.params
        assert param.annotation is not None
        out[name] = param.annotation
    return out


def test_an_alias_or_a_callback_protocol_is_its_callable(escape_types: dict[str, TypeRef]
                                                         ) -> None:
    assert str(escape_types["direct"]) == (
        "collections.abc.Callable[[typing.Any], esc.Markup]")
    for name in SPELLINGS:
        same = escape_types[name] == escape_types["direct"]
        assert same is (name in EXPANDED), (name, str(escape_types[name]))


def test_mypy_holds_the_expanded_ones_equivalent(tmp_path: Path) -> None:
    """Each spelling read as the ``Callable`` is one mypy assigns both ways; the two kept as
    classes are ones it does not (a ``Callable`` is not assignable to them)."""
    (tmp_path / "esc.py").write_text(LIB, encoding="utf-8")
    lines = ["from __future__ import annotations", "import typing as t",
             "from collections.abc import Callable",
             "from esc import Markup, " + ", ".join(SPELLINGS.values()), ""]
    first = len(lines) + 1
    for alias in SPELLINGS.values():
        lines.append(f"def to_{alias}(x: Callable[[t.Any], Markup]) -> {alias}: return x")
        lines.append(f"def from_{alias}(x: {alias}) -> Callable[[t.Any], Markup]: return x")
    (tmp_path / "check.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
    refused = mypy_errors(tmp_path, "check.py")
    for i, name in enumerate(SPELLINGS):
        both_ways = not {first + 2 * i, first + 2 * i + 1} & refused
        assert both_ways is (name in EXPANDED), name
