"""Types in normal form, parsed from annotation text, and the subtype relation.

See docs/design.md §3.2.

The public face of :mod:`._typeref` (the values), :mod:`._typeparse` (the parser),
:mod:`._classgraph` and :mod:`._typeshed_graph` (the relation); they import one way, in
that order.

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
from typing import Final

from siglink.contracts._classgraph import ClassGraph
from siglink.contracts._typeparse import parse
from siglink.contracts._typeref import (
    ANY,
    CALLABLE,
    CONCATENATE,
    ELLIPSIS,
    EMPTY_TUPLE,
    NEVER,
    NONE,
    OBJECT,
    TYPEVAR,
    UNKNOWN,
    Decision,
    TypeContext,
    TypeRef,
    union,
)
from siglink.contracts._typeshed_graph import subtype
from siglink.contracts._typeshed_table import bare_means_any

__all__ = [
    "ANY",
    "CALLABLE",
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
    return list(__all__)




def parse_type(text: str, context: TypeContext | None = None) -> TypeRef:
    """Annotation text to its normal form; never raises: what cannot be read is ``unknown``.

    >>> ctx = TypeContext(names={"t": "typing", "Seq": "typing.Sequence"})
    >>> str(parse_type("t.Optional[Seq[int]]", ctx))
    'collections.abc.Sequence[int] | None'
    >>> parse_type("list[") == UNKNOWN
    True
    """
    return parse(text, context)


_NO_CLASSES: Final = ClassGraph()


def is_subtype(sub: TypeRef, sup: TypeRef, classes: ClassGraph | None = None) -> Decision:
    """Is every value of ``sub`` a value of ``sup``? What cannot be decided is ``NO``.

    >>> is_subtype(parse_type("int"), parse_type("float | None"))
    <Decision.YES: 'yes'>
    """
    return subtype(sub, sup, _NO_CLASSES if classes is None else classes)


def unverified_parts(t: TypeRef) -> bool:
    """Does ``t`` contain ``Any``, ``unknown``, a TypeVar/ParamSpec, ``...`` parameters or a
    bare generic (whose arguments are ``Any``)?"""
    return _unverified(t)


@functools.lru_cache(maxsize=4096)
def _unverified(t: TypeRef) -> bool:
    if t.name in ("typing.Any", "unknown", TYPEVAR, CONCATENATE):
        return True
    if t.name == CALLABLE and t.args and t.args[0] == ELLIPSIS:
        return True
    if not t.args and bare_means_any(t.name):
        return True
    return any(_unverified(a) for a in t.args)
