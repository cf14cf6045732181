"""The generation file follows COMMIT; removals and failed stages leave nothing behind."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from siglink._layout import read_generations
from siglink.errors import StoreError
from siglink.store import Store
from siglink.store import _install as install_module
from siglink.store import index as index_module

WheelMaker = Callable[..., Path]
DRIVER = str(Path(__file__).with_name("pause_driver.py"))


def _paused_install(root: Path, wheel: Path, point: str) -> subprocess.Popen[str]:
    env = {**os.environ, "SIGLINK_TEST_PAUSE_AT": point, "SIGLINK_TEST_PAUSE_SECONDS": "60"}
    proc = subprocess.Popen(
        [sys.executable, DRIVER, "install", str(wheel), "--store", str(root)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stderr is not None
    line = proc.stderr.readline()
    assert line == f"siglink: paused at {point}\n", line + proc.stderr.read()
    return proc


def _kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    for stream in (proc.stdout, proc.stderr):
        assert stream is not None
        stream.close()


def test_generation_file_is_written_before_the_commit(
        tmp_path: Path, make_wheel: WheelMaker) -> None:
    """Inside the (uncommitted) transaction the file is already one ahead: a reader planning
    from the committed index keys its plan by the old generation, which the file no longer
    says, so no plan of the old index is reused after the commit."""
    root = tmp_path / "store"
    Store(root).install([str(make_wheel("textkit", "1.0.0"))])
    before = Store(root).generation
    proc = _paused_install(root, make_wheel("textkit", "2.0.0"), "generation")
    try:
        assert read_generations(str(root / "generation")) == (
            before + 1, {"*": before, "textkit": before + 1})
        reader = Store(root)
        with reader.snapshot() as generation:
            assert generation == before
            assert reader.generations() == (before, {"*": before, "textkit": before})
        assert {v for _, v in reader.installed()} == {"1.0.0"}
    finally:
        _kill(proc)
    # Killed before COMMIT: the next store to open the index advances both past the file.
    store = Store(root)
    assert {v for _, v in store.installed()} == {"1.0.0"}
    assert store.generation == before + 2
    assert store.generations() == read_generations(str(root / "generation"))
    assert not (root / "libs/textkit/2.0.0").exists()


def test_killed_after_commit(tmp_path: Path, make_wheel: WheelMaker) -> None:
    root = tmp_path / "store"
    Store(root).install([str(make_wheel("textkit", "1.0.0"))])
    before = Store(root).generation
    proc = _paused_install(root, make_wheel("textkit", "2.0.0"), "committed")
    _kill(proc)
    with sqlite3.connect(root / "index.sqlite") as db:
        (committed,) = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
    assert int(committed) == before + 1
    assert (root / "generation").read_text() == f"{before + 1}\n* {before}\ntextkit {before + 1}\n"
    store = Store(root)
    assert store.generation == before + 1
    assert {v for _, v in store.installed()} == {"1.0.0", "2.0.0"}


def test_a_file_behind_the_index_is_brought_forward(
        tmp_path: Path, make_wheel: WheelMaker) -> None:
    """An older siglink wrote the file after COMMIT; killed in between, the file is behind."""
    root = tmp_path / "store"
    Store(root).install([str(make_wheel("textkit", "1.0.0"))])
    (root / "generation").write_text("0\n")
    store = Store(root)
    assert store.installed() == {("textkit", "1.0.0")}
    assert store.generation == 2
    assert store.generations() == read_generations(str(root / "generation"))
    assert store.generations()[1]["textkit"] == 1


def test_remove_deletes_only_from_staging_after_the_lock(
        tmp_path: Path, make_wheel: WheelMaker, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "store"
    store = Store(root)
    store.install([str(make_wheel("textkit", "1.0.0"))])
    import shutil

    real = shutil.rmtree
    calls: list[tuple[Path, bool]] = []

    def rmtree(path: Any, *args: Any, **kwargs: Any) -> None:
        calls.append((Path(path), store._lock._fd is not None))
        real(path, *args, **kwargs)

    monkeypatch.setattr("siglink.store._removal.shutil.rmtree", rmtree)
    store.remove("textkit", "1.0.0")
    assert not (root / "libs/textkit").exists()
    assert list((root / ".staging").iterdir()) == []
    unlocked = [path for path, locked in calls if not locked]
    assert unlocked, calls
    assert all(path.parent == root / ".staging" for path in unlocked), calls


def test_stage_removes_its_directory_when_holding_it_fails(
        tmp_path: Path, make_wheel: WheelMaker, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "store"
    wheel = make_wheel("textkit", "1.0.0")

    def refuse(path: Path) -> int:
        raise OSError(24, "Too many open files")

    monkeypatch.setattr(install_module, "hold_dir", refuse)
    with pytest.raises((OSError, StoreError)):
        Store(root).install([str(wheel)])
    assert list((root / ".staging").iterdir()) == []


def test_failed_commit_rolls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    index = index_module.Index.open(tmp_path / "index.sqlite", create=True)
    assert index is not None
    real = index_module.Index._exec

    def failing(self: index_module.Index, sql: str, params: Any = ()) -> None:
        if sql == "COMMIT":
            raise StoreError("database is locked")
        real(self, sql, params)

    monkeypatch.setattr(index_module.Index, "_exec", failing)
    with pytest.raises(StoreError), index.transaction():
        index.set_generation(5)
    assert not index._db.in_transaction
    monkeypatch.undo()
    assert index.generation() == 0
    with index.transaction():  # usable again
        index.set_generation(6)
    assert index.generation() == 6
    index.close()
