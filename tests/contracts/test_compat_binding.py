"""The checker against Python itself: compile both signatures as real functions and call them.

Only arity, kinds and names matter here (no annotations), so every verdict is about binding.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from siglink.contracts.compat import check
from siglink.contracts.manifest import CallShape
from siglink.contracts.signature import Param, ParamKind, Signature
from siglink.contracts.verdict import Severity

PO = ParamKind.POSITIONAL_ONLY
PK = ParamKind.POSITIONAL_OR_KEYWORD
KO = ParamKind.KEYWORD_ONLY
NAMES = ("a", "b", "c", "d")
NEW_NAMES = ("a", "b", "c", "d", "x", "y")
ORDER = {PO: 0, PK: 1, KO: 2}
# Edits, weighted towards the ones that exercise the subtle rules (P15-P18, P2 with *args).
OPS = ("rename", "rename", "kind", "kind", "kind", "default", "add", "add", "remove", "swap",
       "star", "kw")

# A signature under construction: named parameters (name, kind, has_default), *args, **kw.
Shape = tuple[tuple[tuple[str, ParamKind, bool], ...], bool, bool]


def build(shape: Shape) -> Signature:
    """A valid signature from a shape: kinds in order, positional defaults made contiguous."""
    named, star, kw = shape
    ordered = sorted(named, key=lambda p: ORDER[p[1]])
    params: list[Param] = []
    defaulted = False
    for name, kind, wanted in ordered:
        has_default = wanted
        if kind is not KO:
            defaulted = defaulted or wanted
            has_default = defaulted
        params.append(Param(name, kind, default="None" if has_default else None))
    if star:
        params.insert(sum(p.kind is not KO for p in params),
                      Param("args", ParamKind.VAR_POSITIONAL))
    if kw:
        params.append(Param("kw", ParamKind.VAR_KEYWORD))
    return Signature(params)


def named_params(
    draw: st.DrawFn, names: tuple[str, ...], max_size: int
) -> list[tuple[str, ParamKind, bool]]:
    chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=max_size))
    return [(n, draw(st.sampled_from((PO, PK, KO))), draw(st.booleans())) for n in chosen]


@st.composite
def pairs(draw: st.DrawFn) -> tuple[Signature, Signature]:
    """An expected signature and a provided one a few edits away from it."""
    named = named_params(draw, NAMES, 4)
    star, kw = draw(st.booleans()), draw(st.booleans())
    expected: Shape = (tuple(named), star, kw)
    new = list(named)
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(OPS))
        if op == "rename" and new:
            i = draw(st.integers(0, len(new) - 1))
            name = draw(st.sampled_from(NEW_NAMES))
            if all(p[0] != name for p in new):
                new[i] = (name, new[i][1], new[i][2])
        elif op == "kind" and new:
            i = draw(st.integers(0, len(new) - 1))
            new[i] = (new[i][0], draw(st.sampled_from((PO, PK, KO))), new[i][2])
        elif op == "default" and new:
            i = draw(st.integers(0, len(new) - 1))
            new[i] = (new[i][0], new[i][1], not new[i][2])
        elif op == "add":
            name = draw(st.sampled_from(NEW_NAMES))
            if all(p[0] != name for p in new):
                spot = draw(st.integers(0, len(new)))
                new.insert(spot, (name, draw(st.sampled_from((PO, PK, KO))), draw(st.booleans())))
        elif op == "remove" and new:
            del new[draw(st.integers(0, len(new) - 1))]
        elif op == "swap" and len(new) > 1:
            i, j = draw(st.permutations(range(len(new))))[:2]
            new[i], new[j] = new[j], new[i]
        elif op == "star":
            star = not star
        elif op == "kw":
            kw = not kw
    return build(expected), build((tuple(new), star, kw))


def compile_def(sig: Signature) -> Any:
    namespace: dict[str, Any] = {}
    exec(f"def f{sig}:\n    return dict(locals())", namespace)
    return namespace["f"]


Landing = tuple[str, str]  # ("param", name), ("args", ""), ("kwargs", key)


def landings(result: dict[str, Any], sig: Signature) -> dict[object, Landing]:
    index = sig.index
    where: dict[object, Landing] = {}
    for name, value in result.items():
        if index.var_pos is not None and name == index.var_pos.name:
            where.update((v, ("args", "")) for v in value)
        elif index.var_kw is not None and name == index.var_kw.name:
            where.update((v, ("kwargs", k)) for k, v in value.items())
        elif value is not ...:
            where[value] = ("param", name)
    return where


def same(old: Landing, new: Landing, positional: bool, e: Signature, p: Signature) -> bool:
    """Does an argument reach "the same parameter"? By name; a positional-only parameter by
    position when renamed (P15); a removed parameter absorbed by *args/**kwargs (P6), or an
    extra keyword that went to **kwargs now reaching a new parameter of that name, count as
    the same."""
    if old == new:
        return True
    if old[0] == "param" and new[0] == "param":
        return (positional and e.index.by_name[old[1]].kind is PO
                and old[1] not in p.index.names and new[1] not in e.index.names)
    if old[0] == "param" and new[0] in ("kwargs", "args"):
        absorbed = old[1] not in p.index.names
        return absorbed and (old[1] == new[1] if new[0] == "kwargs" else positional)
    return (old[0] == "kwargs" and new[0] == "param" and old[1] == new[1]
            and old[1] not in e.index.names)


def calls(e: Signature, p: Signature) -> Iterator[tuple[int, tuple[str, ...]]]:
    """Positional counts and keyword sets, systematically (invalid ones are filtered later)."""
    names = sorted(e.index.names | p.index.names | {"zz"})
    top = max(len(e.index.pos), len(p.index.pos)) + 2
    for n in range(top + 1):
        for size in range(min(len(names), 5) + 1):
            yield from ((n, k) for k in itertools.combinations(names, size))


def outcomes(e: Signature, p: Signature) -> tuple[list[str], list[str]]:
    """Calls valid for ``e`` that fail under ``p``, and ones that bind differently."""
    old_f, new_f = compile_def(e), compile_def(p)
    failing: list[str] = []
    differing: list[str] = []
    for n, keywords in calls(e, p):
        args = [f"pos{i}" for i in range(n)]
        kwargs = {k: f"kw:{k}" for k in keywords}
        try:
            old = landings(old_f(*args, **kwargs), e)
        except TypeError:
            continue
        text = f"f({', '.join([*args, *(f'{k}=' for k in keywords)])})"
        try:
            new = landings(new_f(*args, **kwargs), p)
        except TypeError:
            failing.append(text)
            continue
        for value, where in old.items():
            if not same(where, new[value], value in args, e, p):
                differing.append(text)
                break
    return failing, differing


class TestBindingAgainstPython:
    """docs/design.md §3.3: "S_new is compatible when every call valid under S_old is valid
    under S_new, binds each argument to the same parameter" -- checked against CPython's own
    binding."""

    @settings(max_examples=400, derandomize=True, deadline=None)
    @given(pairs())
    def test_verdict_matches_binding(self, pair: tuple[Signature, Signature]) -> None:
        expected, provided = pair
        verdict = check(expected, provided)
        failing, differing = outcomes(expected, provided)
        flagged = [p for p in verdict.problems if p.severity is not Severity.HARMLESS]
        context = f"\n{expected}\n{provided}\n{verdict.explain()}"
        if verdict.ok:
            assert not failing, f"ok, but these calls fail: {failing[:5]}{context}"
        if not flagged:
            assert not differing, f"ok, but these calls bind differently: {differing[:5]}{context}"
        if not verdict.ok:
            assert failing or differing, f"not ok, but every call binds the same{context}"

    @settings(max_examples=200, derandomize=True, deadline=None)
    @given(pairs())
    def test_usage_mode_with_the_calls_seen(self, pair: tuple[Signature, Signature]) -> None:
        """With complete calls, a verdict that stays ok means every recorded call binds."""
        expected, provided = pair
        old_f, new_f = compile_def(expected), compile_def(provided)
        recorded: list[CallShape] = []
        for n, keywords in itertools.islice(calls(expected, provided), 0, None, 7):
            try:
                old_f(*range(n), **dict.fromkeys(keywords))
            except TypeError:
                continue
            recorded.append(CallShape(n, keywords))
        verdict = check(expected, provided, calls=recorded, calls_complete=True)
        for shape in recorded:
            try:
                new_f(*range(shape.positional), **dict.fromkeys(shape.keywords))
            except TypeError:
                assert not verdict.ok, f"{shape} fails under {provided}\n{verdict.explain()}"


class TestSelfCompatibility:
    """docs/design.md §3.1: "equal digests mean identical exports, and the fast path is sound"."""

    @settings(max_examples=200, derandomize=True, deadline=None)
    @given(pairs())
    def test_a_signature_is_identical_to_itself(self, pair: tuple[Signature, Signature]) -> None:
        for sig in pair:
            again = Signature.parse(str(sig)).with_defaults(sig.defaults)
            assert again == sig
            assert again.digest == sig.digest
            assert check(sig, again).identical
            assert check(str(sig), str(sig)).identical
