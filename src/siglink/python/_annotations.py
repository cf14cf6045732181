"""Annotation text from griffe expressions: names qualified through each module's imports and
the library's own type aliases expanded (DESIGN §3.2).

``import typing as _t`` makes ``_t.Any`` read ``typing.Any``; ``_t_secret_key`` (a module-level
``Union``) is replaced by its value; a class defined in a private module and re-exported is named
by its public path, so moving it between private modules changes nothing.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Final

import griffe

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
            if isinstance(value, griffe.Expr) and (marked or is_type_expression(value)):
                self.aliases[member.path] = (value, module)


def _parse_string(text: str, module: griffe.Module) -> griffe.Expr | None:
    try:
        node = ast.parse(text.strip("'\""), mode="eval").body
    except SyntaxError:
        return None
    try:
        expr = griffe.get_annotation(node, parent=module)
    except Exception:
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
    """Annotation text with every name qualified and the library's aliases expanded."""
    out: list[str] = []
    _render(expr, table, out, 0, (), None)
    return "".join(out)


_LITERALS: Final = frozenset({"typing.Literal", "typing_extensions.Literal"})


def _render(  # noqa: PLR0917 (a recursive walker's state)
    expr: str | griffe.Expr,
    table: AliasTable,
    out: list[str],
    depth: int,
    expanding: tuple[str, ...],
    module: griffe.Module | None,
) -> None:
    """``module`` is set inside an alias's value, where forward references are still strings
    (griffe parses those of annotations itself); ``None`` inside ``Literal[...]``."""
    if isinstance(expr, str):
        if module is not None and len(expr) > 2 and expr[0] in "'\"" and expr[-1] == expr[0]:
            parsed = _parse_string(expr, module)
            if parsed is not None:
                _render(parsed, table, out, depth, expanding, module)
                return
        out.append(expr)
        return
    if isinstance(expr, (griffe.ExprName, griffe.ExprAttribute)):
        out.append(_name(expr, table, depth, expanding))
        return
    if isinstance(expr, griffe.ExprSubscript) and isinstance(expr.left, griffe.Expr) and (
        _canonical(expr.left) in _LITERALS
    ):
        module = None
    for part in expr.iterate(flat=False):
        _render(part, table, out, depth, expanding, module)


def _canonical(expr: griffe.Expr) -> str:
    try:
        return expr.canonical_path
    except Exception:  # griffe may fail on exotic parents; the source text is still useful
        return str(expr)


def _name(
    expr: griffe.ExprName | griffe.ExprAttribute,
    table: AliasTable,
    depth: int,
    expanding: tuple[str, ...],
) -> str:
    path = _canonical(expr)
    alias = table.aliases.get(path)
    if alias is not None and depth < _MAX_DEPTH and path not in expanding:
        inner: list[str] = []
        value, module = alias
        _render(value, table, inner, depth + 1, (*expanding, path), module)
        return "".join(inner)
    return table.public.get(path, path)
