"""Imports point down the layers, never into another package's private modules, never in a
circle (docs/design.md §1).

Read from the modules' own source with ``ast``: every ``import`` and ``from ... import``,
including those inside functions, and ``import_module("siglink....")`` with a literal name.
Imports under ``if TYPE_CHECKING:`` count for the direction (a lower layer that names a higher
one's types depends on it) but not for cycles: they never run, and they are how two modules
that call one way may still name each other's types.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import siglink

# Violations being fixed elsewhere. Delete an entry when its fix lands: the test fails while an
# entry here no longer occurs, so the list cannot go stale.
KNOWN_VIOLATIONS: frozenset[str] = frozenset()

# Bottom to top; a module may import from its own layer and the layers below it.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("siglink.errors", "siglink._*"),
    ("siglink.contracts",),
    ("siglink.python", "siglink.native"),
    ("siglink.store",),
    ("siglink.link",),
    ("siglink.plugins", "siglink.bundle", "siglink.fleet"),
    ("siglink.demo",),
    ("siglink.cli",),
    ("siglink", "siglink.__main__", "siglink._entry"),
)

ROOT = Path(siglink.__path__[0])


def _modules() -> dict[str, Path]:
    modules = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = ["siglink", *path.relative_to(ROOT).with_suffix("").parts]
        if "units" in parts:  # the demo's example libraries, not siglink
            continue
        modules[".".join(parts).removesuffix(".__init__")] = path
    return modules


MODULES = _modules()


def layer(module: str) -> int:
    """The layer index of ``module`` (the most specific pattern wins)."""
    best: tuple[int, int] | None = None
    for index, patterns in enumerate(LAYERS):
        for pattern in patterns:
            prefix = pattern.removesuffix("*")
            if pattern.endswith("*"):
                hit = module.startswith(prefix) and "." not in module[len(prefix):]
            else:
                hit = module == pattern or module.startswith(pattern + ".")
            if hit and (best is None or len(prefix) > best[0]):
                best = (len(prefix), index)
    assert best is not None, f"{module}: no layer; add its package to LAYERS"
    return best[1]


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


@functools.cache
def imports(module: str) -> list[tuple[str, bool]]:
    """``(imported siglink module, only under TYPE_CHECKING)`` for every import in ``module``."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[str, bool]] = []

    def add(name: str, typing_only: bool) -> None:
        if name in MODULES and name != module:
            found.append((name, typing_only))

    def visit(node: ast.AST, typing_only: bool) -> None:
        if isinstance(node, ast.If) and _type_checking(node):
            for branch in node.body:
                visit(branch, True)
            for branch in node.orelse:
                visit(branch, typing_only)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, typing_only)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                # ``from siglink import __version__``: a constant of the root package, which
                # Python runs before any submodule anyway; it imports nothing.
                if base == "siglink" and alias.name == "__version__":
                    continue
                submodule = f"{base}.{alias.name}"
                add(submodule if submodule in MODULES else base, typing_only)
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(
                node.func, "id", None)) == "import_module" and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            add(node.args[0].value, typing_only)
        for child in ast.iter_child_nodes(node):
            visit(child, typing_only)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


def _private_elsewhere(importer: str, imported: str) -> bool:
    """Is ``imported`` a private module of a package ``importer`` is not part of?"""
    package, _, name = imported.rpartition(".")
    return name.startswith("_") and package != "siglink" and not (
        importer == package or importer.startswith(package + "."))


def _cycles(graph: dict[str, set[str]]) -> list[str]:
    """Every strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[str] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append("cycle: " + ", ".join(sorted(component)))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def violations() -> set[str]:
    """Every upward import, private import across packages and import cycle, as text."""
    found: set[str] = set()
    runtime: dict[str, set[str]] = {module: set() for module in MODULES}
    for module in MODULES:
        for imported, typing_only in imports(module):
            if layer(imported) > layer(module) or _private_elsewhere(module, imported):
                found.add(f"{module} -> {imported}")
            if not typing_only:
                runtime[module].add(imported)
    return found | set(_cycles(runtime))


def test_imports_point_down_without_cycles() -> None:
    found = violations()
    new = sorted(found - KNOWN_VIOLATIONS)
    fixed = sorted(KNOWN_VIOLATIONS - found)
    assert not new, "imports against the layers (docs/design.md §1):\n" + "\n".join(new)
    assert not fixed, "fixed: delete from KNOWN_VIOLATIONS:\n" + "\n".join(fixed)


def test_the_checker_sees_what_it_must() -> None:
    """The rules themselves: an upward import, a private one and a cycle are each caught."""
    assert layer("siglink.store.store") < layer("siglink.cli._output")
    assert layer("siglink._entry") == len(LAYERS) - 1
    assert layer("siglink._files") == 0
    assert _private_elsewhere("siglink.cli.main", "siglink.link._cache")
    assert not _private_elsewhere("siglink.link.run", "siglink.link._cache")
    assert not _private_elsewhere("siglink.cli.main", "siglink._entry")
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == ["cycle: a, b, c"]
    # imports inside functions count; TYPE_CHECKING ones are marked
    assert ("siglink.demo.story", False) in imports("siglink.cli.demo")
    assert ("siglink.demo.story", True) in imports("siglink.cli.demo")
