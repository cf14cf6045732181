"""Building a plugin: its manifest's ``implements``, its implementations' exports, its imports.

A plugin is a directory (a package or modules, optionally a ``pyproject.toml``) that declares
what it implements, in either of two ways:

- ``@siglink.implements("GROUP")`` on the implementing function or class (read from source,
  never run); ``position="first"``/``"last"`` is recorded too;
- ``[tool.siglink.implements]`` in ``pyproject.toml``: ``"GROUP" = "module:qualname"``, for an
  object that cannot carry a decorator (a C function, an instance).

Its uses of the host's API are recorded as an application's are (:mod:`siglink.link.build`),
and for each group the spec is the host's ``extension-point`` export of that group in the
version the plugin is built against (else the newest version in the store that declares the
group), recorded in ``implements`` so that a later host can be told what changed.

>>> import pathlib, tempfile
>>> plugin = pathlib.Path(tempfile.mkdtemp())
>>> lines = ["import siglink", '@siglink.implements("chat.commands")', "def shout(text): ..."]
>>> code = chr(10).join(lines)
>>> _ = (plugin / "shout.py").write_text(code)
>>> declarations(plugin)["chat.commands"].obj
'shout:shout'
"""

from __future__ import annotations

import ast
import hashlib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from siglink._foreign import LIMIT
from siglink._layout import read_regular
from siglink.contracts.manifest import Export, ExportKind, Implementation, Import, Manifest, Unit
from siglink.errors import BadInputError
from siglink.link.constraints import read_config

__all__ = ["PluginBuild", "build_plugin", "declarations", "is_plugin", "spec_exports"]

_SKIP = frozenset({"__pycache__", "build", "dist", "venv", ".venv", "tests"})


def __dir__() -> list[str]:
    return list(__all__)


@dataclass(frozen=True)
class PluginBuild:
    manifest: Manifest
    manifest_path: str
    against: dict[str, str]
    warnings: tuple[str, ...]


def _files(root: Path) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP and not d.startswith("."))
        found.extend(Path(dirpath, f) for f in sorted(filenames) if f.endswith(".py"))
    return found


def _pyproject(directory: Path) -> dict[str, Any]:
    path = directory / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(read_config(path).decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise BadInputError(f"{path}: cannot be read: {e}", path=str(path)) from e


def _source_root(directory: Path) -> Path:
    return directory / "src" if (directory / "src").is_dir() else directory


def _module_name(root: Path, file: Path) -> str:
    parts = list(file.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


_IMPLEMENTS_MODULES = frozenset({"siglink", "siglink.plugins", "siglink.plugins.spec"})


def _decorator_group(node: ast.expr, names: set[str]) -> tuple[str, str | None] | None:
    """``(group, position)`` of ``@siglink.implements("G", position=...)`` (or a name bound by
    ``from siglink import implements``)."""
    if not isinstance(node, ast.Call) or not node.args:
        return None
    func = node.func
    text = ast.unparse(func)
    if not (text in names or (isinstance(func, ast.Attribute) and func.attr == "implements"
                              and ast.unparse(func.value) in _IMPLEMENTS_MODULES)):
        return None
    first = node.args[0]
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return None
    position: str | None = None
    for keyword in node.keywords:
        if keyword.arg == "position" and isinstance(keyword.value, ast.Constant):
            position = keyword.value.value if isinstance(keyword.value.value, str) else None
    return first.value, position


def declarations(directory: str | os.PathLike[str]) -> dict[str, Implementation]:
    """What the plugin in ``directory`` declares it implements: group -> implementation
    (``spec`` not yet filled). Two declarations of one group are an error."""
    directory = Path(directory)
    root = _source_root(directory)
    found: dict[str, Implementation] = {}
    where: dict[str, str] = {}

    def add(group: str, impl: Implementation, site: str) -> None:
        if group in found and found[group].obj != impl.obj:
            raise BadInputError(f"{site}: {group} is already implemented by {found[group].obj} "
                                f"({where[group]}); a plugin implements a group once")
        found[group] = impl
        where[group] = site

    for file in _files(root):
        rel = file.relative_to(directory).as_posix()
        try:  # never a plain open: a FIFO named like a module must not hang the build
            tree = ast.parse(read_regular(file, LIMIT, whole=True), filename=rel)
        except OSError as e:
            raise BadInputError(f"{rel}: cannot be read: {e.strerror}", path=rel) from e
        except SyntaxError as e:
            raise BadInputError(f"{rel}:{e.lineno}: syntax error: {e.msg}", path=rel,
                                line=e.lineno) from e
        names = {f"{a.asname or a.name}" for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module in _IMPLEMENTS_MODULES
                 for a in node.names if a.name == "implements"}
        module = _module_name(root, file)
        for node in tree.body:
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            for decorator in node.decorator_list:
                marked = _decorator_group(decorator, names)
                if marked is not None:
                    group, position = marked
                    add(group, Implementation(group, f"{module}:{node.name}", None, position),
                        f"{rel}:{node.lineno}")
    table = _pyproject(directory).get("tool", {}).get("siglink", {}).get("implements", {})
    if not isinstance(table, dict):
        raise BadInputError(f"{directory}/pyproject.toml: [tool.siglink.implements] must be a "
                            "table of GROUP = \"module:qualname\"")
    for group, target in table.items():
        if not isinstance(target, str) or ":" not in target:
            raise BadInputError(f"{directory}/pyproject.toml: [tool.siglink.implements] "
                                f"{group} = {target!r}: expected \"module:qualname\"")
        add(group, Implementation(group, target.replace(" ", "")), "pyproject.toml")
    return found


def is_plugin(path: str | os.PathLike[str]) -> bool:
    """A directory that declares an implementation (cheap enough for ``siglink build``)."""
    directory = Path(path)
    if not directory.is_dir():
        return False
    try:
        return bool(declarations(directory))
    except BadInputError:
        return True  # let the plugin build report it


def spec_exports(manifest: Manifest) -> dict[str, Export]:
    """The extension points a host's manifest exports: group -> export."""
    out: dict[str, Export] = {}
    for export in manifest.exports.values():
        if export.kind is ExportKind.EXTENSION_POINT and export.value:
            try:
                group = ast.literal_eval(export.value)
            except (ValueError, SyntaxError):
                continue
            if isinstance(group, str):
                out.setdefault(group, export)
    return out


def _find_spec(store: Any, group: str, built: Mapping[str, str]) -> tuple[str, str, Export] | None:
    """``(library, version, spec)`` for ``group``: the versions built against (or pinned)
    first, then the newest version of any library in the store declaring it."""
    for name, version in sorted(built.items()):
        spec = spec_exports(store.manifest(name, version)).get(group)
        if spec is not None:
            return name, version, spec
    for name in store.names():
        for stored in store.versions(name, include_yanked=False):
            text = store.manifest_json(stored.name, stored.version)
            if text is not None and "extension-point" not in text:
                continue
            spec = spec_exports(store.manifest(stored.name, stored.version)).get(group)
            if spec is not None:
                return stored.name, stored.version, spec
    return None


def build_plugin(
    store: Any, directory: str | os.PathLike[str], *, against: Mapping[str, str] | None = None,
    write: bool = True,
) -> PluginBuild:
    """Build the plugin in ``directory`` against the store and write ``DIR/siglink.json``.

    :raises BadInputError: nothing declared, an object that is not exported, a group no host
        in the store declares, a syntax error.
    """
    from packaging.utils import canonicalize_name

    from siglink.link import build as link_build
    from siglink.link.resolve import StoreSource
    from siglink.python.exports import extract_tree
    from siglink.python.usage import analyze, local_modules

    directory = Path(directory).resolve()
    declared = declarations(directory)
    if not declared:
        raise BadInputError(f"{directory}: not a plugin: nothing declares @siglink.implements "
                            "or [tool.siglink.implements]", path=str(directory))
    project = _pyproject(directory).get("project", {})
    name = str(project.get("name") or directory.name)
    version = str(project.get("version") or "0")
    root = _source_root(directory)
    files = _files(root)
    packages = sorted(local_modules(root))
    exports = extract_tree(root, packages, name=name, version=version).exports
    warnings: list[str] = []
    usage = analyze(files, root=root, follow=False)
    # siglink itself is the plugin's tooling (its decorators), not a library it links.
    libraries, unprovided = link_build._libraries(store, usage, {*packages, "siglink"},
                                                  warnings)
    pins: dict[str, str] = {canonicalize_name(k): v for k, v in (against or {}).items()}
    links = StoreSource(store)
    imports: dict[str, tuple[Import, ...]] = {}
    built: dict[str, str] = {}
    for lib, library in sorted(libraries.items()):
        chosen, view, modules, missing, bad = link_build._choose(store, links, library,
                                                                 pins.get(lib))
        built[lib] = chosen
        warnings.extend(bad)
        warnings.extend(f"{m} is not provided by {lib} {chosen}" for m in missing)
        imports[lib] = link_build._imports(library, chosen, view, modules, warnings)
    implements: dict[str, Implementation] = {}
    kept: dict[str, Export] = {}
    for group, impl in sorted(declared.items()):
        path = impl.obj.replace(":", ".")
        export = exports.get(path)
        if export is None:
            raise BadInputError(f"{directory}: {group} is implemented by {impl.obj}, which is "
                                "not a public object of the plugin", path=str(directory))
        kept[path] = export
        found = _find_spec(store, group, {**pins, **built})  # --against names the host too
        if found is None:
            warnings.append(f"{group}: no library in the store declares this extension point; "
                            "the spec is not recorded")
            implements[group] = impl
            continue
        host, host_version, spec = found
        built.setdefault(host, host_version)
        implements[group] = Implementation(group, impl.obj, spec, impl.position)
    manifest = Manifest(
        unit=Unit(name, version, "plugin"),
        exports=kept,
        imports=imports,
        implements=implements,
        files={f.relative_to(directory).as_posix():
               hashlib.sha256(read_regular(f, LIMIT, whole=True)).hexdigest() for f in files},
        top_level=tuple(packages),
        unprovided=unprovided,
    )
    manifest_path = str(directory / "siglink.json")
    if write:
        link_build._write(manifest_path, manifest.dumps())
    return PluginBuild(manifest, manifest_path, built, tuple(warnings))
