"""Integrity: what every stored version's files hashed to at install, and ``verify``.

At install, after unpacking and byte-compiling, every file of a version is hashed (sha256,
the ``.pyc`` files siglink compiled included) and the record is kept in the index with the
version's rows. :func:`verify` walks ``libs/NAME/VERSION/`` again and names every file changed,
missing or extra; checking the whole store, it also names every ``libs/NAME/VERSION/``
directory the index does not track (``store repair`` adopts what it can prove).
Modes are fixed at install whatever the umask: directories 0755, files 0644
(0755 for a member the wheel marks executable).

>>> str(Finding("textkit", "1.0", "changed", "textkit/__init__.py"))
'textkit==1.0: changed: textkit/__init__.py'
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from packaging.utils import canonicalize_name

from siglink.store._core import StoreCore
from siglink.store._records import NotInStoreError

__all__ = ["Finding", "fix_modes", "hash_file", "hash_tree", "verify"]


def __dir__() -> list[str]:
    return list(__all__)


Kind = Literal["changed", "missing", "extra", "unrecorded", "not-a-file", "untracked"]


@dataclass(frozen=True)
class Finding:
    """One problem with one stored version's files (``path`` relative to its directory)."""

    name: str
    version: str
    kind: Kind
    path: str

    def __str__(self) -> str:
        if self.kind == "unrecorded":
            return (f"{self.name}=={self.version}: no hashes recorded at install (installed "
                    "by an older siglink): cannot be verified")
        if self.kind == "untracked":
            return (f"{self.path}: a version directory the index does not track (run "
                    "'siglink store repair' to adopt it)")
        return f"{self.name}=={self.version}: {self.kind}: {self.path}"


def hash_file(path: str | os.PathLike[str]) -> str:
    """The sha256 of a file, as :func:`hash_tree` records it."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def hash_tree(root: Path, *, skip: Iterable[str] = ()) -> dict[str, str]:
    """``{relative path: sha256}`` of every regular file under ``root``; a symlink or any
    other non-regular file is recorded as ``"not-a-file"``."""
    from siglink._layout import YANK_MARKER

    skipped = {*skip, YANK_MARKER}  # the yank state, not the version's contents
    found: dict[str, str] = {}
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for entry in sorted(files) + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            full = os.path.join(folder, entry)
            relative = os.path.relpath(full, root).replace(os.sep, "/")
            if relative in skipped:
                continue
            st = os.lstat(full)
            found[relative] = hash_file(full) if stat.S_ISREG(st.st_mode) else "not-a-file"
    return found


def fix_modes(root: Path) -> None:
    """Directories 0755, files 0644 (0755 when executable by the owner), whatever the umask."""
    os.chmod(root, 0o755)
    for folder, dirs, files in os.walk(root):
        for d in dirs:
            full = os.path.join(folder, d)
            if not os.path.islink(full):
                os.chmod(full, 0o755)
        for f in files:
            full = os.path.join(folder, f)
            st = os.lstat(full)
            if stat.S_ISREG(st.st_mode):
                os.chmod(full, 0o755 if st.st_mode & stat.S_IXUSR else 0o644)


def verify(core: StoreCore, targets: Iterable[tuple[str, str | None]] = ()) -> list[Finding]:
    """Check the files of ``targets`` (``(name, version or None)``; every version when
    empty) against what was recorded at install."""
    from siglink._layout import YANK_MARKER
    from siglink.store._recovery import UNCOMMITTED

    index = core.reader()
    if index is None:
        wanted = list(targets)
        if wanted:
            name, version = wanted[0]
            raise NotInStoreError(canonicalize_name(name), version, hint=core.where)
        return []
    rows = index.all_versions()
    chosen = []
    for name, version in targets or [(None, None)]:  # type: ignore[list-item]
        matched = [r for r in rows if name is None or (
            r.name == canonicalize_name(name) and version in (None, r.version))]
        if not matched and name is not None:
            raise NotInStoreError(canonicalize_name(name), version, hint=core.where)
        chosen += [r for r in matched if r not in chosen]
    findings: list[Finding] = [] if targets else _untracked(core, {r.path for r in rows})
    for row in sorted(chosen, key=lambda r: (r.name, r.version)):
        recorded = index.record(row.name, row.version)
        if recorded is None:
            findings.append(Finding(row.name, row.version, "unrecorded", ""))
            continue
        actual = hash_tree(core.root / row.path, skip=(UNCOMMITTED, YANK_MARKER)) if (
            core.root / row.path).is_dir() else {}
        for path in sorted(set(recorded) | set(actual)):
            if path not in actual:
                findings.append(Finding(row.name, row.version, "missing", path))
            elif path not in recorded:
                findings.append(Finding(row.name, row.version, "extra", path))
            elif actual[path] != recorded[path]:
                kind: Kind = "not-a-file" if actual[path] == "not-a-file" else "changed"
                findings.append(Finding(row.name, row.version, kind, path))
    return findings


def _untracked(core: StoreCore, tracked: set[str]) -> list[Finding]:
    """Each ``libs/NAME/VERSION`` directory (``.staging`` aside) no index row names; one
    marked uncommitted is an install in flight (or recovery's to clear), not reported."""
    from siglink.store._recovery import UNCOMMITTED

    found: list[Finding] = []
    try:
        names = sorted(os.scandir(core.libs), key=lambda e: os.fsencode(e.name))
    except OSError:
        return found
    for name in names:
        if name.name == ".staging" or not name.is_dir(follow_symlinks=False):
            continue
        try:
            versions = sorted(os.scandir(name.path), key=lambda e: os.fsencode(e.name))
        except OSError:
            continue
        for version in versions:
            path = f"libs/{name.name}/{version.name}"
            if (version.is_dir(follow_symlinks=False) and path not in tracked
                    and not os.path.lexists(os.path.join(version.path, UNCOMMITTED))):
                found.append(Finding(name.name, version.name, "untracked", path))
    return found
