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

    __slots__ = ("_bases", "_hash", "_key", "_parsed")

    def __init__(self, bases: Mapping[str, Sequence[str]] = _EMPTY) -> None:
        self._bases = {name: tuple(b) for name, b in bases.items()}
        self._key = tuple(sorted(self._bases.items()))
        self._hash = hash(self._key)  # is_subtype memoizes on it: hash a big graph once
        self._parsed: dict[str, tuple[TypeRef, ...]] = {}

    def __contains__(self, name: object) -> bool:
        return name in self._bases

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ClassGraph):
            return False
        return self is other or (self._hash == other._hash and self._key == other._key)

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"ClassGraph({dict(self._key)!r})"

    def __reduce__(self) -> tuple[type[ClassGraph], tuple[dict[str, tuple[str, ...]]]]:
        return (ClassGraph, (self._bases,))

    def bases(self, name: str) -> tuple[TypeRef, ...]:
        """The parsed direct bases of ``name`` (empty when it is not recorded)."""
        parsed = self._parsed.get(name)
        if parsed is None:
            parsed = tuple(parse(b) for b in self._bases.get(name, ()))
            self._parsed[name] = parsed
        return parsed
