"""What an application uses from libraries, read statically from its source with :mod:`ast`.

Grammar of what is recognized (everything else that touches an imported name is a
non-call use, which makes that name's calls incomplete, DESIGN §3.5)::

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

>>> usage = analyze_source("import m\\nm.f(1, k=2)\\n", "app.py")
>>> usage.uses["m.f"].calls
[CallShape(positional=1, keywords=('k',), star_args=False, star_kwargs=False)]
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from siglink.contracts.manifest import CallShape
from siglink.errors import BadInputError

__all__ = ["Usage", "Use", "analyze", "analyze_source", "local_modules"]


def __dir__() -> list[str]:
    return list(__all__)


@dataclass(slots=True)
class Use:
    """Every occurrence of one dotted chain: the call shapes seen, and whether it was ever used
    other than by a direct call (passed on, stored, returned, decorated with, read)."""

    path: str
    location: str
    calls: list[CallShape] = field(default_factory=list)
    other: bool = False
    dynamic: str | None = None

    def add_call(self, shape: CallShape) -> None:
        if shape not in self.calls:
            self.calls.append(shape)


@dataclass(slots=True)
class Usage:
    """What a set of source files uses: chains, imported modules, warnings."""

    uses: dict[str, Use] = field(default_factory=dict)
    modules: dict[str, str] = field(default_factory=dict)  # module -> first location
    warnings: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def use(self, path: str, location: str) -> Use:
        found = self.uses.get(path)
        if found is None:
            found = self.uses[path] = Use(path, location)
        return found

    def merge(self, other: Usage) -> None:
        for path, use in other.uses.items():
            mine = self.use(path, use.location)
            for shape in use.calls:
                mine.add_call(shape)
            mine.other = mine.other or use.other
            mine.dynamic = mine.dynamic or use.dynamic
        for module, location in other.modules.items():
            self.modules.setdefault(module, location)
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


class _Visitor(ast.NodeVisitor):
    def __init__(self, filename: str, usage: Usage) -> None:
        self.filename = filename
        self.usage = usage
        self.bindings: dict[str, str] = {}

    # -- helpers ---------------------------------------------------------------------------
    def _where(self, node: ast.AST) -> str:
        return f"{self.filename}:{getattr(node, 'lineno', 0)}"

    def _warn(self, node: ast.AST, message: str) -> None:
        self.usage.warnings.append(f"{self._where(node)}: {message}")

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

    def _record(self, path: str, node: ast.AST, shape: CallShape | None) -> None:
        parts = path.split(".")
        # ``mod.__version__``, ``mod.__file__``: a use of the module, not of an export.
        for i, part in enumerate(parts[1:], 1):
            if _is_dunder(part):
                parts = parts[:i]
                shape = None
                break
        path = ".".join(parts)
        use = self.usage.use(path, self._where(node))
        if shape is None:
            use.other = True
        else:
            use.add_call(shape)
        if use.dynamic is None and any(_is_private(p) for p in parts[1:]):
            use.dynamic = "private"
            self._warn(node, f"private name {path}: not part of the library's contract")

    def _module(self, name: str, node: ast.AST) -> None:
        self.usage.modules.setdefault(name, self._where(node))

    # -- imports ---------------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._module(alias.name, node)
            if alias.asname:
                self.bindings[alias.asname] = alias.name
            else:
                top = alias.name.split(".", 1)[0]
                self.bindings[top] = top
            if any(_is_private(p) for p in alias.name.split(".")[1:]):
                self._record(alias.name, node, None)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or not node.module:
            for alias in node.names:  # relative: the application's own modules
                self.bindings.pop(alias.asname or alias.name, None)
            return
        self._module(node.module, node)
        for alias in node.names:
            if alias.name == "*":
                use = self.usage.use(node.module, self._where(node))
                use.other = True
                use.dynamic = use.dynamic or "star"
                self._warn(node, f"from {node.module} import *: the names used cannot be seen")
                continue
            path = f"{node.module}.{alias.name}"
            self.bindings[alias.asname or alias.name] = path
            if any(_is_private(p) for p in path.split(".")[1:]):
                self._record(path, node, None)

    # -- uses ------------------------------------------------------------------------------
    def visit_Assign(self, node: ast.Assign) -> None:
        module = self._import_module_literal(node.value)
        if module is not None and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            self._module(module, node)
            self.bindings[node.targets[0].id] = module
            return
        self.generic_visit(node)

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
            module = _literal(node.args[0]) if node.args else None
            if module is None:
                self._warn(node, "importlib.import_module with a non-literal name: not checked")
            else:
                self._module(module, node)
            for arg in node.args:
                self.visit(arg)
            return
        if chain is not None:
            self._record(chain, node, _shape(node))
        else:
            self.visit(func)
        for arg in node.args:
            self.visit(arg)
        for keyword in node.keywords:
            self.visit(keyword.value)

    def _dynamic_builtin(self, node: ast.Call, name: str | None) -> bool:
        """``getattr``/``__import__``; True when fully handled here."""
        if name == "__import__":
            module = _literal(node.args[0]) if node.args else None
            if module is None:
                self._warn(node, "__import__ with a non-literal name: not checked")
            else:
                self._module(module, node)
            return False
        if self._is_getattr_literal(node):
            return False  # a static chain: handled as an ordinary use
        base = self._chain(node.args[0]) if node.args else None
        if base is not None:
            use = self.usage.use(base, self._where(node))
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
            self._record(chain, node, None)

    def visit_Name(self, node: ast.Name) -> None:
        chain = self.bindings.get(node.id)
        if chain is not None and isinstance(node.ctx, ast.Load):
            self._record(chain, node, None)


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
    _Visitor(filename, usage).visit(tree)
    return usage


def local_modules(directory: Path) -> set[str]:
    """Top-level module names an application's own directory provides (``x.py``, ``pkg/``)."""
    names: set[str] = set()
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return names
    for entry in entries:
        if entry.is_file() and entry.name.endswith(".py"):
            names.add(entry.name[:-3])
        elif entry.is_dir() and entry.name.isidentifier() and (
            os.path.exists(os.path.join(entry.path, "__init__.py"))
            or any(n.endswith(".py") for n in os.listdir(entry.path))
        ):
            names.add(entry.name)
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
