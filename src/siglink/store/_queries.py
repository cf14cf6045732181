"""Reading a store: versions, manifests, module providers, generations. Nothing is written
(but what recovery clears when the index is opened).

>>> from siglink.store._core import StoreCore
>>> core = StoreCore("/nonexistent/store")
>>> generations(core), names(core), core.root.exists()
((0, {'*': 0}), [], False)
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Final

from packaging.utils import canonicalize_name

from siglink._layout import read_generations
from siglink.errors import ManifestError
from siglink.store._core import StoreCore
from siglink.store._records import STDLIB, NotInStoreError, StoredVersion, version_key
from siglink.store.index import CorruptIndexError, VersionRow

if TYPE_CHECKING:
    from siglink.contracts.manifest import Manifest

__all__ = [
    "claims",
    "dump",
    "export_counts",
    "generation",
    "generations",
    "get",
    "installed",
    "manifest",
    "manifest_json",
    "names",
    "namespace",
    "providers",
    "shadowing",
    "snapshot",
    "stored",
    "top_levels",
    "versions",
]


def __dir__() -> list[str]:
    return list(__all__)


_MANIFESTS: dict[tuple[str, str, int, str, str, str], Manifest] = {}
"""Parsed manifests by (store root, index identity, index generation, name, version, source):
a version removed and installed again with other contents is read at another generation, and
a store deleted and created again has another index file."""
_MANIFESTS_MAX: Final = 4096


def generation(core: StoreCore) -> int:
    """The global generation, as the warm path reads it (``ROOT/generation``); 0 when the
    file is absent or unreadable."""
    return max(read_generations(core.layout.generation)[0], 0)


def generations(core: StoreCore) -> tuple[int, dict[str, int]]:
    """The generations of the committed index (inside :func:`snapshot`, of that snapshot):
    what a plan computed from it is valid for (:func:`siglink._layout.read_generations`)."""
    index = core.reader()
    if index is None:
        return 0, {"*": 0}
    return index.generations()


@contextlib.contextmanager
def snapshot(core: StoreCore) -> Iterator[int]:
    """A consistent read of the index; yields its generation (what a plan computed inside
    is valid for)."""
    index = core.reader()
    if index is None or index.empty:
        yield generation(core)
        return
    with index.snapshot():
        yield index.generation()


def stored(core: StoreCore, row: VersionRow) -> StoredVersion:
    """A row as the linker sees it: its top-level modules but the standard library's, which
    the store never serves (a backport is ignored for the interpreter it duplicates)."""
    path = core.root / row.path
    return StoredVersion(
        name=row.name, version=row.version, path=path, dist_info=path / row.dist_info,
        top_level=tuple(t for t in row.top_level if t not in STDLIB), requires=row.requires,
        requires_python=row.requires_python, yanked=row.yanked,
    )


def _environment(core: StoreCore) -> dict[str, list[StoredVersion]]:
    if core.environment_versions is None:
        core.environment_versions = {}
        if core.environment:  # importlib.metadata (email, socket, ...) only when asked
            from siglink.store._environment import environment_versions

            core.environment_versions = environment_versions()
    return core.environment_versions


def versions(core: StoreCore, name: str, *, include_yanked: bool = True) -> list[StoredVersion]:
    """Every version of ``name``, newest first (store before environment on a tie)."""
    name = canonicalize_name(name)
    index = core.reader()
    found = [stored(core, r) for r in index.versions(name)] if index else []
    have = {v.version for v in found}
    found += [v for v in _environment(core).get(name, ()) if v.version not in have]
    if not include_yanked:
        found = [v for v in found if v.yanked is None]
    found.sort(key=lambda v: v.source == "environment")
    found.sort(key=lambda v: version_key(v.version), reverse=True)
    return found


def installed(core: StoreCore) -> set[tuple[str, str]]:
    """``(name, version)`` of every version in the store itself (one query)."""
    index = core.reader()
    return {(r.name, r.version) for r in index.all_versions()} if index else set()


def names(core: StoreCore) -> list[str]:
    """Every library name (normalized), sorted."""
    index = core.reader()
    found = set(index.names()) if index else set()
    return sorted(found | set(_environment(core)))


def get(core: StoreCore, name: str, version: str) -> StoredVersion:
    """One version; :class:`NotInStoreError` naming ``NAME==VERSION`` if absent."""
    name = canonicalize_name(name)
    every = versions(core, name)
    for v in every:
        if v.version == version or version_key(v.version) == version_key(version):
            return v
    have = [v.version for v in every]
    hint = f" (it has {', '.join(have)})" if have else core.where
    raise NotInStoreError(name, version, hint=hint)


def manifest(core: StoreCore, name: str, version: str) -> Manifest:
    """The library's manifest (from the index, else its ``siglink.json``), cached."""
    from siglink.contracts.manifest import Manifest

    found = get(core, name, version)
    index = core.reader()
    generation_read, identity = -1, ""
    if index is not None:
        generation_read, identity = index.generation(), index.identity()
    key = (str(core.root), identity, generation_read, found.name, found.version, found.source)
    cached = _MANIFESTS.get(key)
    if cached is not None:
        return cached
    text: str | None = None
    if found.source == "store" and index is not None:
        text = index.manifest_json(found.name, found.version)
    if text is not None:
        try:
            result = Manifest.loads(text, source=f"manifest of {found}")
        except ManifestError as e:  # the index's copy is siglink's own: damage, not input
            raise CorruptIndexError(core.index_path, f"{e.message}; run 'siglink store "
                                                     "repair' to rebuild it from libs/") from None
    else:
        sidecar = found.dist_info / "siglink.json"
        if sidecar.is_file():
            result = Manifest.loads(sidecar.read_bytes(), source=str(sidecar))
        else:
            from siglink.store._environment import extract_installed

            result = extract_installed(found, lambda n: top_levels(core, n))
    if len(_MANIFESTS) >= _MANIFESTS_MAX:
        _MANIFESTS.clear()
    _MANIFESTS[key] = result
    return result


def top_levels(core: StoreCore, name: str) -> set[str]:
    """The top-level modules the versions of ``name`` provide."""
    return {module for v in versions(core, name) for module in v.top_level}


def manifest_json(core: StoreCore, name: str, version: str) -> str | None:
    """A store version's manifest as the JSON text kept in the index (no parsing); ``None``
    for an environment version or one not in the store."""
    index = core.reader()
    return index.manifest_json(canonicalize_name(name), version) if index else None


def providers(core: StoreCore, module: str) -> list[str]:
    """Names of the libraries providing the top-level package of ``module``; of a namespace
    package (PEP 420) that several ship a portion of, those providing ``module`` itself."""
    top = module.split(".", 1)[0]
    if top in STDLIB:
        return []
    index = core.reader()
    found = set(index.providers(top)) if index else set()
    for name, every in _environment(core).items():
        if any(top in v.top_level for v in every):
            found.add(name)
    if len(found) > 1 and module != top:
        from siglink.store.wheel import overlap

        portion = {name for name in found if overlap([module], claims(core, name, top))}
        found = portion or found
    return sorted(found)


def namespace(core: StoreCore, module: str) -> bool:
    """True when ``module``'s top-level name is a namespace package (PEP 420) in every
    version of every distribution in the store that ships it: shared, not a conflict."""
    top = module.split(".", 1)[0]
    index = core.reader()
    names = index.providers(top) if index else []
    return bool(names) and all(top not in claims(core, name, top) for name in names)


def claims(core: StoreCore, name: str, top: str) -> frozenset[str]:
    """The modules under top-level name ``top`` that the stored versions of ``name``
    provide (:func:`siglink.store.wheel.module_claims` of their files)."""
    from siglink.store.wheel import module_claims

    found: set[str] = set()
    for version in versions(core, name):
        if version.source != "store":
            found.add(top)
            continue
        base = version.path
        paths = [f"{top}{suffix}" for suffix in _top_files(base, top)]
        folder = base / top
        if folder.is_dir() and not folder.is_symlink():
            for current, dirs, files in os.walk(folder):
                dirs[:] = [d for d in dirs if d != "__pycache__"]
                relative = os.path.relpath(current, base).replace(os.sep, "/")
                paths += [f"{relative}/{f}" for f in files]
        found |= module_claims(paths)
    return frozenset(found)


def _top_files(base: Path, top: str) -> list[str]:
    """The suffixes of the top-level module files ``top.py``, ``top.cpython-...so``."""
    try:
        return [entry[len(top):] for entry in os.listdir(base)
                if entry.startswith(top + ".") and os.path.isfile(base / entry)]
    except OSError:
        return []


def shadowing(core: StoreCore, module: str) -> list[str]:
    """Distributions in the store that ship ``module``'s top-level name although it is the
    standard library's here (never served: a backport such as ``argparse``)."""
    top = module.split(".", 1)[0]
    index = core.reader()
    if top not in STDLIB or index is None:
        return []
    return sorted(index.providers(top))


def export_counts(core: StoreCore, name: str, version: str) -> dict[str, int]:
    """``{kind: count}`` of one version's exports."""
    found = get(core, name, version)
    index = core.reader()
    if found.source == "store" and index is not None:
        return index.count_exports(found.name, found.version)
    counts: dict[str, int] = {}
    for export in manifest(core, name, version).exports.values():
        counts[export.kind.value] = counts.get(export.kind.value, 0) + 1
    return counts


def dump(core: StoreCore) -> list[str]:
    """The index as SQL statements (empty when there is no index)."""
    index = core.reader()
    return index.dump() if index else []
