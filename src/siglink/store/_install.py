"""The install transaction: validate everything, stage in parallel, commit under the lock.

An install validates every wheel and extracts its manifest before anything is written (its
exports; and, for a wheel that ships no ``siglink.json``, what its code uses from the
distributions it requires: :mod:`siglink.store._imports`); then it unpacks and compiles into
``.staging/<random>/`` (in parallel with other installs, each staging directory flock-held by
its owner), each carrying the mark :data:`~siglink.store._recovery.UNCOMMITTED`. Under the lock
one transaction inserts the rows, renames the staged directories to ``libs/NAME/VERSION``,
advances the generations (file before COMMIT) and commits; then the marks are removed. Any
failure rolls back and removes the directories. A process killed anywhere leaves at most a
marked directory the index does not know or a staging directory nobody holds; the next store
to open the index removes both.

>>> print(*stdlib_notes("argparse", "1.4.0", ["argparse"]))
argparse==1.4.0: argparse is in the standard library of this Python; the store never serves ...
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from siglink.errors import BadInputError, SiglinkError, StoreError
from siglink.store import _queries, _workers
from siglink.store._bytecode import compile_all
from siglink.store._core import StoreCore
from siglink.store._lock import hold_dir
from siglink.store._progress import Progress, Steps
from siglink.store._records import (
    STDLIB,
    InstallResult,
    InstallStatus,
    StoredVersion,
    version_key,
)
from siglink.store._recovery import UNCOMMITTED
from siglink.store._verify import fix_modes, hash_tree
from siglink.store.index import VersionRow
from siglink.store.wheel import WheelInfo, overlap, unpack, validate

if TYPE_CHECKING:
    from siglink.contracts.manifest import Manifest
    from siglink.store._imports import LibraryUsage

__all__ = ["install", "preview", "stdlib_notes"]


def __dir__() -> list[str]:
    return list(__all__)


@dataclass
class _Prepared:
    spec: str
    info: WheelInfo
    manifest: Manifest


@dataclass
class _Staged:
    info: WheelInfo
    holder: Path
    fd: int
    files: dict[str, str] = field(default_factory=dict)
    manifest: bytes = b""  # as the index keeps it (compress_manifest)

    @property
    def lib(self) -> Path:
        return self.holder / "lib"

    def discard(self) -> None:
        shutil.rmtree(self.holder, ignore_errors=True)
        with contextlib.suppress(OSError):
            os.close(self.fd)


def install(core: StoreCore, specs: Sequence[str], *, index_url: str | None = None,
            progress: Progress | None = None, allow_module_conflict: bool = False,
            more: Callable[[], Sequence[str]] | None = None) -> list[InstallResult]:
    """Install wheels, sdists, project directories or requirements; all or nothing.

    ``progress`` is called once per step (:mod:`~siglink.store._progress`). A top-level module
    is provided by one distribution per store: a version shipping a module another
    distribution provides is refused (:class:`StoreError`, naming both) unless
    ``allow_module_conflict``. Modules of the standard library are never served from the
    store; each result's ``notes`` says which it ignores. ``more`` gives further wheels
    (being downloaded), installed in the same transaction: the exports of ``specs`` are read
    meanwhile, in worker processes; their results follow those of ``specs``.

    :raises BadInputError: a spec or wheel is refused (nothing was written).
    :raises FetchError: a requirement cannot be fetched.
    :raises StoreError: ``NAME==VERSION`` is present with other contents, or the index is
        damaged.
    """
    if not specs:
        raise BadInputError("nothing to install: give a wheel, sdist, directory or NAME==VER")
    # A pinned requirement already in the store is not fetched again (an sdist-only
    # release rebuilt would differ in its compiled bytes, and the network is not needed).
    pinned = {i: pin for i, spec in enumerate(specs) if (pin := _pinned_present(core, spec))}
    rest = [spec for i, spec in enumerate(specs) if i not in pinned]
    steps = Steps(progress, total=3 * len(rest) + 1)
    early: dict[str, Manifest] = {}
    with tempfile.TemporaryDirectory(prefix="siglink-install-") as tmp:
        prepared = _validated(core, rest, Path(tmp), index_url, steps) if rest else []
        if more is not None:
            extra, early = _read_while([info for _, info in prepared], more)
            steps.total += 3 * len(extra)
            if extra:
                prepared += _validated(core, extra, Path(tmp) / "more", index_url, steps)
            specs = [*specs, *extra]
        core.reader()  # a damaged index is refused before anything is staged
        results: dict[tuple[str, str], InstallResult] = {}
        todo: list[WheelInfo] = []
        for _, info in prepared:
            key = (info.name, info.version)
            if key in results:
                continue
            if _present(core, info):
                results[key] = InstallResult(*key, "already-present")
            else:
                results[key] = InstallResult(*key, "installed")
                todo.append(info)
        _check_owners(core, todo, allow_module_conflict)
        steps.total -= len(prepared) - len(todo)  # versions present are not read nor staged
        if todo:
            staged: list[_Staged] = []
            try:
                _stage_all(core, todo, _modules_table(core, [i for _, i in prepared], todo),
                           steps, staged, early=early)
                core.pause("staged")
                steps("committing")
                for key, status in _commit(core, staged, allow_module_conflict).items():
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
            _, info = next(fresh)
            result = results[(info.name, info.version)]
            out.append(replace(result, notes=stdlib_notes(info.name, info.version,
                                                          info.top_level)))
    return out


def stdlib_notes(name: str, version: str, top_level: Iterable[str]) -> tuple[str, ...]:
    """A note for each top-level module that is this interpreter's standard library's."""
    shadowed = sorted(set(top_level) & STDLIB)
    if not shadowed:
        return ()
    return (f"{name}=={version}: {', '.join(shadowed)} "
            f"{'is' if len(shadowed) == 1 else 'are'} in the standard library of this Python; "
            "the store never serves "
            f"{'it' if len(shadowed) == 1 else 'them'} here (ignored)",)


def _check_owners(core: StoreCore, infos: Sequence[WheelInfo], allow: bool) -> None:
    """Refuse a version shipping a module another distribution provides (in the store or in
    this install), unless ``allow``; :class:`StoreError` naming both. A top-level name that
    is a namespace package (PEP 420: no ``__init__`` in either) is shared: the portions
    inside it are what must not clash (:func:`~siglink.store.wheel.overlap`)."""
    if allow or not infos:
        return
    index = core.reader()
    claimed: dict[str, list[tuple[str, frozenset[str]]]] = {}
    for info in infos:
        mine = info.claims()
        for top in info.top_level:
            if top in STDLIB:
                continue
            here = frozenset(c for c in mine if c == top or c.startswith(top + "."))
            others = [(name, _queries.claims(core, name, top))
                      for name in (index.providers(top) if index is not None else ())
                      if name != info.name]
            others += [(name, theirs) for name, theirs in claimed.get(top, ())
                       if name != info.name]
            for name, theirs in others:
                clash = overlap(here or {top}, theirs or {top})
                if clash is not None:
                    what = "top-level module" if clash == top else "module"
                    raise StoreError(
                        f"{info.name}=={info.version}: {what} '{clash}' is provided by {name} "
                        "already; nothing was installed (--allow-module-conflict installs both)")
            claimed.setdefault(top, []).append((info.name, here))


def _pinned_present(core: StoreCore, spec: str) -> tuple[str, str] | None:
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
    for v in _queries.versions(core, requirement.name):
        if v.source == "store" and (
            v.version == wanted or version_key(v.version) == version_key(wanted)
        ):
            return v.name, v.version
    return None


def preview(core: StoreCore, specs: Sequence[str], *,
            index_url: str | None = None) -> list[tuple[StoredVersion, Manifest]]:
    """What :func:`install` would add, as ``(StoredVersion, Manifest)``; writes nothing.

    A version already in the store is given as it is there (yank included).
    """
    if not specs:
        raise BadInputError("nothing to install: give a wheel, sdist, directory or NAME==VER")
    pinned = [_pinned_present(core, spec) for spec in specs]
    rest = [spec for spec, pin in zip(specs, pinned, strict=True) if pin is None]
    with tempfile.TemporaryDirectory(prefix="siglink-preview-") as tmp:
        prepared = iter(_prepare(core, rest, Path(tmp), index_url, Steps(None, total=0))
                        if rest else [])
    out: list[tuple[StoredVersion, Manifest]] = []
    for pin in pinned:
        if pin is not None:
            out.append((_queries.get(core, *pin), _queries.manifest(core, *pin)))
            continue
        p = next(prepared)
        if _present(core, p.info):
            out.append((_queries.get(core, p.info.name, p.info.version), p.manifest))
            continue
        path = Path(core.layout.lib(p.info.name, p.info.version))
        version = StoredVersion(
            p.info.name, p.info.version, path, path / p.info.dist_info, p.info.top_level,
            p.info.requires, p.info.requires_python, None,
        )
        out.append((version, p.manifest))
    return out


def _prepare(core: StoreCore, specs: Sequence[str], tmp: Path, index_url: str | None,
             steps: Steps) -> list[_Prepared]:
    """Fetch or build every spec, validate every wheel, extract every manifest (in worker
    processes)."""
    from siglink.python import exports  # noqa: F401  (imported once, before the workers fork)

    validated = _validated(core, specs, tmp, index_url, steps)
    infos = [info for _, info in validated]
    table = _modules_table(core, infos, infos)
    read: dict[int, tuple[Manifest, LibraryUsage | None]] = {}
    with _workers.Workers(len(infos)) as workers:
        for number, found in workers.run(_read, [(info, table) for info in infos],
                                         weights=[_weight(info) for info in infos]):
            steps(f"read the exports of {infos[number].name}=={infos[number].version}")
            read[number] = found
    core.reader()  # a damaged index is refused here too
    ordered = [(infos[n], *read[n]) for n in range(len(infos))]
    manifests = _add_members(core, ordered)
    return [_Prepared(spec, info, manifests[number])
            for number, (spec, info) in enumerate(validated)]


def _validated(core: StoreCore, specs: Sequence[str], tmp: Path, index_url: str | None,
               steps: Steps) -> list[tuple[str, WheelInfo]]:
    """Fetch or build every spec and validate every wheel: ``(spec, info)`` in order."""
    if not specs:
        raise BadInputError("nothing to install: give a wheel, sdist, directory or NAME==VER")
    from siglink.store.fetch import to_wheel

    wheels: list[tuple[str, Path]] = []
    for number, spec in enumerate(specs):
        local = os.path.exists(spec)
        steps(("reading " if spec.endswith(".whl") and local else
               "building " if local else "fetching ") + spec)
        wheels.append((spec, to_wheel(spec, tmp / str(number), index_url=index_url)))
    infos: list[tuple[str, WheelInfo]] = []
    seen: dict[tuple[str, str], str] = {}
    for spec, wheel in wheels:
        steps(f"validating {wheel.name}")
        info = validate(wheel)
        key = (info.name, info.version)
        if seen.setdefault(key, info.content_digest) != info.content_digest:
            raise BadInputError(
                f"{wheel.name}: {info.name}=={info.version} is given twice with different "
                "contents"
            )
        infos.append((spec, info))
    return infos


def _modules_table(core: StoreCore, batch: Sequence[WheelInfo],
                   readers: Sequence[WheelInfo]) -> dict[str, tuple[str, ...]]:
    """The top-level modules of each distribution ``readers`` require (in this install,
    else in the store), computed once here for every worker."""
    from siglink.store._imports import required

    names = {n for info in readers if info.shipped_manifest is None
             for n in required(info.requires)}
    table: dict[str, tuple[str, ...]] = {}
    for name in sorted(names):
        found: set[str] = set()
        for info in batch:
            if info.name == name:
                found |= _served(info.top_level, info.claims())
        versions = _queries.versions(core, name)
        found.update(top for v in versions if v.source != "store" for top in v.top_level)
        for top in {top for v in versions if v.source == "store" for top in v.top_level}:
            found |= _served([top], _queries.claims(core, name, top))
        table[name] = tuple(sorted(found))
    return table


def _served(top_level: Iterable[str], claims: frozenset[str]) -> set[str]:
    """What a distribution provides for :mod:`siglink.store._imports`: each top-level module,
    or, for one it ships as a namespace package, the portions it claims inside it."""
    out: set[str] = set()
    for top in top_level:
        inside = {c for c in claims if c == top or c.startswith(top + ".")}
        out |= {top} if top in inside or not inside else inside
    return out


def _weight(info: WheelInfo) -> float:
    """How long a wheel takes to read, roughly: its size (the largest are started first)."""
    try:
        return float(info.path.stat().st_size)
    except OSError:
        return 0.0


def _read(job: tuple[WheelInfo, dict[str, tuple[str, ...]]],
          ) -> tuple[Manifest, LibraryUsage | None]:
    """A wheel's manifest, and what its code uses (in a worker process)."""
    info, table = job
    return _manifest_for(info, lambda name: table.get(name, ()))


def _present(core: StoreCore, info: WheelInfo) -> bool:
    """True when the same contents are installed; StoreError when other contents are."""
    index = core.reader()
    row = index.get(info.name, info.version) if index else None
    if row is None:
        return False
    if row.content_digest != info.content_digest:
        raise StoreError(
            f"{info.name}=={info.version} is already in the store with different contents "
            f"(from {row.wheel}); versions never overwrite each other: remove it first"
        )
    return True


def _read_while(infos: Sequence[WheelInfo], more: Callable[[], Sequence[str]],
                ) -> tuple[list[str], dict[str, Manifest]]:
    """Read the exports of ``infos`` in worker processes while ``more()`` runs here: what it
    gave, and the exports read, by content digest (those that could not be read are left to
    the install, which reports them in order)."""
    from siglink.python import exports  # noqa: F401  (imported once, before the workers fork)

    with _workers.Workers(len(infos)) as workers:
        reading = workers.start(_exports_of, list(infos), weights=[_weight(i) for i in infos])
        extra = list(more())
        found = reading()
    return extra, {info.content_digest: manifest
                   for info, manifest in zip(infos, found, strict=True) if manifest is not None}


def _exports_of(info: WheelInfo) -> Manifest | None:
    """A wheel's exports (in a worker process); None when they cannot be read."""
    try:
        return _exports(info)
    except SiglinkError:
        return None


def _stage_all(core: StoreCore, infos: Sequence[WheelInfo], table: dict[str, tuple[str, ...]],
               steps: Steps, staged: list[_Staged], *,
               early: Mapping[str, Manifest] | None = None) -> None:
    """Read each wheel's manifest and stage it, in worker processes, into ``staged`` (which
    the caller discards, whatever happens). The workers start before any staging directory
    exists: only this process holds them."""
    from siglink.python import exports  # noqa: F401  (imported once, before the workers fork)

    with _workers.Workers(len(infos)) as workers:
        with core.locked():  # create and hold the staging directories before recovery sees them
            core.writer()
            for info in infos:
                holder = Path(
                    tempfile.mkdtemp(prefix=f"{info.name}-{info.version}-", dir=core.staging))
                try:
                    fd = hold_dir(holder)
                except BaseException:
                    shutil.rmtree(holder, ignore_errors=True)
                    raise
                staged.append(_Staged(info, holder, fd))
        jobs = [(s.info, table, s.lib, core.layout.lib(s.info.name, s.info.version),
                 (early or {}).get(s.info.content_digest)) for s in staged]
        read: dict[int, tuple[Manifest, LibraryUsage | None]] = {}
        for number, (files, compressed, manifest, pending) in workers.run(
                _stage_into, jobs, weights=[_weight(info) for info in infos]):
            s = staged[number]
            steps(f"read the exports of {s.info.name}=={s.info.version} and staged it")
            s.files, s.manifest = files, compressed
            read[number] = (manifest, pending)
    ordered = [(s.info, *read[n]) for n, s in enumerate(staged)]
    for n, manifest in enumerate(_add_members(core, ordered)):
        if manifest is not read[n][0]:  # members recorded: the stored copy says so too
            _rewrite_manifest(staged[n], manifest)


def _add_members(core: StoreCore, read: Sequence[tuple[WheelInfo, Manifest, LibraryUsage | None]],
                 ) -> list[Manifest]:
    """Each manifest of ``read``, with the members its library reaches of its dependencies'
    classes recorded against their versions: those in this install (each library after those
    it requires), else the newest admitted in the store (:class:`store._imports.Available`).
    The costly reading was done in the workers; this step is cheap and in order."""
    from packaging.utils import canonicalize_name

    from siglink.store._imports import Available, install_order

    if not any(pending is not None for _, _, pending in read):
        return [manifest for _, manifest, _ in read]
    available = Available(lambda name: [
        (v.version, v.yanked is not None, functools.partial(_queries.manifest_json, core,
                                                            v.name, v.version))
        for v in _queries.versions(core, name)])
    by_name: dict[str, int] = {canonicalize_name(info.name): n
                               for n, (info, _, _) in enumerate(read)}
    out = [manifest for _, manifest, _ in read]
    order = [by_name[name] for name in install_order(
        {name: read[n][0].requires for name, n in by_name.items()})]
    for n in [*order, *(n for n in range(len(read)) if n not in order)]:
        info, manifest, pending = read[n]
        if pending is not None:
            imports = pending.imports(available)
            if imports != manifest.imports:
                out[n] = replace(manifest, imports=imports)
        available.add(info.name, info.version, out[n].exports)
    return out


def _rewrite_manifest(staged: _Staged, manifest: Manifest) -> None:
    """Write ``manifest`` into the staged version again, its hash and index copy with it."""
    from siglink.store._verify import hash_file
    from siglink.store.index import compact_manifest, compress_manifest

    text = compact_manifest(manifest.to_json())
    relative = f"{staged.info.dist_info}/siglink.json"
    path = staged.lib / relative
    path.write_text(text + "\n")
    staged.files[relative] = hash_file(path)
    staged.manifest = compress_manifest(text)


def _stage_into(
    job: tuple[WheelInfo, dict[str, tuple[str, ...]], Path, str, Manifest | None],
) -> tuple[dict[str, str], bytes, Manifest, LibraryUsage | None]:
    """Read a wheel's manifest, unpack and byte-compile it into ``lib`` (in a worker
    process): the hashes of the files written, the manifest as the index keeps it, the
    manifest, and what the library's code uses (for :func:`_add_members`)."""
    from siglink.store.index import compact_manifest, compress_manifest

    info, table, lib, final, exports = job
    lib.mkdir()
    unpack(info, lib)
    manifest, pending = _manifest_for(info, lambda name: table.get(name, ()),
                                      exports if exports is not None else _exports(info, lib))
    text = compact_manifest(manifest.to_json())  # encoded once, for the file and the index
    _reads_back(info, text)
    (lib / info.dist_info / "siglink.json").write_text(text + "\n")
    compile_all(lib, final)
    fix_modes(lib)
    files = hash_tree(lib)
    (lib / UNCOMMITTED).touch()
    return files, compress_manifest(text), manifest, pending


def _reads_back(info: WheelInfo, text: str) -> None:
    """Refuse a wheel whose manifest the store could not read back (a value the reader
    refuses, such as a NUL in a name the wheel's code gives): the same rules at install as
    at every later read, so nothing installed reads as a corrupt index."""
    from siglink.contracts.manifest import Manifest

    try:
        Manifest.loads(text, source=f"{info.path.name}: its manifest")
    except BadInputError as e:
        raise BadInputError(f"{e.message}; refused", path=str(info.path)) from None


def _commit(core: StoreCore, staged: Sequence[_Staged],
            allow_module_conflict: bool = False) -> dict[tuple[str, str], InstallStatus]:
    statuses: dict[tuple[str, str], InstallStatus] = {}
    moved: list[Path] = []
    with core.locked():
        index = core.writer()
        garbage = set(index.garbage())  # committed: left by a killed removal
        try:
            with core.change() as (index, changes):
                # Checked again under the lock: another install may have committed since.
                _check_owners(core, [s.info for s in staged
                                     if index.get(s.info.name, s.info.version) is None],
                              allow_module_conflict)
                for s in staged:
                    info = s.info
                    key = (info.name, info.version)
                    if _present(core, info):  # another install won the race
                        statuses[key] = "already-present"
                        continue
                    final = Path(core.layout.lib(info.name, info.version))
                    relative = _relative(core, info)
                    row = VersionRow(
                        info.name, info.version, relative, info.dist_info, info.top_level,
                        info.requires, info.requires_python, info.content_digest,
                        info.path.name, None,
                    )
                    index.add_version(
                        row, display_name=info.display_name,
                        manifest=s.manifest,
                    )
                    index.set_record(info.name, info.version, s.files)
                    changes.touch([info.name])
                    core.pause("indexed")
                    if final.exists():
                        _clear_leftover(final, relative in garbage)
                        index.drop_garbage(relative)
                    if not final.parent.is_dir():
                        final.parent.mkdir(parents=True, exist_ok=True)
                        os.chmod(final.parent, 0o755)
                    os.replace(s.lib, final)
                    moved.append(final)
                    statuses[key] = "installed"
                    core.pause("renamed")
        except BaseException:
            for final in moved:
                shutil.rmtree(final, ignore_errors=True)
                with contextlib.suppress(OSError):
                    final.parent.rmdir()
            raise
        for final in moved:  # committed: no longer a candidate for recovery
            with contextlib.suppress(OSError):
                os.unlink(final / UNCOMMITTED)
    return statuses


def _relative(core: StoreCore, info: WheelInfo) -> str:
    """``libs/NAME/VERSION``, as the index records it (relative to the store root)."""
    return f"libs/{info.name}/{info.version}"


def _clear_leftover(final: Path, committed_garbage: bool) -> None:
    """A directory already at an install's target: deleted only when a committed entry said
    it was garbage (a killed removal) or it carries the mark of an install that never
    committed; otherwise refused."""
    if not committed_garbage and not (final / UNCOMMITTED).is_file():
        raise StoreError(
            f"{final}: a directory the index does not know is in the way; nothing was "
            "installed; run 'siglink store repair' to adopt it")
    try:
        shutil.rmtree(final)
    except OSError as e:
        raise StoreError(f"{final}: the files of a removed version are in the way and cannot "
                         f"be deleted ({e.strerror or e}); nothing was installed") from None


def _exports(info: WheelInfo, root: Path | None = None) -> Manifest:
    """A wheel's exports, read from its files as :func:`unpack` lays them out in ``root``
    (unpacked there first when None): what is read is byte for byte what the store keeps."""
    if root is None:
        with tempfile.TemporaryDirectory(prefix="siglink-wheel-") as tmp:
            unpack(info, Path(tmp))
            return _exports(info, Path(tmp))
    from siglink.python.exports import extract_tree
    from siglink.store._verify import hash_file

    unhashed = {f"{info.dist_info}/{name}" for name in ("RECORD", "RECORD.jws", "RECORD.p7s")}
    try:
        return extract_tree(
            root, info.top_level, name=info.name, version=info.version,
            requires=info.requires, requires_python=info.requires_python,
            top_level=info.top_level,
            files={member: hash_file(root / target) for member, target in info.targets
                   if member not in unhashed})
    except SiglinkError:
        raise
    except Exception as e:  # the extractor must never turn bad input into a traceback
        raise BadInputError(f"{info.path.name}: cannot read its exports ({e})") from e


def _manifest_for(info: WheelInfo, modules_of: Callable[[str], Iterable[str]],
                  exports: Manifest | None = None) -> tuple[Manifest, LibraryUsage | None]:
    """Extract a wheel's manifest (its ``exports`` when already read); keep the imports of a
    manifest the wheel ships, else read them from the wheel's code
    (:mod:`siglink.store._imports`): the manifest with its imports' chains and calls, and
    what the code uses, for the members it reaches (:func:`_add_members`)."""
    from siglink.contracts.manifest import Manifest, Unit

    manifest = exports if exports is not None else _exports(info)
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
    pending = None
    if info.shipped_manifest is None and info.requires:
        pending = _computed_imports(info, modules_of)
        extra = {"imports": pending.imports()}
    return replace(
        manifest, unit=unit, requires=info.requires, requires_python=info.requires_python,
        top_level=info.top_level, **extra,
    ), pending if pending is not None and pending.owner else None


def _computed_imports(
    info: WheelInfo, modules_of: Callable[[str], Iterable[str]]
) -> LibraryUsage:
    """What the wheel's own modules use from the distributions it requires (recorded against
    their versions by :meth:`LibraryUsage.imports`, in dependency order: :func:`_add_members`)."""
    from siglink.store._imports import LibraryUsage

    own = set(info.top_level)
    members = [
        (member, target) for member, target in info.targets
        if target.endswith(".py") and target.split("/", 1)[0].removesuffix(".py") in own
    ]
    try:
        with zipfile.ZipFile(info.path) as archive:
            return LibraryUsage.read(
                info.name, info.requires, info.top_level,
                ((target, functools.partial(archive.read, member)) for member, target in members),
                modules_of,
            )
    except (OSError, zipfile.BadZipFile, zlib.error, EOFError) as e:  # validated already
        raise BadInputError(f"{info.path.name}: cannot be read: {e}", path=str(info.path)) from e
