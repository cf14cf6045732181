"""The owner's index is private; other users read a published snapshot of it.

A real second user (``useradd``; needs root, skipped with the reason otherwise) cannot read
``index.sqlite``; holding a read transaction on the one file they can open
(``index.public.sqlite``) blocks none of the owner's changes; they still list, plan and run
against the store and see each change; a missing snapshot is a damaged store for them (exit 3),
and one behind the generation file is never used (exit 75); either names the owner, whose next
siglink command on the store, reading or changing, publishes the copy again.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from seconduser import PYTHON, account
from siglink._layout import StoreLayout, read_generations
from siglink.store import Store
from siglink.store._core import StoreCore
from siglink.store._snapshot import publish_snapshot, snapshot_generations

WheelMaker = Callable[..., Path]
USER = "siglinksnap"

HOLD = (
    "import os, sqlite3, sys, time\n"
    "db = sqlite3.connect(f'file:{sys.argv[1]}?mode=ro', uri=True, isolation_level=None)\n"
    "db.execute('BEGIN')\n"
    "db.execute('SELECT count(*) FROM versions').fetchall()\n"
    "print(os.getpid(), flush=True)\n"
    "time.sleep(120)\n"
)


_SITE: list[str] = []


@pytest.fixture
def second_user(readable_site: str) -> Iterator[Path]:
    _SITE[:] = [readable_site]
    with account(USER) as home:
        assert home is not None
        yield home


def _env(home: Path) -> list[str]:
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "PYTHONPATH": _SITE[0],
           "NO_COLOR": "1", "LANG": "C.UTF-8", "SIGLINK_LOCK_TIMEOUT": "1"}
    return ["env", "-i", *(f"{k}={v}" for k, v in env.items())]


def _as_user(home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["runuser", "-u", USER, "--", *_env(home), PYTHON, *argv],
                          check=False, capture_output=True, text=True, timeout=300, cwd=home)


def _owner(root: Path, *argv: str) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {**os.environ, "SIGLINK_LOCK_TIMEOUT": "2"}
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "siglink", *argv, "--store", str(root)],
                          check=False, capture_output=True, text=True, env=env, timeout=300)
    return proc, time.monotonic() - start


def test_a_foreign_reader_blocks_nothing(second_user: Path, make_wheel: WheelMaker) -> None:
    shared = Path(tempfile.mkdtemp(prefix="siglink-snap-", dir="/tmp"))
    os.chmod(shared, 0o755)
    holder, pid = None, ""
    try:
        root = shared / "store"
        Store(root).install([str(make_wheel("textkit", "1.0.0"))])
        index, public = root / "index.sqlite", root / "index.public.sqlite"
        assert index.stat().st_mode & 0o777 == 0o600
        assert public.stat().st_mode & 0o777 == 0o644
        cannot = _as_user(second_user, "-c", f"open({str(index)!r}, 'rb')")
        assert cannot.returncode == 1 and "PermissionError" in cannot.stderr, cannot.stderr

        app = second_user / "hello.py"
        app.write_text("import textkit\nprint(textkit.greet('x'))\n")
        shutil.chown(app, USER, USER)
        ran = _as_user(second_user, "-m", "siglink", "run", "--store", str(root), str(app))
        assert (ran.returncode, ran.stdout) == (0, "hello x\n"), ran.stderr

        holder = subprocess.Popen(["runuser", "-u", USER, "--", PYTHON, "-c", HOLD,
                                   str(public)], stdout=subprocess.PIPE, text=True, cwd="/")
        assert holder.stdout is not None
        pid = holder.stdout.readline().strip()
        assert pid.isdigit(), pid
        installed, took = _owner(root, "install", str(make_wheel("textkit", "1.1.0")))
        assert installed.returncode == 0 and took < 20, (took, installed.stderr)
        yanked, took = _owner(root, "yank", "textkit==1.0.0", "--reason", "CVE-1")
        assert yanked.returncode == 0 and took < 20, (took, yanked.stderr)
        assert holder.poll() is None  # still holding its (old) snapshot

        listed = _as_user(second_user, "-m", "siglink", "list", "--json", "--store",
                          str(root))
        assert listed.returncode == 0, listed.stderr
        assert "1.1.0" in listed.stdout and "CVE-1" in listed.stdout, listed.stdout
        planned = _as_user(second_user, "-m", "siglink", "plan", "--store", str(root),
                           str(app))
        assert planned.returncode == 0 and "1.1.0" in planned.stdout, planned.stderr
        ran = _as_user(second_user, "-m", "siglink", "run", "--store", str(root), str(app))
        assert (ran.returncode, ran.stdout) == (0, "hello x\n"), ran.stderr

        # A snapshot behind the generation file is never planned from (exit 75, bounded).
        behind = shared / "behind.sqlite"
        shutil.copy2(public, behind)
        assert _owner(root, "yank", "textkit==1.1.0", "--reason", "CVE-2")[0].returncode == 0
        os.replace(behind, public)
        stale = _as_user(second_user, "-m", "siglink", "list", "--store", str(root))
        assert stale.returncode == 75 and "older than its last change" in stale.stderr
        assert stale.stderr.count("\n") == 1, stale.stderr

        # A missing snapshot: damaged for the user, rebuilt by the owner's repair.
        public.unlink()
        missing = _as_user(second_user, "-m", "siglink", "list", "--store", str(root))
        assert missing.returncode == 3, missing.stderr
        assert "the store's owner (root) can publish it again" in missing.stderr
        repaired, _ = _owner(root, "store", "repair")
        assert repaired.returncode == 0, repaired.stderr
        assert public.stat().st_mode & 0o777 == 0o644
        assert index.stat().st_mode & 0o777 == 0o600
        listed = _as_user(second_user, "-m", "siglink", "list", "--json", "--store",
                          str(root))
        assert listed.returncode == 0 and "CVE-2" in listed.stdout, listed.stderr
    finally:
        if holder is not None:
            if pid.isdigit():  # the reader itself: runuser does not pass SIGKILL on
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)
            holder.kill()
            holder.wait()
            if holder.stdout is not None:
                holder.stdout.close()
        shutil.rmtree(shared, ignore_errors=True)


def test_the_snapshot_follows_each_commit(tmp_path: Path, make_wheel: WheelMaker) -> None:
    """Published inside the lock after each commit: the snapshot holds what the index holds,
    generations included; an old store (index 0644, no snapshot) is brought up to date by the
    owner's next change."""
    root = tmp_path / "store"
    store = Store(root)
    store.install([str(make_wheel("textkit", "1.0.0"))])
    store.yank("textkit", "1.0.0", "CVE-1")
    store.close()
    layout = StoreLayout(root)
    core = StoreCore(root)
    index = core.reader()
    assert index is not None
    assert snapshot_generations(layout) == index.generations()
    copy = sqlite3.connect(f"file:{layout.public_index}?mode=ro", uri=True)
    assert copy.execute("SELECT yanked FROM versions").fetchall() == [("CVE-1",)]
    copy.close()
    core.close()

    os.unlink(layout.public_index)
    os.chmod(layout.index, 0o644)  # as a store made before snapshots
    store = Store(root)
    store.install([str(make_wheel("other", "1.0.0"))])
    store.close()
    assert os.stat(layout.index).st_mode & 0o777 == 0o600
    assert os.stat(layout.public_index).st_mode & 0o777 == 0o644
    assert not [p for p in os.listdir(root) if p.endswith(".tmp")]


def test_publish_time_with_twenty_versions(tmp_path: Path, make_wheel: WheelMaker) -> None:
    root = tmp_path / "store"
    store = Store(root)
    store.install([str(make_wheel("textkit", f"1.0.{i}")) for i in range(20)])
    store.close()
    core = StoreCore(root)
    index = core.reader()
    assert index is not None
    start = time.perf_counter()
    for _ in range(10):
        publish_snapshot(core.layout, index)
    each = (time.perf_counter() - start) / 10
    size = os.path.getsize(core.layout.public_index)
    core.close()
    print(f"publish of a 20-version index ({size} bytes): {each * 1000:.2f} ms")
    assert each < 2.0


class _Stop(Exception):
    """Stands for the process being stopped at a pause point."""


def test_stopped_after_commit_before_publishing(tmp_path: Path,
                                                make_wheel: WheelMaker) -> None:
    """Stopped between COMMIT and publishing: the generation file stays what the committed
    index says (never set back), the snapshot is behind until the owner's next change
    publishes it."""
    root = tmp_path / "store"
    Store(root).install([str(make_wheel("textkit", "1.0.0"))])
    layout = StoreLayout(root)
    before = snapshot_generations(layout)

    def stop(point: str) -> None:
        if point == "publishing":
            raise _Stop(point)

    store = Store(root, pause=stop)
    with pytest.raises(_Stop):
        store.yank("textkit", "1.0.0", "CVE-1")
    store.close()
    assert snapshot_generations(layout) == before
    committed = read_generations(layout.generation)  # not set back
    assert committed != before
    Store(root).install([str(make_wheel("other", "1.0.0"))])
    core = StoreCore(root)
    index = core.reader()
    assert index is not None
    assert snapshot_generations(layout) == index.generations() != committed
    core.close()


def _stopped_before_publishing(root: Path) -> None:
    """A yank whose writer stops between COMMIT and publishing the public copy."""

    def stop(point: str) -> None:
        if point == "publishing":
            raise _Stop(point)

    store = Store(root, pause=stop)
    with pytest.raises(_Stop):
        store.yank("textkit", "1.0.0", "CVE-1")
    store.close()


@pytest.mark.parametrize("command", [["list"], ["apps"], ["verify"], ["who-uses", "textkit"],
                                     ["show", "textkit"]])
def test_an_owners_reading_command_publishes_a_copy_left_behind(
        tmp_path: Path, make_wheel: WheelMaker, command: list[str]) -> None:
    root = tmp_path / "store"
    Store(root).install([str(make_wheel("textkit", "1.0.0"))])
    layout = StoreLayout(root)
    _stopped_before_publishing(root)
    assert snapshot_generations(layout) != read_generations(layout.generation)
    ran, _ = _owner(root, *command)
    assert ran.returncode == 0 and ran.stderr == "", ran.stderr
    assert snapshot_generations(layout) == read_generations(layout.generation)
    os.unlink(layout.public_index)
    assert _owner(root, *command)[0].returncode == 0
    assert snapshot_generations(layout) == read_generations(layout.generation)


def test_a_copy_left_behind_is_waited_for_while_the_lock_is_held(
        tmp_path: Path, make_wheel: WheelMaker) -> None:
    """The owner's reading command publishes only with the lock free: a writer holding it
    publishes when it is done (and the reader does not wait for it)."""
    root = tmp_path / "store"
    Store(root).install([str(make_wheel("textkit", "1.0.0"))])
    layout = StoreLayout(root)
    _stopped_before_publishing(root)
    behind = snapshot_generations(layout)
    holder = Store(root)
    with holder.locked():
        ran, took = _owner(root, "list")
        assert ran.returncode == 0 and took < 20, ran.stderr
        assert snapshot_generations(layout) == behind
    holder.close()


def test_the_owners_next_command_lets_other_users_read_again(
        second_user: Path, make_wheel: WheelMaker) -> None:
    """A writer stopped after COMMIT, before publishing: another user is told what happened
    and who can fix it (exit 75); the owner's ``siglink list`` publishes the copy again."""
    shared = Path(tempfile.mkdtemp(prefix="siglink-snap-", dir="/tmp"))
    os.chmod(shared, 0o755)
    try:
        root = shared / "store"
        Store(root).install([str(make_wheel("textkit", "1.0.0"))])
        _stopped_before_publishing(root)
        stale = _as_user(second_user, "-m", "siglink", "list", "--store", str(root))
        assert (stale.returncode, stale.stdout) == (75, ""), stale.stderr
        assert stale.stderr == (
            f"siglink: error: {root}: the store's public index (index.public.sqlite) is older "
            "than its last change: the change was committed but not published, either still "
            "being published or its writer was stopped first; nothing was changed: the "
            "store's owner (root) can publish it again by running any siglink command on this "
            f"store, such as: siglink --store {root} list\n")
        listed, _ = _owner(root, "list")
        assert listed.returncode == 0, listed.stderr
        fresh = _as_user(second_user, "-m", "siglink", "list", "--store", str(root))
        assert fresh.returncode == 0 and "1.0.0 (yanked)" in fresh.stdout, fresh.stderr
    finally:
        shutil.rmtree(shared, ignore_errors=True)
