"""One store's state: where it is, its index connection, its lock, its change transaction.

The feature modules (:mod:`~siglink.store._queries`, :mod:`~siglink.store._install`,
:mod:`~siglink.store._removal`, :mod:`~siglink.store._yanks`, :mod:`~siglink.store._registry`,
:mod:`~siglink.store._repair`) are functions over a :class:`StoreCore`;
:class:`siglink.store.Store` puts them behind one object.

Reading never creates the store; the first change does. Opening the index clears what killed
writers left (:mod:`~siglink.store._recovery`). A damaged index (missing, empty or unreadable
while ``libs/`` holds versions) stops every operation with :class:`DamagedIndexError` (exit 3)
naming ``siglink store repair``: the index is never trusted to say what to delete.

>>> error = DamagedIndexError("/srv/s/index.sqlite", "the store index is missing")
>>> str(error).endswith("nothing was changed: run 'siglink store repair' to rebuild it from libs/")
True
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final

from siglink._files import write_atomic
from siglink._layout import (
    STORE_FILES,
    StoreLayout,
    format_generations,
    store_root,
    untrusted,
    untrusted_store,
    user_store,
)
from siglink._text import inert
from siglink.errors import BadInputError, StoreBusyError, StoreError
from siglink.store._generation import Changes, advance
from siglink.store._lock import FileLock, LockTimeoutError, lock_timeout
from siglink.store._records import StoredVersion
from siglink.store._recovery import recover
from siglink.store._snapshot import (
    in_step,
    publish_snapshot,
    snapshot_generations,
    uses_snapshot,
)
from siglink.store._yankfiles import publish
from siglink.store.index import CorruptIndexError, Index

__all__ = ["DamagedIndexError", "Pause", "StoreCore", "StoreLockedError", "UntrustedStoreError"]

Pause = Callable[[str], None]
"""A test seam: called with the name of each point of a change (``staged``, ``indexed``,
``renamed``, ``generation``, ``committed``, ``removed``...) so that a test can stop there."""


def __dir__() -> list[str]:
    return list(__all__)


def _warn(message: str) -> None:
    """``siglink: warning: MESSAGE`` on stderr (what the CLI's warnings look like)."""
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(f"siglink: warning: {inert(message)}\n")
        sys.stderr.flush()


class DamagedIndexError(StoreError):
    """The index is missing, empty or unreadable while ``libs/`` holds versions (exit 3); for
    another user, the public copy is missing or unreadable (``hint`` says who can fix it)."""

    def __init__(self, index: str, why: str, *, hint: str = "") -> None:
        hint = hint or "run 'siglink store repair' to rebuild it from libs/"
        super().__init__(f"{index}: {why}; nothing was changed: {hint}")
        self.index = index


def _owner_fixes(root: Path, index: str) -> str:
    """Who can publish the public copy again, and how: the owner of ``index``, by running any
    siglink command on the store at ``root`` (each one checks the copy, :meth:`StoreCore.reader`).

    >>> _owner_fixes(Path("/srv/my store"), "/nonexistent").split(": ")[1]
    "siglink --store '/srv/my store' list"
    """
    import shlex

    try:
        import pwd

        who = f" ({pwd.getpwuid(os.stat(index).st_uid).pw_name})"
    except (OSError, KeyError):
        who = ""
    return (f"the store's owner{who} can publish it again by running any siglink command on "
            f"this store, such as: siglink --store {shlex.quote(str(root))} list")


class StoreLockedError(StoreBusyError):
    """Another process held the store's lock for longer than ``$SIGLINK_LOCK_TIMEOUT`` (exit
    75); ``holder`` is its PID (0 when unknown). Nothing was changed."""


class UntrustedStoreError(StoreError):
    """A store, index, plan directory or bootstrap writable by others, or (for root) owned by
    another user (exit 3); see :func:`siglink._layout.untrusted`."""


class StoreCore:
    """A store's root, layout, index connection and lock (see the module docstring)."""

    def __init__(self, root: Path | str | None = None, *, environment: bool = False,
                 pause: Pause | None = None,
                 on_wait: Callable[[str], None] | None = None) -> None:
        if isinstance(root, str) and not root.strip():
            raise BadInputError("--store: empty path")
        self.root: Final = Path(store_root(root))
        if self.root.exists() and not self.root.is_dir():
            raise BadInputError(f"{self.root}: not a directory (a store is a directory)",
                                path=str(self.root))
        self.layout: Final = StoreLayout(self.root)
        # A store elsewhere than the user's default place (a path given by --store or
        # $SIGLINK_STORE, maybe mistyped) is created only by a change to it, not to record a
        # registration.
        self.explicit: Final = str(self.root) != user_store()
        self.environment: Final = environment
        self._pause = pause
        self._index: Index | None = None
        # ``on_wait(message)``: told once when a change has waited a moment for another
        # writer; by default a warning line on stderr, whichever command is waiting.
        tell = _warn if on_wait is None else on_wait
        self._lock = FileLock(Path(self.layout.lock), on_wait=lambda pid: tell(
            f"waiting for the store's lock, held by "
            f"{f'process {pid}' if pid else 'another process'}"))
        self._recovered = False
        self._trusted = False
        self.repairing = False  # set by store repair: the damaged index is being replaced
        self.environment_versions: dict[str, list[StoredVersion]] | None = None  # read once

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r}, environment={self.environment})"

    def pause(self, point: str) -> None:
        if self._pause is not None:
            self._pause(point)

    # -- paths ------------------------------------------------------------------------------
    @property
    def index_path(self) -> Path:
        return Path(self.layout.index)

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
        return Path(self.layout.libs)

    @property
    def plans(self) -> Path:
        return Path(self.layout.plans)

    @property
    def staging(self) -> Path:
        return Path(self.layout.staging)

    def close(self) -> None:
        """Close the index connection (reopened on the next use)."""
        if self._index is not None:
            self._index.close()
            self._index = None

    # -- opening ----------------------------------------------------------------------------
    def _libs_hold_versions(self) -> bool:
        try:
            with os.scandir(self.libs) as names:
                return any(True for _ in names)
        except OSError:
            return False

    def _check_intact(self, index: Index | None) -> None:
        """:class:`DamagedIndexError` when the index cannot be what ``libs/`` was built with."""
        if self.repairing:
            return
        if index is None:
            if self._libs_hold_versions():
                raise DamagedIndexError(str(self.index_path),
                                        "the store index is missing and libs/ is not empty")
            left = [n for n in STORE_FILES[1:] if os.path.lexists(self.root / n)]
            if left:  # a store lost its index: never taken for no store at all
                raise DamagedIndexError(str(self.index_path), "the store index is missing "
                                        f"and the store's {', '.join(left)} remain")
        elif index.empty and self._libs_hold_versions():
            raise DamagedIndexError(str(self.index_path),
                                    "the store index is empty and libs/ is not empty")

    def _open_snapshot(self) -> Index:
        """The public snapshot, for a user who cannot read the private index: one that is
        not behind ``ROOT/generation`` (a change being published is waited for, at most
        ``$SIGLINK_LOCK_TIMEOUT`` seconds)."""
        public = self.layout.public_index
        problem = untrusted(public)
        if problem is not None:
            raise UntrustedStoreError(problem)
        deadline = time.monotonic() + lock_timeout()
        while True:
            try:
                index = Index.open(Path(public), create=False, readonly=True)
            except CorruptIndexError as e:
                raise DamagedIndexError(public, e.reason, hint=self._owner_fixes()) from e
            if index is None:
                raise DamagedIndexError(public, "the store's public index is missing",
                                        hint=self._owner_fixes())
            try:
                if in_step(self.layout, index.generations()):
                    self._check_intact(index)
                    return index
            except CorruptIndexError as e:
                index.close()
                raise DamagedIndexError(public, e.reason, hint=self._owner_fixes()) from e
            except BaseException:
                index.close()
                raise
            index.close()
            if time.monotonic() >= deadline:
                raise StoreBusyError(
                    f"{self.root}: the store's public index (index.public.sqlite) is older "
                    "than its last change: the change was committed but not published, either "
                    "still being published or its writer was stopped first; nothing was "
                    f"changed: {self._owner_fixes()}")
            time.sleep(0.02)

    def _owner_fixes(self) -> str:
        return _owner_fixes(self.root, str(self.index_path))

    def _open(self, *, create: bool) -> Index | None:
        if not create and not self.repairing and uses_snapshot(self.layout):
            return self._open_snapshot()
        try:
            index = Index.open(self.index_path, create=create)
        except CorruptIndexError as e:
            if self.repairing:
                raise
            raise DamagedIndexError(str(self.index_path), e.reason) from e
        try:
            self._check_intact(index)
        except BaseException:
            if index is not None:
                index.close()
            raise
        if index is not None and not self.repairing:
            index.on_commit = lambda: self._published(index)
        return index

    def _published(self, index: Index) -> None:
        """After each COMMIT of the private index (lock held): publish its snapshot for other
        users (:mod:`~siglink.store._snapshot`); a failure is said, the change is committed."""
        self.pause("publishing")
        try:
            publish_snapshot(self.layout, index)
        except StoreError as e:
            _warn(f"committed, but {e}; the next change to the store publishes it")

    def check_trust(self) -> None:
        """:class:`UntrustedStoreError` when the store must not be used (once per object)."""
        if self._trusted:
            return
        problem = untrusted_store(self.layout)
        if problem is not None:
            raise UntrustedStoreError(problem)
        self._trusted = True

    def reader(self) -> Index | None:
        """The index for reading; ``None`` when the store does not exist."""
        if self._index is None:
            self.check_trust()
            self._index = self._open(create=False)
            if self._index is not None and self._index.path != self.index_path:
                self._recovered = True  # the snapshot: nothing of the owner's to recover
            if self._index is not None and not self._recovered:
                self._recovered = True
                recover(self.layout, self._index, self._lock)
                self._refresh_snapshot(self._index)
        return self._index

    def _refresh_snapshot(self, index: Index) -> None:
        """The owner's reading commands publish the public copy again when it is missing,
        unreadable or behind the committed index (a writer stopped between COMMIT and
        publishing): other users wait on it until then (exit 75). Only when the lock is free
        now (a writer holding it publishes when it is done); a failure is said, not fatal."""
        if index.empty or self.repairing:
            return
        try:
            if os.stat(self.index_path).st_uid != os.geteuid():
                return  # root reading another user's store leaves their copy to them
        except OSError:
            return
        if snapshot_generations(self.layout) == index.generations():
            return
        try:
            if not self._lock.try_acquire():
                return
        except OSError:
            return  # a store this process cannot lock (read-only): nothing to publish
        try:
            self._ensure_snapshot(index)
        except (StoreError, OSError) as e:
            _warn(f"{self.layout.public_index}: the store's public index is behind and could "
                  f"not be published again ({e})")
        finally:
            self._lock.release()

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store's file lock (creating the store directory first)."""
        try:
            if not self.root.is_dir():
                self.root.mkdir(parents=True, exist_ok=True)
                os.chmod(self.root, 0o755)  # whatever the umask
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
        except LockTimeoutError as e:
            who = f"process {e.holder}" if e.holder else "another process"
            raise StoreLockedError(
                f"{self.root}: the store is locked by {who}; gave up after {e.waited:g} s "
                "(SIGLINK_LOCK_TIMEOUT=SECONDS waits longer)", e.holder) from e
        except OSError as e:
            raise StoreError(f"{self.root}: cannot lock the store ({e.strerror or e})") from e
        try:
            yield
        finally:
            self._lock.release()

    def writer(self) -> Index:
        """The index for writing; call with the lock held. Creates the store if needed."""
        self.check_trust()
        if not self.repairing and self._index is None:
            existing = self._open(create=False)  # refuses a damaged index before creating one
            if existing is not None:
                existing.close()
        if not self.root.is_dir():
            self.root.mkdir(parents=True, exist_ok=True)
            os.chmod(self.root, 0o755)  # whatever the umask
        if self._index is None or self._index.empty or self._index.outdated:
            self.close()
            created = not self.index_path.exists()
            self._index = self._open(create=True)  # before libs/: a store is its index first
            assert self._index is not None
            if created:
                os.chmod(self.index_path, 0o600)
        for folder in (self.libs, self.staging):
            if not folder.is_dir():
                folder.mkdir(parents=True, exist_ok=True)
                os.chmod(folder, 0o755)  # whatever the umask
        if not self._recovered:
            self._recovered = True
            recover(self.layout, self._index, self._lock)
        self._ensure_snapshot(self._index)
        return self._index

    def _ensure_snapshot(self, index: Index) -> None:
        """With the lock held: publish the snapshot when it is missing or not the committed
        index's (a writer stopped before publishing, a store from before snapshots), then
        make the private index private (a store from before snapshots had it 0644)."""
        if index.empty:
            return
        if snapshot_generations(self.layout) != index.generations():
            publish_snapshot(self.layout, index)
        if os.stat(self.index_path).st_mode & 0o777 != 0o600:
            os.chmod(self.index_path, 0o600)

    @contextlib.contextmanager
    def change(self) -> Iterator[tuple[Index, Changes]]:
        """Lock, open one index transaction, and yield it with a :class:`Changes` to fill in.
        Before COMMIT, when anything changed, the generations advance (index and file, see
        :mod:`~siglink.store._generation`); after it, the yank markers and ``yanks.json``
        follow what committed (:mod:`~siglink.store._yankfiles`)."""
        with self.locked():
            index = self.writer()
            changes = Changes()
            published = index.generations()
            try:
                with index.transaction():
                    owners = index.module_owners()
                    yield index, changes
                    if changes:
                        advance(self.layout, index, changes, owners)
                        self.pause("generation")
            except BaseException:
                # Rolled back: say again what the index says (if this fails too, the file
                # stays ahead, which only makes plans recomputed until recovery). Stopped
                # after COMMIT (while publishing the snapshot): the file already says it.
                if changes and not index.committed:
                    with contextlib.suppress(OSError):
                        write_atomic(self.layout.generation, format_generations(*published))
                raise
            if changes:
                self.pause("committed")
                problems = publish(self.layout, index)
                if problems:  # committed; the next store to open the index retries
                    _warn(f"committed, but the yank markers are not written yet "
                          f"({problems[0]}); the next command writes them")
