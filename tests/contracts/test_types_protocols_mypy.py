"""Protocols relate structurally, with mypy (pinned in pyproject.toml) as the oracle.

A module of Protocols (the same member under two names, a narrower or wider member, a missing
one, properties, settable attributes and properties, a Protocol returning itself, a Protocol
extending another) is read by siglink's own extractor (:attr:`Manifest.protocols`); every
ordered pair of them, bare and inside ``Iterable[X | str]``, is checked by one mypy run
(``def g_i(x: SUB) -> SUP: return x``) and by :func:`is_subtype` over the extracted class
graph. Every answer must agree.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from itertools import product
from pathlib import Path

import pytest

from siglink.contracts.compat import class_graph
from siglink.contracts.manifest import Import, Manifest, Unit
from siglink.contracts.types import Decision, TypeContext, is_subtype, parse_type
from siglink.errors import ManifestError
from siglink.python.exports import extract_tree

CORPUS = """
from __future__ import annotations

from typing import Protocol


class HasHTML(Protocol):
    def __html__(self) -> str: ...


class _HasHTML(Protocol):
    def __html__(self) -> str: ...


class HTMLBytes(Protocol):
    def __html__(self) -> bytes: ...


class HTMLAndText(Protocol):
    def __html__(self) -> str: ...
    def text(self) -> str: ...


class HTMLChild(HasHTML, Protocol):
    def text(self) -> str: ...


class Takes(Protocol):
    def put(self, x: int) -> None: ...


class TakesObject(Protocol):
    def put(self, x: object) -> None: ...


class TakesTwo(Protocol):
    def put(self, x: int, y: int) -> None: ...


class Named(Protocol):
    name: str


class NamedToo(Protocol):
    name: str


class NamedObject(Protocol):
    name: object


class ReadsName(Protocol):
    @property
    def name(self) -> str: ...


class ReadsObject(Protocol):
    @property
    def name(self) -> object: ...


class SetsName(Protocol):
    @property
    def name(self) -> str: ...
    @name.setter
    def name(self, value: str) -> None: ...


class Chain(Protocol):
    def next(self) -> Chain: ...


class ChainToo(Protocol):
    def next(self) -> ChainToo: ...


class Empty(Protocol):
    pass
"""
NAMES = re.findall(r"^class (\w+)\(", CORPUS, flags=re.MULTILINE)
CONTEXT = TypeContext(module="corpus")


def _pairs() -> list[tuple[str, str]]:
    bare = list(product(NAMES, NAMES))
    wrapped = [(f"Iterable[{a} | str]", f"Iterable[{b} | str]")
               for a, b in product(("HasHTML", "_HasHTML", "HTMLBytes", "HTMLChild"), repeat=2)]
    return [*bare, *wrapped]


def test_protocols_relate_as_mypy_says(tmp_path: Path) -> None:
    (tmp_path / "corpus.py").write_text(textwrap.dedent(CORPUS).lstrip(), encoding="utf-8")
    manifest = extract_tree(tmp_path, ["corpus"], name="corpus", version="1")
    assert set(manifest.protocols) == {f"corpus.{n}" for n in NAMES}
    graph = class_graph(manifest.exports.values(), manifest.protocols)
    pairs = _pairs()
    lines = ["from __future__ import annotations", "from collections.abc import Iterable",
             f"from corpus import {', '.join(NAMES)}"]
    owner: dict[int, int] = {}
    for i, (sub, sup) in enumerate(pairs):
        lines += [f"def g_{i}(x: {sub}) -> {sup}:", "    return x"]
        owner[len(lines)] = i
    (tmp_path / "checks.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--no-error-summary",
         "--cache-dir", str(tmp_path / ".mypy_cache"), "checks.py"],
        cwd=tmp_path, capture_output=True, text=True, check=False)
    rejected = set()
    for line in result.stdout.splitlines():
        found = re.match(r"checks\.py:(\d+): error: .*\[return-value\]$", line)
        assert found or ": note:" in line, f"mypy reported something else: {line}"
        if found:
            rejected.add(owner[int(found.group(1))])
    wrong = []
    for i, (sub, sup) in enumerate(pairs):
        decision = is_subtype(parse_type(sub, CONTEXT), parse_type(sup, CONTEXT), graph)
        if decision is not (Decision.NO if i in rejected else Decision.YES):
            wrong.append(f"{sub} <: {sup}: siglink {decision.value}, "
                         f"mypy {'rejects' if i in rejected else 'accepts'}")
    assert not wrong, "\n".join(wrong)
    # the pair the rule is for, and the checks are not vacuous
    assert pairs.index(("_HasHTML", "HasHTML")) not in rejected
    assert len(rejected) > len(pairs) // 4


def test_the_manifest_keeps_protocols_and_member_uses() -> None:
    """``protocols``, ``Import.written`` and ``Import.called`` survive JSON; a manifest
    without them (an older one) reads as before; a damaged table is refused by path."""
    made = Manifest(Unit("app", "0", "application"),
                    imports={"lib": (Import("lib.K", members=("a", "b"), written=("a",),
                                            called=("b",)),)},
                    protocols={"lib.P": {"f": "collections.abc.Callable[[], str]", "n": "=int"}})
    again = Manifest.loads(made.dumps())
    assert again.protocols == made.protocols
    assert again.imports["lib"][0].written == ("a",)
    assert again.imports["lib"][0].called == ("b",)
    data = json.loads(made.dumps())
    del data["protocols"]
    for key in ("written", "called"):
        del data["imports"]["lib"][0][key]
    old = Manifest.from_json(data)
    assert old.protocols == {} and old.imports["lib"][0].written == ()
    data["protocols"] = {"lib.P": {"f": 3}}
    with pytest.raises(ManifestError, match=r"\$\.protocols"):
        Manifest.from_json(data)
