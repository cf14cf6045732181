"""The store's public snapshot: what users other than the store's owner read.

The owner's ``index.sqlite`` is private (0600): a reader holding a transaction on it blocks
the owner's next COMMIT (rollback journal: a SHARED lock held forever stalls every change),
so only the owner (and root) may open it. After each committed change, still holding the
store's lock, the owner copies the committed index with SQLite's backup API into a temporary
file in ``ROOT`` and renames it over ``ROOT/index.public.sqlite`` (0644). A snapshot never
changes once published: another user opens it ``immutable`` (no locks at all), and a reader
keeping an old snapshot open keeps its old inode, blocking nothing.

Consistency with ``ROOT/generation``: the snapshot holds the generations of the index it was
copied from (``meta``). The generation file is written before COMMIT and the snapshot after,
so a reader may find the file ahead of the snapshot for a moment; it then waits for the
snapshot to catch up (:func:`in_step`) and never plans from a snapshot older than the
generations it keys a plan with. A writer killed in that window leaves them apart until the
owner's next command on the store, reading or changing, republishes the snapshot
(:meth:`siglink.store._core.StoreCore.reader` and ``writer``).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from siglink._layout import StoreLayout, read_generations
from siglink.errors import StoreError
from siglink.store.index import Index

__all__ = ["in_step", "publish_snapshot", "republish", "snapshot_generations", "uses_snapshot"]


def __dir__() -> list[str]:
    return list(__all__)


def publish_snapshot(layout: StoreLayout, index: Index) -> None:
    """Copy the committed ``index`` to ``ROOT/index.public.sqlite`` atomically (0644); call
    with the store's lock held, outside any transaction.

    :raises StoreError: the copy could not be written (the change itself is committed).
    """
    target = layout.public_index
    tmp = os.path.join(layout.root, f".index.public.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        os.close(fd)
        copy = sqlite3.connect(tmp, isolation_level=None)
        try:
            index.backup_to(copy)
            copy.execute("PRAGMA journal_mode = DELETE").fetchall()
        finally:
            copy.close()
        fd = os.open(tmp, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fchmod(fd, 0o644)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except (OSError, sqlite3.Error) as e:
        for leftover in (tmp, f"{tmp}-journal"):
            try:  # noqa: SIM105
                os.unlink(leftover)
            except OSError:
                pass
        raise StoreError(f"{target}: cannot publish the store's public index ({e})") from e


def snapshot_generations(layout: StoreLayout) -> tuple[int, dict[str, int]] | None:
    """The generations the published snapshot holds; ``None`` when there is none (or it
    cannot be read)."""
    try:
        snapshot = Index.open(Path(layout.public_index), create=False, readonly=True)
    except StoreError:
        return None
    if snapshot is None:
        return None
    try:
        return snapshot.generations()
    except StoreError:
        return None
    finally:
        snapshot.close()


def in_step(layout: StoreLayout, generations: tuple[int, dict[str, int]]) -> bool:
    r"""True when ``ROOT/generation`` says no more than ``generations`` (a snapshot's).

    >>> import tempfile
    >>> layout = StoreLayout(tempfile.mkdtemp())
    >>> in_step(layout, (0, {"*": 0}))  # no generation file: a store never changed
    True
    >>> with open(layout.generation, "w") as f:
    ...     _ = f.write("3\n")
    >>> in_step(layout, (2, {"*": 2})), in_step(layout, (3, {"*": 3}))
    (False, True)
    """
    return read_generations(layout.generation)[0] <= generations[0]


def uses_snapshot(layout: StoreLayout) -> bool:
    """Whether this process reads the snapshot: it is not the index's owner and cannot read
    the private index (root and the owner read ``index.sqlite`` itself)."""
    try:
        st = os.stat(layout.index)
    except OSError:
        return False
    return st.st_uid != os.geteuid() and not os.access(layout.index, os.R_OK)


def republish(layout: StoreLayout) -> None:
    """Publish the snapshot of the index now at ``ROOT/index.sqlite`` (``store repair``, after
    renaming the rebuilt index into place); call with the store's lock held."""
    index = Index.open(Path(layout.index), create=False)
    if index is None:
        return
    try:
        publish_snapshot(layout, index)
    finally:
        index.close()
