"""Annotation text from griffe expressions: names qualified through each module's imports and
the library's own type aliases expanded (docs/design.md §3.2).

``import typing as _t`` makes ``_t.Any`` read ``typing.Any``; ``_t_secret_key`` (a module-level
``Union``) is replaced by its value; a class defined in a private module and re-exported is named
by its public path, so moving it between private modules changes nothing.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Mapping
from typing import Final

import griffe

# What griffe raises when a name, alias or member cannot be resolved (an import it did not
# load, a cycle, a member missing, an odd parent): the callers then fall back to the text.
LOOKUP_ERRORS: Final = (griffe.GriffeError, KeyError, ValueError, AttributeError)

__all__ = ["AliasTable", "is_type_expression", "render"]

_TYPEVAR_FACTORIES: Final = frozenset(
    f"{module}.{name}"
    for module in ("typing", "typing_extensions")
    for name in ("TypeVar", "ParamSpec", "TypeVarTuple")
)
_TYPE_ALIAS_MARKERS: Final = frozenset({"typing.TypeAlias", "typing_extensions.TypeAlias"})
_TYPE_HEADS: Final = frozenset(
    {"typing", "typing_extensions", "collections.abc", "collections", "types", "builtins"}
)
_BUILTIN_GENERICS: Final = frozenset(
    {"list", "dict", "set", "frozenset", "tuple", "type", "Union", "Optional"}
)
_MAX_DEPTH: Final = 8


class AliasTable:
    """Type aliases and TypeVars the library defines, by canonical path.

    ``public`` maps a definition's path to the public path it is exported under.
    """

    def __init__(self, public: Mapping[str, str]) -> None:
        self.public = public
        self.aliases: dict[str, tuple[griffe.Expr, griffe.Module]] = {}
        self.typevars: set[str] = set()

    def add_module(self, module: griffe.Module) -> None:
        """Record the module-level aliases and TypeVars of ``module``."""
        for member in module.members.values():
            if isinstance(member, griffe.Alias):
                continue
            if isinstance(member, griffe.Class):
                callable_type = _callback_protocol(member)
                if callable_type is not None:
                    self.aliases[member.path] = (callable_type, module)
                continue
            if isinstance(member, griffe.TypeAlias):
                if isinstance(member.value, griffe.Expr):
                    self.aliases[member.path] = (member.value, module)
                continue
            if not isinstance(member, griffe.Attribute):
                continue
            value = member.value
            if isinstance(value, griffe.ExprCall) and value.function.canonical_path in (
                _TYPEVAR_FACTORIES
            ):
                self.typevars.add(member.path)
                continue
            marked = isinstance(member.annotation, griffe.Expr) and (
                member.annotation.canonical_path in _TYPE_ALIAS_MARKERS
            )
            if marked and isinstance(value, str):
                value = _parse_string(value, module)
            if isinstance(value, griffe.Expr) and (
                marked or is_type_expression(value) or self._uses_alias(value)
            ):
                self.aliases[member.path] = (value, module)

    def _uses_alias(self, value: griffe.Expr) -> bool:
        """``_A[_T] | Sequence[_A[_T]]``: a value built from an alias already recorded."""
        if isinstance(value, griffe.ExprSubscript) and isinstance(value.left, griffe.Expr):
            return _canonical(value.left) in self.aliases
        if isinstance(value, griffe.ExprBinOp) and value.operator == "|":
            return any(
                isinstance(part, griffe.Expr) and (
                    is_type_expression(part) or self._uses_alias(part)
                    or _canonical(part) in self.aliases
                )
                for part in (value.left, value.right)
            )
        return False


_PROTOCOLS: Final = frozenset({"typing.Protocol", "typing_extensions.Protocol"})


def _callback_protocol(cls: griffe.Class) -> griffe.Expr | None:
    """``Callable[[A, B], R]`` for a callback protocol that is exactly that: a non-generic
    ``Protocol`` whose one member is an undecorated ``__call__(self, a: A, b: B, /) -> R``
    (positional-only, by ``/`` or a ``__name``, no defaults, every type written). mypy holds
    the two mutually assignable; a parameter callers could pass by keyword, a default, ``*args``
    or another member makes the protocol more than a ``Callable``, and it stays a class.

    >>> code = ("import typing\\nclass P(typing.Protocol):\\n"
    ...         "    def __call__(self, s: int, /) -> str: ...")
    >>> with griffe.temporary_visited_module(code, module_name="cb") as module:
    ...     print(render(_callback_protocol(module["P"]), AliasTable({})))
    collections.abc.Callable[[int], str]
    """
    if len(cls.bases) != 1 or not isinstance(cls.bases[0], griffe.Expr) or (
        _canonical(cls.bases[0]) not in _PROTOCOLS
    ) or cls.type_parameters or set(cls.members) != {"__call__"}:
        return None
    call = cls.members["__call__"]
    if not isinstance(call, griffe.Function) or call.decorators or call.returns is None:
        return None
    params: list[griffe.Expr] = []
    for index, param in enumerate(call.parameters):
        if index == 0:
            continue  # self
        positional_only = param.kind is griffe.ParameterKind.positional_only or (
            param.kind is griffe.ParameterKind.positional_or_keyword
            and param.name.startswith("__") and not param.name.endswith("__"))
        if not positional_only or param.default is not None or not isinstance(
                param.annotation, griffe.Expr):
            return None
        params.append(param.annotation)
    listed = griffe.ExprList(params) if params else "[]"
    return griffe.ExprSubscript("collections.abc.Callable",
                                griffe.ExprTuple([listed, call.returns], implicit=True))


def _parse_string(text: str, module: griffe.Module) -> griffe.Expr | None:
    try:
        node = ast.parse(text.strip("'\""), mode="eval").body
    except SyntaxError:
        return None
    try:
        expr = griffe.get_annotation(node, parent=module)
    except LOOKUP_ERRORS:
        return None
    return expr if isinstance(expr, griffe.Expr) else None


def is_type_expression(value: griffe.Expr) -> bool:
    """Whether a module-level value reads like a type: ``Union[...]``, ``dict[str, X]``,
    ``A | B``."""
    if isinstance(value, griffe.ExprSubscript):
        head = value.left
        path = head.canonical_path if isinstance(head, griffe.Expr) else str(head)
        module = path.rpartition(".")[0]
        return module in _TYPE_HEADS or path in _BUILTIN_GENERICS
    if isinstance(value, griffe.ExprBinOp) and value.operator == "|":
        return all(
            part == "None" or isinstance(part, (griffe.ExprName, griffe.ExprAttribute))
            or (isinstance(part, griffe.Expr) and is_type_expression(part))
            for part in (value.left, value.right)
        )
    return False


def render(expr: str | griffe.Expr, table: AliasTable) -> str:
    """Annotation text with every name qualified and the library's aliases expanded.

    >>> code = "import typing as _t\\n_Key = _t.Union[str, bytes]\\ndef sign(key: _Key): ..."
    >>> with griffe.temporary_visited_module(code, module_name="signer") as module:
    ...     table = AliasTable({})
    ...     table.add_module(module)
    ...     print(render(module["sign"].parameters["key"].annotation, table))
    typing.Union[str, bytes]
    """
    out: list[str] = []
    _render(expr, table, out, 0, (), None)
    return "".join(out)


_NO_SUBST: Final[Mapping[str, str]] = {}


_LITERALS: Final = frozenset({"typing.Literal", "typing_extensions.Literal"})


def _render(  # noqa: PLR0917 (a recursive walker's state)
    expr: str | griffe.Expr,
    table: AliasTable,
    out: list[str],
    depth: int,
    expanding: tuple[str, ...],
    module: griffe.Module | None,
    subst: Mapping[str, str] = _NO_SUBST,
) -> None:
    """``module`` is set inside an alias's value, where forward references are still strings
    (griffe parses those of annotations itself); ``None`` inside ``Literal[...]``. ``subst``
    maps a generic alias's TypeVars to the arguments it is applied to."""
    if isinstance(expr, str):
        if module is not None and len(expr) > 2 and expr[0] in "'\"" and expr[-1] == expr[0]:
            parsed = _parse_string(expr, module)
            if parsed is not None:
                _render(parsed, table, out, depth, expanding, module, subst)
                return
        out.append(expr)
        return
    if isinstance(expr, (griffe.ExprName, griffe.ExprAttribute)):
        path = _resolve(expr, table)
        if path in subst:
            out.append(subst[path])
            return
        out.append(_name(path, table, depth, expanding))
        return
    if isinstance(expr, griffe.ExprSubscript) and isinstance(expr.left, griffe.Expr):
        head = _canonical(expr.left)
        if head in _LITERALS:
            module = None
        elif isinstance(expr.left, (griffe.ExprName, griffe.ExprAttribute)):
            path = _resolve(expr.left, table)
            if path in table.aliases and depth < _MAX_DEPTH and path not in expanding:
                out.append(_apply(expr, path, table, depth, expanding, module, subst))
                return
    for part in expr.iterate(flat=False):
        _render(part, table, out, depth, expanding, module, subst)


def _apply(  # noqa: PLR0917 (a recursive walker's state)
    expr: griffe.ExprSubscript,
    path: str,
    table: AliasTable,
    depth: int,
    expanding: tuple[str, ...],
    module: griffe.Module | None,
    subst: Mapping[str, str],
) -> str:
    """``Alias[X]``: the alias's value with its TypeVars (in order of first use) replaced."""
    value, where = table.aliases[path]
    args = expr.slice.elements if isinstance(expr.slice, griffe.ExprTuple) else [expr.slice]
    rendered: list[str] = []
    for arg in args:
        piece: list[str] = []
        _render(arg, table, piece, depth, expanding, module, subst)
        rendered.append("".join(piece))
    params = _typevars_of(value, where, table)
    if len(params) != len(rendered):
        return "unknown"
    inner: list[str] = []
    applied = dict(zip(params, rendered, strict=True))
    _render(value, table, inner, depth + 1, (*expanding, path), where, applied)
    return "".join(inner)


def _typevars_of(expr: str | griffe.Expr, module: griffe.Module, table: AliasTable) -> list[str]:
    found: list[str] = []

    def visit(part: str | griffe.Expr) -> None:
        if isinstance(part, str):
            if len(part) > 2 and part[0] in "'\"" and part[-1] == part[0]:
                parsed = _parse_string(part, module)
                if parsed is not None:
                    visit(parsed)
            return
        if isinstance(part, (griffe.ExprName, griffe.ExprAttribute)):
            path = _resolve(part, table)
            if path in table.typevars and path not in found:
                found.append(path)
            return
        for sub in part.iterate(flat=False):
            visit(sub)

    visit(expr)
    return found


def _canonical(expr: griffe.Expr) -> str:
    try:
        return expr.canonical_path
    except LOOKUP_ERRORS:  # griffe may fail on exotic parents; the source text is still useful
        return str(expr)


_BUILTINS: Final = frozenset(dir(builtins))


def _resolve(expr: griffe.ExprName | griffe.ExprAttribute, table: AliasTable) -> str:
    """The qualified name: looked up through each scope's members and imports; in a class
    body only classes and aliases count (``type[_T]`` beside an attribute named ``type``);
    ``unknown`` for a dotted name whose head resolves nowhere."""
    first = expr if isinstance(expr, griffe.ExprName) else expr.first
    rest = "" if isinstance(expr, griffe.ExprName) else expr.path[len(str(first)):]
    if not isinstance(first, griffe.ExprName) or not isinstance(first.parent, griffe.Object):
        return _canonical(expr)
    name = first.name
    scope: griffe.Object | None = first.parent
    while scope is not None:
        if name in scope.type_parameters:
            return _canonical(expr)
        member = scope.members.get(name)
        in_class = isinstance(scope, griffe.Class)
        if member is not None and not (in_class and not _is_type(member, table)):
            head = member.target_path if isinstance(member, griffe.Alias) else member.path
            return head + rest
        if member is None and not in_class and name in scope.imports:
            return scope.imports[name] + rest
        scope = scope.parent
    if name in _BUILTINS:
        return name + rest
    found = _canonical(expr)
    return found if "." in found.removesuffix(rest) or not rest else "unknown"


def _is_type(member: griffe.Object | griffe.Alias, table: AliasTable) -> bool:
    if isinstance(member, (griffe.Alias, griffe.Class, griffe.TypeAlias)):
        return True
    return member.path in table.aliases


def _name(
    path: str,
    table: AliasTable,
    depth: int,
    expanding: tuple[str, ...],
) -> str:
    alias = table.aliases.get(path)
    if alias is not None and depth < _MAX_DEPTH and path not in expanding:
        inner: list[str] = []
        value, module = alias
        _render(value, table, inner, depth + 1, (*expanding, path), module)
        return "".join(inner)
    return table.public.get(path, path)
