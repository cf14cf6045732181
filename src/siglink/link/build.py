"""Building a consumer: record what an application uses from each library, and how.

The application's source is read statically (:mod:`siglink.python.usage`); every module is
mapped to the distribution that provides it (``store.providers``); each use is matched against
the version the application is built against (``--against NAME==VERSION``, else the newest
non-yanked version that provides every name used) and recorded with that version's export as
the expected contract. The manifest is written beside the application
(:func:`siglink.link._cache.app_manifest_path`) and the application is registered in the store.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from siglink.contracts.manifest import Import, Manifest, Unit
from siglink.errors import BadInputError
from siglink.link.resolve import ManifestView, StoreSource
from siglink.python.usage import Usage, Use, analyze, local_modules

__all__ = ["AppSource", "BuildResult", "build_app", "find_app"]


def __dir__() -> list[str]:
    return list(__all__)


_SKIP_DIRS = frozenset({"__pycache__", "venv", ".venv", "build", "dist", "node_modules"})


@dataclass(frozen=True)
class AppSource:
    """Where an application's code is: the files to read, the directory its own modules
    live in, its name and its entry (``script:app.py``, ``module:pkg.mod``,
    ``func:pkg.mod:main``)."""

    name: str
    files: tuple[Path, ...]
    root: Path
    entry: str
    follow: bool


@dataclass(frozen=True)
class BuildResult:
    """A built application manifest, where it was written, and what it was built against."""

    manifest: Manifest
    manifest_path: str
    against: dict[str, str]
    defaulted: tuple[str, ...]  # names whose version was chosen by default
    warnings: tuple[str, ...]


def _py_files(directory: Path) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        found.extend(Path(dirpath, f) for f in sorted(filenames) if f.endswith(".py"))
    return found


def _project_entry(directory: Path) -> str | None:
    pyproject = directory / "pyproject.toml"
    if not pyproject.is_file():
        return None
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise BadInputError(f"{pyproject}: cannot be read: {e}", path=str(pyproject)) from e
    entry = data.get("tool", {}).get("siglink", {}).get("entry")
    if entry is None:
        scripts = data.get("project", {}).get("scripts", {})
        if scripts:
            entry = next(iter(scripts.values()))
    if entry is None:
        return None
    if not isinstance(entry, str) or ":" not in entry:
        raise BadInputError(f"{pyproject}: entry {entry!r} is not 'package.module:function'",
                            path=str(pyproject))
    return entry.replace(" ", "")


def find_app(app: str, *, module: bool = False) -> AppSource:
    """What to read for ``app``: a script, a directory with ``__main__.py``, a project with an
    entry point, or (``module``) a module looked up from the current directory."""
    if module:
        cwd = Path.cwd()
        base = cwd.joinpath(*app.split("."))
        for candidate in (base.with_suffix(".py"), base / "__main__.py"):
            if candidate.is_file():
                return AppSource(app.partition(".")[0], (candidate,), cwd, f"module:{app}", True)
        raise BadInputError(f"module {app} not found under {cwd}")
    path = Path(app).resolve()
    if path.is_file():
        return AppSource(path.stem, (path,), path.parent, f"script:{path.name}", True)
    if not path.is_dir():
        raise BadInputError(f"{app}: no such file or directory", path=app)
    if (path / "__main__.py").is_file():
        return AppSource(path.name, tuple(_py_files(path)), path, "script:__main__.py", False)
    entry = _project_entry(path)
    if entry is None:
        raise BadInputError(
            f"{app}: not an application: no __main__.py, and no pyproject.toml with "
            "[project.scripts] or [tool.siglink] entry", path=app)
    top = entry.split(":", 1)[0].split(".", 1)[0]
    for root in (path / "src", path):
        package = root / top
        if package.is_dir() or package.with_suffix(".py").is_file():
            files = _py_files(package) if package.is_dir() else [package.with_suffix(".py")]
            return AppSource(path.name, tuple(files), root, f"func:{entry}", False)
    raise BadInputError(f"{app}: the entry's package {top} is neither in {path} nor {path}/src",
                        path=app)


def _newest_key(version: str) -> tuple[int, Version | str]:
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


def _prerelease(version: str) -> bool:
    key = _newest_key(version)[1]
    return isinstance(key, Version) and key.is_prerelease


class _Library:
    """One distribution the application uses, and the chains it uses from it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.uses: list[Use] = []
        self.modules: dict[str, str] = {}


def _modules_of(view: ManifestView, top_level: Sequence[str]) -> set[str]:
    modules = set(top_level)
    for path in view.paths():
        parts = path.split(".")
        modules.update(".".join(parts[:i]) for i in range(1, len(parts)))
        module = view.export_module(path)
        if module:
            mparts = module.split(".")
            modules.update(".".join(mparts[:i]) for i in range(1, len(mparts) + 1))
    return modules


def _export_prefix(chain: str, view: ManifestView) -> str | None:
    parts = chain.split(".")
    for i in range(len(parts), 0, -1):
        prefix = ".".join(parts[:i])
        if view.export_digest(prefix) is not None:
            return prefix
    return None


def _unserved(use: Use, view: ManifestView, modules: set[str]) -> str | None:
    """Why this version cannot serve ``use`` (None when it can): the name is missing, or the
    application's calls do not fit its signature."""
    from siglink.contracts.compat import check_export

    path = _export_prefix(use.path, view)
    if path is None:
        return None if use.path in modules else f"{use.path} (missing)"
    if path != use.path or not use.calls:
        return None
    verdict = check_export(None, view.export(path), calls=use.calls)
    if verdict.ok:
        return None
    return f"{path} (calls do not fit: {verdict.incompatible[0].explain()})"


def _import_path(chain: str, view: ManifestView, modules: set[str]) -> str | None:
    """The export a chain uses; the first non-module prefix when the version lacks it; None
    for a use of a module itself."""
    found = _export_prefix(chain, view)
    if found is not None:
        return found
    parts = chain.split(".")
    for i in range(1, len(parts) + 1):
        prefix = ".".join(parts[:i])
        if prefix not in modules:
            return prefix
    return None


def build_app(
    store: Any, app: str, *, against: Mapping[str, str] | None = None, module: bool = False,
    write: bool = True, register: bool = True,
) -> BuildResult:
    """Analyze ``app`` and write its manifest; with ``register``, also link it and record in
    ``store`` what it links now (or why its link is refused, as a warning).

    :raises BadInputError: a syntax error (``file:line``), an unknown ``--against`` version.
    """
    from siglink.link._cache import app_manifest_path

    source = find_app(app, module=module)
    usage = analyze(source.files, root=source.root, follow=source.follow)
    local = local_modules(source.root)
    if module or source.entry.startswith("func:"):
        local.add(source.entry.split(":", 1)[1].split(".", 1)[0])
    warnings = list(usage.warnings)
    libraries = _libraries(store, usage, local, warnings)
    pins: dict[str, str] = {canonicalize_name(k): v for k, v in (against or {}).items()}
    for name, pinned in pins.items():
        if name not in libraries:
            warnings.append(f"--against {name}=={pinned}: the application does not use {name}")
    links = StoreSource(store)
    imports: dict[str, tuple[Import, ...]] = {}
    built: dict[str, str] = {}
    defaulted: list[str] = []
    for name, library in sorted(libraries.items()):
        version, view, modules = _choose(store, links, library, pins.get(name), warnings)
        if name not in pins:
            defaulted.append(name)
        built[name] = version
        imports[name] = _imports(library, version, view, modules, warnings)
    manifest = Manifest(
        unit=Unit(source.name, "0", "application"),
        imports=imports,
        entry=source.entry,
        files=_digests(source.root, usage),
    )
    manifest_path = app_manifest_path(app, module)
    if write:
        _write(manifest_path, manifest.dumps())
        if register:
            _register(store, manifest, manifest_path, warnings)
    return BuildResult(manifest, manifest_path, built, tuple(defaulted), tuple(warnings))


def _libraries(
    store: Any, usage: Usage, local: set[str], warnings: list[str]
) -> dict[str, _Library]:
    providers: dict[str, list[str]] = {}
    libraries: dict[str, _Library] = {}

    def owner(module: str, where: str) -> str | None:
        top = module.split(".", 1)[0]
        if top in local or top in sys.stdlib_module_names or top in sys.builtin_module_names:
            return None
        if top not in providers:
            providers[top] = [canonicalize_name(n) for n in store.providers(top)]
            if not providers[top]:
                warnings.append(f"{where}: module {top} is not provided by any library in the "
                                "store and is not linked (siglink install it)")
        names = providers[top]
        if not names:
            return None
        libraries.setdefault(names[0], _Library(names[0]))
        return names[0]

    for module, where in usage.modules.items():
        name = owner(module, where)
        if name is not None:
            libraries[name].modules[module] = where
    for use in usage.uses.values():
        name = owner(use.path, use.location)
        if name is not None:
            libraries[name].uses.append(use)
    return libraries


def _choose(
    store: Any, links: StoreSource, library: _Library, pin: str | None, warnings: list[str]
) -> tuple[str, ManifestView, set[str]]:
    versions = list(links.versions(library.name))
    if pin is not None:
        stored = store.get(library.name, pin)  # NotInStoreError names NAME==VERSION
        view = links.view(stored.name, stored.version)
        modules = _modules_of(view, stored.top_level)
        for use in library.uses:
            why = None if use.dynamic else _unserved(use, view, modules)
            if why is not None:
                warnings.append(f"{use.location}: {library.name} {stored.version} does not "
                                f"serve {why}")
        return stored.version, view, modules
    usable = [v for v in versions if not v.yanked]
    stable = [v for v in usable if not _prerelease(v.version)]
    ordered = stable or usable or versions
    if not ordered:
        raise BadInputError(f"{library.name} has no version in the store")
    uses = [u for u in library.uses if not u.dynamic]
    best: tuple[int, str, ManifestView, set[str], list[str]] | None = None
    for stored in ordered:
        view = links.view(stored.name, stored.version)
        modules = _modules_of(view, stored.top_level)
        missing = [m for m in (_unserved(u, view, modules) for u in uses) if m is not None]
        if not missing:
            return stored.version, view, modules
        if best is None or len(missing) < best[0]:
            best = (len(missing), stored.version, view, modules, missing)
    assert best is not None
    _, version, view, modules, missing = best
    warnings.append(f"no version of {library.name} serves every use; built against "
                    f"{version}, which lacks {', '.join(sorted(missing))}")
    return version, view, modules


def _imports(
    library: _Library, version: str, view: ManifestView, modules: set[str], warnings: list[str]
) -> tuple[Import, ...]:
    groups: dict[str, list[tuple[Use, bool]]] = {}
    for use in library.uses:
        if use.dynamic:  # recorded as seen: it is reported, not checked
            path: str | None = _export_prefix(use.path, view) or use.path
        else:
            path = _import_path(use.path, view, modules)
        if path is None:  # a module used as a whole: ``import x`` and ``x.__version__``
            continue
        groups.setdefault(path, []).append((use, use.path == path))
    out = []
    for path, uses in sorted(groups.items()):
        direct = [u for u, exact in uses if exact]
        calls = tuple(dict.fromkeys(c for u in direct for c in u.calls))
        complete = bool(calls) and all(exact and not u.other for u, exact in uses)
        attributes = tuple(sorted({u.path[len(path) + 1:].split(".", 1)[0]
                                   for u, exact in uses if not exact}))
        dynamic = next((u.dynamic for u, _ in uses if u.dynamic), None)
        expected = view.export(path)
        location = min((u.location for u, _ in uses), key=_location_key)
        if expected is None and dynamic is None:
            warnings.append(f"{location}: {path} is not provided by {library.name} {version}")
        out.append(Import(path, expected, version, calls, complete, attributes, dynamic,
                          location))
    return tuple(out)


def _location_key(location: str) -> tuple[str, int]:
    file, _, line = location.rpartition(":")
    return (file, int(line) if line.isdigit() else 0)


def _digests(root: Path, usage: Usage) -> dict[str, str]:
    out = {}
    for shown in usage.files:
        path = Path(shown) if os.path.isabs(shown) else root / shown
        try:
            out[shown] = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            continue
    return out


def _register(store: Any, manifest: Manifest, manifest_path: str, warnings: list[str]) -> None:
    """Link the freshly built application and record the outcome (who-uses lists it)."""
    from siglink.errors import LinkError, SiglinkError
    from siglink.link.plan import effective_policy, link

    try:
        link(store, manifest, manifest_path=manifest_path,
             policy=effective_policy(manifest_path))
    except LinkError as e:
        summary = getattr(e.report, "summary", "") or e.message.splitlines()[0]
        warnings.append(f"{manifest_path}: cannot be linked now: {summary}")
    except SiglinkError as e:  # a bad policy, a read-only store: the build itself stands
        warnings.append(f"{manifest_path}: not linked: {e.message}")


def _write(path: str, text: str) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as e:
        raise BadInputError(f"{path}: cannot write the manifest: {e.strerror}", path=path) from e
