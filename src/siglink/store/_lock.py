"""Advisory file locks (``fcntl.flock``) that a killed process releases by dying.

The store serializes every index change with :class:`FileLock` on ``<store>/.lock``; a staging
directory is held with :func:`hold_dir` so that recovery can tell a live install from a dead one.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Final

__all__ = ["DEFAULT_TIMEOUT", "MAX_TIMEOUT", "NOTICE_AFTER", "FileLock", "LockTimeoutError",
           "hold_dir", "holders", "lock_timeout", "try_hold_dir"]


class LockTimeoutError(OSError):
    """The lock was not free within the timeout; ``holder`` is the holding process (or 0)."""

    def __init__(self, path: Path, holder: int, waited: float) -> None:
        who = f"process {holder}" if holder else "another process"
        super().__init__(f"{path}: held by {who} (waited {waited:g} s)")
        self.holder = holder
        self.waited = waited


DEFAULT_TIMEOUT: Final = 30.0
"""Seconds a writer waits for the store's lock (``$SIGLINK_LOCK_TIMEOUT`` overrides)."""

MAX_TIMEOUT: Final = 86400.0
"""The longest wait ``$SIGLINK_LOCK_TIMEOUT`` may ask for (a day): SQLite's own wait is counted
in milliseconds in a C ``int`` (at most about 24 days), and a longer one silently waited not
at all."""

NOTICE_AFTER: Final = 0.5
"""Seconds of waiting after which the waiter is told who holds the lock (half the timeout
when that is shorter): a lock released at once goes unmentioned."""


def lock_timeout() -> float:
    """``$SIGLINK_LOCK_TIMEOUT`` (seconds, from 0 to :data:`MAX_TIMEOUT`), else
    :data:`DEFAULT_TIMEOUT` when unset or empty.

    :raises BadInputError: any other value (exit 2), never silently the default.

    >>> os.environ["SIGLINK_LOCK_TIMEOUT"] = "abc"
    >>> lock_timeout()
    Traceback (most recent call last):
    siglink.errors.BadInputError: SIGLINK_LOCK_TIMEOUT='abc': not a number of seconds (...)
    >>> os.environ["SIGLINK_LOCK_TIMEOUT"] = "1e300"
    >>> lock_timeout()
    Traceback (most recent call last):
    siglink.errors.BadInputError: SIGLINK_LOCK_TIMEOUT='1e300': not a number of seconds (...)
    >>> os.environ["SIGLINK_LOCK_TIMEOUT"] = "2.5"; lock_timeout()
    2.5
    >>> del os.environ["SIGLINK_LOCK_TIMEOUT"]; lock_timeout() == DEFAULT_TIMEOUT
    True
    """
    import math

    text = os.environ.get("SIGLINK_LOCK_TIMEOUT", "").strip()
    if not text:
        return DEFAULT_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not 0 <= value <= MAX_TIMEOUT:
        from siglink.errors import BadInputError

        raise BadInputError(f"SIGLINK_LOCK_TIMEOUT={text[:40]!r}: not a number of seconds (a "
                            f"number from 0 to {MAX_TIMEOUT:g}, a day)")
    return value


def holders(*paths: str | os.PathLike[str]) -> list[int]:
    """Other processes that hold a POSIX lock on one of ``paths`` (what SQLite's transactions
    take), from ``/proc/locks``, which every user may read; else those that have one open,
    from ``/proc/*/fd`` (as far as this user may look). Empty when none can be found.

    >>> holders("/nonexistent/index.sqlite")
    []
    """
    keys: dict[tuple[int, int, int], str] = {}
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            continue
        keys[(os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)] = os.fspath(path)
    if not keys:
        return []
    me = os.getpid()
    found: list[int] = []
    try:
        with open("/proc/locks", encoding="ascii", errors="replace") as f:
            lines = f.read(1 << 22).splitlines()
    except OSError:
        lines = []
    for line in lines:
        fields = line.split()
        if len(fields) < 6 or fields[1] == "->" or fields[1] != "POSIX":
            continue  # a waiter (ourselves, maybe), or not the kind of lock SQLite takes
        try:
            major, minor, inode = fields[5].split(":")
            key = (int(major, 16), int(minor, 16), int(inode))
            pid = int(fields[4])
        except ValueError:
            continue
        if key in keys and pid > 0 and pid != me and pid not in found:
            found.append(pid)
    if found:
        return found
    targets = {os.path.realpath(p) for p in keys.values()}
    try:
        processes = [name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []
    for name in processes:
        pid = int(name)
        if pid == me:
            continue
        try:
            fds = os.listdir(f"/proc/{name}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{name}/fd/{fd}") in targets:
                    found.append(pid)
                    break
            except OSError:
                continue
    return found


class FileLock:
    """An exclusive ``flock`` on ``path``, re-entrant within one object.

    The file is created mode 0600: only the store's owner (and root) can open it, so no other
    user can hold it to stall the owner (readers never need it). While held it contains the
    holder's PID, which a waiting writer names. ``timeout`` seconds (default
    :func:`lock_timeout`) bound the wait; ``on_wait(pid)`` is called once when it has waited
    :data:`NOTICE_AFTER` seconds.

    >>> import tempfile, pathlib
    >>> with FileLock(pathlib.Path(tempfile.mkdtemp()) / ".lock") as lock:
    ...     lock.held
    True
    """

    def __init__(self, path: Path, *, timeout: float | None = None,
                 on_wait: Callable[[int], None] | None = None) -> None:
        self.path = path
        self.timeout = timeout
        self.on_wait = on_wait
        self._fd: int | None = None
        self._depth = 0

    @property
    def held(self) -> bool:
        return self._fd is not None

    def _open(self) -> int:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        try:
            st = os.fstat(fd)
            if st.st_uid == os.geteuid() and st.st_mode & 0o777 != 0o600:
                os.fchmod(fd, 0o600)
        except OSError:
            os.close(fd)
            raise
        return fd

    def _holder(self, fd: int) -> int:
        try:
            text = os.pread(fd, 32, 0).strip()
            return int(text) if text.isdigit() else 0
        except (OSError, ValueError):
            return 0

    def _took(self, fd: int) -> None:
        self._fd = fd
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError:
            pass  # the PID is a courtesy to waiters

    def acquire(self) -> None:
        if self._fd is None:
            fd = self._open()
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    self._wait(fd)
            except BaseException:
                os.close(fd)
                raise
            self._took(fd)
        self._depth += 1

    def _wait(self, fd: int) -> None:
        timeout = lock_timeout() if self.timeout is None else self.timeout
        notice = min(NOTICE_AFTER, timeout / 2)
        told = self.on_wait is None
        start = time.monotonic()
        while True:
            time.sleep(0.02)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                waited = time.monotonic() - start
                if not told and waited >= notice and self.on_wait is not None:
                    told = True
                    self.on_wait(self._holder(fd))
                if waited >= timeout:
                    raise LockTimeoutError(self.path, self._holder(fd),
                                           round(waited, 1)) from None

    def try_acquire(self) -> bool:
        """Acquire without waiting; ``False`` when another process holds the lock."""
        if self._fd is None:
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            except BaseException:
                os.close(fd)
                raise
            self._took(fd)
        self._depth += 1
        return True

    def release(self) -> None:
        if self._fd is None:
            return
        self._depth -= 1
        if self._depth == 0:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def hold_dir(path: Path) -> int:
    """Lock directory ``path`` for as long as the returned descriptor stays open."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def try_hold_dir(path: Path) -> int | None:
    """Lock ``path`` if nobody holds it (its owner died); ``None`` when it is in use."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd
