"""User classes' recorded bases, the nominal part of the subtype relation (docs/design.md §3.2).

>>> g = ClassGraph({"pkg.Dog": ["pkg.Animal"], "pkg.Animal": ["object"]})
>>> "pkg.Dog" in g, g.bases("pkg.Dog")
(True, (parse_type('pkg.Animal'),))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Final, final

from siglink.contracts._typeparse import parse
from siglink.contracts._typeref import TypeRef

__all__ = ["ClassGraph"]


def __dir__() -> list[str]:
    return list(__all__)


_EMPTY: Final[Mapping[str, Sequence[str]]] = MappingProxyType({})
_NO_PROTOCOLS: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType({})


@final
class ClassGraph:
    """User classes' recorded bases, for nominal subtyping (transitively).

    Bases are canonical type text (``str(TypeRef)``): ``"dict[str, pkg.Node]"``, TypeVars as
    ``~pkg.T``. A ``typing.Generic[~pkg.T]`` (or ``typing.Protocol[...]``) base gives a generic
    class its parameters, otherwise they are its bases' TypeVars in order of appearance. A
    user class's parameters are compared invariantly (their variance is not recorded).

    >>> from siglink.contracts.types import is_subtype, parse_type
    >>> g = ClassGraph({"pkg.Dog": ["pkg.Animal"], "pkg.Animal": ["object"]})
    >>> is_subtype(parse_type("pkg.Dog"), parse_type("pkg.Animal"), g)
    <Decision.YES: 'yes'>
    """

    __slots__ = ("_bases", "_hash", "_key", "_members", "_parsed", "_protocols")

    def __init__(self, bases: Mapping[str, Sequence[str]] = _EMPTY,
                 protocols: Mapping[str, Mapping[str, str]] = _NO_PROTOCOLS) -> None:
        self._bases = {name: tuple(b) for name, b in bases.items()}
        self._protocols = {name: dict(m) for name, m in protocols.items()}
        self._key = (tuple(sorted(self._bases.items())), tuple(sorted(
            (name, tuple(sorted(m.items()))) for name, m in self._protocols.items())))
        self._hash = hash(self._key)  # is_subtype memoizes on it: hash a big graph once
        self._parsed: dict[str, tuple[TypeRef, ...]] = {}
        self._members: dict[str, dict[str, tuple[TypeRef, bool]]] = {}

    def __contains__(self, name: object) -> bool:
        return name in self._bases

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ClassGraph):
            return False
        return self is other or (self._hash == other._hash and self._key == other._key)

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        if self._protocols:
            return f"ClassGraph({self._bases!r}, {self._protocols!r})"
        return f"ClassGraph({self._bases!r})"

    def __reduce__(self) -> tuple[type[ClassGraph], tuple[dict[str, tuple[str, ...]],
                                                          dict[str, dict[str, str]]]]:
        return (ClassGraph, (self._bases, self._protocols))

    @property
    def protocols(self) -> Mapping[str, Mapping[str, str]]:
        """The Protocol classes whose members are recorded: path -> member -> type text."""
        return self._protocols

    def with_protocols(self, protocols: Mapping[str, Mapping[str, str]]) -> ClassGraph:
        """This graph, also knowing ``protocols`` it lacks (another version's Protocols, which
        the types a consumer recorded may name)."""
        extra = {n: m for n, m in protocols.items() if n not in self._protocols}
        if not extra:
            return self
        return ClassGraph(self._bases, {**extra, **self._protocols})

    def protocol(self, name: str) -> Mapping[str, tuple[TypeRef, bool]] | None:
        """The members of Protocol ``name``: its type (a method as a ``Callable``) and
        whether it is settable (``=TYPE``: compared invariantly), or None when ``name`` is
        not a Protocol whose members are recorded.

        >>> g = ClassGraph({}, {"pkg.P": {"f": "collections.abc.Callable[[], str]", "n": "=int"}})
        >>> {n: (str(t), settable) for n, (t, settable) in g.protocol("pkg.P").items()}
        {'f': ('collections.abc.Callable[[], str]', False), 'n': ('int', True)}
        """
        text = self._protocols.get(name)
        if text is None:
            return None
        parsed = self._members.get(name)
        if parsed is None:
            parsed = self._members[name] = {
                n: (parse(t.removeprefix("=")), t.startswith("=")) for n, t in text.items()}
        return parsed

    def bases(self, name: str) -> tuple[TypeRef, ...]:
        """The parsed direct bases of ``name`` (empty when it is not recorded)."""
        parsed = self._parsed.get(name)
        if parsed is None:
            parsed = tuple(parse(b) for b in self._bases.get(name, ()))
            self._parsed[name] = parsed
        return parsed
