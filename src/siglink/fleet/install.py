"""Installing with dependencies: pip's resolver chooses the closure, the store keeps it.

``install_closure`` turns what it is given (requirements, ``-r``/``-c`` files, wheels, sdists,
project directories) into wheels and hands them to :meth:`siglink.store.Store.install`:

1. project directories and sdists given are built into wheels (``pip wheel --no-deps``);
2. unless ``no_deps``, pip resolves the closure of everything for this interpreter against the
   configured index (:func:`siglink.store.fetch.resolve`), ignoring what is installed here:
   extras, markers and constraints as pip reads them. Nothing is resolved by siglink itself.
   When only local wheels are given and every requirement of theirs is met by a version in the
   store (pip's own ``only-if-needed`` rule), pip is not asked;
3. the versions pip chose that the store already has are kept as they are (side by side:
   other stored versions stay too); the others are downloaded with their hashes checked
   (:func:`siglink.store.fetch.download`), sdists built (an sdist-only release was already
   downloaded and built offline while resolving: its wheel is used);
4. the store validates and installs them all or nothing.

Progress goes to ``on_step`` (one call per long step); nothing here prints.

>>> Installed("idna", "3.6", "installed", requested=False).requested
False
"""

from __future__ import annotations

import contextlib
import importlib
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from packaging.markers import InvalidMarker, default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from siglink._stdlib import backported
from siglink._stdlib import note as stdlib_note
from siglink.errors import BadInputError, FetchError

if TYPE_CHECKING:
    from siglink.contracts.manifest import Manifest
    from siglink.store import Store, StoredVersion
    from siglink.store.fetch import Resolved

__all__ = ["Installed", "install_closure", "prepare_closure"]

Step = Callable[[str], None]
Progress = Callable[[str, int, int], None]


def __dir__() -> list[str]:
    return list(__all__)


@dataclass(frozen=True)
class Installed:
    """One version of the closure: ``installed`` now or ``already-present``; ``requested``
    when it was asked for (else it came as a dependency)."""

    name: str
    version: str
    status: Literal["installed", "already-present"]
    requested: bool
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Closure:
    """What to hand to the store: ``wheels`` (path, requested) at hand, the versions the
    store already has (name, version, requested), and ``pending``: downloads and builds the
    rest, appending them to ``wheels`` (the store reads the wheels at hand meanwhile)."""

    wheels: list[tuple[Path, bool]]
    present: list[tuple[str, str, bool]]
    fetched: bool = True  # pip was asked (else: local wheels only, nothing slow)
    pending: Callable[[], list[Path]] | None = None
    waiting: int = 0  # how many ``pending`` fetches
    rank: dict[str, int] = field(default_factory=dict)  # the order to report them in
    ignored: tuple[str, ...] = ()  # notes on dependencies the standard library provides

    def complete(self) -> list[tuple[Path, bool]]:
        """Every wheel, the pending ones fetched."""
        if self.pending is not None:
            self.pending()
        return self.wheels


def _quiet(_: str) -> None:
    return None


def _local(spec: str, work: Path, index_url: str | None, on_step: Step) -> Path | None:
    """A wheel for a spec naming a local file or directory (built when needed); None for a
    requirement."""
    from siglink.store.fetch import (
        _SDIST_SUFFIXES,
        build_wheel,
        is_direct_url,
        is_sdist,
        parse_requirement,
    )

    path = Path(spec)
    if path.is_dir() or (path.is_file() and is_sdist(path)):
        on_step(f"building {spec}")
        dest = Path(tempfile.mkdtemp(prefix="built-", dir=work))
        return build_wheel(path, dest, index_url=index_url)
    if path.is_file():
        if path.name.endswith(".whl"):
            return path.absolute()
        raise BadInputError(f"{spec}: not a wheel, an sdist or a project directory", path=spec)
    if not is_direct_url(spec) and (
            spec.endswith((".whl", *_SDIST_SUFFIXES)) or "/" in spec.split("@", 1)[0]):
        raise BadInputError(f"{spec}: no such file or directory", path=spec)
    parse_requirement(spec)
    return None


def _key(version: str) -> Version | None:
    try:
        return Version(version)
    except InvalidVersion:
        return None


def _met_by_store(store: Store, wheels: Sequence[Path]) -> bool:
    """True when every requirement of ``wheels``, transitively through the newest stored
    version that meets each, is met by a version in the store or among ``wheels`` (pip's
    ``only-if-needed``: nothing to fetch)."""
    from siglink.store.wheel import validate

    available: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    queue: list[tuple[str, frozenset[str]]] = []
    for wheel in wheels:
        info = validate(wheel)
        available.setdefault(info.name, []).append((info.version, info.requires))
        queue += [(text, frozenset()) for text in info.requires]
    environment = default_environment()
    seen: set[tuple[str, frozenset[str]]] = set()
    while queue:
        text, extras = queue.pop()
        if (text, extras) in seen:
            continue
        seen.add((text, extras))
        try:
            requirement = Requirement(text)
            if requirement.marker is not None and not any(
                requirement.marker.evaluate({**environment, "extra": extra})  # type: ignore[dict-item]
                for extra in ("", *extras)
            ):
                continue
        except (InvalidRequirement, InvalidMarker):
            return False
        name = canonicalize_name(requirement.name)
        if backported(name):  # met by the interpreter: the store never serves it
            continue
        versions = list(available.get(name, ())) + [
            (v.version, v.requires) for v in store.versions(name) if v.yanked is None
            and v.source == "store"]
        fitting = [(v, r) for v, r in versions if (k := _key(v)) is not None
                   and requirement.specifier.contains(k, prereleases=True)]
        if not fitting:
            return False
        _, requires = max(fitting, key=lambda vr: _key(vr[0]) or Version("0"))
        queue += [(t, frozenset(requirement.extras)) for t in requires]
    return True


def _plan(
    store: Store, specs: Sequence[str], work: Path, *, requirement_files: Sequence[str],
    constraint_files: Sequence[str], index_url: str | None, no_deps: bool, on_step: Step,
) -> _Closure | None:
    """The wheels to install; None when ``no_deps`` and only the specs themselves are to be
    installed as they are (the store fetches them)."""
    if not specs and not requirement_files:
        raise BadInputError("nothing to install: give a wheel, sdist, directory, NAME==VERSION "
                            "or -r FILE")
    locals_: dict[int, Path] = {}
    for number, spec in enumerate(specs):
        wheel = _local(spec, work, index_url, on_step)
        if wheel is not None:
            locals_[number] = wheel
    requirements = [s for i, s in enumerate(specs) if i not in locals_]
    if no_deps and not requirement_files:
        return None
    if not requirements and not requirement_files and not constraint_files and (
        no_deps or _met_by_store(store, list(locals_.values()))
    ):
        return _Closure([(w, True) for w in locals_.values()], [], fetched=False)
    asked = [str(w) for w in locals_.values()] + requirements
    on_step("resolving " + (" ".join([*specs, *(f"-r {f}" for f in requirement_files)]))
            + (" (without dependencies)" if no_deps else "") + " with pip")
    warming = _warm_imports()
    try:
        return _fetch_closure(store, work, asked=asked, locals_=locals_,
                              requirement_files=requirement_files,
                              constraint_files=constraint_files, index_url=index_url,
                              no_deps=no_deps, on_step=on_step)
    finally:
        warming.join()  # before anything forks


def _warm_imports() -> threading.Thread:
    """Import what reading wheels needs (griffe, the extractor) while pip works, which leaves
    a core idle; the worker processes that read the wheels later inherit it."""

    def run() -> None:
        with contextlib.suppress(Exception):  # imported again, and then raised, where used
            importlib.import_module("siglink.python.exports")
            importlib.import_module("siglink.python.usage")

    thread = threading.Thread(target=run, name="siglink-imports", daemon=True)
    thread.start()
    return thread


def _fetch_closure(
    store: Store, work: Path, *,
    asked: list[str], locals_: dict[int, Path], requirement_files: Sequence[str],
    constraint_files: Sequence[str], index_url: str | None, no_deps: bool, on_step: Step,
) -> _Closure:
    """Resolve ``asked`` with pip, then fetch what the store lacks (see :func:`_plan`)."""
    from siglink.store.fetch import build_wheel, download, resolve

    resolved = resolve(asked, requirement_files=requirement_files,
                       constraint_files=constraint_files, index_url=index_url,
                       no_deps=no_deps, work=work / "resolve", on_step=on_step)
    mine = {str(p): p for p in locals_.values()}
    have = store.installed()
    present: list[tuple[str, str, bool]] = []
    todo: list[Resolved] = []
    wheels: list[tuple[Path, bool]] = []
    ignored: list[str] = []
    for item in resolved:
        if not item.requested and backported(item.name):  # met by the interpreter
            ignored.append(stdlib_note(item.name))
            continue
        if item.path is not None and str(item.path) in mine:
            wheels.append((item.path, True))  # the store says present, or refuses a clash
        elif any(n == item.name and (v == item.version or _key(v) == _key(item.version))
                 for n, v in have):
            present.append((item.name, item.version, item.requested))
        else:
            todo.append(item)
    for item in list(todo):  # a wheel on disk (pip's find, or built from an sdist): at hand
        if item.built is not None:
            wheels.append((item.built, item.requested))
            todo.remove(item)
        elif item.path is not None and item.path.name.endswith(".whl") and item.path.is_file():
            wheels.append((item.path, item.requested))
            todo.remove(item)

    def fetch() -> list[Path]:
        if todo:
            on_step(f"downloading {len(todo)} distribution{'s' * (len(todo) != 1)}: "
                    + ", ".join(str(i) for i in todo))
        artifacts = download(todo, work / "download", index_url=index_url)
        fetched = []
        for item in todo:
            artifact = artifacts[str(item)]
            if not artifact.name.endswith(".whl"):
                on_step(f"building {item} from its sdist")
                dest = Path(tempfile.mkdtemp(prefix="built-", dir=work))
                try:
                    artifact = build_wheel(artifact, dest, index_url=index_url,
                                           error=FetchError)
                except FetchError as e:
                    raise FetchError(f"{item}: {e.message.partition(': ')[2]}") from e
            wheels.append((artifact, item.requested))
            fetched.append(artifact)
        todo.clear()
        return fetched

    rank = {item.name: number for number, item in enumerate(resolved)}
    rank.update({item.name: len(resolved) + number for number, item in enumerate(resolved)
                 if item.path is None or str(item.path) not in mine})  # given wheels first
    return _Closure(wheels, present, pending=fetch if todo else None, waiting=len(todo),
                    rank=rank, ignored=tuple(ignored))


def prepare_closure(
    store: Store, specs: Sequence[str], *, requirement_files: Sequence[str] = (),
    constraint_files: Sequence[str] = (), index_url: str | None = None, no_deps: bool = False,
    on_step: Step = _quiet,
) -> list[tuple[StoredVersion, Manifest]]:
    """What :func:`install_closure` would add, as :meth:`Store.preview` gives it (versions the
    store has included); writes nothing to the store."""
    with tempfile.TemporaryDirectory(prefix="siglink-closure-") as tmp:
        closure = _plan(store, specs, Path(tmp), requirement_files=requirement_files,
                        constraint_files=constraint_files, index_url=index_url,
                        no_deps=no_deps, on_step=on_step)
        if closure is None:
            return store.preview(list(specs), index_url=index_url)
        out = [(store.get(n, v), store.manifest(n, v)) for n, v, _ in closure.present]
        wheels = closure.complete()
        if wheels:
            on_step(f"reading the exports of {len(wheels)} wheel" + "s" * (len(wheels) != 1))
            out += store.preview([str(w) for w, _ in wheels])
        return out


def install_closure(
    store: Store, specs: Sequence[str], *, requirement_files: Sequence[str] = (),
    constraint_files: Sequence[str] = (), index_url: str | None = None, no_deps: bool = False,
    progress: Progress | None = None, on_step: Step = _quiet,
    allow_module_conflict: bool = False,
) -> list[Installed]:
    """Install ``specs`` and their dependency closure (see the module docstring); one row per
    version of the closure, what was asked for first.

    :raises BadInputError: a malformed spec or requirements file, a refused wheel (exit 2).
    :raises FetchError: the index cannot provide or be reached, conflicting requirements, a
        build that fails (exit 4).
    :raises StoreError: a version present with other contents, a damaged index (exit 3).
    """
    with tempfile.TemporaryDirectory(prefix="siglink-closure-") as tmp:
        closure = _plan(store, specs, Path(tmp), requirement_files=requirement_files,
                        constraint_files=constraint_files, index_url=index_url,
                        no_deps=no_deps, on_step=on_step)
        if closure is None:
            results = store.install(list(specs), index_url=index_url, progress=progress,
                                    allow_module_conflict=allow_module_conflict)
            return [Installed(r.name, r.version, r.status, True, r.notes) for r in results]
        rows = [Installed(n, v, "already-present", asked) for n, v, asked in closure.present]
        at_hand = list(closure.wheels)
        more: Callable[[], list[str]] | None = None
        if closure.pending is not None and at_hand:  # read these while pip downloads
            pending = closure.pending
            more = lambda: [str(w) for w in pending()]  # noqa: E731
        given = at_hand if more is not None else closure.complete()
        if given:
            if closure.fetched:
                count = len(given) + (closure.waiting if more is not None else 0)
                on_step(f"checking and installing {count} wheel" + "s" * (count != 1))
            results = store.install([str(w) for w, _ in given],
                                    progress=progress if closure.fetched else None,
                                    allow_module_conflict=allow_module_conflict, more=more)
            rows += sorted((Installed(r.name, r.version, r.status, asked, r.notes)
                            for r, (_, asked) in zip(results, closure.wheels, strict=True)),
                           key=lambda row: closure.rank.get(row.name, -1))
    seen: set[tuple[str, str]] = set()
    unique = []
    for row in sorted(rows, key=lambda r: not r.requested):
        if (row.name, row.version) not in seen:
            seen.add((row.name, row.version))
            unique.append(row)
    if closure is not None and closure.ignored and unique:
        unique[0] = replace(unique[0], notes=(*unique[0].notes, *closure.ignored))
    return unique
