"""Integer ``#define`` constants of a header's own text, evaluated without ``eval``."""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable
from pathlib import Path
from typing import Final

from siglink.native._cpp import run

__all__ = ['defines', 'evaluate']


def __dir__() -> list[str]:
    return list(__all__)


_INT_LITERAL: Final = re.compile(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]*\b")
_DEFINE: Final = re.compile(r"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)(?![\w(])", re.M)


def defines(cc: str, flags: list[str], header: Path, tmp: str, display: str) -> dict[str, int]:
    """Integer object-like macros ``#define``'d in the header's own text."""
    try:
        own = set(_DEFINE.findall(header.read_text(errors="replace")))
    except OSError:
        return {}
    if not own:
        return {}
    out = run([cc, "-E", "-dM", "-std=gnu11", "-x", "c", *flags, str(header)], header, display)
    macros: dict[str, str] = {}
    for line in out.splitlines():
        m = re.match(r"#define ([A-Za-z_]\w*)(?!\()\s*(.*)$", line)
        if m:
            macros[m.group(1)] = m.group(2)
    values: dict[str, int] = {}
    for name in sorted(own):
        if name in macros and not name.startswith("_"):
            value = evaluate(macros[name], macros, 0)
            if value is not None:
                values[name] = value
    return values


_OPERATORS: Final[dict[type, Callable[..., int]]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.LShift: operator.lshift,
    ast.RShift: operator.rshift, ast.BitOr: operator.or_, ast.BitAnd: operator.and_,
    ast.BitXor: operator.xor, ast.Invert: operator.invert, ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}
_LIMIT: Final = 1 << 128
"""Constants are C integers: anything wider is not one (and ``1 << 10**12`` is refused
before it is computed)."""


class _NotConstant(Exception):
    pass


def _value(node: ast.AST) -> int:
    """An integer constant expression's value, bounded at every step."""
    if isinstance(node, ast.Expression):
        return _value(node.body)
    if isinstance(node, ast.Constant) and type(node.value) is int:
        result: int = node.value
    elif isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
        result = _OPERATORS[type(node.op)](_value(node.operand))
    elif isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _value(node.left), _value(node.right)
        if isinstance(node.op, ast.LShift | ast.RShift) and not 0 <= right <= 128:
            raise _NotConstant
        try:
            result = _OPERATORS[type(node.op)](left, right)
        except ArithmeticError:
            raise _NotConstant from None
    else:
        raise _NotConstant
    if abs(result) >= _LIMIT:
        raise _NotConstant
    return result


def evaluate(
    text: str, macros: dict[str, str], depth: int, memo: dict[str, int | None] | None = None
) -> int | None:
    """The value of a macro body that is an integer constant expression, else ``None``.

    ``memo`` keeps each macro's value once computed, so macros that use others many times
    cost one evaluation each.

    >>> evaluate("(A << 2) | B", {"A": "1", "B": "0x10"}, 0)
    20
    >>> evaluate("1 << 1000000000000", {}, 0) is None
    True
    """
    memo = {} if memo is None else memo
    if depth > 16 or not text.strip():
        return None
    if re.search(r"['\"]", text):
        return None

    def replace_name(m: re.Match[str]) -> str:
        name = m.group(0)
        if name not in macros:
            raise KeyError(name)
        if name not in memo:
            memo[name] = evaluate(macros[name], macros, depth + 1, memo)
        inner = memo[name]
        if inner is None:
            raise KeyError(name)
        return f"({inner})"

    try:
        expr = _INT_LITERAL.sub(lambda m: _py_int(m.group(1)), text)
        expr = re.sub(r"\b[A-Za-z_]\w*\b", replace_name, expr)
    except KeyError:
        return None
    expr = expr.replace("/", "//")
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    try:
        return _value(tree)
    except (_NotConstant, RecursionError):
        return None


def _py_int(literal: str) -> str:
    if literal.startswith(("0x", "0X")):
        return str(int(literal, 16))
    if len(literal) > 1 and literal.startswith("0"):
        return str(int(literal, 8))
    return literal
