"""The store: many versions of many libraries side by side, one SQLite index, one generation.

Where it is: ``--store DIR`` > ``$SIGLINK_STORE`` > ``$XDG_DATA_HOME/siglink`` >
``~/.local/share/siglink`` (:func:`default_root`). Reading never creates it; the first change
does (an install; a registration only at the default place, so that a mistyped ``--store`` is
never created by ``plan``). A path that exists and is not a directory is refused at once.

Layout::

    ROOT/
      index.sqlite         units, versions, modules, exports, imports, yanks, applications
      generation           the generation counter as text ("7\\n"), bumped by every change;
                           the warm link path reads this file, never SQLite
      libs/NAME/VERSION/   one unpacked wheel (NAME normalized): its packages, byte-compiled,
                           and its NAME-VERSION.dist-info/ holding a siglink.json manifest
      plans/               link plans (owned by siglink.link)
      .staging/            installs in progress, one directory each, flock-held by its owner
      .lock                the file lock (fcntl.flock) serializing every index change

An install validates every wheel and extracts its manifest before anything is written (its
exports; and, for a wheel that ships no ``siglink.json``, what its code uses from the
distributions it requires: :mod:`siglink.store._imports`); then it
unpacks and compiles into ``.staging/<random>/`` (in parallel with other installs), and under the
lock opens an index transaction, inserts the rows, renames the staged directory to
``libs/NAME/VERSION``, bumps the index's generation and commits, then (lock still held) rewrites
``generation`` (temporary file + ``os.replace``) to the committed value. Any
failure rolls back and removes the directory. A process killed anywhere leaves at most a
directory the index does not know or a staging directory nobody holds; the next :class:`Store`
to open the index removes both, so the store lists exactly what it listed before.

Test hook: ``SIGLINK_TEST_PAUSE_AT=staged|indexed|renamed|generation|committed`` makes an
install print ``siglink: paused at POINT`` on stderr and sleep (``$SIGLINK_TEST_PAUSE_SECONDS``,
default 60) at that point, so that a test can kill it there. With
``SIGLINK_TEST_PAUSE_UNTIL=FILE`` it waits instead until ``FILE`` exists (at most that many
seconds): a barrier for tests that need two installs to overlap, with no assumption about how
fast either runs.

>>> str(NotInStoreError("textkit", "9.9"))
'textkit==9.9 is not in the store'
"""

from __future__ import annotations

import compileall
import contextlib
import functools
import json
import os
import shutil
import sys
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from siglink.errors import BadInputError, SiglinkError, StoreError
from siglink.store._lock import FileLock, hold_dir, try_hold_dir
from siglink.store.index import Index, VersionRow
from siglink.store.wheel import WheelInfo, unpack, validate

if TYPE_CHECKING:
    from siglink.contracts.manifest import Import, Manifest

__all__ = [
    "PAUSE_ENV",
    "InstallResult",
    "NotInStoreError",
    "RegisteredApp",
    "Store",
    "StoredVersion",
    "app_display",
    "default_root",
]

PAUSE_ENV: Final = "SIGLINK_TEST_PAUSE_AT"
"""Test hook: the install pauses at this point (``staged``, ``indexed``, ``renamed``,
``generation``) so that a test can kill it there."""


def __dir__() -> list[str]:
    return list(__all__)


def default_root() -> Path:
    """``$SIGLINK_STORE`` > ``$XDG_DATA_HOME/siglink`` > ``~/.local/share/siglink``."""
    root = os.environ.get("SIGLINK_STORE")
    return Path(os.path.abspath(os.path.expanduser(root))) if root else _xdg_root()


def _xdg_root() -> Path:
    data = os.environ.get("XDG_DATA_HOME") or os.path.join("~", ".local", "share")
    return Path(os.path.abspath(os.path.expanduser(os.path.join(data, "siglink"))))


class NotInStoreError(BadInputError, StoreError):
    """``NAME==VERSION`` (or ``NAME``) asked for and not there: bad input (exit 2), and a store
    error for callers that catch :class:`StoreError`."""

    def __init__(self, name: str, version: str | None = None, *, hint: str = "") -> None:
        what = name if version is None else f"{name}=={version}"
        super().__init__(f"{what} is not in the store{hint}")
        self.name = name
        self.version = version


@dataclass(frozen=True)
class StoredVersion:
    """One installed version of a library: what the linker puts on ``sys.path``."""

    name: str
    version: str
    path: Path
    dist_info: Path
    top_level: tuple[str, ...]
    requires: tuple[str, ...]
    requires_python: str | None
    yanked: str | None
    source: str = "store"

    def __str__(self) -> str:
        return f"{self.name}=={self.version}"


_Status = Literal["installed", "already-present"]


@dataclass(frozen=True)
class InstallResult:
    """What :meth:`Store.install` did with one spec."""

    name: str
    version: str
    status: _Status


@dataclass(frozen=True)
class RegisteredApp:
    """An application the linker has planned, and the version of each library it links.

    ``refused`` says why it links nothing now (its last link was refused, or a version it
    linked was removed); the libraries it needs are then in ``links`` with version ``None``.
    """

    app_id: str
    manifest_path: str
    links: dict[str, str | None]
    refused: str | None = None

    @property
    def application(self) -> str:
        """The application itself, for people: the script, the directory (``DIR/``) or
        ``-m MODULE (in DIR)``, derived from its manifest's path (:func:`app_display`)."""
        return app_display(self.manifest_path)


def app_display(manifest_path: str) -> str:
    """The application a manifest path belongs to (the inverse of
    :func:`siglink.link._cache.app_manifest_path`): ``DIR/siglink.json`` is the directory
    application ``DIR/``; ``DIR/X.siglink.json`` is the script ``DIR/X.py`` (or the file
    ``DIR/X``) when it exists, else what the manifest's ``entry`` says (``-m X (in DIR)`` for a
    module), else ``DIR/X.py``.

    >>> app_display("/apps/tool/siglink.json")
    '/apps/tool/'
    >>> app_display("/nowhere/report.siglink.json")
    '/nowhere/report.py'
    """
    folder, base = os.path.split(manifest_path)
    if base == "siglink.json":
        return os.path.join(folder, "")
    stem = base.removesuffix(".siglink.json")
    if stem == base or not stem:
        return manifest_path  # not a name siglink gives a manifest: show it as it is
    script = os.path.join(folder, stem + ".py")
    if os.path.exists(script):
        return script
    other = os.path.join(folder, stem)
    if os.path.isfile(other):
        return other
    entry = _manifest_entry(manifest_path) or ""
    if entry.startswith("module:"):
        return f"-m {entry.removeprefix('module:')} (in {folder})"
    if entry.startswith("script:"):
        return os.path.join(folder, entry.removeprefix("script:"))  # a script since deleted
    return script


def _manifest_entry(manifest_path: str) -> str | None:
    """The ``entry`` an application manifest records (``script:app.py``, ``module:pkg``...)."""
    try:
        with open(manifest_path, "rb") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    entry = data.get("entry") if isinstance(data, dict) else None
    return entry if isinstance(entry, str) else None


@dataclass
class _Prepared:
    spec: str
    info: WheelInfo
    manifest: Manifest


@dataclass
class _Staged:
    prepared: _Prepared
    holder: Path
    fd: int

    @property
    def lib(self) -> Path:
        return self.holder / "lib"

    def discard(self) -> None:
        shutil.rmtree(self.holder, ignore_errors=True)
        with contextlib.suppress(OSError):
            os.close(self.fd)


def _pause(point: str) -> None:
    if os.environ.get(PAUSE_ENV) == point:
        sys.stderr.write(f"siglink: paused at {point}\n")
        sys.stderr.flush()
        seconds = float(os.environ.get("SIGLINK_TEST_PAUSE_SECONDS", "60"))
        until = os.environ.get("SIGLINK_TEST_PAUSE_UNTIL")
        if not until:
            time.sleep(seconds)
            return
        deadline = time.monotonic() + seconds
        while not os.path.exists(until) and time.monotonic() < deadline:
            time.sleep(0.01)


_MANIFESTS: dict[tuple[str, str, int, str, str, str], Manifest] = {}
"""Parsed manifests by (store root, index identity, index generation, name, version, source):
a version removed and installed again with other contents is read at another generation, and
a store deleted and created again has another index file."""
_MANIFESTS_MAX: Final = 4096


def _version_key(version: str) -> tuple[int, Version | str]:
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


class Store:
    """A store of libraries. ``Store()`` uses :func:`default_root`; nothing is created on read.

    With ``environment=True`` the running interpreter's installed distributions also take part,
    read-only, as versions with ``source="environment"``.
    """

    def __init__(self, root: Path | str | None = None, *, environment: bool = False) -> None:
        if isinstance(root, str) and not root.strip():
            raise BadInputError("--store: empty path")
        self.root: Final = (
            default_root() if root is None else Path(os.path.abspath(os.path.expanduser(root)))
        )
        if self.root.exists() and not self.root.is_dir():
            raise BadInputError(f"{self.root}: not a directory (a store is a directory)",
                                path=str(self.root))
        # A store elsewhere than the default place (a path given by --store or $SIGLINK_STORE,
        # maybe mistyped) is created only by a change to it, not to record a registration.
        self._explicit: Final = self.root != _xdg_root()
        self.environment: Final = environment
        self._index: Index | None = None
        self._lock = FileLock(self.root / ".lock")
        self._recovered = False
        self._env: dict[str, list[StoredVersion]] | None = None

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r}, environment={self.environment})"

    # -- paths ------------------------------------------------------------------------------
    @property
    def index_path(self) -> Path:
        return self.root / "index.sqlite"

    @property
    def exists(self) -> bool:
        """True when the store has been created (its index exists)."""
        return self.index_path.is_file()

    @property
    def where(self) -> str:
        """`` (no store at ROOT)`` when the store does not exist, else ``""``: a hint for
        messages about something not found."""
        return "" if self.exists else f" (no store at {self.root})"

    @property
    def libs(self) -> Path:
        return self.root / "libs"

    @property
    def plans(self) -> Path:
        return self.root / "plans"

    @property
    def _staging(self) -> Path:
        return self.root / ".staging"

    @property
    def _generation_file(self) -> Path:
        return self.root / "generation"

    def close(self) -> None:
        """Close the index connection (reopened on the next use)."""
        if self._index is not None:
            self._index.close()
            self._index = None

    # -- opening and recovery ---------------------------------------------------------------
    def _reader(self) -> Index | None:
        if self._index is None:
            self._index = Index.open(self.index_path, create=False)
            if self._index is not None and not self._recovered:
                self._recovered = True
                self._recover()
        return self._index

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the store's file lock (creating the store directory first)."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            if isinstance(e, FileExistsError):
                raise BadInputError(f"{self.root}: not a directory (a store is a directory)",
                                    path=str(self.root)) from e
            if isinstance(e, NotADirectoryError):
                raise BadInputError(f"{self.root}: cannot create the store: a parent of it is "
                                    "not a directory", path=str(self.root)) from e
            raise StoreError(f"{self.root}: cannot create the store ({e.strerror or e})") from e
        try:
            self._lock.acquire()
        except OSError as e:
            raise StoreError(f"{self.root}: cannot lock the store ({e.strerror or e})") from e
        try:
            yield
        finally:
            self._lock.release()

    def _writer(self) -> Index:
        """The index for writing; call with the lock held. Creates the store if needed."""
        for folder in (self.root, self.libs, self._staging):
            folder.mkdir(parents=True, exist_ok=True)
        if self._index is None or self._index.empty or self._index.outdated:
            self.close()
            self._index = Index.open(self.index_path, create=True)
            assert self._index is not None
        if not self._recovered:
            self._recovered = True
            self._recover()
        return self._index

    def _strays(self, index: Index) -> tuple[list[Path], list[Path]]:
        """Staging directories nobody holds, and ``libs/NAME/VERSION`` the index does not know."""
        staging = sorted(self._staging.iterdir()) if self._staging.is_dir() else []
        libs: list[Path] = []
        if self.libs.is_dir():
            known = {r.path for r in index.all_versions()}
            for name_dir in sorted(self.libs.iterdir()):
                children = sorted(name_dir.iterdir()) if name_dir.is_dir() else []
                if not children:
                    libs.append(name_dir)
                libs += [v for v in children if f"libs/{name_dir.name}/{v.name}" not in known]
        return staging, libs

    def _recover(self) -> None:
        """Remove what killed installs left behind (see the module docstring)."""
        assert self._index is not None
        if not self._index.empty and self._index.generation() > self.generation:
            self._sync_generation()  # a writer died between COMMIT and the file write
        staging, libs = self._strays(self._index)
        if not staging and not libs:
            return
        try:
            self._lock.acquire()
        except OSError:
            return  # a read-only store: leave it be, the index is the truth anyway
        try:
            staging, libs = self._strays(self._index)
            for path in staging:
                if path.is_dir() and not path.is_symlink():
                    fd = try_hold_dir(path)
                    if fd is None:
                        continue  # a live install holds it
                    try:
                        shutil.rmtree(path, ignore_errors=True)
                    finally:
                        os.close(fd)
                else:
                    path.unlink(missing_ok=True)
            for path in libs:
                shutil.rmtree(path, ignore_errors=True)
                if path.parent != self.libs:
                    with contextlib.suppress(OSError):
                        path.parent.rmdir()  # only if that was its last version
        finally:
            self._lock.release()

    # -- generation -------------------------------------------------------------------------
    @property
    def generation(self) -> int:
        """The generation counter, as the warm path reads it (``ROOT/generation``)."""
        try:
            return int(self._generation_file.read_text().strip() or "0")
        except (OSError, ValueError):
            return 0

    def _bump_locked(self, index: Index) -> int:
        """Increase the index's generation (inside the writer's transaction); the file follows
        after COMMIT (:meth:`_publish_generation`), so no reader sees a generation whose index
        is not committed yet."""
        new = max(index.generation(), self.generation) + 1
        index.set_generation(new)
        return new

    def _publish_generation(self, index: Index) -> None:
        """Write ``ROOT/generation`` = the committed index generation (lock held, after COMMIT).
        Cold paths key their plans by the index generation they planned from, so a crash before
        this write leaves the file older than every new plan: readers recompute, never reuse."""
        committed = index.generation()
        if committed == self.generation:
            return
        tmp = self.root / f".generation.{os.getpid()}.tmp"
        tmp.write_text(f"{committed}\n")
        os.replace(tmp, self._generation_file)

    def _sync_generation(self) -> None:
        assert self._index is not None
        try:
            self._lock.acquire()
        except OSError:
            return  # a read-only store: plans keyed by the index generation never match
        try:
            self._publish_generation(self._index)
        except OSError:
            pass
        finally:
            self._lock.release()

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[int]:
        """A consistent read of the index; yields its generation (what a plan computed inside
        is valid for)."""
        index = self._reader()
        if index is None or index.empty:
            yield self.generation
            return
        with index.snapshot():
            yield index.generation()

    def bump(self) -> int:
        """Increase the generation by one (invalidating every cached plan); the new value."""
        with self._locked():
            index = self._writer()
            with index.transaction():
                new = self._bump_locked(index)
            self._publish_generation(index)
            return new

    # -- reading ----------------------------------------------------------------------------
    def _stored(self, row: VersionRow) -> StoredVersion:
        path = self.root / row.path
        return StoredVersion(
            name=row.name,
            version=row.version,
            path=path,
            dist_info=path / row.dist_info,
            top_level=row.top_level,
            requires=row.requires,
            requires_python=row.requires_python,
            yanked=row.yanked,
        )

    def _environment(self) -> dict[str, list[StoredVersion]]:
        if self._env is None:
            from siglink.store._environment import environment_versions

            self._env = environment_versions() if self.environment else {}
        return self._env

    def versions(self, name: str, *, include_yanked: bool = True) -> list[StoredVersion]:
        """Every version of ``name``, newest first (store before environment on a tie)."""
        name = canonicalize_name(name)
        index = self._reader()
        found = [self._stored(r) for r in index.versions(name)] if index else []
        have = {v.version for v in found}
        found += [v for v in self._environment().get(name, ()) if v.version not in have]
        if not include_yanked:
            found = [v for v in found if v.yanked is None]
        found.sort(key=lambda v: v.source == "environment")
        found.sort(key=lambda v: _version_key(v.version), reverse=True)
        return found

    def installed(self) -> set[tuple[str, str]]:
        """``(name, version)`` of every version in the store itself (one query)."""
        index = self._reader()
        return {(r.name, r.version) for r in index.all_versions()} if index else set()

    def names(self) -> list[str]:
        """Every library name (normalized), sorted."""
        index = self._reader()
        names = set(index.names()) if index else set()
        return sorted(names | set(self._environment()))

    def get(self, name: str, version: str) -> StoredVersion:
        """One version; :class:`NotInStoreError` naming ``NAME==VERSION`` if absent."""
        name = canonicalize_name(name)
        for v in self.versions(name):
            if v.version == version or _version_key(v.version) == _version_key(version):
                return v
        have = [v.version for v in self.versions(name)]
        hint = f" (it has {', '.join(have)})" if have else self.where
        raise NotInStoreError(name, version, hint=hint)

    def manifest(self, name: str, version: str) -> Manifest:
        """The library's manifest (from the index, else its ``siglink.json``), cached."""
        from siglink.contracts.manifest import Manifest

        stored = self.get(name, version)
        index = self._reader()
        generation, identity = -1, ""
        if index is not None:
            generation, identity = index.generation(), index.identity()
        key = (str(self.root), identity, generation, stored.name, stored.version, stored.source)
        cached = _MANIFESTS.get(key)
        if cached is not None:
            return cached
        source = f"{self.index_path} ({stored})"
        text: str | None = None
        if stored.source == "store":
            text = index.manifest_json(stored.name, stored.version) if index else None
        if text is not None:
            manifest = Manifest.from_json(json.loads(text), source=source)
        else:
            sidecar = stored.dist_info / "siglink.json"
            if sidecar.is_file():
                manifest = Manifest.loads(sidecar.read_bytes(), source=str(sidecar))
            else:
                from siglink.store._environment import extract_installed

                manifest = extract_installed(stored, self._top_levels)
        if len(_MANIFESTS) >= _MANIFESTS_MAX:
            _MANIFESTS.clear()
        _MANIFESTS[key] = manifest
        return manifest

    def _top_levels(self, name: str) -> set[str]:
        """The top-level modules the versions of ``name`` provide."""
        return {module for v in self.versions(name) for module in v.top_level}

    def manifest_json(self, name: str, version: str) -> str | None:
        """A store version's manifest as the JSON text kept in the index (no parsing); ``None``
        for an environment version or one not in the store."""
        index = self._reader()
        return index.manifest_json(canonicalize_name(name), version) if index else None

    def providers(self, module: str) -> list[str]:
        """Names of the libraries providing the top-level package of ``module``."""
        top = module.split(".", 1)[0]
        index = self._reader()
        names = set(index.providers(top)) if index else set()
        for name, versions in self._environment().items():
            if any(top in v.top_level for v in versions):
                names.add(name)
        return sorted(names)

    def apps(self) -> list[RegisteredApp]:
        """Applications registered by the linker, with what each links now.

        An application whose manifest file no longer exists (it was deleted) is left out, and
        forgotten when the store can be written.
        """
        index = self._reader()
        if index is None:
            return []
        apps = [RegisteredApp(*row) for row in index.apps()]
        gone = [a.app_id for a in apps if not os.path.exists(a.manifest_path)]
        if gone:
            try:
                with self._locked():
                    writer = self._writer()
                    with writer.transaction():
                        for app_id in gone:
                            writer.unregister_app(app_id)
            except (OSError, SiglinkError):
                pass  # a read-only store: left out, not forgotten
        return [a for a in apps if a.app_id not in gone]

    def users(
        self, name: str, version: str | None = None
    ) -> list[tuple[RegisteredApp, str | None]]:
        """Registered applications linking ``name`` (``==version``), with the version linked;
        without ``version``, also those that need ``name`` but link no version of it now
        (``None``: see :attr:`RegisteredApp.refused`)."""
        index = self._reader()
        if index is None:
            return []
        apps = {a.app_id: a for a in self.apps()}
        return [
            (apps[app_id], linked)
            for app_id, _, linked in index.users(canonicalize_name(name), version)
            if app_id in apps
        ]

    def export_counts(self, name: str, version: str) -> dict[str, int]:
        """``{kind: count}`` of one version's exports."""
        stored = self.get(name, version)
        index = self._reader()
        if stored.source == "store" and index is not None:
            return index.count_exports(stored.name, stored.version)
        counts: dict[str, int] = {}
        for export in self.manifest(name, version).exports.values():
            counts[export.kind.value] = counts.get(export.kind.value, 0) + 1
        return counts

    def dump(self) -> list[str]:
        """The index as SQL statements (empty when there is no index)."""
        index = self._reader()
        return index.dump() if index else []

    # -- installing -------------------------------------------------------------------------
    def install(
        self,
        specs: Sequence[str],
        *,
        index_url: str | None = None,
        progress: bool = False,
    ) -> list[InstallResult]:
        """Install wheels, sdists, project directories or requirements; all or nothing.

        :raises BadInputError: a spec or wheel is refused (nothing was written).
        :raises FetchError: a requirement cannot be fetched.
        :raises StoreError: ``NAME==VERSION`` is present with other contents, or the index is
            damaged.
        """
        if not specs:
            raise BadInputError("nothing to install: give a wheel, sdist, directory or NAME==VER")
        # A pinned requirement already in the store is not fetched again (an sdist-only
        # release rebuilt would differ in its compiled bytes, and the network is not needed).
        pinned = {i: pin for i, spec in enumerate(specs) if (pin := self._pinned_present(spec))}
        rest = [spec for i, spec in enumerate(specs) if i not in pinned]
        # A bar only for what takes seconds (fetching, building); a local wheel takes less time
        # than the bar would flicker on the screen.
        slow = any(not (spec.endswith(".whl") and os.path.isfile(spec)) for spec in rest)
        with _Progress(progress and slow, len(rest)) as bar, tempfile.TemporaryDirectory(
            prefix="siglink-install-"
        ) as tmp:
            prepared = self._prepare(rest, Path(tmp), index_url, bar) if rest else []
            results: dict[tuple[str, str], InstallResult] = {}
            todo: list[_Prepared] = []
            for p in prepared:
                key = (p.info.name, p.info.version)
                if key in results:
                    continue
                if self._present(p.info):
                    results[key] = InstallResult(*key, "already-present")
                else:
                    results[key] = InstallResult(*key, "installed")
                    todo.append(p)
            if todo:
                staged: list[_Staged] = []
                try:
                    for p in todo:
                        bar.step(f"staging {p.info.name}=={p.info.version}")
                        staged.append(self._stage(p))
                    _pause("staged")
                    bar.step("committing")
                    for key, status in self._commit(staged).items():
                        results[key] = InstallResult(*key, status=status)
                finally:
                    for s in staged:
                        s.discard()
        fresh = iter(prepared)
        out: list[InstallResult] = []
        for number in range(len(specs)):
            if number in pinned:
                out.append(InstallResult(*pinned[number], "already-present"))
            else:
                p = next(fresh)
                out.append(results[(p.info.name, p.info.version)])
        return out

    def _pinned_present(self, spec: str) -> tuple[str, str] | None:
        """``(name, version)`` when ``spec`` is a ``NAME==VERSION`` requirement (not a path)
        whose version is in the store already."""
        from packaging.requirements import InvalidRequirement, Requirement

        if os.path.exists(spec):
            return None
        try:
            requirement = Requirement(spec)
        except InvalidRequirement:
            return None
        clauses = list(requirement.specifier)
        if requirement.url or len(clauses) != 1 or clauses[0].operator not in ("==", "==="):
            return None
        wanted = clauses[0].version
        if "*" in wanted:
            return None
        for v in self.versions(requirement.name):
            if v.source == "store" and (
                v.version == wanted or _version_key(v.version) == _version_key(wanted)
            ):
                return v.name, v.version
        return None

    def preview(
        self, specs: Sequence[str], *, index_url: str | None = None
    ) -> list[tuple[StoredVersion, Manifest]]:
        """What :meth:`install` would add, as ``(StoredVersion, Manifest)``; writes nothing.

        A version already in the store is given as it is there (yank included).
        """
        if not specs:
            raise BadInputError("nothing to install: give a wheel, sdist, directory or NAME==VER")
        pinned = [self._pinned_present(spec) for spec in specs]
        rest = [spec for spec, pin in zip(specs, pinned, strict=True) if pin is None]
        with tempfile.TemporaryDirectory(prefix="siglink-preview-") as tmp:
            prepared = iter(self._prepare(rest, Path(tmp), index_url, _Progress(False, 0))
                            if rest else [])
        out: list[tuple[StoredVersion, Manifest]] = []
        for pin in pinned:
            if pin is not None:
                out.append((self.get(*pin), self.manifest(*pin)))
                continue
            p = next(prepared)
            if self._present(p.info):
                out.append((self.get(p.info.name, p.info.version), p.manifest))
                continue
            path = self.libs / p.info.name / p.info.version
            version = StoredVersion(
                p.info.name, p.info.version, path, path / p.info.dist_info, p.info.top_level,
                p.info.requires, p.info.requires_python, None,
            )
            out.append((version, p.manifest))
        return out

    def _prepare(
        self, specs: Sequence[str], tmp: Path, index_url: str | None, bar: _Progress
    ) -> list[_Prepared]:
        """Fetch or build every spec, validate every wheel, extract every manifest."""
        if not specs:
            raise BadInputError("nothing to install: give a wheel, sdist, directory or NAME==VER")
        from siglink.store.fetch import to_wheel

        wheels: list[tuple[str, Path]] = []
        for number, spec in enumerate(specs):
            bar.step(f"fetching {spec}")
            wheels.append((spec, to_wheel(spec, tmp / str(number), index_url=index_url)))
        infos: list[tuple[str, WheelInfo]] = []
        seen: dict[tuple[str, str], str] = {}
        for spec, wheel in wheels:
            bar.step(f"validating {wheel.name}")
            info = validate(wheel)
            key = (info.name, info.version)
            if seen.setdefault(key, info.content_digest) != info.content_digest:
                raise BadInputError(
                    f"{wheel.name}: {info.name}=={info.version} is given twice with different "
                    "contents"
                )
            infos.append((spec, info))
        batch: dict[str, set[str]] = {}
        for _, info in infos:
            batch.setdefault(info.name, set()).update(info.top_level)

        def modules_of(name: str) -> set[str]:
            """The top-level modules of ``name``: in this install, else in the store."""
            found = set(batch.get(name, ()))
            for version in self.versions(name):
                found.update(version.top_level)
            return found

        prepared: list[_Prepared] = []
        for spec, info in infos:
            bar.step(f"reading the exports of {info.name}=={info.version}")
            prepared.append(_Prepared(spec, info, _manifest_for(info, modules_of)))
        # A damaged index is refused before anything is staged.
        self._reader()
        return prepared

    def _present(self, info: WheelInfo) -> bool:
        """True when the same contents are installed; StoreError when other contents are."""
        index = self._reader()
        row = index.get(info.name, info.version) if index else None
        if row is None:
            return False
        if row.content_digest != info.content_digest:
            raise StoreError(
                f"{info.name}=={info.version} is already in the store with different contents "
                f"(from {row.wheel}); versions never overwrite each other: remove it first"
            )
        return True

    def _stage(self, p: _Prepared) -> _Staged:
        with self._locked():  # create and hold the staging directory before recovery can see it
            self._writer()
            holder = Path(
                tempfile.mkdtemp(prefix=f"{p.info.name}-{p.info.version}-", dir=self._staging)
            )
            try:
                fd = hold_dir(holder)
            except BaseException:
                shutil.rmtree(holder, ignore_errors=True)
                raise
        staged = _Staged(p, holder, fd)
        try:
            lib = staged.lib
            lib.mkdir()
            unpack(p.info, lib)
            (lib / p.info.dist_info / "siglink.json").write_text(p.manifest.dumps())
            final = self.libs / p.info.name / p.info.version
            compileall.compile_dir(str(lib), quiet=2, ddir=str(final), workers=1)
        except BaseException:
            staged.discard()
            raise
        return staged

    def _commit(self, staged: Sequence[_Staged]) -> dict[tuple[str, str], _Status]:
        statuses: dict[tuple[str, str], _Status] = {}
        moved: list[Path] = []
        with self._locked():
            index = self._writer()
            try:
                with index.transaction():
                    for s in staged:
                        info = s.prepared.info
                        key = (info.name, info.version)
                        if self._present(info):  # another install won the race
                            statuses[key] = "already-present"
                            continue
                        final = self.libs / info.name / info.version
                        row = VersionRow(
                            info.name, info.version, final.relative_to(self.root).as_posix(),
                            info.dist_info, info.top_level, info.requires, info.requires_python,
                            info.content_digest, info.path.name, None,
                        )
                        index.add_version(
                            row, display_name=info.display_name,
                            manifest=s.prepared.manifest.to_json(),
                        )
                        _pause("indexed")
                        if final.exists():  # left by a killed install and not yet recovered
                            shutil.rmtree(final)
                        final.parent.mkdir(parents=True, exist_ok=True)
                        os.replace(s.lib, final)
                        moved.append(final)
                        statuses[key] = "installed"
                        _pause("renamed")
                    if moved:
                        self._bump_locked(index)
                        _pause("generation")
            except BaseException:
                for final in moved:
                    shutil.rmtree(final, ignore_errors=True)
                    with contextlib.suppress(OSError):
                        final.parent.rmdir()
                raise
            if moved:
                _pause("committed")
                self._publish_generation(index)
        return statuses

    # -- changing ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def _change(self, name: str, version: str) -> Iterator[tuple[Index, VersionRow]]:
        """Lock, check ``name==version`` is in the store, yield inside a transaction."""
        name = canonicalize_name(name)
        if self._reader() is None:
            raise NotInStoreError(name, version, hint=self.where)
        with self._locked():
            index = self._writer()
            row = index.get(name, version)
            if row is None:
                self.get(name, version)  # raises with the versions present
                raise NotInStoreError(name, version)
            with index.transaction():
                yield index, row
            self._publish_generation(index)

    def remove(self, name: str, version: str, *, force: bool = False) -> list[str]:
        """Remove one version; refused while a registered application links it, unless forced.

        Returns the ids of the applications that linked it (forced): their registrations now
        say the version was removed, until they are linked again.
        """
        removed: Path | None = None
        unlinked: list[str] = []
        trash: Path | None = None
        if self._reader() is None:
            raise NotInStoreError(canonicalize_name(name), version, hint=self.where)
        with self._locked():
            with self._change(name, version) as (index, row):
                users = index.users(row.name, row.version)
                if users and not force:
                    ids = ", ".join(app_display(u[1]) for u in users)
                    raise StoreError(
                        f"{row.name}=={row.version} is linked by {len(users)} registered "
                        f"application{'s' if len(users) > 1 else ''} ({ids}); use --force to "
                        "remove it anyway"
                    )
                index.remove_version(row.name, row.version)
                unlinked = index.unlink_version(
                    row.name, row.version,
                    f"{row.name} {row.version} was removed; relinked at its next start")
                self._bump_locked(index)
                removed = self.root / row.path
            # Committed, lock still held: the directory is unknown to the index. Move it into
            # staging (nobody holds it: recovery removes it if we die) before the lock goes, so
            # deleting it afterwards cannot touch a concurrent reinstall of the same version.
            if removed is not None:
                trash = self._trash(removed)
        if trash is not None:
            shutil.rmtree(trash, ignore_errors=True)
        return unlinked

    def _trash(self, path: Path) -> Path | None:
        """Move ``path`` into a fresh staging directory (lock held); that directory."""
        try:
            trash = Path(tempfile.mkdtemp(prefix="removed-", dir=self._staging))
            os.replace(path, trash / path.name)
        except OSError:
            shutil.rmtree(path, ignore_errors=True)
            trash = None
        with contextlib.suppress(OSError):
            path.parent.rmdir()  # only if that was its last version
        return trash

    def yank(self, name: str, version: str, reason: str) -> str | None:
        """Mark a version yanked: the linker never links it again. Returns the reason it was
        yanked for before (``None`` when it was not yanked); the same reason changes nothing."""
        if not reason.strip():
            raise BadInputError("a yank needs a reason (--reason TEXT)")
        with self._change(name, version) as (index, row):
            if row.yanked != reason:
                index.set_yanked(row.name, row.version, reason)
                self._bump_locked(index)
            return row.yanked

    def unyank(self, name: str, version: str) -> str | None:
        """Make a yanked version linkable again. Returns the reason it was yanked for
        (``None``: it was not yanked, and nothing changed)."""
        with self._change(name, version) as (index, row):
            if row.yanked is not None:
                index.set_yanked(row.name, row.version, None)
                self._bump_locked(index)
            return row.yanked

    def register_app(
        self, app_id: str, *, manifest_path: str, links: Mapping[str, str | None],
        refused: str | None = None,
    ) -> None:
        """Record what application ``app_id`` links now (``{library: version}``), or, with
        ``refused`` (why its link was refused), the libraries it needs (version ``None``).

        Does not bump the generation: a registration changes no application's link.
        A store that does not exist yet is not created for this when it was given by path (a
        mistyped ``--store``): :class:`StoreError` then, unless there is nothing to record (no
        library linked or needed).
        """
        normalized = {str(canonicalize_name(k)): v for k, v in links.items()}
        if self._explicit and not self.exists:
            if not normalized and refused is None:
                return
            raise StoreError(f"no store at {self.root}: {app_id} is not registered "
                             "(check --store or $SIGLINK_STORE)")
        index = self._reader()
        if index is not None and index.app(app_id) == (manifest_path, normalized, refused):
            return  # unchanged: written nothing (a refused removal leaves the store as it was)
        with self._locked():
            index = self._writer()
            with index.transaction():
                index.register_app(app_id, manifest_path, normalized, refused)


def _manifest_for(info: WheelInfo, modules_of: Callable[[str], Iterable[str]]) -> Manifest:
    """Extract a wheel's manifest; keep the imports of a manifest the wheel ships, else read
    them from the wheel's code (:mod:`siglink.store._imports`)."""
    from siglink.contracts.manifest import Manifest, Unit
    from siglink.python.exports import extract

    try:
        manifest = extract(info.path, name=info.name, version=info.version)
    except SiglinkError:
        raise
    except Exception as e:  # the extractor must never turn bad input into a traceback
        raise BadInputError(f"{info.path.name}: cannot read its exports ({e})") from e
    unit = Unit(info.name, info.version, manifest.unit.kind, manifest.unit.language)
    extra: dict[str, Any] = {}
    if info.shipped_manifest is not None:
        shipped = Manifest.loads(
            info.shipped_manifest, source=f"{info.path.name}:{info.dist_info}/siglink.json"
        )
        unit = Unit(info.name, info.version, shipped.unit.kind, shipped.unit.language)
        extra = {"imports": shipped.imports, "entry": shipped.entry,
                 "implements": shipped.implements}
        if shipped.native is not None and manifest.native is None:
            extra["native"] = shipped.native
    elif info.requires:
        extra = {"imports": _computed_imports(info, modules_of)}
    return replace(
        manifest, unit=unit, requires=info.requires, requires_python=info.requires_python,
        top_level=info.top_level, **extra,
    )


def _computed_imports(
    info: WheelInfo, modules_of: Callable[[str], Iterable[str]]
) -> dict[str, tuple[Import, ...]]:
    """What the wheel's own modules use from the distributions it requires."""
    from siglink.store._imports import library_imports

    own = set(info.top_level)
    members = [
        (member, target) for member, target in info.targets
        if target.endswith(".py") and target.split("/", 1)[0].removesuffix(".py") in own
    ]
    try:
        with zipfile.ZipFile(info.path) as archive:
            return library_imports(
                info.name, info.requires, info.top_level,
                ((target, functools.partial(archive.read, member)) for member, target in members),
                modules_of,
            )
    except (OSError, zipfile.BadZipFile, zlib.error, EOFError) as e:  # validated already
        raise BadInputError(f"{info.path.name}: cannot be read: {e}", path=str(info.path)) from e


class _Progress:
    """A rich progress bar on a terminal's stderr; nothing otherwise."""

    def __init__(self, enabled: bool, specs: int) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.total = 3 * specs + 2
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.progress import BarColumn, Progress, TextColumn

            from siglink.cli._output import console

            self._progress = Progress(
                TextColumn("{task.description}"), BarColumn(), console=console(stderr=True),
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("installing", total=self.total)
        return self

    def step(self, description: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, advance=1, description=description)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
