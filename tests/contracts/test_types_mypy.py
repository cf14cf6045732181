"""mypy (pinned in pyproject.toml) as the reference oracle for type assignability.

See docs/design.md §3.2.

A seeded grammar of types yields 900 (sub, sup) pairs, most of them related (a container
widened, an argument narrowed, a union grown, ...). One module, checked by one mypy run, holds
two checks per pair: ``def g_i(x: SUB) -> SUP: return x`` against :func:`is_subtype`, and the
assignment of a provided function to a ``Protocol`` whose ``__call__`` is the expected
signature (the pair in parameter or in return position) against :func:`check`. Every answer
must agree with mypy's, except the documented differences: siglink answers UNVERIFIED where the
pair involves ``Any``, ``unknown``, a bare generic (implied ``Any``), ``...`` parameters or a
TypeVar (mypy decides those through ``Any``/unification), or a class used as a callable (its
constructor signature is not part of a ``TypeRef``); and P14 (a ``None`` return becoming a
value is fine for a consumer that never used it). The agreement is printed in the run's
summary ("siglink figures").
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from siglink.contracts.compat import check
from siglink.contracts.signature import Signature
from siglink.contracts.types import (
    NONE,
    ClassGraph,
    Decision,
    TypeContext,
    TypeRef,
    is_subtype,
    parse_type,
    unverified_parts,
)

SEED = 20240611
PAIRS = 900

HEADER = """\
from __future__ import annotations

import collections
import collections.abc
import typing
import typing as t
from collections.abc import (
    AsyncIterable, AsyncIterator, Awaitable, Callable, Collection, Container, Coroutine,
    Generator, Hashable, ItemsView, Iterable, Iterator, KeysView, Mapping, MutableMapping,
    MutableSequence, MutableSet, Reversible, Sequence, Sized, ValuesView,
)
from collections.abc import Set as AbstractSet
from typing import (
    Any, Dict, FrozenSet, List, Literal, Optional, SupportsFloat, SupportsIndex, SupportsInt,
    Tuple, Type, TypeVar, Union,
)

T = TypeVar("T")


class Animal: ...
class Dog(Animal): ...
class Puppy(Dog): ...
class Registry(dict[str, Animal]): ...
class Box(typing.Generic[T]): ...
"""
CONTEXT = TypeContext(module="corpus", names={"t": "typing"}, typevars=frozenset({"corpus.T"}))
CLASSES = ClassGraph(
    {
        "corpus.Animal": [],
        "corpus.Dog": ["corpus.Animal"],
        "corpus.Puppy": ["corpus.Dog"],
        "corpus.Registry": ["dict[str, corpus.Animal]"],
        "corpus.Box": ["typing.Generic[~corpus.T]"],
    }
)
USER = ["Animal", "Dog", "Puppy", "Registry"]


@dataclass(frozen=True)
class Node:
    """A type in the grammar: a head and its arguments (Literal values are text)."""

    head: str
    args: tuple[Node, ...] = ()
    values: tuple[str, ...] = ()


ATOMS = [
    "int", "bool", "float", "complex", "str", "bytes", "bytearray", "memoryview", "range",
    "None", "object", "Any", "Hashable", "Sized", "SupportsInt", "SupportsIndex", "SupportsFloat",
    "Animal", "Dog", "Puppy", "Registry",
]  # fmt: skip
CLASS_ATOMS = ["int", "bool", "float", "str", "object", "bytes", "Animal", "Dog"]
LITERALS = ["1", "2", "-1", "'a'", "'b'", "True", "False", "b'x'"]
ONE = {  # one-argument generics, by family
    "seq": ["list", "Sequence", "MutableSequence", "collections.deque", "tuple..."],
    "iter": ["Iterable", "Iterator", "Collection", "Container", "Reversible", "Generator"],
    "set": ["set", "frozenset", "AbstractSet", "MutableSet", "KeysView"],
    "misc": ["Awaitable", "AsyncIterator", "AsyncIterable", "ValuesView", "type", "Box"],
}
ALL_ONE = [h for heads in ONE.values() for h in heads]
TWO = ["dict", "Mapping", "MutableMapping", "collections.defaultdict", "ItemsView"]
BARE = ["list", "dict", "tuple", "Sequence", "Mapping", "Callable", "type", "set", "Iterable",
        "Box"]
SPELLINGS = {
    "list": ["list", "List", "typing.List"],
    "dict": ["dict", "Dict", "t.Dict"],
    "frozenset": ["frozenset", "FrozenSet"],
    "Sequence": ["Sequence", "typing.Sequence", "collections.abc.Sequence"],
    "Mapping": ["Mapping", "t.Mapping"],
    "Iterable": ["Iterable", "typing.Iterable"],
    "type": ["type", "Type"],
    "tuple": ["tuple", "Tuple"],
    "Callable": ["Callable", "typing.Callable"],
}


class Grammar:
    """Random types and related pairs; all randomness comes from one seeded ``Random``."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def type(self, depth: int = 2) -> Node:
        r = self.rng.random()
        if depth <= 0 or r < 0.3:
            return self.atom()
        if r < 0.36:
            return Node("bare", values=(self.rng.choice(BARE),))
        if r < 0.62:
            head = self.rng.choice(ALL_ONE)
            arg = self.class_atom() if head == "type" else self.type(depth - 1)
            if head == "Generator":
                return Node(head, (arg, self.atom(), self.atom()))
            return Node(head, (arg,))
        if r < 0.74:
            key = self.rng.choice(["str", "int", "bool", "object", "bytes"])
            return Node(self.rng.choice(TWO), (Node(key), self.type(depth - 1)))
        if r < 0.82:
            n = self.rng.randint(0, 3)
            return Node("tuple", tuple(self.type(depth - 1) for _ in range(n)))
        if r < 0.9:
            if self.rng.random() < 0.25:
                return Node("Callable...", (self.type(depth - 1),))
            n = self.rng.randint(0, 2)
            return Node("Callable", tuple(self.type(depth - 1) for _ in range(n + 1)))
        n = self.rng.randint(2, 3)
        return Node("Union", tuple(self.type(depth - 1) for _ in range(n)))

    def atom(self) -> Node:
        if self.rng.random() < 0.12:
            return Node("Literal", values=tuple(self.rng.sample(LITERALS, self.rng.randint(1, 2))))
        return Node(self.rng.choice(ATOMS))

    def class_atom(self) -> Node:
        return Node(self.rng.choice(CLASS_ATOMS))

    def relate(self, n: Node, depth: int = 2) -> Node:
        """A type likely to be a super- or subtype of ``n`` (or to differ in one place)."""
        rng = self.rng
        if rng.random() < 0.1 or depth <= 0:
            return self.type(1) if rng.random() < 0.5 else n
        if rng.random() < 0.12:  # grow a union
            return Node("Union", (self.relate(n, depth - 1), self.atom()))
        head = n.head
        if head == "Union":
            members = [self.relate(m, depth - 1) if rng.random() < 0.4 else m for m in n.args]
            if len(members) > 2 and rng.random() < 0.4:
                members.pop(rng.randrange(len(members)))
            return Node("Union", tuple(members))
        if head == "Literal":
            options = [Node("int"), Node("str"), Node("bool"), Node("float"), self.atom()]
            return rng.choice([*options, Node("Literal", values=n.values[:1])])
        if head in ("int", "bool", "float", "complex"):
            return Node(rng.choice(["bool", "int", "float", "complex", "object", "Hashable",
                                    "SupportsInt", "SupportsIndex", "SupportsFloat", "str"]))
        if head in ("str", "bytes", "bytearray", "memoryview", "range"):
            item = Node("str" if head == "str" else "int")
            return rng.choice([
                Node(rng.choice(["str", "bytes", "bytearray", "memoryview", "Hashable", "Sized"])),
                Node(rng.choice(["Sequence", "Iterable", "Collection", "Container",
                                 "MutableSequence", "Reversible"]), (item,)),
                Node("Sequence", (Node(rng.choice(["int", "str", "object", "bytes"])),)),
            ])
        if head in ALL_ONE and n.args:
            family = next(f for f, heads in ONE.items() if head in heads)
            pool = ONE[family] + ONE[rng.choice(list(ONE))] + ["Iterable", "Collection"]
            new = rng.choice(pool)
            arg = n.args[0]
            if head == "type":
                new = "type"
                arg = self.class_atom() if rng.random() < 0.5 else arg
            elif new == "type":
                arg = self.class_atom()
            elif rng.random() < 0.6:
                arg = self.relate(arg, depth - 1)
            if new == "Generator":
                return Node(new, (arg, *(n.args[1:] or (Node("None"), Node("None")))))
            return Node(new, (arg,))
        if head in TWO and n.args:
            key, value = n.args
            if rng.random() < 0.25:
                return Node(rng.choice(["Iterable", "Collection", "Container"]), (key,))
            if rng.random() < 0.3:
                key = Node(rng.choice(["str", "int", "bool", "object"]))
            if rng.random() < 0.6:
                value = self.relate(value, depth - 1)
            return Node(rng.choice(TWO), (key, value))
        if head == "tuple":
            if rng.random() < 0.3:
                item = Node("Union", n.args) if len(n.args) > 1 else (n.args or (Node("int"),))[0]
                return Node(rng.choice(["tuple...", "Sequence", "Iterable"]), (item,))
            return Node("tuple", tuple(self.relate(a, depth - 1) if rng.random() < 0.5 else a
                                       for a in n.args))
        if head in ("Callable", "Callable..."):
            *params, ret = n.args
            if rng.random() < 0.2:
                return Node("Callable...", (self.relate(ret, depth - 1),))
            new_params = [self.relate(p, depth - 1) if rng.random() < 0.5 else p for p in params]
            if head == "Callable..." and rng.random() < 0.5:
                new_params = [self.atom()]
            return Node("Callable", (*new_params, self.relate(ret, depth - 1)))
        if head in USER:
            if head == "Registry" and rng.random() < 0.5:
                value = Node(rng.choice(["Animal", "Dog", "object"]))
                return Node(rng.choice(TWO), (Node(rng.choice(["str", "object"])), value))
            return Node(rng.choice([*USER, "object", "Hashable", "Sized"]))
        if head == "None":
            return rng.choice([Node("Union", (self.atom(), Node("None"))), Node("Hashable")])
        return self.type(1)

    def typevar_pair(self) -> tuple[Node, Node]:
        tv = Node("T")
        sub = self.rng.choice([tv, Node("list", (tv,)), Node("Sequence", (tv,)),
                               Node("dict", (Node("str"), tv)), Node("Callable", (tv, tv)),
                               Node("tuple...", (tv,))])
        sup = self.rng.choice([tv, Node("object"), Node("int"), self.relate(sub),
                               Node("Iterable", (tv,)), Node("Sequence", (Node("int"),))])
        return sub, sup

    def render(self, n: Node) -> str:
        """Source text for ``n``, in one of its spellings chosen at random."""
        rng = self.rng

        def spell(head: str) -> str:
            return rng.choice(SPELLINGS.get(head, [head]))

        head = n.head
        if head == "bare":
            return spell(n.values[0])
        if head == "Literal":
            return f"Literal[{', '.join(n.values)}]"
        if head == "Union":
            parts = [self.render(a) for a in n.args]
            if len(parts) == 2 and "None" in parts and rng.random() < 0.5:
                other = parts[1 - parts.index("None")]
                return f"Optional[{other}]"
            if rng.random() < 0.5:
                return f"Union[{', '.join(parts)}]"
            return " | ".join(f"({p})" if "|" in p or "Callable" in p else p for p in parts)
        if head == "tuple" and n.args == ():
            return f"{spell('tuple')}[()]"
        if head == "tuple...":
            return f"{spell('tuple')}[{self.render(n.args[0])}, ...]"
        if head == "Callable":
            *params, ret = n.args
            return f"{spell('Callable')}[[{', '.join(map(self.render, params))}], " \
                   f"{self.render(ret)}]"
        if head == "Callable...":
            return f"{spell('Callable')}[..., {self.render(n.args[0])}]"
        if not n.args:
            return spell(head)
        return f"{spell(head)}[{', '.join(map(self.render, n.args))}]"


def _corpus() -> list[tuple[str, str]]:
    g = Grammar(SEED)
    pairs: list[tuple[str, str]] = []
    for i in range(PAIRS):
        if i % 20 == 19:
            sub, sup = g.typevar_pair()
        else:
            sub = g.type()
            r = g.rng.random()
            sup = g.type() if r < 0.12 else sub if r < 0.2 else g.relate(sub)
        pairs.append((g.render(sub), g.render(sup)))
    return pairs


ERROR = re.compile(r"^corpus\.py:(\d+): error: (.*)  \[([a-z-]+)\]$")


def _module(pairs: list[tuple[str, str]]) -> tuple[str, dict[int, tuple[str, int]]]:
    """The corpus module, and which (check, pair) each line's verdict belongs to.

    For each pair (SUB, SUP), two checks: ``g_i`` returns a SUB as a SUP (assignability of
    the types themselves), and ``p_i`` assigns a provided function to a ``Protocol`` whose
    ``__call__`` is the expected signature: alternately the pair in
    parameter position (expected ``(x: SUB, /)``, provided ``(x: SUP, /)``: contravariance)
    and in return position (expected ``() -> SUP``, provided ``() -> SUB``: covariance).
    """
    lines = HEADER.splitlines()
    owner: dict[int, tuple[str, int]] = {}
    for i, (sub, sup) in enumerate(pairs):
        lines += [f"def g_{i}(x: {sub}) -> {sup}:", "    return x"]
        owner[len(lines)] = ("types", i)  # mypy reports the return line (1-based)
        expected, provided = _protocol_pair(i, sub, sup)
        lines += [f"class E_{i}(typing.Protocol):",
                  f"    def __call__(self{', ' if expected[1:-1] else ''}"
                  f"{expected.partition(')')[0][1:]}){expected.partition(')')[2]}: ...",
                  f"def f_{i}{provided}:", "    raise NotImplementedError",
                  f"p_{i}: E_{i} = f_{i}"]
        owner[len(lines)] = ("signatures", i)
    return "\n".join(lines) + "\n", owner


def _in_return(i: int) -> bool:
    """Is pair ``i`` checked in return position? Odd pairs, but not the TypeVar pairs (every
    20th): a TypeVar that only a return type mentions means nothing."""
    return i % 2 == 1 and i % 20 != 19


def _protocol_pair(i: int, sub: str, sup: str) -> tuple[str, str]:
    """(expected, provided) signature text for pair ``i``."""
    if not _in_return(i):
        return f"(x: {sub}, /) -> None", f"(x: {sup}, /) -> None"
    return f"() -> {sup}", f"() -> {sub}"


def _run_mypy(tmp_path: Path, pairs: list[tuple[str, str]]) -> dict[tuple[str, int], list[str]]:
    text, owner = _module(pairs)
    (tmp_path / "corpus.py").write_text(text)
    cmd = [
        sys.executable, "-m", "mypy", "--strict", "--no-warn-return-any", "--no-incremental",
        "--show-error-codes", "--no-error-summary", "--no-pretty", "--hide-error-context",
        "--cache-dir", str(tmp_path / "cache"), "corpus.py",
    ]  # fmt: skip
    result = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, check=False)
    errors: dict[tuple[str, int], list[str]] = {}
    unexpected = []
    for line in result.stdout.splitlines():
        if ": note:" in line:
            continue
        m = ERROR.match(line)
        if m is None:
            unexpected.append(line)
            continue
        code = m.group(3)
        if code == "type-arg":  # --strict's objection to bare generics: not a subtype verdict
            continue
        where = owner.get(int(m.group(1)))
        if where is None or code != ("return-value" if where[0] == "types" else "assignment"):
            unexpected.append(line)
            continue
        errors.setdefault(where, []).append(m.group(2))
    assert not unexpected, "mypy reported something other than assignability:\n" + "\n".join(
        unexpected[:20]
    )
    assert result.returncode in (0, 1), result.stderr
    return errors


def _documented(sub: TypeRef, sup: TypeRef) -> str | None:
    if unverified_parts(sub) or unverified_parts(sup):
        return "Any/unknown/TypeVar/..."
    if "type[" in str(sub) and "Callable" in str(sup):
        return "constructor signature"
    return None


def _verdict(i: int, sub_text: str, sup_text: str) -> Decision:
    """siglink's answer for the Protocol assignment of pair ``i``, through :func:`check`."""
    expected, provided = _protocol_pair(i, sub_text, sup_text)
    verdict = check(Signature.parse(expected, CONTEXT), Signature.parse(provided, CONTEXT),
                    classes=CLASSES)
    if not verdict.ok:
        return Decision.NO
    return Decision.UNVERIFIED if verdict.unverified else Decision.YES


def test_is_subtype_agrees_with_mypy(tmp_path: Path, report_figure: Callable[[str], None]) -> None:
    pairs = _corpus()
    assert len(pairs) >= 500
    errors = _run_mypy(tmp_path, pairs)
    tallies: dict[str, Counter[str]] = {"types": Counter(), "signatures": Counter()}
    wrong = []
    for i, (sub_text, sup_text) in enumerate(pairs):
        sub, sup = parse_type(sub_text, CONTEXT), parse_type(sup_text, CONTEXT)
        assert not sub.is_unknown and not sup.is_unknown, (sub_text, sup_text)
        answers = {"types": is_subtype(sub, sup, CLASSES),
                   "signatures": _verdict(i, sub_text, sup_text)}
        for check_name, decision in answers.items():
            mypy_ok = (check_name, i) not in errors
            tallies[check_name][f"{decision.value}/{'ok' if mypy_ok else 'error'}"] += 1
            if decision is (Decision.YES if mypy_ok else Decision.NO):
                continue
            if decision is Decision.UNVERIFIED and _documented(sub, sup):
                continue
            if (check_name == "signatures" and _in_return(i) and sup == NONE
                    and decision is Decision.YES and not mypy_ok):
                tallies[check_name]["P14"] += 1  # documented: a None return became a value
                continue
            wrong.append(
                f"{check_name} {i}: {sub_text} -> {sup_text}: siglink {decision.value} "
                f"({sub} <: {sup}), mypy {'ok' if mypy_ok else errors[check_name, i]}"
            )
    for check_name, tally in tallies.items():
        agree = tally["yes/ok"] + tally["no/error"]
        documented = len(pairs) - agree - sum(w.startswith(check_name) for w in wrong)
        line = (
            f"mypy agreement ({check_name}): {agree}/{len(pairs)}, documented differences: "
            f"{documented} (unverified where mypy accepts: {tally['unverified/ok']}, "
            f"where mypy rejects: {tally['unverified/error']}; P14: {tally['P14']}); "
            f"yes={tally['yes/ok']} no={tally['no/error']}"
        )
        print(line)
        report_figure(line)
    assert not wrong, f"{len(wrong)} undocumented disagreements with mypy:\n" + "\n".join(wrong)
    for tally in tallies.values():  # the corpus must exercise both answers, not only one
        assert tally["yes/ok"] > 100
        assert tally["no/error"] > 100
