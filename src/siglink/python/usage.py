"""What an application uses from libraries, read statically from its source with :mod:`ast`.

Grammar of what is recognized (everything else that touches an imported name is a
non-call use, which makes that name's calls incomplete, docs/design.md §3.5)::

    import a.b            binds a   -> "a"       (a.b.f(...) is the chain "a.b.f")
    import a.b as z       binds z   -> "a.b"
    from a.b import f     binds f   -> "a.b.f"
    from a.b import *     a star import: recorded, dynamic "star"
    z = importlib.import_module("a.b")   binds z -> "a.b"
    getattr(z, "f")       the chain "a.b.f";  getattr(z, name): dynamic "getattr"
    __import__("a") / importlib.import_module("a")   module "a"; non-literal: a warning

A *use* is a maximal attribute chain rooted at a bound name: ``werkzeug.urls.url_quote(x)`` is
one use of ``werkzeug.urls.url_quote``, called with ``CallShape(1)``. Which prefix of a chain is
the library's export is decided later, against a library's manifest (:mod:`siglink.link.build`).

A use is *optional* (:attr:`Use.optional`) when every occurrence of it is one the code can do
without: inside ``try:`` (or its handlers) when a handler catches ``ImportError``,
``ModuleNotFoundError``, ``AttributeError``, ``Exception`` or everything; under
``if TYPE_CHECKING:``; in either branch of a test of a feature or a version
(``if hasattr(m, "f")``, ``if m.__version__ >= ...``, ``if PYDANTIC_V2``); in an annotation;
``getattr(m, "f", default)``; or through a name bound in any of those places::

    try:
        from m import fast
    except ImportError:
        fast = None

>>> usage = analyze_source("import m\\nm.f(1, k=2)\\n", "app.py")
>>> usage.uses["m.f"].calls
[CallShape(positional=1, keywords=('k',), star_args=False, star_kwargs=False)]
>>> analyze_source("try:\\n    from m import g\\nexcept ImportError:\\n    g = None\\ng(1)\\n",
...                "lib.py").uses["m.g"].optional
True
"""

from __future__ import annotations

import ast
import contextlib
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from siglink.contracts.manifest import CallShape
from siglink.errors import BadInputError

__all__ = ["Usage", "Use", "analyze", "analyze_source", "bound_names", "local_modules"]


def __dir__() -> list[str]:
    return list(__all__)


@dataclass(slots=True)
class Use:
    """Every occurrence of one dotted chain: the call shapes seen, and whether it was ever used
    other than by a direct call (passed on, stored, returned, decorated with, read).
    ``optional`` is true while every occurrence is optional (module docstring); ``location`` is
    then the first one, else the first required one. ``call_sites`` holds where each call
    shape was first seen."""

    path: str
    location: str
    calls: list[CallShape] = field(default_factory=list)
    other: bool = False
    dynamic: str | None = None
    optional: bool = False
    call_sites: dict[CallShape, str] = field(default_factory=dict)

    def add_call(self, shape: CallShape, location: str = "") -> None:
        if shape not in self.calls:
            self.calls.append(shape)
            self.call_sites[shape] = location or self.location


@dataclass(slots=True)
class Usage:
    """What a set of source files uses: chains, imported modules, warnings."""

    uses: dict[str, Use] = field(default_factory=dict)
    modules: dict[str, str] = field(default_factory=dict)  # module -> first (required) location
    optional_modules: set[str] = field(default_factory=set)  # only ever imported optionally
    warnings: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def module(self, name: str, location: str, *, optional: bool = False) -> None:
        """Record an import of module ``name`` (optional as :attr:`Use.optional` is)."""
        if name not in self.modules:
            self.modules[name] = location
            if optional:
                self.optional_modules.add(name)
        elif not optional and name in self.optional_modules:
            self.optional_modules.discard(name)
            self.modules[name] = location

    def use(self, path: str, location: str, *, optional: bool = False) -> Use:
        found = self.uses.get(path)
        if found is None:
            found = self.uses[path] = Use(path, location, optional=optional)
        elif found.optional and not optional:
            found.optional = False
            found.location = location
        return found

    def merge(self, other: Usage) -> None:
        for path, use in other.uses.items():
            mine = self.use(path, use.location, optional=use.optional)
            for shape in use.calls:
                mine.add_call(shape, use.call_sites.get(shape, use.location))
            mine.other = mine.other or use.other
            mine.dynamic = mine.dynamic or use.dynamic
        for module, location in other.modules.items():
            self.module(module, location, optional=module in other.optional_modules)
        self.warnings.extend(other.warnings)
        self.files.extend(other.files)


def _is_private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def _is_dunder(part: str) -> bool:
    return part.startswith("__") and part.endswith("__")


def _literal(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _shape(call: ast.Call) -> CallShape:
    positional = sum(1 for a in call.args if not isinstance(a, ast.Starred))
    star_args = any(isinstance(a, ast.Starred) for a in call.args)
    keywords = tuple(sorted({k.arg for k in call.keywords if k.arg is not None}))
    star_kwargs = any(k.arg is None for k in call.keywords)
    return CallShape(positional, keywords, star_args, star_kwargs)


# What a guarded ``try`` catches: a missing module or name is then handled, not fatal.
_GUARDS = frozenset({"ImportError", "ModuleNotFoundError", "AttributeError", "Exception",
                     "BaseException"})


def _catches_missing(handler: ast.ExceptHandler) -> bool:
    kinds = handler.type
    if kinds is None:
        return True
    for kind in kinds.elts if isinstance(kinds, ast.Tuple) else [kinds]:
        name = kind.attr if isinstance(kind, ast.Attribute) else getattr(kind, "id", None)
        if name in _GUARDS:
            return True
    return False


def _is_type_checking(test: ast.expr) -> bool:
    """``TYPE_CHECKING``, ``typing.TYPE_CHECKING``, ``t.TYPE_CHECKING``."""
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


_VERSIONED = re.compile(r"version|(?:^|_)v\d+(?:_|$)", re.IGNORECASE)


def _is_feature_test(test: ast.expr) -> bool:
    """A condition choosing between what different versions offer: ``hasattr(m, "f")``, or a
    version (``m.__version__ >= ...``, ``sys.version_info``, ``PYDANTIC_V2``)."""
    for node in ast.walk(test):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and (
                node.func.id == "hasattr"):
            return True
        name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)
        if isinstance(name, str) and _VERSIONED.search(name):
            return True
    return False


class _Visitor(ast.NodeVisitor):
    def __init__(self, filename: str, usage: Usage) -> None:
        self.filename = filename
        self.usage = usage
        self.bindings: dict[str, str] = {}
        self.optional_names: set[str] = set()  # names bound where they are optional
        self.optional_depth = 0
        self.imported: list[tuple[str, str, bool]] = []  # ``from m import n``: path, where, opt

    def finish(self) -> None:
        """A name imported (``from m import n``) but never used still needs to exist: record it
        as a use with no call (a presence check) unless a use of it was seen."""
        for path, where, optional in self.imported:
            prefix = path + "."
            if not any(p == path or p.startswith(prefix) for p in self.usage.uses):
                self.usage.use(path, where, optional=optional)

    # -- helpers ---------------------------------------------------------------------------
    def _where(self, node: ast.AST) -> str:
        return f"{self.filename}:{getattr(node, 'lineno', 0)}"

    def _warn(self, node: ast.AST, message: str) -> None:
        self.usage.warnings.append(f"{self._where(node)}: {message}")

    @contextlib.contextmanager
    def _optional(self, optional: bool = True) -> Iterator[None]:
        """Visit in an optional context (see the module docstring)."""
        self.optional_depth += optional
        try:
            yield
        finally:
            self.optional_depth -= optional

    def _visit_optional(self, nodes: Sequence[ast.AST], optional: bool = True) -> None:
        if not optional:  # the common case, kept cheap
            for node in nodes:
                self.visit(node)
            return
        self.optional_depth += 1
        try:
            for node in nodes:
                self.visit(node)
        finally:
            self.optional_depth -= 1

    def _bind(self, name: str, path: str) -> None:
        if self.bindings.get(name) == path and name not in self.optional_names:
            return  # ``import m.sub`` under TYPE_CHECKING does not make ``m`` optional
        self.bindings[name] = path
        if self.optional_depth:
            self.optional_names.add(name)
        else:
            self.optional_names.discard(name)

    def _is_optional(self, node: ast.AST | None) -> bool:
        """In an optional context, or rooted at a name bound in one."""
        if self.optional_depth:
            return True
        while node is not None:
            if isinstance(node, ast.Name):
                return node.id in self.optional_names
            if isinstance(node, ast.Attribute):
                node = node.value
            elif isinstance(node, ast.Call) and node.args:  # getattr(m, "f")
                node = node.args[0]
            else:
                return False
        return False

    def _chain(self, node: ast.expr) -> str | None:
        """The dotted path of ``node`` when it is rooted at an imported name."""
        if isinstance(node, ast.Name):
            return self.bindings.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self._chain(node.value)
            return None if base is None else f"{base}.{node.attr}"
        if self._is_getattr_literal(node):
            assert isinstance(node, ast.Call)
            base = self._chain(node.args[0])
            name = _literal(node.args[1])
            return None if base is None or name is None else f"{base}.{name}"
        return None

    def _is_getattr_literal(self, node: ast.expr) -> bool:
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and node.func.id not in self.bindings
            and 2 <= len(node.args) <= 3
            and _literal(node.args[1]) is not None
        )

    def _record(
        self, path: str, node: ast.AST, shape: CallShape | None, root: ast.AST | None = None
    ) -> None:
        parts = path.split(".")
        # ``mod.__version__``, ``mod.__file__``: a use of the module, not of an export.
        for i, part in enumerate(parts[1:], 1):
            if _is_dunder(part):
                parts = parts[:i]
                shape = None
                break
        path = ".".join(parts)
        use = self.usage.use(path, self._where(node), optional=self._is_optional(root))
        if shape is None:
            use.other = True
        else:
            use.add_call(shape, self._where(node))
        if use.dynamic is None and any(_is_private(p) for p in parts[1:]):
            use.dynamic = "private"
            self._warn(node, f"private name {path}: not part of the library's contract")

    def _module(self, name: str, node: ast.AST) -> None:
        self.usage.module(name, self._where(node), optional=self.optional_depth > 0)

    # -- imports ---------------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._module(alias.name, node)
            if alias.asname:
                self._bind(alias.asname, alias.name)
            else:
                top = alias.name.split(".", 1)[0]
                self._bind(top, top)
            if any(_is_private(p) for p in alias.name.split(".")[1:]):
                self._record(alias.name, node, None)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or not node.module:
            for alias in node.names:  # relative: the application's own modules
                self.bindings.pop(alias.asname or alias.name, None)
                self.optional_names.discard(alias.asname or alias.name)
            return
        self._module(node.module, node)
        for alias in node.names:
            if alias.name == "*":
                use = self.usage.use(node.module, self._where(node),
                                     optional=self._is_optional(None))
                use.other = True
                use.dynamic = use.dynamic or "star"
                self._warn(node, f"from {node.module} import *: the names used cannot be seen")
                continue
            path = f"{node.module}.{alias.name}"
            self._bind(alias.asname or alias.name, path)
            self.imported.append((path, self._where(node), self._is_optional(None)))
            if any(_is_private(p) for p in path.split(".")[1:]):
                self._record(path, node, None)

    # -- uses ------------------------------------------------------------------------------
    def visit_Assign(self, node: ast.Assign) -> None:
        module = self._import_module_literal(node.value)
        if module is not None and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            self._module(module, node)
            self._bind(node.targets[0].id, module)
            return
        self.generic_visit(node)

    # -- optional contexts -----------------------------------------------------------------
    def visit_Try(self, node: ast.Try | ast.TryStar) -> None:
        guarded = any(_catches_missing(h) for h in node.handlers)
        self._visit_optional(node.body, guarded)
        self._visit_optional(node.handlers, guarded)  # the fallback of an optional import
        self._visit_optional(node.orelse, False)
        self._visit_optional(node.finalbody, False)

    visit_TryStar = visit_Try

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        negated = isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
        inner = test.operand if isinstance(test, ast.UnaryOp) and negated else test
        if _is_type_checking(inner):
            self._visit_optional(node.body, not negated)
            self._visit_optional(node.orelse, negated)
            return
        self.visit(test)
        feature = _is_feature_test(test)  # both branches: one of them suits this version
        self._visit_optional(node.body, feature)
        self._visit_optional(node.orelse, feature)

    def visit_IfExp(self, node: ast.IfExp) -> None:
        self.visit(node.test)
        self._visit_optional([node.body, node.orelse], _is_feature_test(node.test))

    def visit_arg(self, node: ast.arg) -> None:
        if node.annotation is not None:
            self._visit_optional([node.annotation])

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._visit_optional(node.decorator_list, False)
        self.visit(node.args)
        if node.returns is not None:
            self._visit_optional([node.returns])
        self._visit_optional(node.body, False)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._visit_optional([node.annotation])
        self.visit(node.target)
        if node.value is not None:
            self.visit(node.value)

    def _import_module_literal(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Call) and self._chain(node.func) == "importlib.import_module":
            return _literal(node.args[0]) if node.args else None
        return None

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.id if isinstance(func, ast.Name) else None
        if (name in ("getattr", "__import__") and name not in self.bindings
                and self._dynamic_builtin(node, name)):
            return
        chain = self._chain(func)
        if chain == "importlib.import_module":
            self._import_by_name(node, "importlib.import_module")
            for arg in node.args:
                self.visit(arg)
            return
        if chain is not None:
            self._record(chain, node, _shape(node), func)
        else:
            self.visit(func)
        for arg in node.args:
            self.visit(arg)
        for keyword in node.keywords:
            self.visit(keyword.value)

    def _import_by_name(self, node: ast.Call, what: str) -> None:
        """``what(NAME, ...)`` imports module NAME: recorded when NAME is a literal."""
        module = _literal(node.args[0]) if node.args else None
        if module is None:
            self._warn(node, f"{what} with a non-literal name: not checked")
        else:
            self._module(module, node)

    def _dynamic_builtin(self, node: ast.Call, name: str | None) -> bool:
        """``getattr``/``__import__``; True when fully handled here."""
        if name == "__import__":
            self._import_by_name(node, "__import__")
            return False
        if self._is_getattr_literal(node):
            if len(node.args) == 3:  # getattr(m, "f", default): m.f may be missing
                chain = self._chain(node)
                if chain is not None:
                    with self._optional():
                        self._record(chain, node, None)
                    self.visit(node.args[2])
                    return True
            return False  # a static chain: handled as an ordinary use
        base = self._chain(node.args[0]) if node.args else None
        if base is not None:
            use = self.usage.use(base, self._where(node), optional=self._is_optional(node))
            use.other = True
            use.dynamic = use.dynamic or "getattr"
            self._warn(node, f"getattr({base}, ...) with a non-literal name: not checked")
            for arg in node.args[1:]:
                self.visit(arg)
            return True
        return False

    def visit_Attribute(self, node: ast.Attribute) -> None:
        chain = self._chain(node)
        if chain is None:
            self.generic_visit(node)
        else:  # read, or assigned to (monkeypatched): either way not a plain call
            self._record(chain, node, None, node)

    def visit_Name(self, node: ast.Name) -> None:
        chain = self.bindings.get(node.id)
        if chain is not None and isinstance(node.ctx, ast.Load):
            self._record(chain, node, None, node)


def analyze_source(source: str | bytes, filename: str) -> Usage:
    """The uses in one module's source; a syntax error is a :class:`BadInputError` naming
    ``file:line``."""
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as e:
        line = e.lineno or 0
        raise BadInputError(f"{filename}:{line}: syntax error: {e.msg}", path=filename,
                            line=line) from e
    except ValueError as e:  # NUL bytes
        raise BadInputError(f"{filename}: cannot be parsed: {e}", path=filename) from e
    usage = Usage(files=[filename])
    visitor = _Visitor(filename, usage)
    visitor.visit(tree)
    visitor.finish()
    return usage


def local_modules(directory: Path) -> set[str]:
    """Top-level module names an application's own directory provides (``x.py``, ``pkg/``
    holding Python files): first on ``sys.path`` when it runs, so they win over any library.

    THE answer for build and run (:meth:`siglink.link.app.Application.own_modules`); an
    entry that cannot be read is skipped."""
    names: set[str] = set()
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return names
    for entry in entries:
        try:
            if entry.is_file() and entry.name.endswith(".py"):
                names.add(entry.name[:-3])
            elif entry.is_dir() and entry.name.isidentifier() and any(
                    n.endswith(".py") for n in os.listdir(entry.path)):
                names.add(entry.name)
        except OSError:
            continue
    return names


def _module_file(directory: Path, module: str) -> Path | None:
    base = directory.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def analyze(files: Sequence[Path], *, root: Path, follow: bool = False) -> Usage:
    """The uses in ``files`` (paths shown relative to ``root``).

    With ``follow``, the application's own modules under ``root`` that the files import are
    analyzed too, transitively (a script and the helpers beside it).
    """
    usage = Usage()
    seen: set[Path] = set()
    queue: list[Path] = [Path(f).resolve() for f in files]
    local = local_modules(root)
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        try:
            source = path.read_bytes()
        except OSError as e:
            raise BadInputError(f"{path}: cannot be read: {e.strerror}", path=str(path)) from e
        try:
            shown = str(path.relative_to(root.resolve()))
        except ValueError:
            shown = str(path)
        usage.merge(analyze_source(source, shown))
        if follow:
            queue.extend(_local_files(usage.modules, root, local))
    return usage


def _local_files(modules: Iterable[str], root: Path, local: set[str]) -> list[Path]:
    found = []
    for module in modules:
        if module.split(".", 1)[0] in local:
            path = _module_file(root, module)
            if path is not None:
                found.append(path.resolve())
    return found


# -- what a module binds ----------------------------------------------------------------------

_DELEGATES = frozenset({"getattr", "import_module", "__import__"})


def bound_names(source: str | bytes) -> frozenset[str] | None:
    """The names a module's source binds at its top level, in any branch (``def``, ``class``,
    assignments, imports, ``global`` in a function), for telling whether it has an attribute;
    ``None`` when it may have any (``from x import *``, ``globals()``, replacing itself in
    ``sys.modules``, a module ``__getattr__`` forwarding names, a syntax error).

    A module ``__getattr__`` that only compares its argument with literals serves those names:
    every identifier-like string literal of the module counts as bound.

    >>> sorted(bound_names("import a.b\\nif X:\\n    def f(): ...\\nelse:\\n    g = h = 1\\n"))
    ['a', 'f', 'g', 'h']
    >>> bound_names("from m import *\\n") is None
    True
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    names: set[str] = set()
    pending: list[ast.AST] = list(tree.body)
    getattr_def: ast.FunctionDef | ast.AsyncFunctionDef | None = None
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            if node.name == "__getattr__" and not isinstance(node, ast.ClassDef):
                getattr_def = node
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    return None
                names.add(alias.asname or alias.name.split(".", 1)[0])
            continue
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                pending.append(child)
            elif isinstance(child, ast.ExceptHandler):
                names.update([child.name] if child.name else [])
                pending.extend(child.body)
            else:
                for sub in ast.walk(child):
                    if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                        names.add(sub.id)
                    elif isinstance(sub, ast.alias):
                        names.add(sub.asname or sub.name.split(".", 1)[0])
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            names.update(node.names)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and (
                node.func.id in ("globals", "vars")):
            return None
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) and (
                isinstance(node.value, ast.Attribute) and node.value.attr == "modules"):
            return None  # sys.modules[__name__] = another object
    if getattr_def is not None:
        if not getattr_def.args.args:
            return None
        param = getattr_def.args.args[0].arg
        for node in ast.walk(getattr_def):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if called in _DELEGATES and any(isinstance(n, ast.Name) and n.id == param
                                            for a in node.args for n in ast.walk(a)):
                return None  # getattr(other, name), import_module(f".{name}")
        names.update(node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
                     and isinstance(node.value, str) and node.value.isidentifier())
    return frozenset(names)
