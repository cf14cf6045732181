"""A reader holding a transaction on the index (the owner's own ``sqlite3``, say) makes a writer
wait at most ``$SIGLINK_LOCK_TIMEOUT`` seconds; then one line says the index is busy (not
corrupt), names the reader's PID, and exits 75; nothing was changed. Another user cannot do
that: the index is private (0600) and their snapshot is replaced, not written. The multi-user
case needs root (``useradd``, ``runuser``) and is skipped with the reason otherwise."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from seconduser import PYTHON, account
from siglink.store import Store

WheelMaker = Callable[..., Path]
USER = "siglinkbusy"

HOLD = (
    "import os, sqlite3, sys, time\n"
    "db = sqlite3.connect(f'file:{sys.argv[1]}?mode=ro', uri=True, isolation_level=None)\n"
    "db.execute('BEGIN')\n"
    "db.execute('SELECT count(*) FROM versions').fetchall()\n"
    "print(os.getpid(), flush=True)\n"
    "time.sleep(120)\n"
)


@pytest.fixture
def second_user() -> Iterator[str]:
    with account(USER, home=False):
        yield USER


def _hold(index: Path, user: str | None) -> tuple[subprocess.Popen[str], int]:
    """A process holding a read transaction on ``index``, and its PID (as another user)."""
    argv = [PYTHON if user else sys.executable, "-c", HOLD, str(index)]
    if user:
        argv = ["runuser", "-u", user, "--", *argv]
    holder = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, cwd="/")
    assert holder.stdout is not None
    line = holder.stdout.readline()
    assert line.strip().isdigit(), line
    return holder, int(line)


def _stop(holder: subprocess.Popen[str], pid: int) -> None:
    """Kill the reader (itself: ``runuser`` does not pass SIGKILL on) and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    holder.kill()
    holder.wait()
    if holder.stdout is not None:
        holder.stdout.close()


def _yank(root: Path, timeout: str = "1") -> tuple[subprocess.CompletedProcess[str], float]:
    env = {**os.environ, "SIGLINK_LOCK_TIMEOUT": timeout}
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "siglink", "yank", "textkit==1.0.0",
                           "--reason", "CVE-1", "--store", str(root)], check=False,
                          capture_output=True, text=True, env=env, timeout=300)
    return proc, time.monotonic() - start


def _check_busy(root: Path, pid: int, user: str | None) -> None:
    proc, took = _yank(root)
    assert took < 20, took
    assert proc.returncode == 75, proc.stderr
    assert proc.stderr == (
        f"siglink: error: {root / 'index.sqlite'}: the store index is busy: process {pid} "
        "holds a transaction on it; gave up after 1 s (SIGLINK_LOCK_TIMEOUT=SECONDS waits "
        "longer); nothing was changed\n"), proc.stderr
    assert "corrupt" not in proc.stderr
    store = Store(root)
    assert store.get("textkit", "1.0.0").yanked is None
    store.close()
    assert not (root / "libs/textkit/1.0.0/.yanked").exists()
    assert not (root / "yanks.json").exists()


def test_another_users_reader_cannot_stall_a_yank(second_user: str,
                                                  make_wheel: WheelMaker) -> None:
    """Another user cannot open the private index; a transaction held on the public snapshot
    (the one file they can open) stalls nothing: the yank commits at once."""
    shared = Path(tempfile.mkdtemp(prefix="siglink-busy-", dir="/tmp"))
    os.chmod(shared, 0o755)
    try:
        root = shared / "store"
        store = Store(root)
        store.install([str(make_wheel("textkit", "1.0.0"))])
        store.close()
        assert (root / "index.sqlite").stat().st_mode & 0o777 == 0o600
        denied = subprocess.run(["runuser", "-u", second_user, "--", PYTHON, "-c", HOLD,
                                 str(root / "index.sqlite")], capture_output=True, text=True,
                                cwd="/", check=False, timeout=60)
        assert denied.returncode == 1 and "unable to open" in denied.stderr, denied.stderr
        holder, pid = _hold(root / "index.public.sqlite", second_user)
        try:
            proc, took = _yank(root)
            assert proc.returncode == 0 and took < 20, (took, proc.stderr)
            assert holder.poll() is None
        finally:
            _stop(holder, pid)
        assert Store(root).get("textkit", "1.0.0").yanked == "CVE-1"
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def test_a_reader_is_waited_for_then_named(tmp_path: Path, make_wheel: WheelMaker) -> None:
    """The same with a reader of the same user: waited for a bounded time, named, exit 75;
    and a reader that finishes within the wait is simply waited for."""
    root = tmp_path / "store"
    store = Store(root)
    store.install([str(make_wheel("textkit", "1.0.0"))])
    store.close()
    holder, pid = _hold(root / "index.sqlite", None)
    try:
        _check_busy(root, pid, None)
    finally:
        _stop(holder, pid)
    brief = subprocess.Popen([sys.executable, "-c", HOLD.replace("120", "1.5"),
                              str(root / "index.sqlite")], stdout=subprocess.PIPE, text=True)
    try:
        assert brief.stdout is not None and brief.stdout.readline().strip().isdigit()
        proc, _ = _yank(root, "30")
        assert proc.returncode == 0, proc.stderr
    finally:
        brief.wait()
        brief.stdout.close()  # type: ignore[union-attr]
    assert Store(root).get("textkit", "1.0.0").yanked == "CVE-1"
    assert (root / "libs/textkit/1.0.0/.yanked").is_file()


@pytest.mark.parametrize("value", ["abc", "-1", "nan", "inf", "1e300", "86401"])
def test_a_bad_lock_timeout_is_one_line(tmp_path: Path, make_wheel: WheelMaker,
                                        value: str) -> None:
    root = tmp_path / "store"
    Store(root).install([str(make_wheel("textkit", "1.0.0"))])
    for argv in (["yank", "textkit==1.0.0", "--reason", "x"], ["list"]):
        proc = subprocess.run([sys.executable, "-m", "siglink", *argv, "--store", str(root)],
                              check=False, capture_output=True, text=True, timeout=300,
                              env={**os.environ, "SIGLINK_LOCK_TIMEOUT": value})
        assert proc.returncode == 2, (argv, proc.stderr)
        assert proc.stderr == (f"siglink: error: SIGLINK_LOCK_TIMEOUT={value!r}: not a number "
                               "of seconds (a number from 0 to 86400, a day)\n"), proc.stderr
    assert Store(root).get("textkit", "1.0.0").yanked is None
