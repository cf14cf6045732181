"""Killed installs leave no trace; concurrent installs both complete.

The install runs through ``pause_driver.py``, which injects a pause point into the store
(``SIGLINK_TEST_PAUSE_AT=POINT``): it prints ``siglink: paused at POINT`` and sleeps there, and
the test kills it with SIGKILL during the sleep.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from siglink.cli.main import main
from siglink.store import Store

WheelMaker = Callable[..., Path]
DRIVER = str(Path(__file__).with_name("pause_driver.py"))


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("SIGLINK_TEST_PAUSE_AT", None)
    env.update(extra)
    return env


def _install(root: Path, *wheels: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, DRIVER, "install", *map(str, wheels), "--store", str(root)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(**env),
    )


def _listing(root: Path, capsys: pytest.CaptureFixture[str]) -> object:
    assert main(["list", "--json", "--store", str(root)]) == 0
    return json.loads(capsys.readouterr().out)


def _dirs(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in (root / "libs").glob("*/*"))


@pytest.mark.parametrize("point", ["staged", "indexed", "renamed", "generation"])
def test_sigkill_leaves_no_trace(tmp_path: Path, make_wheel: WheelMaker, point: str,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "store"
    Store(root).install([str(make_wheel("textkit", "1.0.0"))])
    before = _listing(root, capsys)
    dump = Store(root).dump()
    generation = Store(root).generation

    new = make_wheel("textkit", "2.0.0")
    proc = _install(root, new, SIGLINK_TEST_PAUSE_AT=point, SIGLINK_TEST_PAUSE_SECONDS="60")
    assert proc.stderr is not None
    line = proc.stderr.readline()
    assert line == f"siglink: paused at {point}\n", line + proc.stderr.read()
    # Where the kill lands: the staged copy exists; from "renamed" on it is in libs/ too.
    assert len(list((root / ".staging").iterdir())) == 1
    assert (root / "libs/textkit/2.0.0").exists() == (point in ("renamed", "generation"))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()  # type: ignore[union-attr]
    proc.stderr.close()

    assert _listing(root, capsys) == before
    # Killed after the generations file was written ahead of the commit, the next store to
    # open the index advances both past it: only the generation rows differ.
    assert _without_generations(Store(root).dump()) == _without_generations(dump)
    assert _dirs(root) == ["libs/textkit/1.0.0"]
    assert list((root / ".staging").iterdir()) == []
    if point != "generation":
        assert Store(root).generation == generation
    # The store works on: the same install now completes, and the generation moves forward.
    results = Store(root).install([str(new)])
    assert [r.status for r in results] == ["installed"]
    assert Store(root).generation > generation
    assert _dirs(root) == ["libs/textkit/1.0.0", "libs/textkit/2.0.0"]
    assert not (root / "index.sqlite-journal").exists()  # SQLite rolled back and cleaned up


def _without_generations(dump: list[str]) -> list[str]:
    return [line for line in dump if not line.startswith(
        ("INSERT INTO \"meta\" VALUES('generation'", "INSERT INTO \"meta\" VALUES('generations'"))]


def _paused(proc: subprocess.Popen[str], point: str = "staged") -> None:
    """Wait (as long as it takes) until ``proc`` says it is paused at ``point``."""
    assert proc.stderr is not None
    line = proc.stderr.readline()
    assert line == f"siglink: paused at {point}\n", line + proc.stderr.read()


def _finish(procs: list[subprocess.Popen[str]]) -> list[tuple[str, str]]:
    """Wait for every process (generously: a loaded machine is slow), kill what hangs."""
    outs = []
    for proc in procs:
        try:
            outs.append(proc.communicate(timeout=600))
        except subprocess.TimeoutExpired:
            proc.kill()
            outs.append(proc.communicate())
    return outs


def test_two_installs_at_once(tmp_path: Path, make_wheel: WheelMaker) -> None:
    """Two installs staged at the same time both complete. They certainly overlap: each pauses
    after staging until both have staged (a barrier file, no timing assumption)."""
    root = tmp_path / "store"
    release = tmp_path / "release"
    first, second = make_wheel("textkit", "1.0.0"), make_wheel("other-lib", "3.1")
    procs = [_install(root, w, SIGLINK_TEST_PAUSE_AT="staged",
                      SIGLINK_TEST_PAUSE_UNTIL=str(release), SIGLINK_TEST_PAUSE_SECONDS="600")
             for w in (first, second)]
    try:
        for proc in procs:
            _paused(proc)
        assert len(list((root / ".staging").iterdir())) == 2  # both staged, neither committed
        assert Store(root).names() == []
    finally:
        release.touch()
        outs = _finish(procs)
    assert [p.returncode for p in procs] == [0, 0], outs
    assert sorted(o[0] for o in outs) == ["installed other-lib==3.1\n",
                                          "installed textkit==1.0.0\n"]
    store = Store(root)
    assert store.names() == ["other-lib", "textkit"]
    assert store.generation == 2
    assert _dirs(root) == ["libs/other-lib/3.1", "libs/textkit/1.0.0"]
    assert list((root / ".staging").iterdir()) == []


def test_the_same_version_twice_at_once(tmp_path: Path, make_wheel: WheelMaker) -> None:
    root = tmp_path / "store"
    release = tmp_path / "release"
    wheel = make_wheel("textkit", "1.0.0")
    procs = [_install(root, wheel, SIGLINK_TEST_PAUSE_AT="staged",
                      SIGLINK_TEST_PAUSE_UNTIL=str(release), SIGLINK_TEST_PAUSE_SECONDS="600")
             for _ in range(2)]
    try:
        for proc in procs:
            _paused(proc)
    finally:
        release.touch()
        outs = _finish(procs)
    assert [p.returncode for p in procs] == [0, 0], outs
    assert sorted(o[0] for o in outs) == ["installed textkit==1.0.0\n",
                                          "textkit==1.0.0 already present\n"]
    assert Store(root).generation == 1
    assert _dirs(root) == ["libs/textkit/1.0.0"]
    assert list((root / ".staging").iterdir()) == []


def test_a_reader_does_not_remove_a_live_staging(tmp_path: Path, make_wheel: WheelMaker,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Recovery removes only staging directories whose owner died."""
    root = tmp_path / "store"
    release = tmp_path / "release"
    Store(root).install([str(make_wheel("textkit", "1.0.0"))])
    proc = _install(root, make_wheel("textkit", "2.0.0"), SIGLINK_TEST_PAUSE_AT="staged",
                    SIGLINK_TEST_PAUSE_UNTIL=str(release), SIGLINK_TEST_PAUSE_SECONDS="600")
    try:
        _paused(proc)
        staged = list((root / ".staging").iterdir())
        assert len(staged) == 1
        listing = _listing(root, capsys)  # a reader, recovering what killed installs left
        assert [v["version"] for v in listing[0]["versions"]] == ["1.0.0"]  # type: ignore[index]
        assert staged[0].exists()
    finally:
        release.touch()
        [(out, err)] = _finish([proc])
    assert (proc.returncode, out) == (0, "installed textkit==2.0.0\n"), err


def _stable(table: str, row: tuple[object, ...]) -> tuple[object, ...]:
    """``row`` without what differs between two installs of the same wheel: the recorded
    hashes of byte-compiled files, which hold the time of unpacking."""
    if table != "records":
        return row
    import json
    import zlib

    out = []
    for value in row:
        if isinstance(value, bytes):
            try:
                table_of = json.loads(zlib.decompress(value))
            except (zlib.error, ValueError):
                out.append(value)
                continue
            if isinstance(table_of, dict):
                out.append(json.dumps({k: v for k, v in table_of.items()
                                       if not str(k).endswith(".pyc")}, sort_keys=True).encode())
                continue
        out.append(value)
    return tuple(out)


def _state(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[object, ...]:
    """What the store holds, as a fresh reader sees it (recovery included): the listing, every
    index row (but the generation and install times), every file under ``libs/`` (with its
    bytes, but for byte-compiled files, which record the time of unpacking), and what is left
    in ``.staging/``."""
    import sqlite3

    listing = _listing(root, capsys)
    db = sqlite3.connect(f"file:{root / 'index.sqlite'}?mode=ro", uri=True)
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    rows = {}
    for table in sorted(tables):
        columns = [r[1] for r in db.execute(f"PRAGMA table_info({table})")
                   if r[1] not in ("installed_at", "registered_at")]
        found = db.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
        # generations only grow (a removal and a new install land at later ones)
        rows[table] = sorted(_stable(table, r) for r in found
                             if table != "meta" or r[0] not in ("generation", "generations"))
    db.close()
    files = sorted(
        (str(p.relative_to(root)),
         b"" if p.is_dir() or p.suffix == ".pyc" else p.read_bytes())
        for p in (root / "libs").rglob("*")
    )
    return listing, rows, files, sorted(os.listdir(root / ".staging"))


def test_sigkill_at_any_moment_of_the_writing(tmp_path: Path, make_wheel: WheelMaker,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Not only at the pause points: killed at moments spread over unpacking, byte-compiling
    and committing (timed from the moment its staging directory appears), the store is
    exactly as before, or, when the kill came after the commit, exactly as installed."""
    import shutil
    import time

    root = tmp_path / "store"
    Store(root).install([str(make_wheel("textkit", "1.0.0"))])
    files: dict[str, str | bytes] = {
        f"biglib/m{i}.py": f"def f{i}(x: int) -> int:\n    return x + {i}\n" for i in range(200)}
    files["biglib/__init__.py"] = ""
    big = make_wheel("biglib", "1.0", files)
    before = _state(root, capsys)
    completed = tmp_path / "completed"
    shutil.copytree(root, completed)
    out, err = _install(completed, big).communicate(timeout=120)
    assert out == "installed biglib==1.0\n", err
    after = _state(completed, capsys)
    assert after != before

    outcomes = []
    for delay in (0.0, 0.02, 0.04, 0.07, 0.1, 0.13, 0.17, 0.25):
        proc = _install(root, big)
        while proc.poll() is None and not os.listdir(root / ".staging"):
            time.sleep(0.0005)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        code = proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
        state = _state(root, capsys)
        if state == after:
            outcomes.append("installed" if code == 0 else "committed, then killed")
            Store(root).remove("biglib", "1.0")  # back to the state before, for the next kill
            assert _state(root, capsys) == before
        else:
            assert state == before, f"killed {delay} s into staging"
            outcomes.append("as before")
    assert "as before" in outcomes, outcomes  # the early kills did land mid-install
