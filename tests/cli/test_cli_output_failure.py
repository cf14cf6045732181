"""The exit code says what a command did, whatever became of its output: a reader that left
early (``siglink verify | head -1``) or a full disk (``>/dev/full``) never turns a found
problem into success, nor a committed change into a store error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from siglink.demo.wheels import make_wheel
from siglink.store import Store

V1 = "def greet(who):\n    return who\n"
V2 = "def greet(who, loud):\n    return who\n"

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")


def siglink(store: Path, *args: str, stdout: int) -> subprocess.CompletedProcess[str]:
    """The real command, its stdout on ``stdout`` (a descriptor)."""
    return subprocess.run([sys.executable, "-m", "siglink", "--store", str(store), *args],
                          stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=120,
                          check=False, env={**os.environ, "NO_COLOR": "1"})


def closed_pipe(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``siglink ARGS | head -0``: every write to stdout fails with EPIPE."""
    read, write = os.pipe()
    os.close(read)
    try:
        return siglink(store, *args, stdout=write)
    finally:
        os.close(write)


def full_disk(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``siglink ARGS >/dev/full``: every write to stdout fails with ENOSPC."""
    fd = os.open("/dev/full", os.O_WRONLY)
    try:
        return siglink(store, *args, stdout=fd)
    finally:
        os.close(fd)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    root = tmp_path / "store"
    Store(root).install([str(make_wheel(tmp_path / "w", "datax", "1.0",
                                        {"datax/__init__.py": V1}))])
    return root


def tamper(store: Path) -> None:
    with open(store / "libs" / "datax" / "1.0" / "datax" / "__init__.py", "a") as f:
        f.write("# changed\n")


def test_verify_finds_the_change_though_the_reader_left(store: Path) -> None:
    tamper(store)
    done = closed_pipe(store, "verify")
    assert (done.returncode, done.stderr) == (1, "")
    assert closed_pipe(store, "verify", "--json").returncode == 1


def test_diff_finds_the_break_though_the_reader_left(tmp_path: Path, store: Path) -> None:
    old = make_wheel(tmp_path / "a", "datax", "1.0.0", {"datax/__init__.py": V1})
    new = make_wheel(tmp_path / "b", "datax", "1.1.0", {"datax/__init__.py": V2})
    done = closed_pipe(store, "diff", str(old), str(new))
    assert (done.returncode, done.stderr) == (
        1, "FAIL: 1 breaking change without a major version bump\n")


def test_a_reader_leaving_a_sound_listing_is_success(store: Path) -> None:
    done = closed_pipe(store, "list")
    assert (done.returncode, done.stderr) == (0, "")


def test_committed_changes_exit_0_on_a_full_disk(tmp_path: Path, store: Path) -> None:
    warning = ("siglink: warning: cannot write output: No space left on device; the change "
               "to the store was made\n")
    wheel = make_wheel(tmp_path / "w2", "datax", "2.0", {"datax/__init__.py": V2})
    for args in (("install", "--no-deps", str(wheel)), ("yank", "datax==1.0", "--reason", "x"),
                 ("unyank", "datax==1.0"), ("remove", "datax==1.0")):
        done = full_disk(store, *args)
        assert (done.returncode, done.stderr) == (0, warning), args
    assert [v.version for v in Store(store).versions("datax")] == ["2.0"]


def test_a_found_problem_stays_1_on_a_full_disk(store: Path) -> None:
    tamper(store)
    done = full_disk(store, "verify")
    assert (done.returncode, done.stderr) == (
        1, "siglink: error: cannot write output: No space left on device\n")


def test_a_listing_lost_to_a_full_disk_is_74(store: Path) -> None:
    done = full_disk(store, "list")
    assert (done.returncode, done.stderr) == (
        74, "siglink: error: cannot write output: No space left on device\n")


def test_help_lost_to_a_full_disk_is_74(store: Path) -> None:
    done = full_disk(store, "--help")
    assert (done.returncode, done.stderr) == (
        74, "siglink: error: cannot write output: No space left on device\n")
    assert closed_pipe(store, "list", "--help").returncode == 0
