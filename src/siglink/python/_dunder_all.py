"""Evaluate a module's ``__all__`` statically, the way Python would build it at import.

griffe reads ``__all__`` lists and ``+=`` of literals, but a computed ``__all__``
(``__all__ = ["f"] + list(sub.__all__)``) comes back empty, which would silently drop every
export of the module. This evaluator understands the common forms:

- ``__all__ = [...]`` / ``(...)`` of string literals, ``__all__ = a + b``;
- ``[n for n in x]`` over an evaluable ``x`` (the element is the loop variable, no ``if``);
- ``list(x)``, ``tuple(x)``, ``sorted(x)``, ``set(x)``, ``frozenset(x)`` of an evaluable ``x``;
- ``other.__all__`` where ``other`` names a module (``from . import other``, ``import pkg.other``);
- ``__all__ += x``, ``__all__.extend(x)``, ``__all__.append("n")``, ``__all__.remove("n")``.

Anything else makes the result :data:`UNREADABLE` with the line of the statement, and the caller
falls back to the no-``__all__`` rule (every public name), so no export is ever lost.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass

__all__ = ["AllResult", "all_statements", "evaluate_all", "evaluate_statements"]

_CONVERTERS = frozenset({"list", "tuple", "sorted", "set", "frozenset"})


@dataclass(frozen=True, slots=True)
class AllResult:
    """``names`` when ``__all__`` is defined and evaluable; ``unreadable_line`` when it is
    defined but computed in a way this evaluator does not follow; both ``None`` when the
    module defines no ``__all__``."""

    names: tuple[str, ...] | None = None
    unreadable_line: int | None = None


class _Unreadable(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Module-level statements, including those nested in ``if``/``try`` blocks (the
    first branch that defines ``__all__`` wins at run time; reading all is conservative)."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, ast.If):
            yield from _statements(stmt.body)
            yield from _statements(stmt.orelse)
        elif isinstance(stmt, ast.Try):
            yield from _statements(stmt.body)
            for handler in stmt.handlers:
                yield from _statements(handler.body)
            yield from _statements(stmt.orelse)
            yield from _statements(stmt.finalbody)


def _is_all(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "__all__"


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return None if head is None else f"{head}.{node.attr}"
    return None


def _touches_all(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.Assign):
        return any(_is_all(t) for t in stmt.targets)
    if isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
        return _is_all(stmt.target)
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Call)
        and isinstance(stmt.value.func, ast.Attribute)
        and _is_all(stmt.value.func.value)
    )


def all_statements(module: ast.Module) -> list[ast.stmt]:
    """The statements of a parsed module that build its ``__all__``, in order (kept by the
    extraction's griffe extension, so no module is parsed twice)."""
    return [stmt for stmt in _statements(module.body) if _touches_all(stmt)]


def evaluate_all(
    source: str,
    module_all: Callable[[str], tuple[str, ...] | None],
) -> AllResult:
    """Evaluate ``__all__`` in ``source``; ``module_all(local_dotted_name)`` gives the
    ``__all__`` of the module a local name refers to (``None`` when unknown).

    >>> source = "from . import sub\\n__all__ = ['f'] + list(sub.__all__)\\n__all__ += ['g']"
    >>> evaluate_all(source, {"sub": ("a", "b")}.get).names
    ('f', 'a', 'b', 'g')
    >>> evaluate_all("__all__ = make_names()", {}.get)
    AllResult(names=None, unreadable_line=1)
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return AllResult()
    return evaluate_statements(all_statements(tree), module_all)


def evaluate_statements(
    statements: list[ast.stmt],
    module_all: Callable[[str], tuple[str, ...] | None],
) -> AllResult:
    """Evaluate the ``__all__`` statements :func:`all_statements` found."""
    names: list[str] | None = None

    def value(node: ast.expr, line: int) -> list[str]:
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            found: list[str] = []
            for element in node.elts:
                if isinstance(element, ast.Constant) and isinstance(element.value, str):
                    found.append(element.value)
                elif isinstance(element, ast.Starred):
                    found.extend(value(element.value, line))
                else:
                    raise _Unreadable(line)
            return found
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return value(node.left, line) + value(node.right, line)
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp)) and (
            len(node.generators) == 1
        ):
            loop = node.generators[0]
            if (
                isinstance(loop.target, ast.Name) and isinstance(node.elt, ast.Name)
                and node.elt.id == loop.target.id and not loop.ifs and not loop.is_async
            ):
                return value(loop.iter, line)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _CONVERTERS
            and len(node.args) == 1
            and not node.keywords
        ):
            return value(node.args[0], line)
        if _is_all(node) and names is not None:
            return list(names)
        if isinstance(node, ast.Attribute) and node.attr == "__all__":
            target = _dotted(node.value)
            other = None if target is None else module_all(target)
            if other is not None:
                return list(other)
        raise _Unreadable(line)

    try:
        for stmt in statements:
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                if any(_is_all(t) for t in targets):
                    if stmt.value is None:
                        raise _Unreadable(stmt.lineno)
                    names = value(stmt.value, stmt.lineno)
            elif isinstance(stmt, ast.AugAssign) and _is_all(stmt.target):
                if names is None or not isinstance(stmt.op, ast.Add):
                    raise _Unreadable(stmt.lineno)
                names = names + value(stmt.value, stmt.lineno)
            elif (
                isinstance(stmt, ast.Expr)
                and isinstance(stmt.value, ast.Call)
                and isinstance(stmt.value.func, ast.Attribute)
                and _is_all(stmt.value.func.value)
            ):
                call, method = stmt.value, stmt.value.func.attr
                if names is None or len(call.args) != 1 or call.keywords:
                    raise _Unreadable(stmt.lineno)
                if method == "extend":
                    names = names + value(call.args[0], stmt.lineno)
                elif method in ("append", "remove"):
                    item = value(ast.List(elts=[call.args[0]]), stmt.lineno)[0]
                    names = [*names, item] if method == "append" else [
                        n for n in names if n != item
                    ]
                else:
                    raise _Unreadable(stmt.lineno)
    except _Unreadable as e:
        return AllResult(unreadable_line=e.line)
    return AllResult(None if names is None else tuple(names))
