"""``siglink store repair``: rebuild the index from ``libs/``, never the reverse.

The index is moved aside (``index.sqlite.damaged-TIME``), a new one is created, and every
``libs/NAME/VERSION/`` whose files repair can prove is adopted with the manifest its
``NAME-VERSION.dist-info/siglink.json`` holds (written at install), its metadata
(``METADATA``) and its contents digest (from ``RECORD``, as at install).

Files are proven, never blessed as they are now: against the hashes the old index recorded at
install, when it can still be read and has them; else against the wheel's own
``*.dist-info/RECORD`` (every file it lists, with its hash; a file it does not list is refused,
but for the manifest siglink wrote). Bytecode is siglink's own output, whatever ``RECORD`` says
(a wheel's own is never kept, :mod:`siglink.store._bytecode`): where it differs from what its
proven source compiles to at its optimization level it is compiled again, as the install did,
and deleted when no proven source is its own (another interpreter's, an orphan). A version with
a file changed, missing or unlisted is not adopted: it is reported and left in place,
untouched, and so never served. Yanks come back from the old index when it can still be read,
else from ``yanks.json`` (written only after a yank commits); a ``.yanked`` marker neither
confirms keeps its version yanked (fail closed: an unyank is a deliberate act, never repair's),
with the marker's reason, and is reported. Registrations come from the old index when it can be
read (applications also register again at their next start). What cannot be restored is
reported. Every file repair writes gets the store's fixed modes. Every generation advances.

>>> RepairReport().problems
[]
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import time
from dataclasses import dataclass, field, replace
from email.parser import BytesParser
from pathlib import Path

from packaging.utils import canonicalize_name

from siglink._layout import YANK_MARKER, is_store, read_generations
from siglink.errors import BadInputError, SiglinkError, StoreError
from siglink.store._bytecode import level_of
from siglink.store._core import StoreCore
from siglink.store._generation import Changes, advance
from siglink.store._recovery import UNCOMMITTED
from siglink.store._snapshot import republish
from siglink.store._verify import fix_modes, hash_file, hash_tree
from siglink.store._yankfiles import publish, read_journal
from siglink.store.index import Index, VersionRow

__all__ = ["RepairReport", "repair"]


def __dir__() -> list[str]:
    return list(__all__)


_UNHASHED = ("RECORD", "RECORD.jws", "RECORD.p7s")
_ROOT_SCHEMES = ("purelib", "platlib")  # unpacked to the top, as at install (store.wheel)


@dataclass
class RepairReport:
    """What :func:`repair` restored, and what it could not."""

    versions: list[str] = field(default_factory=list)
    yanks: list[str] = field(default_factory=list)
    apps: int = 0
    problems: list[str] = field(default_factory=list)
    damaged: str | None = None
    recompiled: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)  # bytecode with no proven source


@dataclass
class _Old:
    yanks: dict[str, dict[str, str]] = field(default_factory=dict)
    apps: list[tuple[str, str, dict[str, str | None], str | None]] = field(default_factory=list)
    records: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
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
        for row in index.all_versions():  # the hashes recorded at install, where readable
            try:
                record = index.record(row.name, row.version)
            except StoreError:
                continue
            if record is not None:
                old.records[(row.name, row.version)] = record
    except StoreError:
        old.readable = False
    finally:
        index.close()
    return old


def repair(core: StoreCore) -> RepairReport:
    """Rebuild ``core``'s index from ``libs/`` (see the module docstring).

    The new index is built and committed beside the old one (``index.sqlite.repairing``) and
    renamed over it, so a repair killed at any point leaves the old index in place (and the
    next repair starts again); the yank markers and ``yanks.json`` follow the new index once
    it is in place.

    :raises BadInputError: no store is at the root (nothing is created there).
    """
    if not is_store(str(core.root)):
        raise BadInputError(f"{core.root}: no siglink store here (nothing to repair; check "
                            "--store or $SIGLINK_STORE)", path=str(core.root))
    report = RepairReport()
    with core.locked():
        core.close()
        core.repairing = True
        try:
            old = _read_old(core)
            journal_yanks = read_journal(core.layout.yanks)
            yanks = old.yanks if old.readable else journal_yanks
            building = Path(f"{core.index_path}.repairing")
            for stale in (building, Path(f"{building}-journal")):
                stale.unlink(missing_ok=True)
            if not core.libs.is_dir():
                core.libs.mkdir(parents=True, exist_ok=True)
                os.chmod(core.libs, 0o755)  # whatever the umask
            index = Index.open(building, create=True)
            assert index is not None
            try:
                os.chmod(building, 0o600)  # private (others read index.public.sqlite)
                with index.transaction():
                    adopted = _adopt_all(core, index, yanks, old.records, report)
                    for name, versions in sorted(yanks.items()):
                        for version, reason in sorted(versions.items()):
                            if (name, version) in adopted:
                                report.yanks.append(f"{name}=={version}")
                            else:
                                where = ("was not adopted" if (core.libs / name / version)
                                         .is_dir() else "is not in libs/")
                                report.problems.append(
                                    f"yank of {name}=={version} ({reason}): the version "
                                    f"{where}; dropped")
                    _restore_apps(index, old, report)
                    _carry_generation(core, index)
                    advance(core.layout, index, Changes(all=True), set())
                    core.pause("generation")
            finally:
                index.close()
            core.pause("committed")
            report.damaged = _replace(core.index_path, building)
            try:  # what other users read, before the yank markers
                republish(core.layout)
            except StoreError as e:
                report.problems.append(str(e))
            _publish(core, yanks, report)
        finally:
            core.repairing = False
            core.close()
    if not old.readable:
        report.problems.append(
            "the registered applications could not be read from the damaged index: each "
            "registers again at its next build, plan or run")
    return report


def _publish(core: StoreCore, yanks: dict[str, dict[str, str]], report: RepairReport) -> None:
    """Markers and ``yanks.json`` from the new index (which keeps every marker's yank)."""
    index = Index.open(core.index_path, create=False)
    assert index is not None
    try:
        failed = publish(core.layout, index, force=True)
    finally:
        index.close()
    report.problems += [f"{p}: not written; the next command writes it" for p in failed]


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
    if os.path.lexists(index):
        aside = f"{index}.damaged-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
        if not index.is_file():  # a FIFO, a directory: nothing to copy, moved aside
            os.replace(index, aside)
        else:
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
               records: dict[tuple[str, str], dict[str, str]],
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
                files = _prove(core, version_dir, row, records.get((row.name, row.version)),
                               report)
            except (SiglinkError, OSError, ValueError) as e:
                text = e.message if isinstance(e, SiglinkError) else str(e)
                report.problems.append(f"{version_dir}: not adopted ({text}); left in place")
                continue
            reason = yanks.get(row.name, {}).get(row.version)
            marker = version_dir / YANK_MARKER
            if reason is None and (marker.is_file() or marker.is_symlink()):
                reason = _marker_reason(marker)  # fail closed: never unyank
                yanks.setdefault(row.name, {})[row.version] = reason
                report.problems.append(
                    f"{marker}: a yank marker no committed yank confirms; kept yanked "
                    f"({reason})")
            if reason is not None:
                row = replace(row, yanked=reason)
            index.add_version(row, display_name=display, manifest=manifest)
            index.set_record(row.name, row.version, files)
            adopted.add((row.name, row.version))
            report.versions.append(f"{row.name}=={row.version}")
    return adopted


_NO_REASON = "kept by repair: marker without a journal entry"


def _marker_reason(marker: Path) -> str:
    """The first line of a ``.yanked`` marker (printable, bounded), else :data:`_NO_REASON`."""
    try:
        with open(marker, "rb") as f:
            raw = f.read(4096)
    except OSError:
        return _NO_REASON
    line = raw.decode("utf-8", "replace").split("\n", 1)[0]
    text = "".join(c for c in line if c.isprintable()).strip()[:200]
    return text or _NO_REASON


def _unproven(what: str, found: list[str]) -> ValueError:
    shown = "; ".join(found[:3]) + (f"; and {len(found) - 3} more" if len(found) > 3 else "")
    return ValueError(f"could not prove its files against {what}: {shown}")


def _prove(core: StoreCore, version_dir: Path, row: VersionRow,
           recorded: dict[str, str] | None, report: RepairReport) -> dict[str, str]:
    """The hashes of ``version_dir``'s files once each is proven (see the module docstring);
    :class:`ValueError` naming what is not (then nothing in the directory was changed)."""
    actual = hash_tree(version_dir, skip=(UNCOMMITTED,))
    expected: dict[str, str | None]
    if recorded is not None:  # the bytecode in it is siglink's own: it may be compiled again
        expected = {p: _record_digest(h) for p, h in recorded.items()}
        against, unlisted = "the hashes recorded at install", "extra"
        own = {p for p in set(recorded) | set(actual) if _is_bytecode(p)}
    else:
        expected = _record_hashes(version_dir, row.dist_info)
        against, unlisted = f"{row.dist_info}/RECORD", "not in RECORD"
        # bytecode is siglink's own whatever RECORD says: a wheel's is never kept (_bytecode)
        own = {p for p in set(expected) | set(actual) if _is_bytecode(p)}
        own.add(f"{row.dist_info}/siglink.json")  # the manifest siglink wrote: read back
    found = []
    for path in sorted(set(expected) | set(actual), key=os.fsencode):
        if path in own:
            continue
        digest = expected.get(path)
        if path not in actual:
            found.append(f"missing: {path}")
        elif path not in expected:
            found.append(f"{unlisted}: {path}")
        elif digest is not None and not _matches(version_dir / path, digest):
            found.append(f"changed: {path}")
    if found:
        raise _unproven(against, found)
    bytecode = {p for p in own if p in actual and _is_bytecode(p)
                and not (recorded is not None and p in expected
                         and _matches(version_dir / p, expected[p] or ""))}
    if bytecode:
        _recompile(core, version_dir, bytecode, expected, report)
    fix_modes(version_dir)
    return hash_tree(version_dir, skip=(UNCOMMITTED,))


def _record_digest(recorded: str) -> str:
    """A hash :func:`hash_tree` recorded (sha256, hex) as RECORD writes one."""
    try:
        raw = bytes.fromhex(recorded)
    except ValueError:
        return "!"  # "not-a-file": nothing matches it
    return "sha256=" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _is_bytecode(relative: str) -> bool:
    parts = relative.split("/")
    return len(parts) >= 2 and parts[-2] == "__pycache__" and parts[-1].endswith(".pyc")


def _record_hashes(version_dir: Path, dist_info: str) -> dict[str, str | None]:
    """``{unpacked path: "ALGORITHM=DIGEST" or None (unhashed: RECORD itself)}``."""
    text = (version_dir / dist_info / "RECORD").read_bytes().decode("utf-8")
    data_dir = f"{dist_info[: -len('.dist-info')]}.data/"
    unhashed = {f"{dist_info}/{n}" for n in _UNHASHED}
    expected: dict[str, str | None] = {}
    for row in csv.reader(io.StringIO(text)):
        if not row:
            continue
        if len(row) != 3:
            raise ValueError(f"{dist_info}/RECORD: a line of {len(row)} fields")
        path, digest = row[0], row[1]
        if path.startswith(data_dir):
            scheme, _, rest = path[len(data_dir):].partition("/")
            if scheme in _ROOT_SCHEMES and rest:
                path = rest
        if path in unhashed:
            expected[path] = None
        elif not digest:
            raise ValueError(f"{dist_info}/RECORD lists {path!r} without a hash")
        else:
            expected[path] = digest
    return expected


def _matches(path: Path, digest: str) -> bool:
    algorithm, _, value = digest.partition("=")
    if algorithm not in hashlib.algorithms_guaranteed or algorithm in ("md5", "sha1"):
        return False
    if path.is_symlink() or not path.is_file():
        return False
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return base64.urlsafe_b64encode(h.digest()).rstrip(b"=").decode() == value


def _recompile(core: StoreCore, version_dir: Path, bytecode: set[str],
               expected: dict[str, str | None], report: RepairReport) -> None:
    """``bytecode`` (``__pycache__/*.pyc`` not proven by the hashes recorded at install)
    compiled again, as the install did, from its proven source where it differs, at its own
    optimization level; deleted when no proven source is its own (another interpreter's, an
    orphan)."""
    import importlib.util
    import py_compile
    import tempfile

    if not core.staging.is_dir():
        core.staging.mkdir(parents=True, exist_ok=True)
        os.chmod(core.staging, 0o755)  # whatever the umask
    for relative in sorted(bytecode):
        compiled = version_dir / relative
        source = compiled.parent.parent / f"{compiled.name.split('.', 1)[0]}.py"
        source_rel = source.relative_to(version_dir).as_posix()
        level = level_of(compiled.name)
        if (level is None or source_rel not in expected or compiled.is_symlink()
                or importlib.util.cache_from_source(str(source), optimization=level or "")
                != str(compiled)):
            compiled.unlink()
            report.deleted.append(f"{version_dir}/{relative}")
            continue
        fd, temporary = tempfile.mkstemp(dir=core.staging, suffix=".pyc")
        os.close(fd)
        try:
            try:
                py_compile.compile(str(source), cfile=temporary, dfile=str(source),
                                   doraise=True, optimize=level)
            except py_compile.PyCompileError:
                compiled.unlink()
                report.deleted.append(f"{version_dir}/{relative}")
                continue
            if hash_file(temporary) != hash_file(compiled):
                os.chmod(temporary, 0o644)
                os.replace(temporary, compiled)
                report.recompiled.append(f"{version_dir}/{relative}")
        finally:
            Path(temporary).unlink(missing_ok=True)


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
