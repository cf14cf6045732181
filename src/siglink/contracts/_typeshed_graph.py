"""The subtype relation, and the builtin/stdlib class relations typeshed declares (DESIGN §3.2).

The table below is a compact hand-written extract of typeshed's ``builtins.pyi``,
``typing.pyi`` and ``collections/__init__.pyi``: each line is ``class[params]: bases``, a
parameter is ``+T`` (covariant), ``-T`` (contravariant) or ``T`` (invariant), optionally with a
default (``-S=None``); ``abc.`` abbreviates ``collections.abc.``, and ``protocol`` marks
typeshed's Protocols (mypy finds no ``__hash__`` on them, so they are not ``Hashable``).
"""

from __future__ import annotations

import builtins
import functools
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final

from siglink.contracts.types import (
    ANY,
    CALLABLE,
    CONCATENATE,
    ELLIPSIS,
    EMPTY_TUPLE,
    LITERAL,
    NEVER,
    TYPEVAR,
    UNION,
    ClassGraph,
    Decision,
    TypeContext,
    TypeRef,
    union,
)

__all__ = ["Param", "bare_means_any", "generic_params", "subtype"]

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
abc.Mapping[K, +V]: abc.Collection[~K]
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
protocol typing.SupportsInt
protocol typing.SupportsFloat
protocol typing.SupportsIndex
"""

# Classes typeshed marks unhashable (``__hash__: ClassVar[None]``); their subclasses inherit it.
_UNHASHABLE: Final = frozenset({"list", "dict", "set", "bytearray", "collections.deque"})
# Non-generic protocols the numeric builtins satisfy structurally.
_SUPPORTS: Final = {
    "typing.SupportsInt": frozenset({"int", "float"}),
    "typing.SupportsFloat": frozenset({"int", "float"}),
    "typing.SupportsIndex": frozenset({"int"}),
}
# PEP 484's numeric promotions: int is accepted for float and complex, float for complex.
_PROMOTIONS: Final = {"float": frozenset({"int"}), "complex": frozenset({"int", "float"})}
_ABBREV: Final = TypeContext(names={"abc": "collections.abc"})
_NO_CLASSES: Final = ClassGraph()

YES: Final = Decision.YES
NO: Final = Decision.NO
UNVERIFIED: Final = Decision.UNVERIFIED


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
    from siglink.contracts._typeparse import parse

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
                Param(TypeRef(TYPEVAR, value=var), variance, parse(default) if default else None)
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


@functools.cache
def _bases(name: str) -> tuple[TypeRef, ...]:
    from siglink.contracts._typeparse import parse

    return tuple(parse(b, _ABBREV) for b in _table()[name].bases)


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


# decisions


def _all(decisions: Iterable[Decision]) -> Decision:
    result = YES
    for d in decisions:
        if d is NO:
            return NO
        if d is UNVERIFIED:
            result = UNVERIFIED
    return result


def _any(decisions: Iterable[Decision]) -> Decision:
    result = NO
    for d in decisions:
        if d is YES:
            return YES
        if d is UNVERIFIED:
            result = UNVERIFIED
    return result


def _gradual(t: TypeRef) -> bool:
    return t.name in ("typing.Any", "unknown", TYPEVAR)


@functools.lru_cache(maxsize=4096)
def _has_unknown(t: TypeRef) -> bool:
    return t.name == "unknown" or any(_has_unknown(a) for a in t.args)


def _same(a: TypeRef, b: TypeRef) -> bool:
    """Equal, and so a subtype both ways; but two unreadable annotations may differ."""
    return a == b and not _has_unknown(a)


# nominal structure


def _tuple_shape(t: TypeRef) -> tuple[tuple[TypeRef, ...], TypeRef | None]:
    """Fixed items, or the item type of a variadic ``tuple[X, ...]``."""
    if not t.args:
        return (), ANY
    if t.args == (EMPTY_TUPLE,):
        return (), None
    if len(t.args) == 2 and t.args[1] == ELLIPSIS:
        return (), t.args[0]
    return t.args, None


def _user_params(bases: tuple[TypeRef, ...]) -> tuple[TypeRef, ...]:
    for base in bases:
        if base.name in ("typing.Generic", "typing.Protocol") and base.args:
            return base.args
    order: list[TypeRef] = []
    stack = list(reversed(bases))
    while stack:
        t = stack.pop()
        if t.name == TYPEVAR:
            if t not in order:
                order.append(t)
        else:
            stack.extend(reversed(t.args))
    return tuple(order)


def _direct_bases(t: TypeRef, classes: ClassGraph) -> tuple[TypeRef, ...]:
    from siglink.contracts._typeparse import substitute

    if t.name == "tuple":
        items, variadic = _tuple_shape(t)
        item = variadic if variadic is not None else union(*items)
        return (TypeRef("collections.abc.Sequence", (item,)),)
    cls = _table().get(t.name)
    if cls is not None:
        args = t.args or tuple(p.implied for p in cls.params)
        mapping = {p.var: a for p, a in zip(cls.params, args, strict=False)}
        return tuple(substitute(b, mapping) for b in _bases(t.name))
    if t.name not in classes:
        return ()
    bases = classes.bases(t.name)
    params = _user_params(bases)
    args = t.args if len(t.args) == len(params) else (ANY,) * len(params)
    mapping = dict(zip(params, args, strict=True))
    return tuple(
        substitute(b, mapping)
        for b in bases
        if b.name not in ("typing.Generic", "typing.Protocol", "object")
    )


def _walk(t: TypeRef, classes: ClassGraph) -> Iterator[TypeRef]:
    """``t`` and its ancestors, breadth first, each class once."""
    seen: set[str] = set()
    queue = deque([t])
    while queue:
        x = queue.popleft()
        if x.name in seen:
            continue
        seen.add(x.name)
        yield x
        queue.extend(_direct_bases(x, classes))


def _ancestor(t: TypeRef, name: str, classes: ClassGraph) -> TypeRef | None:
    return next((x for x in _walk(t, classes) if x.name == name), None)


def _names(t: TypeRef, classes: ClassGraph) -> set[str]:
    return {x.name for x in _walk(t, classes)}


# the relation


def _variant(a: TypeRef, b: TypeRef, variance: int, classes: ClassGraph) -> Decision:
    if variance > 0:
        return subtype(a, b, classes)
    if variance < 0:
        return subtype(b, a, classes)
    return _equivalent(a, b, classes)


def _equivalent(a: TypeRef, b: TypeRef, classes: ClassGraph) -> Decision:
    if _same(a, b):
        return YES
    return _all(d for d in (subtype(a, b, classes), subtype(b, a, classes)))


def _same_class(sub: TypeRef, sup: TypeRef, classes: ClassGraph) -> Decision:
    """``sub`` and ``sup`` name the same class: compare arguments by variance."""
    if sup.name == "tuple":
        return _tuple(sub, sup, classes)
    params = generic_params(sup.name)
    if params is None:  # a user class: variance unknown, so invariant
        a, b = sub.args, sup.args
        a = a or (ANY,) * len(b)
        b = b or (ANY,) * len(a)
        if len(a) != len(b):
            return NO
        return _all(_equivalent(x, y, classes) for x, y in zip(a, b, strict=True))
    a = sub.args or tuple(p.implied for p in params)
    b = sup.args or tuple(p.implied for p in params)
    if not len(a) == len(b) == len(params):
        return NO
    return _all(_variant(x, y, p.variance, classes) for x, y, p in zip(a, b, params, strict=True))


def _tuple(sub: TypeRef, sup: TypeRef, classes: ClassGraph) -> Decision:
    items, variadic = _tuple_shape(sub)
    sup_items, sup_variadic = _tuple_shape(sup)
    if sup_variadic is not None:
        if variadic is not None:
            return subtype(variadic, sup_variadic, classes)
        return _all(subtype(i, sup_variadic, classes) for i in items)
    if variadic is not None:  # unknown length against a fixed one
        return UNVERIFIED if _gradual(variadic) else NO
    if len(items) != len(sup_items):
        return NO
    return _all(subtype(a, b, classes) for a, b in zip(items, sup_items, strict=True))


def _callable_parts(t: TypeRef) -> tuple[tuple[TypeRef, ...] | TypeRef, TypeRef]:
    """Parameter types (or the ``...``/ParamSpec marker) and the return type."""
    if not t.args:
        return ELLIPSIS, ANY
    *params, ret = t.args
    if len(params) == 1 and (params[0] == ELLIPSIS or params[0].name == CONCATENATE):
        return params[0], ret
    return tuple(params), ret


def _callable(sub: TypeRef, sup: TypeRef, classes: ClassGraph) -> Decision:
    if sup.name != CALLABLE:
        return NO
    params, ret = _callable_parts(sup)
    if sub.name == "type":  # a class as its constructor: its signature is not recorded here
        made = sub.args[0] if sub.args else ANY
        return _all(d for d in (subtype(made, ret, classes), UNVERIFIED))
    if sub.name != CALLABLE:
        return NO
    sub_params, sub_ret = _callable_parts(sub)
    returns = subtype(sub_ret, ret, classes)
    if returns is NO:
        return NO
    if isinstance(sub_params, tuple) and isinstance(params, tuple):
        if len(sub_params) != len(params):
            return NO
        accepts = _all(subtype(b, a, classes) for a, b in zip(sub_params, params, strict=True))
    else:
        accepts = UNVERIFIED  # `...` or a ParamSpec on one side at least
        if isinstance(params, TypeRef) and isinstance(sub_params, TypeRef):
            accepts = YES if _same(sub_params, params) else UNVERIFIED
    return _all(d for d in (accepts, returns))


def _type(sub: TypeRef, sup: TypeRef, classes: ClassGraph) -> Decision:
    if sub.name != "type" or sup.name != "type":
        return NO if sup.name == "type" else _nominal(sub, sup, classes)
    if not sup.args:
        return YES  # every class object is an instance of type
    made = sub.args[0] if sub.args else ANY
    return subtype(made, sup.args[0], classes)


def _hashable(sub: TypeRef, classes: ClassGraph) -> Decision:
    if sub.name in (CALLABLE, "None", LITERAL, "tuple"):
        return YES
    cls = _table().get(sub.name)
    if (cls is not None and cls.protocol) or (sub.name == "type" and sub.args):
        return NO  # mypy does not see a class object's __hash__; stay conservative with it
    names = _names(sub, classes)
    if names & _UNHASHABLE:
        return NO
    return YES if sub.name in _table() or sub.name in classes else NO


@functools.cache
def _plain_ancestors(name: str) -> frozenset[str] | None:
    """Every ancestor of a non-generic known class (itself included): ``int``, ``str``,
    ``ValueError``. A property of the class, computed once; ``None`` for a generic one."""
    cls = _table().get(name)
    if cls is None or cls.params:
        return None
    return frozenset(_names(TypeRef(name), _NO_CLASSES))


def _nominal(sub: TypeRef, sup: TypeRef, classes: ClassGraph) -> Decision:
    if not sub.args and not sup.args:
        # The common case of two plain builtin classes (``int`` and ``float``), without a walk.
        ancestors = _plain_ancestors(sub.name)
        if ancestors is not None and _plain_ancestors(sup.name) is not None:
            promoted = _PROMOTIONS.get(sup.name) or _SUPPORTS.get(sup.name)
            return YES if sup.name in ancestors or (promoted and promoted & ancestors) else NO
    found = _ancestor(sub, sup.name, classes)
    if found is not None:
        return _same_class(found, sup, classes)
    promoted = _PROMOTIONS.get(sup.name) or _SUPPORTS.get(sup.name)
    if promoted and promoted & _names(sub, classes):
        return YES
    return NO


@functools.lru_cache(maxsize=1 << 16)
def subtype(sub: TypeRef, sup: TypeRef, classes: ClassGraph) -> Decision:
    """See :func:`siglink.contracts.types.is_subtype`."""
    if _same(sub, sup) or sub.name == "typing.Never" or sup.name == "object":
        return YES
    if sub.name == UNION:
        return _all(subtype(m, sup, classes) for m in sub.args)
    if sub.name == LITERAL and len(sub.args) != 1:
        return _all(subtype(TypeRef(LITERAL, (v,)), sup, classes) for v in sub.args)
    if sup.name == UNION:
        return _any(subtype(sub, m, classes) for m in sup.args)
    if _gradual(sub) or _gradual(sup):
        return UNVERIFIED
    if sup == NEVER:
        return NO
    if sub.name == LITERAL:
        value = sub.args[0]
        if sup.name == LITERAL:
            return YES if value in sup.args else NO
        return subtype(TypeRef(value.name), sup, classes)
    if sup.name == LITERAL:  # bool is Literal[True, False]
        bools = {TypeRef("bool", value="True"), TypeRef("bool", value="False")}
        return YES if sub.name == "bool" and bools <= set(sup.args) else NO
    if sup.name == "collections.abc.Hashable":
        return _hashable(sub, classes)
    if sub.name == "None":
        return NO
    if CALLABLE in (sub.name, sup.name):
        return _callable(sub, sup, classes)
    if "type" in (sub.name, sup.name):
        return _type(sub, sup, classes)
    return _nominal(sub, sup, classes)
