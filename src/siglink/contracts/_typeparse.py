"""Annotation text to :class:`~siglink.contracts.types.TypeRef` normal form.

Grammar: a Python expression (``ast``, eval mode)::

    type     := name | name "[" args "]" | type "|" type | "None" | STRING | "~" name
    name     := IDENT ("." IDENT)*          resolved through the TypeContext, then canonicalized
    STRING   := a forward reference, parsed recursively (except inside ``Literal``)

Special forms: ``Optional``, ``Union``, ``Literal``, ``Annotated`` (metadata dropped), the
qualifiers ``ClassVar``/``Final``/``Required``/``NotRequired``/``ReadOnly`` (dropped),
``Callable[[A], R]``/``Callable[..., R]``/``Callable[P, R]``/``Callable[Concatenate[A, P], R]``,
``tuple[X, ...]``, ``tuple[()]``. Anything else that cannot be read becomes ``unknown`` (only
that part of the type: ``list[<garbage>]`` is ``list[unknown]``).
"""

from __future__ import annotations

import ast
import builtins
import functools
from typing import Final

from siglink.contracts._typeref import (
    ANY,
    CALLABLE,
    CONCATENATE,
    ELLIPSIS,
    EMPTY_TUPLE,
    LITERAL,
    NONE,
    TYPEVAR,
    UNKNOWN,
    TypeContext,
    TypeRef,
    union,
)
from siglink.contracts._typeshed_table import generic_params

__all__ = ["TypeSyntaxError", "parse"]

_MAX_DEPTH: Final = 32

_BUILTINS: Final = frozenset(
    name for name, obj in vars(builtins).items() if isinstance(obj, type)
) | {"object"}

# typing names that stand for another class (all typing aliases to their origins).
# fmt: off
_ABC_NAMES: Final = (
    "Awaitable", "Coroutine", "AsyncIterable", "AsyncIterator", "AsyncGenerator", "Iterable",
    "Iterator", "Generator", "Reversible", "Container", "Collection", "Callable", "MutableSet",
    "Mapping", "MutableMapping", "Sequence", "MutableSequence", "MappingView", "KeysView",
    "ItemsView", "ValuesView", "Hashable", "Sized", "ByteString",
)
# fmt: on
_CANONICAL: Final[dict[str, str]] = {
    **{f"typing.{n}": f"collections.abc.{n}" for n in _ABC_NAMES},
    "typing.AbstractSet": "collections.abc.Set",
    "typing.List": "list",
    "typing.Dict": "dict",
    "typing.Set": "set",
    "typing.FrozenSet": "frozenset",
    "typing.Tuple": "tuple",
    "typing.Type": "type",
    "typing.Text": "str",
    "typing.LiteralString": "str",
    "typing.Deque": "collections.deque",
    "typing.DefaultDict": "collections.defaultdict",
    "typing.OrderedDict": "collections.OrderedDict",
    "typing.Counter": "collections.Counter",
    "typing.ChainMap": "collections.ChainMap",
    "typing.Pattern": "re.Pattern",
    "typing.Match": "re.Match",
    "typing.ContextManager": "contextlib.AbstractContextManager",
    "typing.AsyncContextManager": "contextlib.AbstractAsyncContextManager",
    "typing.NoReturn": "typing.Never",
    "NoneType": "None",
    "types.NoneType": "None",
}

# fmt: off
_TYPING_NAMES: Final = (
    "Any", "Optional", "Union", "Literal", "Annotated", "ClassVar", "Final", "Required",
    "NotRequired", "ReadOnly", "Never", "NoReturn", "Self", "LiteralString", "TypeGuard",
    "TypeIs", "Concatenate", "Unpack", "AnyStr", "Text", "List", "Dict", "Set", "FrozenSet",
    "Tuple", "Type", "Deque", "DefaultDict", "OrderedDict", "Counter", "ChainMap", "Pattern",
    "Match", "ContextManager", "AsyncContextManager", "AbstractSet", "SupportsInt",
    "SupportsFloat", "SupportsIndex", "SupportsAbs", "SupportsBytes", "SupportsComplex",
    "SupportsRound", "Protocol", "Generic",
)
# fmt: on
_BARE: Final[dict[str, str]] = {
    **{n: f"typing.{n}" for n in _TYPING_NAMES},
    **{n: f"collections.abc.{n}" for n in _ABC_NAMES},
    "NoneType": "None",
    "unknown": "unknown",
}

_QUALIFIERS: Final = frozenset(
    f"typing.{n}" for n in ("ClassVar", "Final", "Required", "NotRequired", "ReadOnly")
)
_NEEDS_ARGS: Final = _QUALIFIERS | {
    f"typing.{n}"
    for n in (
        "Optional",
        "Union",
        "Literal",
        "Annotated",
        "Concatenate",
        "Unpack",
        "Generic",
        "TypeGuard",
        "TypeIs",
    )
}
_TYPEVAR_NAMES: Final = frozenset({"typing.Self", "typing.AnyStr"})
_NO_CONTEXT: Final = TypeContext()


class TypeSyntaxError(ValueError):
    """Annotation text the parser cannot read as a whole: not Python, or nested deeper than
    the interpreter can follow. :func:`parse` turns it into ``unknown``; any other exception
    is a defect of the parser and propagates."""


def parse(text: str, context: TypeContext | None = None) -> TypeRef:
    """See :func:`siglink.contracts.types.parse_type`.

    >>> parse("list[")
    parse_type('unknown')
    >>> parse(" | ".join(["int"] * 100_000))  # deeper than Python's recursion limit
    parse_type('unknown')
    """
    if not isinstance(text, str):
        # Not annotation text at all (a number where a manifest holds a type): as unreadable
        # as bad syntax, and a manifest from anywhere must never crash the reader.
        return UNKNOWN
    try:
        return _parse(text, _NO_CONTEXT if context is None else context)
    except TypeSyntaxError:
        return UNKNOWN


@functools.lru_cache(maxsize=8192)
def _parse(text: str, context: TypeContext) -> TypeRef:
    try:
        return _Parser(context).text(text)
    except RecursionError as e:  # an expression nested too deeply: the input's fault
        raise TypeSyntaxError(f"{text[:40]!r}: nested too deeply") from e


def canonical_name(qualified: str) -> str:
    """``typing_extensions.List`` and ``typing.List`` are ``list``; ``builtins.int`` is ``int``."""
    head, _, rest = qualified.partition(".")
    if head == "typing_extensions" and rest:
        qualified = f"typing.{rest}"
    elif head == "builtins" and rest:
        qualified = rest
    return _CANONICAL.get(qualified, qualified)


def _dotted(node: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _typevar(qualified: str) -> TypeRef:
    return TypeRef(TYPEVAR, value=qualified)


class _Parser:
    """One parse: carries the context, the nesting depth and the aliases being expanded."""

    def __init__(self, context: TypeContext) -> None:
        self.ctx = context
        self.depth = 0
        self.expanding: list[str] = []

    def text(self, text: str) -> TypeRef:
        text = text.strip()
        if not text or self.depth > _MAX_DEPTH:
            return UNKNOWN
        try:
            node = ast.parse(text, mode="eval").body
        except SyntaxError:
            try:  # an annotation spanning lines, as written inside a signature
                node = ast.parse(f"(\n{text}\n)", mode="eval").body
            except SyntaxError:
                return UNKNOWN
        except (ValueError, MemoryError) as e:  # a NUL byte; an expression too large
            raise TypeSyntaxError(f"{text[:40]!r}: {e}") from e
        self.depth += 1
        try:
            return self.expr(node)
        finally:
            self.depth -= 1

    # names

    def qualify(self, dotted: str) -> str:
        head, _, rest = dotted.partition(".")
        names = self.ctx.names
        if head in names:
            return f"{names[head]}.{rest}" if rest else names[head]
        if rest:  # taken as qualified, unless it reaches into a local alias or ParamSpec
            local = f"{self.ctx.module}.{dotted}"
            if self.ctx.module and (
                local in self.ctx.aliases or local.rpartition(".")[0] in self.ctx.typevars
            ):
                return local
            return dotted
        if head in _BUILTINS:
            return head
        if head in _BARE:
            return _BARE[head]
        return f"{self.ctx.module}.{head}" if self.ctx.module else head

    def resolve(self, dotted: str) -> TypeRef | str:
        """A qualified canonical name, or the type it stands for (TypeVar, alias, ``None``)."""
        qualified = self.qualify(dotted)
        typevars = self.ctx.typevars
        if qualified in typevars:
            return _typevar(qualified)
        owner, _, attr = qualified.rpartition(".")
        if attr in ("args", "kwargs") and owner in typevars:  # P.args, P.kwargs
            return _typevar(owner)
        if qualified in self.ctx.aliases:
            return self.alias(qualified)
        name = canonical_name(qualified)
        if name in _TYPEVAR_NAMES:
            return _typevar(name)
        if name == "None":
            return NONE
        return name

    def alias(self, qualified: str) -> TypeRef:
        if qualified in self.expanding:  # a recursive alias
            return UNKNOWN
        self.expanding.append(qualified)
        try:
            return self.text(self.ctx.aliases[qualified])
        finally:
            self.expanding.pop()

    # expressions

    def expr(self, node: ast.expr) -> TypeRef:
        if isinstance(node, ast.Constant):
            if node.value is None:
                return NONE
            if isinstance(node.value, str):
                return self.text(node.value)
            return UNKNOWN
        if isinstance(node, ast.Name | ast.Attribute):
            dotted = _dotted(node)
            if dotted is None:
                return UNKNOWN
            resolved = self.resolve(dotted)
            if isinstance(resolved, TypeRef):
                return resolved
            if resolved in _NEEDS_ARGS:
                return UNKNOWN
            if resolved == "typing.Any":
                return ANY
            if resolved == "unknown":
                return UNKNOWN
            return TypeRef(resolved)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            return union(self.expr(node.left), self.expr(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert):
            dotted = _dotted(node.operand)
            return UNKNOWN if dotted is None else _typevar(self.qualify(dotted))
        if isinstance(node, ast.Subscript):
            return self.subscript(node)
        if (
            isinstance(node, ast.Call)
            and _dotted(node.func) in ("type", "builtins.type")
            and len(node.args) == 1
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value is None
        ):
            return NONE
        return UNKNOWN

    def arg(self, node: ast.expr) -> TypeRef:
        """A type argument: ``...``, lists and starred expressions are not types here."""
        return self.expr(node)

    def subscript(self, node: ast.Subscript) -> TypeRef:
        dotted = _dotted(node.value)
        if dotted is None:
            return UNKNOWN
        elts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        resolved = self.resolve(dotted)
        if isinstance(resolved, TypeRef):
            if resolved.name == TYPEVAR or resolved.args or resolved.value is not None:
                return UNKNOWN if resolved.name == TYPEVAR else self.apply_alias(resolved, elts)
            resolved = resolved.name
        name = resolved
        if name == "typing.Optional":
            return union(self.arg(elts[0]), NONE) if len(elts) == 1 else UNKNOWN
        if name == "typing.Union":
            return union(*map(self.arg, elts))
        if name == LITERAL:
            return self.literal(elts)
        if name == "typing.Annotated" or name in _QUALIFIERS:
            return self.arg(elts[0]) if elts else UNKNOWN
        if name == CALLABLE:
            return self.callable(elts)
        if name == "tuple":
            return self.tuple(node.slice, elts)
        if name in ("typing.Concatenate", "typing.Unpack"):
            return UNKNOWN
        return generic(name, tuple(map(self.arg, elts)))

    def apply_alias(self, expanded: TypeRef, elts: list[ast.expr]) -> TypeRef:
        """``Alias[int]``: the alias's TypeVars, in order of appearance, get the arguments."""
        order: list[TypeRef] = []
        _collect_typevars(expanded, order)
        args = tuple(map(self.arg, elts))
        if len(order) != len(args):
            return UNKNOWN
        return substitute(expanded, dict(zip(order, args, strict=True)))

    def literal(self, elts: list[ast.expr]) -> TypeRef:
        values: list[TypeRef] = []
        has_none = False
        for elt in elts:
            node = elt
            sign = 1
            if (
                isinstance(node, ast.UnaryOp)
                and isinstance(node.op, ast.USub)
                and isinstance(node.operand, ast.Constant)
            ):
                node, sign = node.operand, -1
            if isinstance(node, ast.Constant):
                value = node.value
                if value is None and sign == 1:
                    has_none = True
                elif isinstance(value, bool) and sign == 1:
                    values.append(TypeRef("bool", value=repr(value)))
                elif isinstance(value, int):
                    values.append(TypeRef("int", value=repr(sign * value)))
                elif isinstance(value, str | bytes) and sign == 1:
                    values.append(TypeRef(type(value).__name__, value=repr(value)))
                else:
                    return UNKNOWN
                continue
            if isinstance(node, ast.Subscript | ast.Name | ast.Attribute):
                if isinstance(node, ast.Subscript):
                    nested = self.expr(node)
                else:
                    dotted = _dotted(node)
                    assert dotted is not None
                    qualified = self.qualify(dotted)
                    if qualified in self.ctx.aliases:
                        nested = self.alias(qualified)
                    else:  # an enum member: pkg.Color.RED
                        owner = qualified.rpartition(".")[0]
                        if not owner:
                            return UNKNOWN
                        values.append(TypeRef(owner, value=qualified))
                        continue
                for member in nested.members:
                    if member.name == LITERAL:
                        values.extend(member.args)
                    elif member == NONE:
                        has_none = True
                    else:
                        return UNKNOWN
                continue
            return UNKNOWN
        if not values:
            return NONE if has_none else UNKNOWN
        literal = TypeRef(LITERAL, tuple(values))
        return union(literal, NONE) if has_none else literal

    def callable(self, elts: list[ast.expr]) -> TypeRef:
        if len(elts) != 2:
            return UNKNOWN
        first, ret_node = elts
        ret = self.arg(ret_node)
        params: tuple[TypeRef, ...]
        if isinstance(first, ast.Constant) and first.value is Ellipsis:
            if ret == ANY:
                return TypeRef(CALLABLE)
            params = (ELLIPSIS,)
        elif isinstance(first, ast.List):
            params = tuple(map(self.arg, first.elts))
        else:
            spec = self.concatenate(first)
            if spec == UNKNOWN:
                return UNKNOWN
            params = (spec,)
        return TypeRef(CALLABLE, (*params, ret))

    def concatenate(self, node: ast.expr) -> TypeRef:
        """``P`` or ``Concatenate[A, P]`` in a Callable's parameter position."""
        if isinstance(node, ast.Subscript):
            dotted = _dotted(node.value)
            if dotted is not None and self.resolve(dotted) == CONCATENATE:
                slice_ = node.slice
                elts = slice_.elts if isinstance(slice_, ast.Tuple) else [slice_]
                if not elts:  # Concatenate[()]
                    return UNKNOWN
                *prefix, last = elts
                if isinstance(last, ast.Constant) and last.value is Ellipsis:
                    tail = ELLIPSIS
                else:
                    tail = self.paramspec(last)
                    if tail == UNKNOWN:
                        return UNKNOWN
                return TypeRef(CONCATENATE, (*map(self.arg, prefix), tail))
            return UNKNOWN
        spec = self.paramspec(node)
        return UNKNOWN if spec == UNKNOWN else TypeRef(CONCATENATE, (spec,))

    def paramspec(self, node: ast.expr) -> TypeRef:
        """Only a ParamSpec can stand here, so a plain name is one even if not declared."""
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert):
            node = node.operand
        dotted = _dotted(node)
        if dotted is None:
            return UNKNOWN
        qualified = self.qualify(dotted)
        if qualified in _BUILTINS or qualified.partition(".")[0] in ("typing", "collections"):
            return UNKNOWN  # a class, not a ParamSpec
        return _typevar(qualified)

    def tuple(self, slice_: ast.expr, elts: list[ast.expr]) -> TypeRef:
        if isinstance(slice_, ast.Tuple) and not elts:
            return TypeRef("tuple", (EMPTY_TUPLE,))
        if len(elts) == 2 and isinstance(elts[1], ast.Constant) and elts[1].value is Ellipsis:
            item = self.arg(elts[0])
            return TypeRef("tuple") if item == ANY else TypeRef("tuple", (item, ELLIPSIS))
        return TypeRef("tuple", tuple(map(self.arg, elts)))


def generic(name: str, args: tuple[TypeRef, ...]) -> TypeRef:
    """``name[args]`` with a known class's defaults filled in and implied args written bare."""
    params = generic_params(name)
    if params is None:  # a user class, or a class siglink has no table entry for
        return TypeRef(name, args)
    required = sum(1 for p in params if p.default is None)
    if not required <= len(args) <= len(params):
        return UNKNOWN
    full = args + tuple(p.default or ANY for p in params[len(args) :])
    if all(a == (p.default or ANY) for a, p in zip(full, params, strict=True)):
        return TypeRef(name)
    return TypeRef(name, full)


def _collect_typevars(t: TypeRef, into: list[TypeRef]) -> None:
    if t.name == TYPEVAR:
        if t not in into:
            into.append(t)
        return
    for arg in t.args:
        _collect_typevars(arg, into)


def substitute(t: TypeRef, mapping: dict[TypeRef, TypeRef]) -> TypeRef:
    """``t`` with each TypeVar in ``mapping`` replaced (renormalized: unions, bare generics)."""
    if not mapping:
        return t
    if t.name == TYPEVAR:
        return mapping.get(t, t)
    if not t.args:
        return t
    args = tuple(substitute(a, mapping) for a in t.args)
    if args == t.args:
        return t
    if t.name == "tuple" and len(args) == 2 and args[1] == ELLIPSIS and args[0] == ANY:
        return TypeRef("tuple")
    if t.name == CALLABLE and args[0] == ELLIPSIS and args[-1] == ANY:
        return TypeRef(CALLABLE)
    if t.name in ("tuple", CALLABLE, CONCATENATE, LITERAL) or t.name == "typing.Union":
        return TypeRef(t.name, args, t.value)
    return generic(t.name, args)
