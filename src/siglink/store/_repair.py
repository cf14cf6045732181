"""``siglink store repair``: rebuild the index from ``libs/``, never the reverse.

The index is moved aside (``index.sqlite.damaged-TIME``), a new one is created, and every
``libs/NAME/VERSION/`` is adopted with the manifest its ``NAME-VERSION.dist-info/siglink.json``
holds (written at install), its metadata (``METADATA``) and its contents digest (from
``RECORD``, as at install); the hashes ``verify`` checks are taken from its files as they are
now (what repair cannot vouch for: verify a store before trusting a repair). Yanks come back
from the old index when it can still be read,
else from ``yanks.json``; registrations from the old index when it can be read (applications
also register again at their next start). What cannot be restored is reported, and a version
that cannot be adopted is left in place, untouched. Every generation advances.

>>> RepairReport().problems
[]
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import time
from dataclasses import dataclass, field, replace
from email.parser import BytesParser
from pathlib import Path

from packaging.utils import canonicalize_name

from siglink._layout import read_generations
from siglink.errors import SiglinkError, StoreError
from siglink.store._core import StoreCore
from siglink.store._generation import Changes, advance
from siglink.store._recovery import UNCOMMITTED
from siglink.store._verify import hash_tree
from siglink.store._yanks import read_journal, write_journal
from siglink.store.index import Index, VersionRow

__all__ = ["RepairReport", "repair"]


def __dir__() -> list[str]:
    return list(__all__)


_UNHASHED = ("RECORD", "RECORD.jws", "RECORD.p7s")


@dataclass
class RepairReport:
    """What :func:`repair` restored, and what it could not."""

    versions: list[str] = field(default_factory=list)
    yanks: list[str] = field(default_factory=list)
    apps: int = 0
    problems: list[str] = field(default_factory=list)
    damaged: str | None = None


@dataclass
class _Old:
    yanks: dict[str, dict[str, str]] = field(default_factory=dict)
    apps: list[tuple[str, str, dict[str, str | None], str | None]] = field(default_factory=list)
    readable: bool = False


def _read_old(core: StoreCore) -> _Old:
    old = _Old()
    try:
        index = Index.open(core.index_path, create=False)
    except StoreError:
        return old
    if index is None:
        return old
    try:
        for row in index.all_versions():
            if row.yanked is not None:
                old.yanks.setdefault(row.name, {})[row.version] = row.yanked
        old.apps = index.apps()
        old.readable = not index.empty
    except StoreError:
        old.readable = False
    finally:
        index.close()
    return old


def repair(core: StoreCore) -> RepairReport:
    """Rebuild ``core``'s index from ``libs/`` (see the module docstring).

    The new index is built and committed beside the old one (``index.sqlite.repairing``) and
    renamed over it, so a repair killed at any point leaves the old index in place (and the
    next repair starts again)."""
    report = RepairReport()
    with core.locked():
        core.close()
        core.repairing = True
        try:
            old = _read_old(core)
            journal_yanks = read_journal(core.layout.yanks)
            yanks = old.yanks if old.readable else {
                n: dict(v) for n, v in journal_yanks.items()}
            building = Path(f"{core.index_path}.repairing")
            for stale in (building, Path(f"{building}-journal")):
                stale.unlink(missing_ok=True)
            core.libs.mkdir(parents=True, exist_ok=True)
            index = Index.open(building, create=True)
            assert index is not None
            try:
                with index.transaction():
                    adopted = _adopt_all(core, index, yanks, report)
                    for name, versions in sorted(yanks.items()):
                        for version, reason in sorted(versions.items()):
                            if (name, version) in adopted:
                                report.yanks.append(f"{name}=={version}")
                            else:
                                report.problems.append(
                                    f"yank of {name}=={version} ({reason}): the version is "
                                    "not in libs/; dropped")
                    _restore_apps(index, old, report)
                    _carry_generation(core, index)
                    advance(core.layout, index, Changes(all=True), set())
                    write_journal(core, index)
                    core.pause("generation")
            finally:
                index.close()
            core.pause("committed")
            report.damaged = _replace(core.index_path, building)
        finally:
            core.repairing = False
            core.close()
    if not old.readable:
        report.problems.append(
            "the registered applications could not be read from the damaged index: each "
            "registers again at its next build, plan or run")
    return report


def _carry_generation(core: StoreCore, index: Index) -> None:
    """Start the new index past every generation the old one or the file published."""
    on_file = read_generations(core.layout.generation)[0]
    index.set_generation(max(on_file, _old_generation(core), 0))


def _old_generation(core: StoreCore) -> int:
    try:
        old = Index.open(core.index_path, create=False)
    except StoreError:
        return 0
    if old is None:
        return 0
    try:
        return old.generation()
    except StoreError:
        return 0
    finally:
        old.close()


def _replace(index: Path, built: Path) -> str | None:
    """Put ``built`` in place of ``index``, keeping the old one (and any journal of it, which
    must never meet the new file) as ``index.sqlite.damaged-TIME``; that name."""
    aside: str | None = None
    if index.exists():
        aside = f"{index}.damaged-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
        try:
            os.link(index, aside)
        except OSError:  # no hard links here: a copy
            import shutil

            shutil.copy2(index, aside)
    journal = Path(f"{index}-journal")
    if journal.exists():
        os.replace(journal, f"{aside or index}-journal.damaged")
    os.replace(built, index)
    return aside


def _adopt_all(core: StoreCore, index: Index, yanks: dict[str, dict[str, str]],
               report: RepairReport) -> set[tuple[str, str]]:
    adopted: set[tuple[str, str]] = set()
    if not core.libs.is_dir():
        return adopted
    for name_dir in sorted(core.libs.iterdir(), key=lambda p: os.fsencode(p.name)):
        if not name_dir.is_dir() or name_dir.is_symlink():
            report.problems.append(f"{name_dir}: not a library directory; left alone")
            continue
        for version_dir in sorted(name_dir.iterdir(), key=lambda p: os.fsencode(p.name)):
            try:
                row, display, manifest = _read_version(core, name_dir.name, version_dir)
            except (SiglinkError, OSError, ValueError) as e:
                text = e.message if isinstance(e, SiglinkError) else str(e)
                report.problems.append(f"{version_dir}: not adopted ({text}); left in place")
                continue
            reason = yanks.get(row.name, {}).get(row.version)
            if reason is not None:
                row = replace(row, yanked=reason)
            index.add_version(row, display_name=display, manifest=manifest)
            index.set_record(row.name, row.version,
                             hash_tree(version_dir, skip=(UNCOMMITTED,)))
            adopted.add((row.name, row.version))
            report.versions.append(f"{row.name}=={row.version}")
    return adopted


def _read_version(core: StoreCore, name: str,
                  version_dir: Path) -> tuple[VersionRow, str, dict[str, object]]:
    from siglink.contracts.manifest import Manifest

    version = version_dir.name
    if name != canonicalize_name(name) or not version_dir.is_dir() or version_dir.is_symlink():
        raise ValueError("not a NAME/VERSION directory siglink writes")
    infos = [p for p in version_dir.iterdir() if p.name.endswith(".dist-info") and p.is_dir()]
    if len(infos) != 1:
        raise ValueError(f"{len(infos)} .dist-info directories, expected 1")
    dist_info = infos[0]
    sidecar = dist_info / "siglink.json"
    if not sidecar.is_file():
        raise ValueError("no siglink.json manifest")
    manifest = Manifest.loads(sidecar.read_bytes(), source=str(sidecar))
    if canonicalize_name(manifest.unit.name) != name or manifest.unit.version != version:
        raise ValueError(f"its manifest is of {manifest.unit.name}=={manifest.unit.version}")
    metadata = BytesParser().parsebytes((dist_info / "METADATA").read_bytes())
    display = str(metadata.get("Name") or name)
    requires = tuple(str(r).strip() for r in metadata.get_all("Requires-Dist") or ())
    requires_python = str(metadata.get("Requires-Python") or "").strip() or None
    row = VersionRow(
        name, version, f"libs/{name}/{version}", dist_info.name,
        tuple(manifest.top_level), requires, requires_python,
        _content_digest(dist_info), "(repaired)", None,
    )
    return row, display, manifest.to_json()


def _content_digest(dist_info: Path) -> str:
    """The contents digest an install records: RECORD's ``path,hash`` lines, sorted."""
    text = (dist_info / "RECORD").read_bytes().decode("utf-8")
    signatures = {f"{dist_info.name}/{n}" for n in _UNHASHED}
    digests = sorted(
        f"{row[0]},{row[1]}" for row in csv.reader(io.StringIO(text))
        if len(row) == 3 and row[0] not in signatures and row[1]
    )
    return hashlib.sha256("\n".join(digests).encode()).hexdigest()


def _restore_apps(index: Index, old: _Old, report: RepairReport) -> None:
    present = {(r.name, r.version) for r in index.all_versions()}
    for app_id, manifest_path, links, refused in old.apps:
        missing = [n for n, v in links.items() if v is not None and (n, v) not in present]
        now, why = links, refused
        if missing:
            now = {n: (None if n in missing else v) for n, v in links.items()}
            why = refused or (f"{', '.join(sorted(missing))} not in the store after repair; "
                              "relinked at its next start")
        index.register_app(app_id, manifest_path, now, why)
        report.apps += 1
