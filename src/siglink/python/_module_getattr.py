"""Names a module serves through a module-level ``__getattr__`` (PEP 562), read statically.

Recognized branches of ``def __getattr__(name)``, at the top of its body::

    if name == "__version__": ...          serves __version__
    if name in ("a", "b"): ...             serves a and b
    if name in _lazy: ...                  serves the keys of a module-level dict (or the items
                                           of a set, list, tuple) of string literals
    if name == "a" or name in (...): ...   any ``or`` of the above

A branch that calls ``warnings.warn`` (or any ``warn``) serves a deprecated name. The function is
*open* when it may serve a name no recognized branch names: a ``return`` outside those branches
(``return getattr(_impl, name)``), or a branch test it cannot read. ``raise AttributeError`` ends
the function.

>>> served = served_names('''
... import warnings
... _lazy = {"Fast": ".fast"}
... def __getattr__(name):
...     if name == "__version__":
...         warnings.warn("deprecated", DeprecationWarning)
...         return "1"
...     if name in _lazy:
...         return 1
...     raise AttributeError(name)
... ''')
>>> served.names, served.open
({'__version__': True, 'Fast': False}, False)
>>> served_names("def __getattr__(name):\\n    return getattr(other, name)\\n").open
True
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

__all__ = ["Served", "served_names"]


def __dir__() -> list[str]:
    return list(__all__)


@dataclass(slots=True)
class Served:
    """What a module's ``__getattr__`` serves: name -> deprecated, the line of the
    ``def``, and whether it may serve other names too (``open``)."""

    names: dict[str, bool] = field(default_factory=dict)
    open: bool = False
    line: int | None = None


def served_names(source: str | bytes) -> Served:
    """The names a module's ``__getattr__`` serves (empty when it defines none).

    A module that does not parse serves nothing here: its diagnostic is the reader's.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return Served()
    constants: dict[str, tuple[str, ...]] = {}
    function: ast.FunctionDef | ast.AsyncFunctionDef | None = None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
            node.name == "__getattr__"
        ):
            function = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = _strings(node.value)
            for target in targets:
                if isinstance(target, ast.Name) and names is not None:
                    constants[target.id] = names
    served = Served()
    if function is None:
        return served
    served.line = function.lineno
    if not function.args.args:
        served.open = True
        return served
    _Reader(function.args.args[0].arg, constants, served).statements(function.body)
    return served


def _strings(node: ast.expr | None) -> tuple[str, ...] | None:
    """The string literals a container literal holds (a dict's keys), else ``None``."""
    if isinstance(node, ast.Dict):
        keys = node.keys
    elif isinstance(node, (ast.Set, ast.List, ast.Tuple)):
        keys = list(node.elts)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and (
        node.func.id in ("frozenset", "set", "tuple", "dict") and len(node.args) == 1
    ):
        return _strings(node.args[0])
    else:
        return None
    out = []
    for key in keys:
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            return None
        out.append(key.value)
    return tuple(out)


class _Reader:
    def __init__(self, param: str, constants: dict[str, tuple[str, ...]], served: Served) -> None:
        self.param = param
        self.constants = constants
        self.served = served

    def statements(self, body: list[ast.stmt]) -> None:
        for statement in body:
            if isinstance(statement, ast.Raise):
                return
            if isinstance(statement, ast.If):
                names = self.test(statement.test)
                if names is None:
                    if _returns(statement):
                        self.served.open = True
                    continue
                deprecated = _warns(statement.body)
                if all(isinstance(s, (ast.Expr, ast.Import, ast.ImportFrom, ast.Pass))
                       for s in statement.body):
                    names = ()  # only warns, then falls through (blinker 1.8 base.WeakNamespace)
                for name in names:
                    self.served.names[name] = self.served.names.get(name, False) or deprecated
                self.statements(statement.orelse)
                continue
            if _returns(statement):
                self.served.open = True
                return

    def test(self, node: ast.expr) -> tuple[str, ...] | None:
        """The names a branch test admits, or ``None`` when it is not a plain name test."""
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
            out: list[str] = []
            for value in node.values:
                names = self.test(value)
                if names is None:
                    return None
                out.extend(names)
            return tuple(out)
        if not isinstance(node, ast.Compare) or len(node.ops) != 1:
            return None
        left, op, right = node.left, node.ops[0], node.comparators[0]
        if isinstance(op, ast.Eq):
            other = right if _is_name(left, self.param) else (
                left if _is_name(right, self.param) else None)
            if isinstance(other, ast.Constant) and isinstance(other.value, str):
                return (other.value,)
            return None
        if isinstance(op, ast.In) and _is_name(left, self.param):
            if isinstance(right, ast.Name):
                return self.constants.get(right.id)
            return _strings(right)
        return None


def _is_name(node: ast.expr, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _returns(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Return) for n in ast.walk(node))


def _warns(body: list[ast.stmt]) -> bool:
    for statement in body:
        for node in ast.walk(statement):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name == "warn":
                    return True
    return False
