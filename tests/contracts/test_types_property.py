"""Invariants of siglink's types, over generated types (docs/design.md §3.2)."""

from __future__ import annotations

from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from siglink.contracts.types import (
    UNKNOWN,
    Decision,
    TypeRef,
    is_subtype,
    parse_type,
    union,
)

Tree = tuple[Any, ...]

ATOMS = ["bool", "int", "float", "complex", "str", "bytes", "None", "object", "typing.Any",
         "pkg.A", "pkg.B", "~pkg.T", "Literal[1]", "Literal['a', 2]"]  # fmt: skip
LEGACY_ATOM = {"str": "typing.Text", "None": "NoneType", "typing.Any": "Any",
               "Literal[1]": "typing.Literal[1]"}  # fmt: skip
ONE = ["list", "set", "frozenset", "Sequence", "Iterable", "AbstractSet", "tuple...", "type"]
MODERN = {"Sequence": "collections.abc.Sequence", "Iterable": "collections.abc.Iterable",
          "AbstractSet": "collections.abc.Set", "Mapping": "collections.abc.Mapping",
          "Callable": "collections.abc.Callable"}  # fmt: skip
LEGACY = {"list": "typing.List", "set": "typing.Set", "frozenset": "FrozenSet",
          "Sequence": "typing.Sequence", "Iterable": "Iterable",
          "AbstractSet": "typing.AbstractSet", "dict": "Dict", "Mapping": "t.Mapping",
          "type": "typing.Type", "Callable": "Callable", "tuple": "Tuple"}  # fmt: skip
TOWER = ["bool", "int", "float", "complex", "object"]


def _trees(max_leaves: int = 12) -> st.SearchStrategy[Tree]:
    atoms = st.sampled_from(ATOMS).map(lambda a: ("atom", a))

    def extend(children: st.SearchStrategy[Tree]) -> st.SearchStrategy[Tree]:
        return st.one_of(
            st.tuples(st.sampled_from(ONE), children),
            st.tuples(st.sampled_from(["dict", "Mapping"]), atoms, children),
            st.tuples(st.just("Callable"), st.lists(children, max_size=2).map(tuple), children),
            st.tuples(st.just("Callable..."), children),
            st.lists(children, min_size=0, max_size=3).map(lambda c: ("tuple", *c)),
            st.lists(children, min_size=2, max_size=3).map(lambda c: ("Union", *c)),
        )

    return st.recursive(atoms, extend, max_leaves=max_leaves)


def render(tree: Tree, legacy: bool = False) -> str:
    """Source text for ``tree``, modern (``list[int] | None``) or legacy (``Union[List[int]]``)."""
    head = tree[0]
    names = LEGACY if legacy else MODERN
    if head == "atom":
        atom: str = tree[1]
        return LEGACY_ATOM.get(atom, atom) if legacy else atom
    if head == "Union":
        parts = [render(c, legacy) for c in tree[1:]]
        if legacy:  # another order, another spelling
            return f"Union[{', '.join(reversed(parts))}]"
        return " | ".join(parts)
    if head == "tuple":
        name = names.get("tuple", "tuple")
        items = [render(c, legacy) for c in tree[1:]]
        return f"{name}[{', '.join(items) if items else '()'}]"
    if head == "tuple...":
        return f"{names.get('tuple', 'tuple')}[{render(tree[1], legacy)}, ...]"
    if head == "Callable":
        params = ", ".join(render(c, legacy) for c in tree[1])
        return f"{names['Callable']}[[{params}], {render(tree[2], legacy)}]"
    if head == "Callable...":
        return f"{names['Callable']}[..., {render(tree[1], legacy)}]"
    args = ", ".join(render(c, legacy) for c in tree[1:])
    return f"{names.get(head, head)}[{args}]"


def parse(text: str) -> TypeRef:
    from siglink.contracts.types import TypeContext

    t = parse_type(text, TypeContext(names={"t": "typing"}))
    assert t != UNKNOWN, text
    return t


@st.composite
def wider(draw: st.DrawFn, tree: Tree) -> Tree:
    """A type that the rules make a supertype of ``tree`` (one widening step)."""
    head = tree[0]
    other = ("atom", draw(st.sampled_from(ATOMS)))
    options: list[Tree] = [("atom", "object"), ("Union", tree, other)]
    if head == "atom" and tree[1] in TOWER:
        options.append(("atom", draw(st.sampled_from(TOWER[TOWER.index(tree[1]):]))))
    if head == "atom" and tree[1].startswith("Literal"):
        options.append(("atom", "int" if "1]" in tree[1] else "object"))
    if head in ("list", "Sequence", "tuple..."):
        options.append((draw(st.sampled_from(["Sequence", "Iterable"])), tree[1]))
    if head in ("Sequence", "Iterable", "frozenset", "tuple...", "AbstractSet", "type"):
        options.append((head, draw(wider(tree[1]))))
    if head in ("set", "frozenset"):
        options.append(("AbstractSet", tree[1]))
    if head in ("dict", "Mapping"):
        value = draw(wider(tree[2])) if head == "Mapping" else tree[2]
        options.append(("Mapping", tree[1], value))
    if head == "Callable...":
        options.append(("Callable...", draw(wider(tree[1]))))
    if head == "tuple" and len(tree) > 1:
        options.append(("tuple", *(draw(wider(c)) for c in tree[1:])))
        options.append(("tuple...", ("Union", *tree[1:]) if len(tree) > 2 else tree[1]))
    if head == "Union":
        options.append(("Union", *(draw(wider(c)) for c in tree[1:])))
    return draw(st.sampled_from(options))


class TestReflexivity:
    """"a signature is compatible with itself": every type is a subtype of itself, whichever
    spelling (``typing.List``/``list``, ``Optional``/``| None``, union order) wrote it."""

    @given(_trees())
    def test_spellings_parse_equal_and_subtype(self, tree: Tree) -> None:
        modern, legacy = parse(render(tree)), parse(render(tree, legacy=True))
        assert modern == legacy
        assert is_subtype(modern, legacy) is Decision.YES
        assert is_subtype(legacy, modern) is Decision.YES


class TestCanonicalText:
    """"``str(t)`` is the canonical text, and parsing it gives ``t`` back"."""

    @given(_trees())
    def test_round_trip(self, tree: Tree) -> None:
        t = parse(render(tree, legacy=True))
        assert parse_type(str(t)) == t
        assert str(parse_type(str(t))) == str(t)

    @given(st.text(max_size=40))
    @settings(max_examples=300)
    def test_parse_never_raises(self, text: str) -> None:
        t = parse_type(text)
        assert parse_type(str(t)) == t


class TestUnionMembers:
    """"``X <: X | Y``; a union is a subtype when each member is"."""

    @given(st.lists(_trees(4), min_size=1, max_size=4))
    def test_member_of_union(self, trees: list[Tree]) -> None:
        members = [parse(render(t)) for t in trees]
        joined = union(*members)
        for m in members:
            assert is_subtype(m, joined) is Decision.YES
        assert is_subtype(joined, joined) is Decision.YES
        assert parse(" | ".join(render(t) for t in trees)) == joined


class TestTransitivity:
    """"the relation is transitive": when ``a <: b`` and ``b <: c`` are both YES, so is
    ``a <: c``."""

    @given(st.data())
    def test_widening_chains(self, data: st.DataObject) -> None:
        a = data.draw(_trees(6))
        b = data.draw(wider(a))
        c = data.draw(wider(b))
        ta, tb, tc = (parse(render(x)) for x in (a, b, c))
        ab, bc = is_subtype(ta, tb), is_subtype(tb, tc)
        assume(ab is Decision.YES and bc is Decision.YES)
        assert is_subtype(ta, tc) is Decision.YES

    @given(_trees(4), _trees(4), _trees(4))
    def test_arbitrary_triples(self, a: Tree, b: Tree, c: Tree) -> None:
        ta, tb, tc = (parse(render(x)) for x in (a, b, c))
        if is_subtype(ta, tb) is Decision.YES and is_subtype(tb, tc) is Decision.YES:
            assert is_subtype(ta, tc) is Decision.YES
