"""The subtype relation (docs/design.md §3.2): the numeric tower, unions, variance, callables,
tuples, the typeshed classes of :mod:`._typeshed_table` and the user classes of a
:class:`~siglink.contracts._classgraph.ClassGraph`.

>>> from siglink.contracts._typeparse import parse
>>> subtype(parse("dict[str, bool]"), parse("Mapping[str, int]"), ClassGraph())
<Decision.YES: 'yes'>
>>> subtype(parse("list[bool]"), parse("list[int]"), ClassGraph())
<Decision.NO: 'no'>
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Final

from siglink.contracts._classgraph import ClassGraph
from siglink.contracts._typeparse import parse, substitute
from siglink.contracts._typeref import (
    ANY,
    CALLABLE,
    CONCATENATE,
    ELLIPSIS,
    EMPTY_TUPLE,
    LITERAL,
    NEVER,
    TYPEVAR,
    UNION,
    Decision,
    TypeContext,
    TypeRef,
    union,
)
from siglink.contracts._typeshed_table import base_texts, generic_params, is_protocol, known

__all__ = ["subtype"]


def __dir__() -> list[str]:
    return list(__all__)



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


@functools.cache
def _bases(name: str) -> tuple[TypeRef, ...]:
    return tuple(parse(b, _ABBREV) for b in base_texts(name))


def _direct_bases(t: TypeRef, classes: ClassGraph) -> tuple[TypeRef, ...]:
    if t.name == "tuple":
        items, variadic = _tuple_shape(t)
        item = variadic if variadic is not None else union(*items)
        return (TypeRef("collections.abc.Sequence", (item,)),)
    known_params = generic_params(t.name)
    if known_params is not None:
        args = t.args or tuple(p.implied for p in known_params)
        mapping = {p.var: a for p, a in zip(known_params, args, strict=False)}
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
    if is_protocol(sub.name) or (sub.name == "type" and sub.args):
        return NO  # mypy does not see a class object's __hash__; stay conservative with it
    names = _names(sub, classes)
    if names & _UNHASHABLE:
        return NO
    return YES if known(sub.name) or sub.name in classes else NO


@functools.cache
def _plain_ancestors(name: str) -> frozenset[str] | None:
    """Every ancestor of a non-generic known class (itself included): ``int``, ``str``,
    ``ValueError``. A property of the class, computed once; ``None`` for a generic one."""
    if generic_params(name) != ():
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
    return _structural(sub, sup, classes)


def _member(have: tuple[TypeRef, bool] | None, wanted: tuple[TypeRef, bool],
            classes: ClassGraph) -> Decision:
    """A Protocol member against the one another Protocol requires: read-only members
    (methods, properties) covariantly; a settable attribute needs a settable one of the same
    type."""
    if have is None or (wanted[1] and not have[1]):
        return NO
    if wanted[1]:
        return _equivalent(have[0], wanted[0], classes)
    return subtype(have[0], wanted[0], classes)


_ASSUMED: set[tuple[TypeRef, TypeRef, ClassGraph]] = set()
"""Protocol pairs being compared: assumed related while their members are (a Protocol
whose method returns the Protocol itself), as mypy does."""


def _structural(sub: TypeRef, sup: TypeRef, classes: ClassGraph) -> Decision:
    """A Protocol is a supertype of another whose members are all compatible with its own
    (mypy's structural subtyping), where both Protocols' members are recorded
    (:attr:`ClassGraph.protocols`); a method is compared as the ``Callable`` it is once
    bound. Anything else is NO, as nominal subtyping says."""
    wanted = None if sup.args else classes.protocol(sup.name)
    have = None if sub.args else classes.protocol(sub.name)
    if wanted is None or have is None:
        return NO
    key = (sub, sup, classes)
    if key in _ASSUMED:
        return YES
    _ASSUMED.add(key)
    try:
        return _all(_member(have.get(name), member, classes) for name, member in wanted.items())
    finally:
        _ASSUMED.discard(key)


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
