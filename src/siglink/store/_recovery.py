"""What killed writers leave behind, and how the next store to open the index clears it.

A writer killed after its commit and before writing the yank markers and ``yanks.json``
leaves them behind the index; they are written again (:mod:`~siglink.store._yankfiles`), and a
``.yanked`` marker the committed index does not back is removed.

Besides such markers, only three things are ever deleted: a staging directory that nobody
holds (``.staging/`` is scratch space by definition), a directory that a committed index entry
names as garbage (``garbage`` table: a removed version), and a ``libs/NAME/VERSION`` the index
does not know that carries the :data:`UNCOMMITTED` mark (an install killed between its rename
and its commit; the mark is removed once the commit is done). A directory under ``libs/`` that
the index does not know and that has no mark is never deleted: ``siglink verify`` reports it
and ``siglink store repair`` adopts it (when it can prove its files).

>>> UNCOMMITTED
'.siglink-uncommitted'
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from siglink._layout import StoreLayout
from siglink.store._generation import in_step, reconcile
from siglink.store._lock import FileLock, try_hold_dir
from siglink.store._yankfiles import in_step as yanks_in_step
from siglink.store._yankfiles import publish
from siglink.store.index import Index, is_version_dir

__all__ = ["UNCOMMITTED", "needs_recovery", "recover", "remove_garbage"]

UNCOMMITTED = ".siglink-uncommitted"
"""The file an install puts in a version's directory until the rows naming it commit."""


def __dir__() -> list[str]:
    return list(__all__)


def _unheld_staging(layout: StoreLayout) -> list[Path]:
    staging = Path(layout.staging)
    return sorted(staging.iterdir()) if staging.is_dir() else []


def _marked(layout: StoreLayout, index: Index) -> tuple[list[Path], list[Path]]:
    """Uncommitted installs' directories (unknown to the index), and committed versions whose
    mark was not removed yet."""
    libs = Path(layout.libs)
    if not libs.is_dir():
        return [], []
    known = {row.path for row in index.all_versions()}
    strays: list[Path] = []
    done: list[Path] = []
    for mark in sorted(libs.glob(f"*/*/{UNCOMMITTED}")):
        version = mark.parent
        relative = f"libs/{version.parent.name}/{version.name}"
        (done if relative in known else strays).append(version)
    return strays, done


def needs_recovery(layout: StoreLayout, index: Index) -> bool:
    """True when something is left to clear (cheap: directory listings and a few queries)."""
    return (bool(_unheld_staging(layout)) or bool(index.garbage())
            or not in_step(layout, index) or any(_marked(layout, index))
            or not yanks_in_step(layout, index))


def recover(layout: StoreLayout, index: Index, lock: FileLock) -> None:
    """Clear what killed writers left, if the lock is free now (a live writer holds it while
    its files are in flight); a store that cannot be locked (read-only) is left as it is."""
    if not needs_recovery(layout, index):
        return
    try:
        if not lock.try_acquire():
            return
    except OSError:
        return
    try:
        if not in_step(layout, index):
            reconcile(layout, index)
        remove_garbage(layout, index)
        for path in _unheld_staging(layout):
            _remove_staging(path)
        strays, done = _marked(layout, index)
        for path in strays:
            shutil.rmtree(path, ignore_errors=True)
            with contextlib.suppress(OSError):
                path.parent.rmdir()  # only if that was its last version
        for path in done:
            with contextlib.suppress(OSError):
                os.unlink(path / UNCOMMITTED)
        publish(layout, index)  # a writer killed after its commit, before the markers
    finally:
        lock.release()


def remove_garbage(layout: StoreLayout, index: Index) -> None:
    """Delete every directory a committed entry names as garbage (lock held); the entries of
    those deleted are dropped."""
    entries = index.garbage()
    if not entries:
        return
    live = {row.path for row in index.all_versions()}
    for relative in entries:
        if relative not in live and is_version_dir(relative):  # never outside libs/
            path = Path(layout.root, relative)
            shutil.rmtree(path, ignore_errors=True)
            if path.parent != Path(layout.libs):
                with contextlib.suppress(OSError):
                    path.parent.rmdir()  # only if that was its last version
    with index.transaction():
        for relative in entries:  # an entry whose files are still there is tried again later
            if not os.path.lexists(Path(layout.root, relative)):
                index.drop_garbage(relative)


def _remove_staging(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        fd = try_hold_dir(path)
        if fd is None:
            return  # a live install holds it
        try:
            shutil.rmtree(path, ignore_errors=True)
        finally:
            os.close(fd)
    else:
        with contextlib.suppress(OSError):
            path.unlink()
