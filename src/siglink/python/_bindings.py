"""Module-level bindings griffe does not read, and names bound by alternative imports.

griffe reads ``x = ...``, ``x: T = ...``, ``def``, ``class`` and imports. A module also binds
names by unpacking (``HORIZONTAL, VERTICAL = 1, 2``), as ``for`` and ``with`` targets, with
``:=``, and from functions declaring them ``global``; ``del x`` removes one. :class:`Bindings`
adds the missing names as attributes (their type is inferred later from a literal value, else
unknown), removes deleted ones, and records:

- ``alternatives``: a name bound by ``try: from ._speedups import f`` and again by an
  ``except ImportError: from ._native import f`` handler, as the paths of every alternative,
  the preferred (``try``) one first;
- ``dynamic``: modules that bind names through ``globals()``, which no static reader sees.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from typing import Any, Final

import griffe

from siglink.python._dunder_all import all_statements, evaluate_statements

__all__ = ["Bindings"]

_GLOBAL: Final = re.compile(r"^[ \t]+global[ \t]+([\w \t,]+)", re.MULTILINE)
_IMPORT_ERRORS: Final = frozenset({"ImportError", "ModuleNotFoundError", "Exception",
                                   "BaseException"})


class Bindings(griffe.Extension):
    """A griffe extension completing each module's names (see the module docstring).

    >>> bindings = Bindings()
    >>> code = "\\n".join(["HORIZONTAL, VERTICAL = 1, 2", "try:",
    ...                   "    from fast._speedups import escape", "except ImportError:",
    ...                   "    from fast._native import escape"])
    >>> with griffe.temporary_visited_module(
    ...         code, module_name="layout", extensions=griffe.load_extensions(bindings)) as m:
    ...     print(sorted(m.members))
    ['HORIZONTAL', 'VERTICAL', 'escape']
    >>> bindings.alternatives
    {'layout.escape': ('fast._speedups.escape', 'fast._native.escape')}
    """

    def __init__(self) -> None:
        super().__init__()
        self.alternatives: dict[str, tuple[str, ...]] = {}
        self.dynamic: dict[str, int] = {}
        self.all_statements: dict[str, list[ast.stmt]] = {}

    def on_module_node(self, *, node: Any, **kwargs: Any) -> None:
        """Before griffe reads the module: keep only the live branch of each
        ``if sys.version_info ...``/``sys.platform ...`` test (as the running interpreter
        decides it), and the ``try`` definition of a class or attribute an ``except`` handler
        defines again as a fallback."""
        if isinstance(node, ast.Module):
            node.body = _live(node.body)

    def on_function_instance(self, *, func: griffe.Function, **kwargs: Any) -> None:
        """``@abc.abstractproperty`` and the like make a property, as ``@property`` does."""
        parent = func.parent
        if not isinstance(parent, griffe.Class) or parent.members.get(func.name) is not func:
            return
        if not any(d.callable_path in _PROPERTIES for d in func.decorators):
            return
        attribute = griffe.Attribute(
            func.name, value=None, annotation=func.returns, lineno=func.lineno,
            endlineno=func.endlineno, runtime=func.runtime, analysis="static")
        attribute.labels.update({*func.labels, "property"})
        parent.set_member(func.name, attribute)

    def on_module_members(self, *, node: Any, mod: griffe.Module, **kwargs: Any) -> None:
        if not isinstance(node, ast.Module):
            return
        code = getattr(kwargs.get("agent"), "code", None)
        code = code if isinstance(code, str) else None
        self.all_statements[mod.path] = statements = (
            all_statements(node) if code is None or "__all__" in code else []
        )
        if statements:
            # griffe expands `from m import *` from `m.exports`, empty for a computed
            # `__all__`: give it the evaluated names where they need no other module.
            names = evaluate_statements(statements, lambda _: None).names
            if names is not None:
                mod.exports = list(names)
        events: list[tuple[str, str, ast.AST | None, ast.stmt, bool]] = []
        walrus = code is None or ":=" in code
        dynamic = code is None or "globals()" in code
        for stmt, guarded in _statements(node.body, False):
            for kind, name, value in _events(stmt, walrus):
                events.append((kind, name, value, stmt, guarded))
            if isinstance(stmt, (ast.Try, ast.TryStar)):
                self._alternatives(stmt, mod)
            if dynamic and _binds_dynamically(stmt):
                self.dynamic.setdefault(mod.path, stmt.lineno)
        # `global` names: only those a module does not bind itself, and that could be public,
        # are worth walking every function for (they are rare; the walk is not cheap).
        declared = _GLOBAL.findall(code) if code is not None else ["?"]
        candidates = {n.strip() for line in declared for n in line.split(",")} - {
            name for _, name, _, _, _ in events}
        exports = {e for e in mod.exports or () if isinstance(e, str)}
        if code is None or any(not n.startswith("_") or n in exports for n in candidates):
            events.extend(("global", name, None, stmt, False)
                          for stmt, name in _global_bindings(node))
        last: dict[str, str] = {}
        missed: dict[str, tuple[ast.AST | None, ast.stmt, bool]] = {}
        for kind, name, value, stmt, guarded in events:
            last[name] = kind
            if kind in ("unpack", "global"):
                missed[name] = (value, stmt, guarded)
        for name, kind in last.items():
            member = mod.members.get(name)
            if kind == "del":
                if member is not None and not isinstance(member, griffe.Module):
                    mod.del_member(name)
            elif member is None and name in missed:
                value, stmt, guarded = missed[name]
                attribute = griffe.Attribute(
                    name,
                    value=None if value is None else griffe.safe_get_expression(
                        value, parent=mod, parse_strings=False),
                    lineno=stmt.lineno,
                    endlineno=stmt.end_lineno,
                    runtime=not guarded,
                    analysis="static",
                )
                attribute.labels.add("module-attribute")
                mod.set_member(name, attribute)

    def _alternatives(self, stmt: ast.Try | ast.TryStar, mod: griffe.Module) -> None:
        preferred = _imported(stmt.body, mod)
        if not preferred:
            return
        fallbacks = [_imported(h.body, mod) for h in stmt.handlers if _catches_import(h)]
        for name, path in preferred.items():
            others = [f[name] for f in fallbacks if name in f and f[name] != path]
            if others:
                self.alternatives[f"{mod.path}.{name}"] = (path, *others)


_PROPERTIES: Final = frozenset({
    "abc.abstractproperty", "functools.cached_property", "types.DynamicClassAttribute",
    "enum.property",
})
_DEFINITIONS: Final = (ast.ClassDef, ast.Assign, ast.AnnAssign)


def _live(body: list[ast.stmt]) -> list[ast.stmt]:
    """``body`` with decidable platform/version tests replaced by their live branch."""
    out: list[ast.stmt] = []
    for stmt in body:
        if isinstance(stmt, ast.If):
            decided = _decide(stmt.test)
            if decided is not None:
                out.extend(_live(stmt.body if decided else stmt.orelse))
                continue
            if _is_type_checking(stmt.test):  # griffe knows `TYPE_CHECKING` only by that name
                stmt.test = ast.copy_location(ast.Name("TYPE_CHECKING", ast.Load()), stmt.test)
            stmt.body = _live(stmt.body) or [ast.Pass()]
            stmt.orelse = _live(stmt.orelse)
        elif isinstance(stmt, (ast.Try, ast.TryStar)):
            stmt.body = _live(stmt.body)
            preferred = {name for s in stmt.body for kind, name, _ in _events(s, False)
                         if kind == "bound"}
            for handler in stmt.handlers:
                kept = [s for s in _live(handler.body) if not (
                    isinstance(s, _DEFINITIONS)
                    and {n for _, n, _ in _events(s, False)} & preferred)]
                handler.body = kept or [ast.Pass()]
            stmt.orelse = _live(stmt.orelse)
            stmt.finalbody = _live(stmt.finalbody)
        out.append(stmt)
    return out


_SYS_NAMES: Final = frozenset({"version_info", "platform", "implementation", "byteorder"})


def _decide(test: ast.expr) -> bool | None:
    """The value of a test made only of ``sys.version_info``/``sys.platform``, constants,
    comparisons, slices, ``not``/``and``/``or`` and ``sys.platform.startswith(...)``."""
    for node in ast.walk(test):
        if isinstance(node, ast.Name):
            if node.id != "sys":
                return None
        elif isinstance(node, ast.Attribute):
            inner = node.value
            sys_attr = isinstance(inner, ast.Name) and node.attr in _SYS_NAMES
            startswith = node.attr == "startswith" and isinstance(inner, ast.Attribute) and (
                inner.attr == "platform")
            name = isinstance(inner, ast.Attribute) and inner.attr == "implementation" and (
                node.attr == "name")
            if not (sys_attr or startswith or name):
                return None
        elif isinstance(node, ast.Call):
            if not (isinstance(node.func, ast.Attribute) and node.func.attr == "startswith"):
                return None
        elif not isinstance(node, (
            ast.Compare, ast.BoolOp, ast.UnaryOp, ast.Constant, ast.Tuple, ast.Subscript,
            ast.Slice, ast.Load, ast.cmpop, ast.boolop, ast.unaryop,
        )):
            return None
    if not any(isinstance(n, ast.Name) for n in ast.walk(test)):
        return None
    try:
        value = eval(  # a whitelisted expression over `sys` only
            compile(ast.Expression(test), "<test>", "eval"), {"__builtins__": {}, "sys": sys})
    except (NameError, AttributeError, LookupError, TypeError, ValueError, ArithmeticError):
        # an unusual comparison (a name other than sys, str < tuple): keep both branches
        return None
    return bool(value)


def _statements(body: list[ast.stmt], guarded: bool) -> Iterator[tuple[ast.stmt, bool]]:
    """Every statement executed at module level, in source order, and whether it sits under
    ``if TYPE_CHECKING:``; function and class bodies are not entered."""
    for stmt in body:
        yield stmt, guarded
        if isinstance(stmt, ast.If):
            yield from _statements(stmt.body, guarded or _is_type_checking(stmt.test))
            yield from _statements(stmt.orelse, guarded)
        elif isinstance(stmt, (ast.Try, ast.TryStar)):
            yield from _statements(stmt.body, guarded)
            for handler in stmt.handlers:
                yield from _statements(handler.body, guarded)
            yield from _statements(stmt.orelse, guarded)
            yield from _statements(stmt.finalbody, guarded)
        elif isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
            yield from _statements(stmt.body, guarded)
            yield from _statements(stmt.orelse, guarded)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            yield from _statements(stmt.body, guarded)
        elif isinstance(stmt, ast.Match):
            for case in stmt.cases:
                yield from _statements(case.body, guarded)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        and isinstance(test.value, ast.Name))


def _events(stmt: ast.stmt, walrus: bool) -> Iterator[tuple[str, str, ast.AST | None]]:
    """(kind, name, value) of each binding ``stmt`` makes itself: ``bound`` for the forms
    griffe reads, ``unpack`` for the ones it does not, ``del`` for a deletion."""
    if isinstance(stmt, ast.Assign):
        for target in stmt.targets:
            if isinstance(target, ast.Name):
                yield "bound", target.id, stmt.value
            else:
                for name, value in _unpack(target, stmt.value):
                    yield "unpack", name, value
    elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        yield "bound", stmt.target.id, stmt.value
    elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
        yield "bound", stmt.target.id, None
    elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        yield "bound", stmt.name, None
    elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
        for alias in stmt.names:
            if alias.name != "*":
                yield "bound", alias.asname or alias.name.partition(".")[0], None
    elif isinstance(stmt, (ast.For, ast.AsyncFor)):
        for name, _ in _unpack(stmt.target, None):
            yield "unpack", name, None
    elif isinstance(stmt, (ast.With, ast.AsyncWith)):
        for item in stmt.items:
            if item.optional_vars is not None:
                for name, _ in _unpack(item.optional_vars, None):
                    yield "unpack", name, None
    elif isinstance(stmt, ast.Delete):
        for target in stmt.targets:
            for name, _ in _unpack(target, None):
                yield "del", name, None
    if walrus:
        for named in _walruses(stmt):
            yield "unpack", named.target.id, named.value


def _unpack(target: ast.AST, value: ast.AST | None) -> Iterator[tuple[str, ast.AST | None]]:
    """Names bound by an assignment target, each with its own value where the right-hand side
    is a literal tuple or list of the same shape (``a, b = 1, 2``)."""
    if isinstance(target, ast.Name):
        yield target.id, value
    elif isinstance(target, ast.Starred):
        yield from _unpack(target.value, None)
    elif isinstance(target, (ast.Tuple, ast.List)):
        values: list[ast.expr | None] = [None] * len(target.elts)
        if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts) and (
            not any(isinstance(e, ast.Starred) for e in (*value.elts, *target.elts))
        ):
            values = list(value.elts)
        for element, item in zip(target.elts, values, strict=True):
            yield from _unpack(element, item)


def _walruses(stmt: ast.stmt) -> Iterator[ast.NamedExpr]:
    """``name := value`` in the statement's own expressions (a comprehension's too: it binds
    in the enclosing scope), not in nested statements, functions or lambdas."""
    stack: list[ast.AST] = [child for child in ast.iter_child_nodes(stmt)
                            if not isinstance(child, ast.stmt)]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Lambda, ast.stmt)):
            continue
        if isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _global_bindings(module: ast.Module) -> Iterator[tuple[ast.stmt, str]]:
    """(function, name) for each module name a function binds after declaring it ``global``."""
    for node in ast.walk(module):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        declared = {n for s in ast.walk(node) if isinstance(s, ast.Global) for n in s.names}
        if not declared:
            continue
        bound: set[str] = set()
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                bound.add(sub.id)
            elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and (
                sub is not node
            ):
                bound.add(sub.name)
            elif isinstance(sub, (ast.Import, ast.ImportFrom)):
                bound.update(a.asname or a.name.partition(".")[0] for a in sub.names)
        for name in sorted(declared & bound):
            yield node, name


def _binds_dynamically(stmt: ast.stmt) -> bool:
    """``globals()[k] = v`` or ``globals().update(...)`` at module level."""
    if isinstance(stmt, ast.Assign):
        return any(isinstance(t, ast.Subscript) and _is_globals(t.value) for t in stmt.targets)
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        func = stmt.value.func
        return isinstance(func, ast.Attribute) and func.attr in ("update", "setdefault") and (
            _is_globals(func.value))
    return False


def _is_globals(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and (
        node.func.id in ("globals", "vars")) and not node.args


def _catches_import(handler: ast.ExceptHandler) -> bool:
    kinds = handler.type
    if kinds is None:
        return True
    names = kinds.elts if isinstance(kinds, ast.Tuple) else [kinds]
    return any(isinstance(n, ast.Name) and n.id in _IMPORT_ERRORS for n in names)


def _imported(body: list[ast.stmt], mod: griffe.Module) -> dict[str, str]:
    """Names bound by ``from X import y`` statements of ``body`` -> absolute ``X.y``."""
    found: dict[str, str] = {}
    for stmt in body:
        if not isinstance(stmt, ast.ImportFrom):
            continue
        base = stmt.module or ""
        if stmt.level:
            package = mod.path if mod.is_init_module else mod.path.rpartition(".")[0]
            parts = package.split(".")
            if stmt.level - 1 >= len(parts):
                continue
            head = ".".join(parts[: len(parts) - (stmt.level - 1)])
            base = f"{head}.{base}" if base else head
        for alias in stmt.names:
            if alias.name != "*":
                found[alias.asname or alias.name] = f"{base}.{alias.name}"
    return found
