"""The import closure of an application over its linked libraries, for ``bundle --prune``.

Conservative by construction: every ``import`` statement anywhere in a reached module counts
(inside functions, ``try`` blocks and ``if TYPE_CHECKING:`` too), a package's ``__init__`` is
reached with any of its submodules, and a module that imports by computed name
(``importlib.import_module(name)``, ``__import__(name)``, ``pkgutil.iter_modules``) keeps its
whole library; the application doing so keeps every library whole. Libraries with compiled
parts are kept whole too (their C code imports what it likes). Data files of reached packages
stay. No code is executed: modules are parsed with :mod:`ast`.

>>> parts = {"app": {"app.py": b"import textkit.wrap"},
...          "textkit": {"textkit/__init__.py": b"", "textkit/wrap.py": b"from . import _util",
...                      "textkit/_util.py": b"", "textkit/fill.py": b"", "textkit/data.txt": b"x"}}
>>> closure = import_closure(parts, app="app")
>>> sorted(closure.kept["textkit"])
['textkit/__init__.py', 'textkit/_util.py', 'textkit/data.txt', 'textkit/wrap.py']
>>> closure.whole
{}
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["Closure", "import_closure", "module_name"]

_DYNAMIC_CALLS = frozenset({"import_module", "__import__", "iter_modules", "walk_packages"})
_COMPILED = (".so", ".pyd")


def __dir__() -> list[str]:
    return list(__all__)


@dataclass(frozen=True)
class Closure:
    """What ``--prune`` keeps: ``kept`` part -> member paths; ``whole`` part -> why it was
    kept whole."""

    kept: dict[str, set[str]] = field(default_factory=dict)
    whole: dict[str, str] = field(default_factory=dict)


def module_name(path: str) -> tuple[str, bool] | None:
    """The dotted module a file defines and whether it is a package's ``__init__``.

    >>> module_name("a/b/__init__.py"), module_name("a/_c.cpython-311-x86_64-linux-gnu.so")
    (('a.b', True), ('a._c', False))
    """
    parts = path.split("/")
    last = parts[-1]
    if last.endswith(".py"):
        stem = last[:-3]
    elif last.endswith(_COMPILED):
        stem = last.split(".", 1)[0]
    else:
        return None
    if stem == "__init__":
        return ".".join(parts[:-1]), True
    if not all(p.isidentifier() for p in (*parts[:-1], stem)):
        return None
    return ".".join([*parts[:-1], stem]), False


def import_closure(parts: Mapping[str, Mapping[str, bytes]], *, app: str) -> Closure:
    """The files of each part that the application ``parts[app]`` can reach by importing."""
    owner: dict[str, tuple[str, str]] = {}  # module -> (part, file)
    packages: set[str] = set()
    for part, files in parts.items():
        for path in files:
            found = module_name(path)
            if found is None:
                continue
            name, is_package = found
            owner.setdefault(name, (part, path))
            if is_package:
                packages.add(name)
            for i in range(1, name.count(".") + 1):  # namespace packages have no __init__
                packages.add(name.rsplit(".", i)[0])
    whole: dict[str, str] = {}
    for part, files in parts.items():
        if part != app and any(p.endswith(_COMPILED) for p in files):
            whole[part] = "has compiled modules"
    reached: set[str] = set()
    queue = [name for name, (part, _) in owner.items() if part == app]
    while queue:
        name = queue.pop()
        if name in reached:
            continue
        reached.add(name)
        part, path = owner.get(name, ("", ""))
        if not path.endswith(".py"):
            continue
        if name.rpartition(".")[0]:
            queue.append(name.rpartition(".")[0])
        try:
            tree = ast.parse(parts[part][path])
        except (SyntaxError, ValueError):
            whole.setdefault(part, f"{path} does not parse")
            continue
        is_package = path.endswith("__init__.py")
        targets, dynamic = _imports(tree, name, is_package, packages)
        if dynamic and part not in whole:
            whole[part] = f"{path} imports by computed name"
            if part == app:
                for other in parts:
                    whole.setdefault(other, "the application imports by computed name")
        for target in targets:
            queue.extend(t for t in _with_parents(target) if t in owner or t in packages)
    kept: dict[str, set[str]] = {}
    for part, files in parts.items():
        if part in whole or part == app:
            kept[part] = set(files)
            continue
        kept[part] = {p for p in files if _keeps(p, reached, packages)}
    return Closure(kept, {p: why for p, why in whole.items() if p != app})


def _with_parents(name: str) -> Iterable[str]:
    pieces = name.split(".")
    return (".".join(pieces[:i]) for i in range(1, len(pieces) + 1))


def _keeps(path: str, reached: set[str], packages: set[str]) -> bool:
    found = module_name(path)
    if found is not None:
        return found[0] in reached
    directory = path.rpartition("/")[0].replace("/", ".")
    if directory and directory in packages:
        return directory in reached  # a data file of a package
    return True  # dist-info, top-level data


def _imports(tree: ast.AST, module: str, is_package: bool,
             packages: set[str]) -> tuple[list[str], bool]:
    """Modules named by ``tree``'s imports, and whether it also imports by computed name."""
    package = module if is_package else module.rpartition(".")[0]
    out: list[str] = []
    dynamic = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node.module or "", node.level, package)
            if base is None:
                continue
            if base:
                out.append(base)
            for alias in node.names:
                if alias.name == "*":
                    out.extend(p for p in packages if p.rpartition(".")[0] == base)
                else:
                    out.append(f"{base}.{alias.name}" if base else alias.name)
        elif isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else (
                func.id if isinstance(func, ast.Name) else "")
            if called not in _DYNAMIC_CALLS:
                continue
            first = node.args[0] if node.args else None
            if called in ("import_module", "__import__") and isinstance(first, ast.Constant) \
                    and isinstance(first.value, str):
                level = len(first.value) - len(first.value.lstrip("."))
                name = _resolve(first.value.lstrip("."), level, package)
                if name:
                    out.append(name)
                    continue
            dynamic = True
    return out, dynamic


def _resolve(name: str, level: int, package: str) -> str | None:
    if not level:
        return name
    pieces = package.split(".") if package else []
    if level - 1 > len(pieces):
        return None
    base = pieces[: len(pieces) - (level - 1)]
    return ".".join([*base, name] if name else base)
