"""Module-level bindings griffe does not read, and names bound by alternative imports.

griffe reads ``x = ...``, ``x: T = ...``, ``def``, ``class`` and imports. A module also binds
names by unpacking (``HORIZONTAL, VERTICAL = 1, 2``), as ``for`` and ``with`` targets, with
``:=``, and from functions declaring them ``global``; ``del x`` removes one. :class:`Bindings`
adds the missing names as attributes (their type is inferred later from a literal value, else
unknown), removes deleted ones, and records:

- ``alternatives``: a name bound by ``try: from ._speedups import f`` and again by an
  ``except ImportError: from ._native import f`` handler, as the paths of every alternative,
  the preferred (``try``) one first;
- ``dynamic``: modules that bind names through ``globals()``, which no static reader sees;
- ``uncertain``: names an ``except`` handler and the ``else`` of the same ``try`` both define
  (which one runs depends on what the ``try`` could import);
- ``patched``: classes whose ``__new__``/``__init__``/``__call__`` the module replaces after
  the ``class`` statement;
- ``runtime_bound``: per ``.py`` module, the names it binds outside ``if TYPE_CHECKING:``
  (``None`` where a star import or ``globals()`` may bind any; a module ``__getattr__`` is
  the reader's to add): a name bound only under ``TYPE_CHECKING``, or only in a stub beside
  the module, is not there at run time.

A class attribute bound to ``property(fget, fset, fdel)`` is labelled a property, as
``@property`` is, with griffe's ``writable``/``deletable`` labels for a setter/deleter.

Tests of ``sys.version_info``, ``sys.platform``, ``os.name``, flags made of them
(``PY3 = sys.version_info[0] == 3``) and ``__name__ == "__main__"`` are decided as the running
interpreter decides them on import, and only the live branch is read.
"""

from __future__ import annotations

import ast
import os
import re
import sys
from collections.abc import Iterator, Mapping
from typing import Any, Final

import griffe

from siglink.python._annotations import LOOKUP_ERRORS
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
        self.uncertain: set[str] = set()
        self.patched: set[str] = set()
        self.runtime_bound: dict[str, frozenset[str] | None] = {}
        self._uncertain: set[str] = set()

    def on_module_node(self, *, node: Any, **kwargs: Any) -> None:
        """Before griffe reads the module: keep only the live branch of each
        ``if sys.version_info ...``/``sys.platform ...`` test (as the running interpreter
        decides it), and the ``try`` definition of a class or attribute an ``except`` handler
        defines again as a fallback; a class re-bound to what decorators applied by hand
        return (``Attribute = _add_hash(_add_repr(Attribute))``) stays the class."""
        if isinstance(node, ast.Module):
            seen = _Live()
            node.body = _kept_classes(_live(node.body, seen))
            self._uncertain = seen.uncertain

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

    def on_attribute_instance(self, *, attr: griffe.Attribute, **kwargs: Any) -> None:
        """``x = property(fget, fset, fdel)`` in a class body is a property, as ``@property``
        is: labelled so, ``writable`` with an ``fset`` and ``deletable`` with an ``fdel``
        (the labels griffe gives ``@x.setter`` and ``@x.deleter``)."""
        value = attr.value
        if not isinstance(attr.parent, griffe.Class) or not isinstance(value, griffe.ExprCall) \
                or "class-attribute" not in attr.labels:  # not ``self.x = property(...)``
            return
        try:
            path = value.function.canonical_path
        except LOOKUP_ERRORS:
            return
        if path not in ("property", "builtins.property"):
            return
        given: dict[str, bool] = {}
        for n, argument in enumerate(value.arguments):
            if isinstance(argument, griffe.ExprKeyword):
                given[argument.name] = str(argument.value) != "None"
            elif n < len(_PROPERTY_PARAMETERS):
                given[_PROPERTY_PARAMETERS[n]] = str(argument) != "None"
        attr.labels.add("property")
        if given.get("fset"):
            attr.labels.add("writable")
        if given.get("fdel"):
            attr.labels.add("deletable")

    def on_module_members(self, *, node: Any, mod: griffe.Module, **kwargs: Any) -> None:
        if not isinstance(node, ast.Module):
            return
        self.uncertain.update(f"{mod.path}.{name}" for name in self._uncertain)
        self._uncertain = set()
        self.patched.update(f"{mod.path}.{name}" for name in _patched_constructors(node))
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
        filepath = mod.filepath
        if isinstance(filepath, list) or filepath.suffix != ".py":
            pass  # a stub says nothing of what runs
        elif mod.path in self.dynamic or any(
            isinstance(stmt, ast.ImportFrom) and not guarded
            and any(a.name == "*" for a in stmt.names)
            for stmt, guarded in _statements(node.body, False)
        ):
            self.runtime_bound[mod.path] = None
        else:
            self.runtime_bound[mod.path] = frozenset(
                {name for kind, name, _, _, guarded in events if not guarded and kind != "del"}
                | {n.strip() for line in declared for n in line.split(",")})
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


_PROPERTY_PARAMETERS: Final = ("fget", "fset", "fdel", "doc")
_PROPERTIES: Final = frozenset({
    "abc.abstractproperty", "functools.cached_property", "types.DynamicClassAttribute",
    "enum.property",
})
_DEFINITIONS: Final = (ast.ClassDef, ast.Assign, ast.AnnAssign)


class _Live:
    """What reading a module's live branches learns: module-level flags whose value is
    decided (``PY3 = sys.version_info[0] == 3``), and the names an ``except`` handler and
    the ``else`` of one ``try`` both define (which one runs depends on what the ``try``
    imports: colorama's Windows-only functions)."""

    def __init__(self) -> None:
        self.flags: dict[str, bool] = {}
        self.uncertain: set[str] = set()


def _live(body: list[ast.stmt], seen: _Live | None = None, *, top: bool = True) -> list[ast.stmt]:
    """``body`` with decidable platform/version tests replaced by their live branch."""
    seen = _Live() if seen is None else seen
    out: list[ast.stmt] = []
    for stmt in body:
        if isinstance(stmt, ast.If):
            decided = _decide(stmt.test, seen.flags)
            if decided is not None:
                out.extend(_live(stmt.body if decided else stmt.orelse, seen, top=top))
                continue
            if _is_type_checking(stmt.test):  # griffe knows `TYPE_CHECKING` only by that name
                stmt.test = ast.copy_location(ast.Name("TYPE_CHECKING", ast.Load()), stmt.test)
            stmt.body = _live(stmt.body, seen, top=False) or [ast.Pass()]
            stmt.orelse = _live(stmt.orelse, seen, top=False)
        elif isinstance(stmt, (ast.Try, ast.TryStar)):
            stmt.body = _live(stmt.body, seen, top=False)
            preferred = {name for s in stmt.body for kind, name, _ in _events(s, False)
                         if kind == "bound"}
            fallback: set[str] = set()
            for handler in stmt.handlers:
                kept = [s for s in _live(handler.body, seen, top=False) if not (
                    isinstance(s, _DEFINITIONS)
                    and {n for _, n, _ in _events(s, False)} & preferred)]
                handler.body = kept or [ast.Pass()]
                fallback.update(_defined(handler.body))
            stmt.orelse = _live(stmt.orelse, seen, top=False)
            if top:
                seen.uncertain.update((fallback & _defined(stmt.orelse)) - preferred)
            stmt.finalbody = _live(stmt.finalbody, seen, top=False)
        _learn(stmt, seen.flags, top=top)
        out.append(stmt)
    return out


def _defined(body: list[ast.stmt]) -> set[str]:
    """Names ``body`` binds by definition or assignment (not by import)."""
    return {name for s in body if not isinstance(s, (ast.Import, ast.ImportFrom))
            for kind, name, _ in _events(s, False) if kind != "del"}


# What a flag's value may be: a comparison, ``not``/``and``/``or``, ``x.startswith(...)``.
_TESTS: Final = (ast.Compare, ast.BoolOp, ast.UnaryOp, ast.Call)


def _learn(stmt: ast.stmt, flags: dict[str, bool], *, top: bool) -> None:
    """Remember ``NAME = <decidable test>`` run unconditionally (``top``) as a flag; forget a
    flag bound otherwise."""
    value = stmt.value if isinstance(stmt, (ast.Assign, ast.AnnAssign)) else None
    targets = stmt.targets if isinstance(stmt, ast.Assign) else (
        [stmt.target] if isinstance(stmt, ast.AnnAssign) else [])
    if top and isinstance(value, _TESTS) and len(targets) == 1 and isinstance(
        targets[0], ast.Name
    ):
        decided = _evaluate(value, flags)
        if isinstance(decided, bool):
            flags[targets[0].id] = decided
            return
    if flags:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
                flags.pop(node.id, None)


_CONSTRUCTORS: Final = frozenset({"__new__", "__init__", "__call__"})


def _patched_constructors(module: ast.Module) -> set[str]:
    """Classes whose constructor the module replaces after defining them
    (``NodeType.__new__ = staticmethod(_failing_new)`` in Jinja): what calling them accepts is
    no longer what the ``class`` statement says."""
    classes = {s.name for s in module.body if isinstance(s, ast.ClassDef)}
    found: set[str] = set()
    for stmt in module.body:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else (
            [stmt.target] if isinstance(stmt, (ast.AnnAssign, ast.AugAssign)) else [])
        for target in targets:
            if isinstance(target, ast.Attribute) and target.attr in _CONSTRUCTORS and (
                isinstance(target.value, ast.Name) and target.value.id in classes
            ):
                found.add(target.value.id)
    return found


def _kept_classes(body: list[ast.stmt]) -> list[ast.stmt]:
    """``body`` without the statements that re-bind a class to a call whose first argument
    is the class itself, nested calls included: ``K = _add_eq(_add_repr(K, ns=...))`` is a
    class decorator applied by hand, and ``K`` is still the class it was (attrs'
    ``Attribute``), not an attribute of unknown type."""
    classes: set[str] = set()
    out: list[ast.stmt] = []
    for stmt in body:
        if isinstance(stmt, ast.ClassDef):
            classes.add(stmt.name)
        elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(
            stmt.targets[0], ast.Name
        ) and stmt.targets[0].id in classes:
            if _decorates(stmt.value, stmt.targets[0].id):
                continue
            classes.discard(stmt.targets[0].id)
        out.append(stmt)
    return out


def _decorates(value: ast.expr, name: str) -> bool:
    """``value`` is ``f(name, ...)``, ``f(g(name, ...), ...)``, ... with no ``*args``."""
    for _ in range(16):
        if not isinstance(value, ast.Call) or not value.args or isinstance(
            value.args[0], ast.Starred
        ):
            return False
        value = value.args[0]
        if isinstance(value, ast.Name):
            return value.id == name
    return False


_SYS_NAMES: Final = frozenset({"version_info", "platform", "implementation", "byteorder"})


def _decide(test: ast.expr, flags: Mapping[str, bool] | None = None) -> bool | None:
    """The value of a test made only of ``sys.version_info``/``sys.platform``, ``os.name``,
    the module's decided flags, ``__name__ == "__main__"`` (never true of an imported module),
    constants, comparisons, slices, ``not``/``and``/``or`` and ``sys.platform.startswith(...)``."""
    value = _evaluate(test, flags or {})
    return None if value is _UNDECIDED else bool(value)


_UNDECIDED: Final = object()


def _evaluate(test: ast.expr, flags: Mapping[str, bool]) -> object:
    """The value of a test :func:`_decide` accepts, else ``_UNDECIDED``."""
    mains: set[int] | None = None
    for node in ast.walk(test):
        if isinstance(node, ast.Name):
            if node.id == "__name__":
                if mains is None:
                    mains = {id(n.left) for n in ast.walk(test) if isinstance(
                        n, ast.Compare) and len(n.ops) == 1 and isinstance(
                        n.ops[0], (ast.Eq, ast.NotEq)) and isinstance(
                        n.comparators[0], ast.Constant) and n.comparators[0].value == "__main__"}
                if id(node) in mains:
                    continue
            if node.id not in ("sys", "os") and node.id not in flags:
                return _UNDECIDED
        elif isinstance(node, ast.Attribute):
            inner = node.value
            os_name = isinstance(inner, ast.Name) and inner.id == "os" and node.attr == "name"
            sys_attr = isinstance(inner, ast.Name) and inner.id == "sys" and (
                node.attr in _SYS_NAMES)
            startswith = node.attr == "startswith" and isinstance(inner, ast.Attribute) and (
                inner.attr == "platform")
            name = isinstance(inner, ast.Attribute) and inner.attr == "implementation" and (
                node.attr == "name")
            if not (sys_attr or os_name or startswith or name):
                return _UNDECIDED
        elif isinstance(node, ast.Call):
            if not (isinstance(node.func, ast.Attribute) and node.func.attr == "startswith"):
                return _UNDECIDED
        elif not isinstance(node, (
            ast.Compare, ast.BoolOp, ast.UnaryOp, ast.Constant, ast.Tuple, ast.Subscript,
            ast.Slice, ast.Load, ast.cmpop, ast.boolop, ast.unaryop,
        )):
            return _UNDECIDED
    names = {n.id for n in ast.walk(test) if isinstance(n, ast.Name)}
    if not names or ("os" in names and not _os_only_name(test)):
        return _UNDECIDED
    namespace: dict[str, object] = {
        "__builtins__": {}, "sys": sys, "os": _Os(os.name), "__name__": "<imported module>",
        **flags}
    try:
        return eval(  # a whitelisted expression over `sys`, `os.name` and flags only
            compile(ast.Expression(test), "<test>", "eval"), namespace)
    except (NameError, AttributeError, LookupError, TypeError, ValueError, ArithmeticError):
        # an unusual comparison (a name other than sys, str < tuple): keep both branches
        return _UNDECIDED


class _Os:
    """What a test may read of :mod:`os`: its ``name``."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


def _os_only_name(test: ast.expr) -> bool:
    """Every ``os`` in ``test`` is read as ``os.name``."""
    parents = {id(child): node for node in ast.walk(test) for child in ast.iter_child_nodes(node)}
    for node in ast.walk(test):
        if isinstance(node, ast.Name) and node.id == "os":
            parent = parents.get(id(node))
            if not (isinstance(parent, ast.Attribute) and parent.attr == "name"):
                return False
    return True


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
