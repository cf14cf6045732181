"""Building a consumer: record what an application uses from each library, and how.

The application's source is read statically (:mod:`siglink.python.usage`); every module is
mapped to the distribution that provides it (``store.providers``); each use is matched against
the version the application is built against (``--against NAME==VERSION``, else the newest
non-yanked version that provides every name used) and recorded with that version's export as
the expected contract. A call the chosen version does not accept is a :class:`BuildError`
(exit 1) listing each such call; a name it lacks is a warning (the link will say more). Optional
uses (:attr:`~siglink.python.usage.Use.optional`) are recorded as such and never decide the
version. A module that no library in the store provides is recorded in the manifest's
``unprovided`` table: a required one refuses the link until a library provides it. The manifest is
written beside the application (:attr:`siglink.link.app.Application.manifest_path`) and the
application is registered in the store.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import sys
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from siglink._files import write_atomic
from siglink._foreign import LIMIT
from siglink._layout import read_regular
from siglink._text import inert
from siglink.contracts.manifest import (
    RELIES_ON,
    Arguments,
    Export,
    ExportKind,
    Import,
    Manifest,
    Unit,
)
from siglink.errors import BadInputError, BuildError
from siglink.link._failure import install_hint
from siglink.link.app import Application
from siglink.link.constraints import declared, read_config, warnings_policy
from siglink.link.resolve import ManifestView, StoreSource
from siglink.python.receivers import ALL as _ALL
from siglink.python.usage import DELETED, STORED, Usage, Use, analyze

if TYPE_CHECKING:
    from siglink.store import Store

__all__ = ["AppSource", "BuildResult", "build_app", "find_app", "record_imports"]


def __dir__() -> list[str]:
    return list(__all__)


# Modules the interpreter itself provides that are not in ``sys.stdlib_module_names``.
_NOT_LIBRARIES = frozenset({"__main__", "__phello__", "__hello__"})

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
    unserved: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """For each library, the uses the version built against does not serve (a name it lacks,
    calls it does not accept): empty when it serves every required use."""
    misfits: tuple[str, ...] = ()
    """Each recorded call the version built against does not accept (``record`` mode only)."""


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
        data = tomllib.loads(read_config(pyproject).decode("utf-8"))
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
    entry point, or (``module``) a module looked up from the current directory.

    >>> import shutil, tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "report.py").write_text("print('hello')")
    >>> app = find_app(str(folder / "report.py"))
    >>> app.name, app.entry, app.follow
    ('report', 'script:report.py', True)
    >>> shutil.rmtree(folder)
    """
    if module:
        cwd = Path.cwd()
        base = cwd.joinpath(*app.split("."))
        for candidate in (base.with_suffix(".py"), base / "__main__.py"):
            if candidate.is_file():
                return AppSource(app.partition(".")[0], (candidate,), cwd, f"module:{app}", True)
        if (base / "__init__.py").is_file():  # python -m's words for it
            raise BadInputError(f"No module named {app}.__main__; {app!r} is a package and "
                                f"cannot be directly executed (in {cwd})")
        top = app.partition(".")[0]
        if top.isidentifier():  # a stdlib or a library module: run as python -m does
            return AppSource(top, (), cwd, f"module:{app}", False)
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

    @property
    def required(self) -> list[Use]:
        """The uses that decide the version: seen statically and not optional."""
        return [u for u in self.uses if not u.dynamic and not u.optional]


def _modules_of(view: ManifestView, top_level: Sequence[str]) -> set[str]:
    return set(top_level) | view.modules()


def _export_prefix(chain: str, view: ManifestView) -> str | None:
    parts = chain.split(".")
    for i in range(len(parts), 0, -1):
        prefix = ".".join(parts[:i])
        if view.export_digest(prefix) is not None:
            return prefix
    return None


def _missing(use: Use, view: ManifestView, modules: set[str]) -> str | None:
    """``use.path`` when this version has neither it nor a prefix of it, else None."""
    if _export_prefix(use.path, view) is None and use.path not in modules:
        return use.path
    return None


def _call_misfits(use: Use, view: ManifestView, label: str) -> list[str]:
    """One line per recorded call of ``use`` that this version's export does not accept:
    ``app.py:3: textkit.wrap(_, _): P6: the call passes 2 positional arguments, ...``."""
    from siglink.contracts.compat import call_text, check_export
    from siglink.link._provider import _lenient

    export = view.export(use.path) if use.calls else None
    if export is None:
        return []
    name = use.path.rpartition(".")[2]
    has = f"{label} has {export.kind.value} {name}" if export.signature is None else (
        f"{label} has {name}{export.signature}")
    out = []
    for call in use.calls:
        verdict = _lenient(check_export(None, export, calls=(call,)), export)
        for problem in verdict.incompatible:
            why = problem.note or f"expected {problem.expected}, found {problem.found}"
            site = use.call_sites.get(call, use.location)
            out.append(f"{site}: {use.path}{call_text(call)[1:]}: {problem.rule}: {why}; {has}")
    return out


def _fit(library: _Library, view: ManifestView, modules: set[str],
         label: str) -> tuple[list[str], list[str]]:
    """What this version lacks of the library's required uses, and the calls it refuses."""
    missing: list[str] = []
    misfits: list[str] = []
    for use in library.required:
        lacks = _missing(use, view, modules)
        if lacks is not None:
            missing.append(lacks)
        else:
            misfits.extend(_call_misfits(use, view, label))
    return missing, misfits


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
    store: Store, app: Application | str, *, against: Mapping[str, str] | None = None,
    module: bool = False, write: bool = True, register: bool = True, misfits: str = "raise",
) -> BuildResult:
    """Analyze ``app`` and write its manifest; with ``register``, also link it and record in
    ``store`` what it links now (or why its link is refused, as a warning).

    :param misfits: what to do when a recorded call does not fit the version built against:
        ``"raise"`` (:class:`BuildError`, nothing written), or ``"record"`` (write the manifest
        anyway, for ``siglink run``: the link then refuses or picks a version that fits).
    :raises BuildError: a call the version built against does not accept (exit 1).
    :raises BadInputError: a syntax error (``file:line``), an unknown ``--against`` version.
    """
    if isinstance(app, str):
        app = Application.resolve(app, module, str(store.root) if module else None)
    module = app.module
    source = find_app(app.target, module=module)
    usage = analyze(source.files, root=source.root, follow=source.follow)
    local = app.own_modules(source.entry)
    if not source.files:  # -m of a module not under cwd: the app uses that module's library
        top = source.name
        stdlib = top in sys.stdlib_module_names or top in sys.builtin_module_names
        if not stdlib and not store.providers(top):
            raise BadInputError(f"module {app.target} not found under {Path.cwd()}, in the "
                                "standard library or in any library in the store")
        if not stdlib:
            usage.modules.setdefault(app.target, f"-m {app.target}")
    warnings = list(usage.warnings)
    libraries, unprovided = _libraries(store, usage, local, warnings)
    pins: dict[str, str] = {canonicalize_name(k): v for k, v in (against or {}).items()}
    for name, pinned in pins.items():
        if name not in libraries:
            warnings.append(f"--against {name}=={pinned}: the application does not use {name}")
    links = StoreSource(store)
    imports: dict[str, tuple[Import, ...]] = {}
    built: dict[str, str] = {}
    defaulted: list[str] = []
    unserved: dict[str, tuple[str, ...]] = {}
    refused: list[str] = []
    chosen: dict[str, _Choice] = {}
    for name, library in sorted(libraries.items()):
        version, _, _, missing, bad = chosen[name] = _choose(
            store, links, library, pins.get(name))
        if name not in pins:
            defaulted.append(name)
        built[name] = version
        if missing or bad:
            unserved[name] = (*(f"{m} (missing)" for m in missing),
                              *(line.split(": ", 1)[1] for line in bad))
        if missing and name not in pins and len(links.versions(name)) > 1:
            warnings.append(f"no version of {name} serves every use; built against {version}, "
                            f"which lacks {', '.join(sorted(missing))}")
        refused.extend(bad)
    imports.update(record_imports(usage, libraries, chosen, warnings))
    if refused and misfits == "raise":
        raise BuildError(
            f"{inert(app.target)}: {len(refused)} call{'s' if len(refused) > 1 else ''} "
            "not accepted by the version built against:\n  "
            + "\n  ".join(inert(line) for line in refused),
            misfits=tuple(refused))
    manifest = Manifest(
        unit=Unit(source.name, "0", "application"),
        imports=imports,
        entry=source.entry,
        files=_digests(source.root, usage),
        unprovided=unprovided,
        requires=declared(source.root),  # its declared constraints (link/constraints.py)
        warnings_error=warnings_policy(source.root),  # and its warning policy
    )
    manifest_path = app.manifest_path
    if write:
        _write(manifest_path, manifest.dumps())
        if register:
            _register(store, manifest, manifest_path, warnings)
    return BuildResult(manifest, manifest_path, built, tuple(defaulted), tuple(warnings),
                       unserved, tuple(refused))


def _libraries(
    store: Store, usage: Usage, local: set[str], warnings: list[str]
) -> tuple[dict[str, _Library], dict[str, tuple[Import, ...]]]:
    """The libraries the application uses, and its uses of modules no library provides."""
    providers: dict[str, list[str]] = {}
    libraries: dict[str, _Library] = {}
    unprovided: dict[str, list[Import]] = {}

    def owner(module: str) -> str | None:
        top = module.split(".", 1)[0]
        if top in local or top in _NOT_LIBRARIES or top in sys.stdlib_module_names or (
                top in sys.builtin_module_names):
            shadow = getattr(store, "shadowing", None)
            if top not in providers and shadow is not None and top not in local:
                providers[top] = []
                if backports := shadow(top):
                    warnings.append(f"module {top}: the standard library's, not "
                                    f"{', '.join(backports)} from the store (never served)")
            return None
        shared = getattr(store, "namespace", None)  # a namespace package's portions
        if top not in providers:
            providers[top] = [canonicalize_name(n) for n in store.providers(top)]
            if len(providers[top]) > 1 and not (shared is not None and shared(top)):
                warnings.append(f"module {top}: provided by {', '.join(providers[top])} "
                                f"(installed with --allow-module-conflict); "
                                f"{providers[top][0]} chosen, the first by name")
        names = providers[top]
        if len(names) > 1 and module != top:
            names = [canonicalize_name(n) for n in store.providers(module)] or names
        if not names:
            unprovided.setdefault(top, [])
            return None
        libraries.setdefault(names[0], _Library(names[0]))
        return names[0]

    for module, where in usage.modules.items():
        name = owner(module)
        optional = module in usage.optional_modules
        if name is not None:
            libraries[name].modules[module] = where
        elif module.split(".", 1)[0] in unprovided:
            unprovided[module.split(".", 1)[0]].append(
                Import(module, location=where, optional=optional))
    for use in usage.uses.values():
        name = owner(use.path)
        if name is not None:
            libraries[name].uses.append(use)
        elif use.path.split(".", 1)[0] in unprovided and not use.dynamic:
            unprovided[use.path.split(".", 1)[0]].append(Import(
                use.path, calls=tuple(use.calls), location=use.location, optional=use.optional))
    out: dict[str, tuple[Import, ...]] = {}
    for top, items in sorted(unprovided.items()):
        required = sorted((i for i in items if not i.optional),
                          key=lambda i: _location_key(i.location or ""))
        if required:
            warnings.append(
                f"{required[0].location}: module {top} is not provided by any library in the "
                f"store: its link is refused until one is ({install_hint(top)}, or "
                "run with --environment)")
        out[top] = tuple(sorted(items, key=lambda i: i.path))
    return libraries, out


_Choice = tuple[str, ManifestView, set[str], list[str], list[str]]


def _choose(store: Store, links: StoreSource, library: _Library, pin: str | None) -> _Choice:
    """The version to build against (``pin``, else the newest non-yanked stable version serving
    every required use, else the one accepting every call and lacking the fewest names), its
    manifest and modules, the names it lacks and the calls it does not accept."""
    if pin is not None:
        stored = store.get(library.name, pin)  # NotInStoreError names NAME==VERSION
        view = links.view(stored.name, stored.version)
        modules = _modules_of(view, stored.top_level)
        missing, bad = _fit(library, view, modules, f"{library.name} {stored.version}")
        return stored.version, view, modules, missing, bad
    versions = list(links.versions(library.name))
    usable = [v for v in versions if not v.yanked]
    stable = [v for v in usable if not _prerelease(v.version)]
    ordered = stable or usable or versions
    if not ordered:
        raise BadInputError(f"{library.name} has no version in the store")
    best: tuple[tuple[int, int], _Choice] | None = None
    for stored in ordered:
        view = links.view(stored.name, stored.version)
        modules = _modules_of(view, stored.top_level)
        missing, bad = _fit(library, view, modules, f"{library.name} {stored.version}")
        choice = (stored.version, view, modules, missing, bad)
        if not missing and not bad:
            return choice
        rank = (len(bad), len(missing))
        if best is None or rank < best[0]:
            best = (rank, choice)
    assert best is not None
    return best[1]


_BASES: str = "__bases__"
"""In a class's used members: the application reads the class's ``__bases__`` (it relies on
every base); ``__bases__:B`` (:data:`RELIES_ON`, :func:`_relied_bases`): on ancestor B."""


def record_imports(
    usage: Usage, libraries: Mapping[str, _Library], chosen: Mapping[str, _Choice],
    warnings: list[str],
) -> dict[str, tuple[Import, ...]]:
    """The :class:`Import` records of each library, as the manifest keeps them: the chains
    used, their calls, the members reached and the evident argument types, against the
    version ``chosen`` for each library."""
    members, arguments, called = _used_members(usage, libraries, chosen)
    # Named for identity (isinstance, except, annotations) or passed on: not only called
    named = frozenset(p for p, u in usage.uses.items() if u.identity or u.other)
    return {name: _imports(library, chosen[name][0], chosen[name][1], chosen[name][2], warnings,
                           reached=(members, frozenset(usage.written), named),
                           arguments=arguments, called=called)
            for name, library in sorted(libraries.items())}


def _used_members(
    usage: Usage, libraries: Mapping[str, _Library], chosen: Mapping[str, _Choice]
) -> tuple[dict[str, set[str]], dict[str, list[Arguments]], dict[str, set[str]]]:
    """The members the application reaches of each library class, by the class's export
    digest, the evident argument types of its calls
    (:func:`siglink.python.receivers.used_members`), and the members it only calls with
    every call recorded (:func:`siglink.python.receivers.called_only`), against the versions
    ``chosen``."""
    from siglink.python.receivers import called_only, used_members

    owners: dict[str, ManifestView] = {}
    for name, library in libraries.items():
        view = chosen[name][1]
        for module in (*library.modules, *(u.path for u in library.uses)):
            owners.setdefault(module.split(".", 1)[0], view)

    def export_of(path: str) -> Export | None:
        view = owners.get(path.split(".", 1)[0])
        return None if view is None else view.export(path)

    found, arguments, _ = used_members(
        usage, export_of, (u for library in libraries.values() for u in library.uses))
    return found, arguments, called_only(usage, export_of)


def _imports(
    library: _Library, version: str, view: ManifestView, modules: set[str], warnings: list[str],
    *, reached: tuple[Mapping[str, set[str]], frozenset[str], frozenset[str]] | None = None,
    arguments: Mapping[str, list[Arguments]] | None = None,
    called: Mapping[str, set[str]] | None = None,
) -> tuple[Import, ...]:
    """The application's imports from ``library``; ``reached`` is the members it reaches of
    each class (by digest), the attribute names it writes on objects of unknown type, and
    the chains it names for identity or passes on (a class's ancestor it names: it relies on
    the class deriving from it, :func:`_relied_bases`); ``called`` the members of each class
    it only calls, every call recorded."""
    groups: dict[str, list[tuple[Use, bool]]] = {}
    for use in library.uses:
        if use.dynamic:  # recorded as seen: it is reported, not checked
            path: str | None = _export_prefix(use.path, view) or use.path
        else:
            path = _import_path(use.path, view, modules)
        if path is None:  # a module used as a whole: ``import x`` and ``x.__version__``
            continue
        groups.setdefault(path, []).append((use, use.path == path))
    passed: dict[str, set[str]] = {}
    if reached is not None:
        named = _named_classes(view, reached[2])
        passed = _passed(view, arguments or {}, {
            e.digest: e for p in groups
            if (e := view.export(p)) is not None and e.kind is ExportKind.CLASS})
    out = []
    for path, uses in sorted(groups.items()):
        direct = [u for u, exact in uses if exact]
        calls = tuple(dict.fromkeys(c for u in direct for c in u.calls))
        attributes = tuple(sorted({u.path[len(path) + 1:].split(".", 1)[0]
                                   for u, exact in uses if not exact}))
        expected = view.export(path)
        # Complete with no calls: imported only (never called, read nor passed on), so only
        # the name's presence matters (its signature problems are downgraded to review).
        # Reaching a class's member (``Retry.from_int(n)``, ``Retry.DEFAULT``) does not pass
        # the class on: its constructor's calls stay the ones seen.
        members_only = expected is not None and expected.kind is ExportKind.CLASS and all(
            a in expected.members and not a.startswith("__") for a in attributes)
        complete = all(not u.other if exact else members_only for u, exact in uses)
        dynamic = next((u.dynamic for u, _ in uses if u.dynamic), None)
        optional = all(u.optional for u, _ in uses)
        required = [u for u, _ in uses if not u.optional] or [u for u, _ in uses]
        location = min((u.location for u in required), key=_location_key)
        if expected is None and dynamic is None and not optional:
            warnings.append(f"{location}: {path} is not provided by {library.name} {version}")
        used: tuple[str, ...] | None = None
        guessed: tuple[str, ...] = ()
        only_called: set[str] = set()
        if expected is not None and expected.kind is ExportKind.CLASS and reached is not None:
            members, written, _ = reached
            names = set(attributes) | members.get(expected.digest, set())
            # Members only ever called on evident instances: their calls are all recorded.
            only_called = (called or {}).get(expected.digest, set()) - set(attributes)
            # The fallback: a name written on an object of unknown type may reach the member,
            # but says nothing of how it is called (Import.written).
            fallback = (written & expected.members.keys()) - (names - only_called)
            names |= fallback
            if any(u.calls for u, _ in uses) and expected.flavor == "enum":
                names.add(_ALL)  # Color(value): a lookup by value reaches every member
            relies = {_BASES} if _BASES in names else {
                f"{RELIES_ON}{b}" for b in _relied_bases(
                    expected, view, named, passed.get(expected.digest, set()))}
            stored = {n for n in names | written if n.endswith((STORED, DELETED))
                      and n[:-1] in expected.members}  # assigned or deleted
            used = None if _ALL in names or dynamic else tuple(sorted(
                (names & expected.members.keys()) | stored | relies))
            guessed = () if used is None else tuple(sorted(fallback))
            only_called = set() if used is None else only_called & set(used)
        evidence: list[Arguments] = []
        if arguments is not None:
            for u, exact in uses:
                member = "" if exact else u.path[len(path) + 1:]
                if "." not in member:
                    evidence.extend(dataclasses.replace(a, member=member)
                                    for a in arguments.get(f"use:{u.path}", ()))
            if expected is not None and expected.kind is ExportKind.CLASS:
                evidence.extend(arguments.get(expected.digest, ()))
        out.append(Import(path, expected, version, calls, complete, attributes, dynamic,
                          location, optional, used, tuple(dict.fromkeys(evidence)), guessed,
                          tuple(sorted(only_called))))
    return tuple(out)


def _class_key(export: Export) -> tuple[str, str]:
    """A class as a base names it: its digest (re-exports share it) and its own name (classes
    of equal bodies in one module share the digest too)."""
    return export.digest, export.path.rpartition(".")[2]


def _named_classes(view: ManifestView, paths: frozenset[str]) -> set[tuple[str, str]]:
    """The library's classes among ``paths`` (:func:`_class_key`)."""
    return {_class_key(e) for p in paths
            if (e := view.export(p)) is not None and e.kind is ExportKind.CLASS}


def _passed(view: ManifestView, arguments: Mapping[str, list[Arguments]],
            classes: Mapping[str, Export]) -> dict[str, set[str]]:
    """The annotations of the library's parameters the application passes an instance of a
    library class to (evident argument types), by the class's digest. ``arguments`` are keyed
    ``use:PATH`` (calls of a name) or by a class's digest (calls of members of its instances,
    resolved through ``classes``)."""
    out: dict[str, set[str]] = {}
    for key, entries in arguments.items():
        owner = view.export(key[4:]) if key.startswith("use:") else classes.get(key)
        if owner is None and key.startswith("use:"):  # ``lib.K.make(x)``: a class's member
            head, _, name = key[4:].rpartition(".")
            cls = view.export(head) if head else None
            owner = None if cls is None else cls.members.get(name)
        for entry in entries:
            callee = owner if owner is None or not entry.member else owner.members.get(
                entry.member)
            sig = None if callee is None else callee.signature
            if sig is None:
                continue
            names = tuple(p.name for p in sig.params if p.kind.positional)
            for name, given in entry.types(names).items():
                param = sig.index.by_name.get(name)
                found = view.export(given) if given else None
                if param is not None and param.annotation is not None and found is not None and (
                    found.kind is ExportKind.CLASS
                ):
                    out.setdefault(found.digest, set()).add(str(param.annotation))
    return out


def _relied_bases(export: Export, view: ManifestView, named: set[tuple[str, str]],
                  annotations: set[str]) -> set[str]:
    """The ancestors of class ``export`` (as its bases write them) the application relies on it
    deriving from: one it names for identity or passes on (``except B``, ``isinstance(x, B)``,
    an annotation), or one annotating a parameter it passes an instance to. Only these can
    make a lost base matter (P13); gaining one never does. Ancestors outside the library are
    not seen here (a builtin the application catches is not a recorded use)."""
    out: set[str] = set()
    seen: set[str] = set()
    todo = [b.partition("[")[0] for b in export.bases]
    while todo and len(seen) < _MAX_ANCESTORS:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        base = view.export(path)
        if base is None or base.kind is not ExportKind.CLASS:
            continue
        pattern = re.compile(rf"(?<![\w.]){re.escape(path)}(?![\w.])")
        if _class_key(base) in named or any(pattern.search(a) for a in annotations):
            out.add(path)
        todo.extend(b.partition("[")[0] for b in base.bases)
    return out


_MAX_ANCESTORS = 256
"""Ancestors followed per class (a hostile manifest's chains end here)."""


def _location_key(location: str) -> tuple[str, int]:
    file, _, line = location.rpartition(":")
    return (file, int(line) if line.isdigit() else 0)


def _digests(root: Path, usage: Usage) -> dict[str, str]:
    out = {}
    for shown in usage.files:
        path = Path(shown) if os.path.isabs(shown) else root / shown
        try:
            out[shown] = hashlib.sha256(read_regular(path, LIMIT, whole=True)).hexdigest()
        except OSError:
            continue
    return out


def _register(store: Store, manifest: Manifest, manifest_path: str, warnings: list[str]) -> None:
    """Link the freshly built application and record the outcome (who-uses lists it)."""
    from siglink.errors import LinkError, SiglinkError
    from siglink.link.plan import effective_policy, plan_and_register

    try:
        plan_and_register(store, manifest, manifest_path=manifest_path,
             policy=effective_policy(manifest_path))
    except LinkError as e:
        summary = getattr(e.report, "summary", "") or e.message.splitlines()[0]
        warnings.append(f"{manifest_path}: cannot be linked now: {summary}")
    except SiglinkError as e:  # a bad policy, a read-only store: the build itself stands
        warnings.append(f"{manifest_path}: not linked: {e.message}")


def _write(path: str, text: str) -> None:
    from siglink.link._cache import make_dirs

    try:
        make_dirs(os.path.dirname(path))  # .../apps/modules/... for -m, whatever the umask
        write_atomic(path, text.encode("utf-8"))
    except OSError as e:
        raise BadInputError(f"{path}: cannot write the manifest: {e.strerror}", path=path) from e
