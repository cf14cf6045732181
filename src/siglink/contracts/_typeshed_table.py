"""The builtin and standard-library classes as typeshed declares them: parameters and bases.

A compact hand-written extract of typeshed's ``builtins.pyi``, ``typing.pyi``, ``io.pyi`` and
``collections/__init__.pyi`` (``typing.IO`` is declared an ``Iterator`` of its ``AnyStr``, as its
``__iter__``/``__next__`` make it structurally): each line is ``class[params]: bases``, a parameter
is ``+T`` (covariant), ``-T`` (contravariant) or ``T`` (invariant), optionally with a default
(``-S=None``); ``abc.`` abbreviates ``collections.abc.``, and ``protocol`` marks typeshed's
Protocols (mypy finds no ``__hash__`` on them, so they are not ``Hashable``). Data only: the parser
(:mod:`._typeparse`) reads parameters from here, and the subtype relation (:mod:`._typeshed_graph`)
parses the bases' text.

>>> [(str(p.var), p.variance, p.default) for p in generic_params("collections.abc.Generator")]
[('~Y', 1, None), ('~S', -1, parse_type('None')), ('~R', 1, parse_type('None'))]
>>> base_texts("bool"), bare_means_any("list"), generic_params("pkg.Mine") is None
(('int',), True, True)
"""

from __future__ import annotations

import builtins
import functools
from dataclasses import dataclass
from typing import Final

from siglink.contracts._typeref import ANY, CALLABLE, TYPEVAR, TypeRef, union

__all__ = ["Param", "bare_means_any", "base_texts", "generic_params", "is_protocol", "known"]


def __dir__() -> list[str]:
    return list(__all__)


_TABLE: Final = """
protocol abc.Hashable
protocol abc.Sized
protocol abc.Container[+T]
protocol abc.Iterable[+T]
protocol abc.Iterator[+T]: abc.Iterable[~T]
protocol abc.Reversible[+T]: abc.Iterable[~T]
protocol abc.Generator[+Y, -S=None, +R=None]: abc.Iterator[~Y]
protocol abc.Collection[+T]: abc.Sized, abc.Iterable[~T], abc.Container[~T]
abc.Sequence[+T]: abc.Reversible[~T], abc.Collection[~T]
abc.MutableSequence[T]: abc.Sequence[~T]
abc.ByteString: abc.Sequence[int]
abc.Set[+T]: abc.Collection[~T]
abc.MutableSet[T]: abc.Set[~T]
abc.MappingView: abc.Sized
abc.KeysView[+K]: abc.MappingView, abc.Set[~K]
abc.ValuesView[+V]: abc.MappingView, abc.Collection[~V]
abc.ItemsView[+K, +V]: abc.MappingView, abc.Set[tuple[~K, ~V]]
abc.Mapping[K, +V]: abc.Collection[~K], _typeshed.SupportsKeysAndGetItem[~K, ~V]
abc.MutableMapping[K, V]: abc.Mapping[~K, ~V]
protocol abc.Awaitable[+T]
protocol abc.Coroutine[+Y, -S, +R]: abc.Awaitable[~R]
protocol abc.AsyncIterable[+T]
protocol abc.AsyncIterator[+T]: abc.AsyncIterable[~T]
protocol abc.AsyncGenerator[+Y, -S=None]: abc.AsyncIterator[~Y]
object
int
float
complex
bool: int
str: abc.Sequence[str]
bytes: abc.Sequence[int]
bytearray: abc.MutableSequence[int]
memoryview[I=int]: abc.Sequence[~I]
range: abc.Sequence[int]
tuple[+T]: abc.Sequence[~T]
list[T]: abc.MutableSequence[~T]
dict[K, V]: abc.MutableMapping[~K, ~V]
set[T]: abc.MutableSet[~T]
frozenset[+T]: abc.Set[~T]
type[+T]
enumerate[T]: abc.Iterator[tuple[int, ~T]]
reversed[+T]: abc.Iterator[~T]
zip[+T]: abc.Iterator[~T]
map[S]: abc.Iterator[~S]
filter[T]: abc.Iterator[~T]
collections.deque[T]: abc.MutableSequence[~T]
collections.defaultdict[K, V]: dict[~K, ~V]
collections.OrderedDict[K, V]: dict[~K, ~V]
collections.Counter[T]: dict[~T, int]
collections.ChainMap[K, V]: abc.MutableMapping[~K, ~V]
re.Pattern[S]
re.Match[S]
protocol os.PathLike[+S]
protocol contextlib.AbstractContextManager[+T, +E=bool | None]
protocol contextlib.AbstractAsyncContextManager[+T, +E=bool | None]
typing.TypeGuard[+T]: bool
typing.TypeIs[T]: bool
protocol _typeshed.SupportsKeysAndGetItem[K, +V]
protocol _typeshed.SupportsRead[+T]
protocol _typeshed.SupportsWrite[-T]
typing.IO[A]: abc.Iterator[~A], _typeshed.SupportsRead[~A], _typeshed.SupportsWrite[~A]
typing.BinaryIO: typing.IO[bytes]
typing.TextIO: typing.IO[str]
io.IOBase
io.RawIOBase: io.IOBase
io.BufferedIOBase: io.IOBase
io.TextIOBase: io.IOBase
io.FileIO: io.RawIOBase, typing.BinaryIO
io.BytesIO: io.BufferedIOBase, typing.BinaryIO
io.BufferedReader: io.BufferedIOBase, typing.BinaryIO
io.BufferedWriter: io.BufferedIOBase, typing.BinaryIO
io.BufferedRandom: io.BufferedReader, io.BufferedWriter
io.StringIO: io.TextIOBase, typing.TextIO
io.TextIOWrapper: io.TextIOBase, typing.TextIO
protocol typing.SupportsInt
protocol typing.SupportsFloat
protocol typing.SupportsIndex
"""

@dataclass(frozen=True, slots=True)
class Param:
    """A generic class's type parameter: its TypeVar marker, variance and default."""

    var: TypeRef
    variance: int  # 1 covariant, -1 contravariant, 0 invariant
    default: TypeRef | None = None

    @property
    def implied(self) -> TypeRef:
        """What a bare use of the class means for this parameter."""
        return ANY if self.default is None else self.default


@dataclass(frozen=True, slots=True)
class _Class:
    params: tuple[Param, ...]
    bases: tuple[str, ...]
    protocol: bool = False


def _split(text: str) -> list[str]:
    """Split at top-level commas."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch == "["
        depth -= ch == "]"
        if ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def _expand(name: str) -> str:
    return f"collections.abc.{name[4:]}" if name.startswith("abc.") else name


@functools.cache
def _table() -> dict[str, _Class]:
    table: dict[str, _Class] = {}
    for line in filter(None, map(str.strip, _TABLE.splitlines())):
        protocol = line.startswith("protocol ")
        head, _, bases = line.removeprefix("protocol ").partition(": ")
        name, _, params_text = head.partition("[")
        params = []
        for spec in _split(params_text.rstrip("]")):
            variance = {"+": 1, "-": -1}.get(spec[0], 0)
            var, _, default = spec.lstrip("+-").partition("=")
            params.append(
                Param(TypeRef(TYPEVAR, value=var), variance, _default(default) if default else None)
            )
        table[_expand(name)] = _Class(tuple(params), tuple(_split(bases)), protocol)
    # The builtin exceptions, as typeshed declares them (the runtime hierarchy); the generic
    # exception groups are left out, and so are aliases (``IOError`` is ``OSError``).
    for name, value in vars(builtins).items():
        if isinstance(value, type) and issubclass(value, BaseException) and (
            name == value.__name__ and not issubclass(value, BaseExceptionGroup)
        ):
            parents = tuple(b.__name__ for b in value.__bases__ if b is not object)
            table[name] = _Class((), parents)
    return table


def _default(text: str) -> TypeRef:
    """A parameter default of the table: a bare name or a union of bare names (``bool | None``).

    Read here rather than by the parser, which itself reads the table (a test checks that both
    agree)."""
    return union(*(TypeRef(part.strip()) for part in text.split("|")))


def known(name: str) -> bool:
    """Is ``name`` a class of the table (a builtin, standard-library or ABC class)?"""
    return name in _table()


def is_protocol(name: str) -> bool:
    """Is ``name`` one of typeshed's Protocols (``collections.abc.Iterable``)?"""
    cls = _table().get(name)
    return cls is not None and cls.protocol


def base_texts(name: str) -> tuple[str, ...]:
    """The text of a known class's bases, ``abc.`` abbreviating ``collections.abc.``."""
    return _table()[name].bases


def generic_params(name: str) -> tuple[Param, ...] | None:
    """A known class's type parameters (``()`` if it has none); ``None`` if it is not known."""
    cls = _table().get(name)
    return None if cls is None else cls.params


def bare_means_any(name: str) -> bool:
    """Does a bare use of ``name`` imply ``Any`` arguments (``list``, ``Callable``)?"""
    if name == CALLABLE:
        return True
    params = generic_params(name)
    return params is not None and any(p.default is None for p in params)


