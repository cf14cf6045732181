"""Types in normal form, parsed from annotation text, and the subtype relation (DESIGN §3.2).

>>> t = parse_type("Optional[typing.List[int]]")
>>> str(t)
'list[int] | None'
>>> parse_type(str(t)) == t
True
>>> is_subtype(parse_type("list[bool]"), parse_type("Sequence[float]"))
<Decision.YES: 'yes'>
>>> is_subtype(parse_type("list[bool]"), parse_type("list[float]"))
<Decision.NO: 'no'>
>>> is_subtype(parse_type("dict[str, Any]"), parse_type("Mapping[str, int]"))
<Decision.UNVERIFIED: 'unverified'>

A :class:`TypeRef` is a canonical qualified ``name`` and its ``args``. Special shapes:

- unions: ``typing.Union`` with members flattened, deduplicated and sorted (``None`` last);
  printed ``A | B``;
- ``typing.Literal``: each arg is a *value node*, a ``TypeRef`` whose ``name`` is the value's
  class (``int``, ``str``, ``bool``, ``bytes``, an enum's qualified name) and whose ``value``
  is its canonical text (``3``, ``'a'``, ``pkg.Color.RED``);
- ``collections.abc.Callable``: args are the parameter types then the return type; the
  parameters may instead be the single :data:`ELLIPSIS` (``Callable[..., R]``) or a
  ``typing.Concatenate`` ending in a ParamSpec (``Callable[~P, R]``);
- ``tuple``: ``tuple[X, ...]`` ends with :data:`ELLIPSIS`; ``tuple[()]`` is the single arg
  :data:`EMPTY_TUPLE`;
- TypeVars and ParamSpecs: name ``typing.TypeVar``, ``value`` the qualified name, printed ``~T``;
- a bare generic means its implied arguments (``Any`` or the parameter's default), and
  ``list[Any]`` is written ``list``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Final, final

__all__ = [
    "ANY",
    "ELLIPSIS",
    "EMPTY_TUPLE",
    "NEVER",
    "NONE",
    "OBJECT",
    "UNKNOWN",
    "ClassGraph",
    "Decision",
    "TypeContext",
    "TypeRef",
    "is_subtype",
    "parse_type",
    "union",
    "unverified_parts",
]


def __dir__() -> list[str]:
    return __all__


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


def parse_type(text: str, context: TypeContext | None = None) -> TypeRef:
    """Annotation text to its normal form; never raises: what cannot be read is ``unknown``.

    >>> ctx = TypeContext(names={"t": "typing", "Seq": "typing.Sequence"})
    >>> str(parse_type("t.Optional[Seq[int]]", ctx))
    'collections.abc.Sequence[int] | None'
    >>> parse_type("list[") == UNKNOWN
    True
    """
    from siglink.contracts._typeparse import parse

    return parse(text, context)


class Decision(Enum):
    """Whether every value of one type is a value of another."""

    YES = "yes"
    NO = "no"
    UNVERIFIED = "unverified"
    """Consistent only through ``Any``, ``unknown``, a TypeVar/ParamSpec or ``...``."""


@final
class ClassGraph:
    """User classes' recorded bases, for nominal subtyping (transitively).

    Bases are canonical type text (``str(TypeRef)``): ``"dict[str, pkg.Node]"``, TypeVars as
    ``~pkg.T``. A ``typing.Generic[~pkg.T]`` (or ``typing.Protocol[...]``) base gives a generic
    class its parameters, otherwise they are its bases' TypeVars in order of appearance. A
    user class's parameters are compared invariantly (their variance is not recorded).

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
            parsed = tuple(parse_type(b) for b in self._bases.get(name, ()))
            self._parsed[name] = parsed
        return parsed


_NO_CLASSES: Final = ClassGraph()


def is_subtype(sub: TypeRef, sup: TypeRef, classes: ClassGraph | None = None) -> Decision:
    """Is every value of ``sub`` a value of ``sup``? What cannot be decided is ``NO``.

    >>> is_subtype(parse_type("int"), parse_type("float | None"))
    <Decision.YES: 'yes'>
    """
    from siglink.contracts._typeshed_graph import subtype

    return subtype(sub, sup, _NO_CLASSES if classes is None else classes)


def unverified_parts(t: TypeRef) -> bool:
    """Does ``t`` contain ``Any``, ``unknown``, a TypeVar/ParamSpec, ``...`` parameters or a
    bare generic (whose arguments are ``Any``)?"""
    return _unverified(t)


@functools.lru_cache(maxsize=4096)
def _unverified(t: TypeRef) -> bool:
    from siglink.contracts._typeshed_graph import bare_means_any

    if t.name in ("typing.Any", "unknown", TYPEVAR, CONCATENATE):
        return True
    if t.name == CALLABLE and t.args and t.args[0] == ELLIPSIS:
        return True
    if not t.args and bare_means_any(t.name):
        return True
    return any(_unverified(a) for a in t.args)
