"""Finding plugins without importing them: the store's index, plugin directories, and the
metadata of an entry-point group.

Nothing here imports plugin code. A plugin directory holds one plugin per subdirectory (or is
itself one), each with the ``siglink.json`` that ``siglink build`` wrote; the store's index
holds the manifest of every installed version; an entry point is read from its distribution's
metadata (and the ``siglink.json`` the distribution ships in its ``.dist-info``, if any).

>>> import pathlib, tempfile
>>> plugins = pathlib.Path(tempfile.mkdtemp())
>>> (plugins / "junk").mkdir()
>>> _ = (plugins / "junk" / "siglink.json").write_text("{}")
>>> [r.problem.split(": ", 1)[1] for r in from_directory(plugins)]
["missing or invalid 'format'"]
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from siglink._foreign import MANIFEST_LIMIT
from siglink._layout import read_regular
from siglink.contracts.manifest import Manifest
from siglink.errors import BadInputError, ManifestError
from siglink.plugins.records import (
    ImplRecord,
    PluginRecord,
    Source,
    dotted,
    record_from_manifest,
)

__all__ = ["discover", "from_directory", "from_entry_points", "from_store"]


def __dir__() -> list[str]:
    return list(__all__)


def _bad(name: str, source: Source, location: str, message: str) -> PluginRecord:
    return PluginRecord(name, "?", source, location, problem=message)


def _read(path: Path, source: Source, import_path: str) -> PluginRecord:
    try:
        manifest = Manifest.loads(read_regular(path, MANIFEST_LIMIT, whole=True),
                                  source=str(path))
    except OSError as e:
        return _bad(path.parent.name, source, str(path), f"{path}: cannot be read: {e.strerror}")
    except ManifestError as e:
        return _bad(path.parent.name, source, str(path), e.message)
    if manifest.unit.kind != "plugin":
        return _bad(manifest.unit.name, source, str(path),
                    f"{path}: a {manifest.unit.kind}'s manifest, not a plugin's")
    return record_from_manifest(manifest, source, str(path), import_path)


def from_directory(directory: str | os.PathLike[str]) -> list[PluginRecord]:
    """Every plugin in ``directory``: the directory itself or its subdirectories that hold a
    ``siglink.json``."""
    root = Path(directory)
    if not root.is_dir():
        return []
    candidates = [root] if (root / "siglink.json").is_file() else sorted(
        p for p in root.iterdir() if p.is_dir() and (p / "siglink.json").is_file())
    out = []
    for plugin in candidates:
        src = plugin / "src"
        out.append(_read(plugin / "siglink.json", "directory",
                         str(src if src.is_dir() else plugin)))
    return out


def from_store(store: Any, groups: Iterable[str] = ()) -> list[PluginRecord]:
    """Every plugin version in the store implementing one of ``groups`` (all when empty): its
    manifest is read from the index; versions that mention none of the groups are not parsed."""
    wanted = tuple(groups)
    out = []
    for name, version in sorted(store.installed()):
        text = store.manifest_json(name, version)
        if text is None or '"implements"' not in text:
            continue
        if wanted and not any(f'"{g}"' in text for g in wanted):
            continue
        stored = store.get(name, version)
        location = f"{store.root} ({name}=={version})"
        try:
            manifest = Manifest.loads(text, source=location)
        except ManifestError as e:
            out.append(_bad(name, "store", location, e.message))
            continue
        out.append(record_from_manifest(manifest, "store", location, str(stored.path)))
    return out


def _name_version(dist: Any) -> tuple[str, str]:
    """Name and Version from the metadata's header lines: the email parser that
    ``dist.metadata`` runs over the whole file costs more than the rest of discovery."""
    fields: dict[str, str] = {}
    for line in (dist.read_text("METADATA") or dist.read_text("PKG-INFO") or "").splitlines():
        if not line.strip():
            break  # the header ends at the first blank line
        key, sep, value = line.partition(":")
        if sep and key in ("Name", "Version") and key not in fields:
            fields[key] = value.strip()
    return fields.get("Name", "?"), fields.get("Version", "?")


def from_entry_points(
    group: str, paths: Sequence[str] | None = None
) -> list[PluginRecord]:
    """The plugins behind entry-point ``group`` of the distributions on ``paths`` (default
    ``sys.path``): their metadata only. A distribution shipping a plugin ``siglink.json`` is
    checked from it; one that does not is checked when it is imported."""
    from importlib.metadata import distributions

    out = []
    seen: set[tuple[str, str]] = set()
    found = distributions() if paths is None else distributions(path=list(paths))
    for dist in found:
        try:  # importlib.metadata reads every file as UTF-8
            points = [ep for ep in dist.entry_points if ep.group == group]
            if not points:
                continue
            name, version = _name_version(dist)
            text = dist.read_text("siglink.json")
        except UnicodeDecodeError as e:
            where = getattr(dist, "_path", "a distribution on the path")
            raise BadInputError(f"{where}: metadata, entry points or siglink.json not UTF-8 "
                                f"text (byte 0x{e.object[e.start]:02x})") from None
        key = (name.lower(), version)
        if key in seen:  # one distribution found twice on the path: the first one wins
            continue
        seen.add(key)
        location = f"{name} {version} entry point {group}"
        manifest: Manifest | None = None
        if text is not None:
            try:
                manifest = Manifest.loads(text, source=f"{name}-{version}.dist-info/siglink.json")
            except ManifestError as e:
                out.append(_bad(name, "entry-point", location, e.message))
                continue
        impls = []
        for ep in points:
            target = ep.value.replace(" ", "")
            recorded = manifest.implements.get(group) if manifest is not None else None
            if recorded is not None and recorded.obj == target:
                impls.append(ImplRecord(group, target, recorded.spec,
                                        manifest.exports.get(dotted(target))
                                        if manifest is not None else None, recorded.position))
            else:
                impls.append(ImplRecord(group, target))
        modules = tuple(sorted({i.target.partition(":")[0].split(".")[0] for i in impls}))
        out.append(PluginRecord(name, version, "entry-point", location, tuple(impls), manifest,
                                None, None, modules))
    return out


def discover(
    group: str,
    *,
    directories: Iterable[str | os.PathLike[str]] = (),
    store: Any = None,
    entry_points: bool = True,
    paths: Sequence[str] | None = None,
) -> list[PluginRecord]:
    """Every plugin version implementing ``group`` from every source, directories first, then
    the store, then entry points; records whose manifest could not be read are included (with
    their ``problem``) so that they are reported."""
    found: list[PluginRecord] = []
    for directory in directories:
        found.extend(from_directory(directory))
    if store is not None:
        found.extend(from_store(store, (group,)))
    if entry_points:
        found.extend(from_entry_points(group, paths))
    return [r for r in found if r.problem is not None or r.implementation(group) is not None]
