"""Types as values: :class:`TypeRef` in normal form, the names of its special shapes, and the
:class:`TypeContext` that annotation text is read in (docs/design.md §3.2).

The parser (:mod:`siglink.contracts._typeparse`) and the subtype relation
(:mod:`siglink.contracts._typeshed_graph`) both build on this module; it imports neither.
:mod:`siglink.contracts.types` is the public face of all three.

>>> str(union(TypeRef("int"), NONE, TypeRef("int")))
'int | None'
>>> TypeRef("list", (TypeRef("int"),))
parse_type('list[int]')
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Final, final

__all__ = [
    "ANY",
    "CALLABLE",
    "CONCATENATE",
    "ELLIPSIS",
    "EMPTY_TUPLE",
    "LITERAL",
    "NEVER",
    "NONE",
    "OBJECT",
    "TYPEVAR",
    "UNION",
    "UNKNOWN",
    "Decision",
    "TypeContext",
    "TypeRef",
    "union",
]


def __dir__() -> list[str]:
    return list(__all__)


UNION: Final = "typing.Union"
LITERAL: Final = "typing.Literal"
CALLABLE: Final = "collections.abc.Callable"
CONCATENATE: Final = "typing.Concatenate"
TYPEVAR: Final = "typing.TypeVar"


@dataclass(frozen=True, slots=True)
class TypeRef:
    """A type in normal form: a canonical qualified name and its arguments.

    ``str(t)`` is the canonical text, and ``parse_type(str(t)) == t``. Build unions with
    :func:`union` (or ``TypeRef("typing.Union", members)``: members are normalized here).
    """

    name: str
    args: tuple[TypeRef, ...] = ()
    value: str | None = None
    """A Literal value node's canonical text, or a TypeVar's qualified name."""
    # Text and hash, computed once: types are memo keys and message text of the checker, and
    # both would otherwise recurse through the arguments every time.
    _text: str | None = field(default=None, init=False, repr=False, compare=False)
    _hash: int | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"TypeRef name must be a non-empty str, not {self.name!r}")
        if not isinstance(self.args, tuple):
            object.__setattr__(self, "args", tuple(self.args))
        if self.name == UNION:
            members = _union_members(self.args)
            if len(members) == 1:
                only = members[0]
                object.__setattr__(self, "name", only.name)
                object.__setattr__(self, "args", only.args)
                object.__setattr__(self, "value", only.value)
            elif not members:
                object.__setattr__(self, "name", "typing.Never")
                object.__setattr__(self, "args", ())
            else:
                object.__setattr__(self, "args", members)
        elif self.name == LITERAL and self.args:
            object.__setattr__(self, "args", tuple(sorted(set(self.args), key=str)))

    def __hash__(self) -> int:
        value = self._hash
        if value is None:
            value = hash((self.name, self.args, self.value))
            object.__setattr__(self, "_hash", value)
        return value

    def __reduce__(self) -> tuple[type[TypeRef], tuple[str, tuple[TypeRef, ...], str | None]]:
        # The cached hash depends on the process's string hashing: never pickle it.
        return (TypeRef, (self.name, self.args, self.value))

    def __str__(self) -> str:
        text = self._text
        if text is None:
            text = self._format()
            object.__setattr__(self, "_text", text)
        return text

    def _format(self) -> str:
        if self.value is not None:
            return f"~{self.value}" if self.name == TYPEVAR else self.value
        if not self.args:
            return self.name
        if self.name == UNION:
            return " | ".join(map(str, self.args))
        if self.name == CALLABLE:
            *params, ret = self.args
            if len(params) == 1 and (params[0] == ELLIPSIS or params[0].name == CONCATENATE):
                first = params[0]
                if first.name == CONCATENATE and len(first.args) == 1:
                    first = first.args[0]
                return f"{CALLABLE}[{first}, {ret}]"
            return f"{CALLABLE}[[{', '.join(map(str, params))}], {ret}]"
        return f"{self.name}[{', '.join(map(str, self.args))}]"

    def __repr__(self) -> str:
        return f"parse_type({str(self)!r})"

    @property
    def is_any(self) -> bool:
        return self.name == "typing.Any"

    @property
    def is_unknown(self) -> bool:
        return self.name == "unknown"

    @property
    def is_typevar(self) -> bool:
        """A TypeVar or ParamSpec (including ``typing.Self`` and ``typing.AnyStr``)."""
        return self.name == TYPEVAR

    @property
    def is_union(self) -> bool:
        return self.name == UNION

    @property
    def is_none(self) -> bool:
        return self.name == "None"

    @property
    def members(self) -> tuple[TypeRef, ...]:
        """A union's members; ``(self,)`` for any other type."""
        return self.args if self.name == UNION else (self,)


ANY: Final = TypeRef("typing.Any")
UNKNOWN: Final = TypeRef("unknown")
NONE: Final = TypeRef("None")
NEVER: Final = TypeRef("typing.Never")
OBJECT: Final = TypeRef("object")
ELLIPSIS: Final = TypeRef("...")
"""Variadic marker: ``tuple[X, ...]`` and ``Callable[..., R]``."""
EMPTY_TUPLE: Final = TypeRef("()")
"""The only argument of ``tuple[()]``."""


def _union_key(t: TypeRef) -> tuple[bool, str]:
    return (t.name == "None", str(t))


def _union_members(args: Iterable[TypeRef]) -> tuple[TypeRef, ...]:
    flat: list[TypeRef] = []
    literals: list[TypeRef] = []
    for arg in args:
        for member in arg.members:
            if member.name == "typing.Never":
                continue
            if member.name == LITERAL and member.args:
                literals.extend(member.args)
            elif member not in flat:
                flat.append(member)
    if literals:
        flat.append(TypeRef(LITERAL, tuple(literals)))
    return tuple(sorted(flat, key=_union_key))


def union(*members: TypeRef) -> TypeRef:
    """The normalized union of ``members`` (one member: itself; none: ``typing.Never``)."""
    return TypeRef(UNION, members)


_EMPTY: Final[Mapping[str, str]] = MappingProxyType({})


@final
class _FrozenMap(Mapping[str, str]):
    """An immutable, hashable ``str -> str`` mapping."""

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Mapping[str, str] = _EMPTY) -> None:
        self._data = dict(data)
        self._hash = hash(frozenset(self._data.items()))

    def __getitem__(self, key: str) -> str:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _FrozenMap):
            return self._hash == other._hash and self._data == other._data
        return isinstance(other, Mapping) and self._data == dict(other.items())

    def __repr__(self) -> str:
        return repr(self._data)

    def __reduce__(self) -> tuple[type[_FrozenMap], tuple[dict[str, str]]]:
        # The cached hash depends on the process's string hashing: rebuild it on unpickling.
        return (_FrozenMap, (self._data,))


@dataclass(frozen=True, slots=True)
class TypeContext:
    """How names in one module's annotation text resolve.

    ``module`` qualifies names defined locally; ``names`` maps local names to qualified ones
    (``{"t": "typing", "Node": "pkg.mod.Node"}``); ``aliases`` maps a qualified type alias to
    the annotation text it stands for; ``typevars`` holds the qualified names of TypeVars and
    ParamSpecs.
    """

    module: str = ""
    names: Mapping[str, str] = field(default_factory=_FrozenMap)
    aliases: Mapping[str, str] = field(default_factory=_FrozenMap)
    typevars: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for attr in ("names", "aliases"):
            mapping = getattr(self, attr)
            if not isinstance(mapping, _FrozenMap):
                object.__setattr__(self, attr, _FrozenMap(mapping))
        if not isinstance(self.typevars, frozenset):
            object.__setattr__(self, "typevars", frozenset(self.typevars))


class Decision(Enum):
    """Whether every value of one type is a value of another."""

    YES = "yes"
    NO = "no"
    UNVERIFIED = "unverified"
    """Consistent only through ``Any``, ``unknown``, a TypeVar/ParamSpec or ``...``."""
