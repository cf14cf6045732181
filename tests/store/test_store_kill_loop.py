"""SIGKILL at every point of every change (install, yank, unyank, remove, repair): the store
afterwards is exactly as before or exactly as after, every directory under ``libs/`` is one the
index knows, the ``.yanked`` markers and ``yanks.json`` say what the index says, and the
generations say so: a version yanked or removed by a committed change always has a newer
generation than any plan computed before it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from siglink._layout import read_generations
from siglink.store import Store

WheelMaker = Callable[..., Path]
DRIVER = str(Path(__file__).with_name("pause_driver.py"))


def _state(root: Path) -> tuple[frozenset[tuple[str, str, str | None]], frozenset[str]]:
    """What a fresh reader sees (recovery included), checked for consistency."""
    store = Store(root)
    versions = frozenset((v.name, v.version, v.yanked) for name in store.names()
                         for v in store.versions(name))
    dirs = {f"{p.parent.name}/{p.name}" for p in (root / "libs").glob("*/*")}
    assert dirs == {f"{n}/{v}" for n, v, _ in versions}, (dirs, versions)
    assert store.generations() == read_generations(str(root / "generation"))
    assert list((root / ".staging").iterdir()) == []
    assert store.verify() == []  # every stored file as installed
    yanks = {(n, v): r for n, v, r in versions if r is not None}
    markers = {(p.parent.parent.name, p.parent.name): p.read_text().rstrip("\n")
               for p in (root / "libs").glob("*/*/.yanked")}
    assert markers == yanks, (markers, yanks)
    journal = json.loads((root / "yanks.json").read_text())
    assert {(n, v): r for n, vs in journal.items() for v, r in vs.items()} == yanks, journal
    store.close()
    return versions, frozenset(dirs)


def _killed_at(root: Path, point: str, *argv: str) -> int | None:
    """Run ``siglink ARGV`` paused at ``point`` and SIGKILL it there; its exit code when it
    never reached that point."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGLINK_TEST_")}
    env.update(SIGLINK_TEST_PAUSE_AT=point, SIGLINK_TEST_PAUSE_SECONDS="600")
    proc = subprocess.Popen([sys.executable, DRIVER, *argv, "--store", str(root)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=env)
    assert proc.stderr is not None
    line = proc.stderr.readline()
    if line != f"siglink: paused at {point}\n":
        proc.wait(timeout=600)
        proc.stderr.close()
        return proc.returncode
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    return None


OPERATIONS = {
    "install": (["install", "{wheel}"], ["staged", "indexed", "renamed", "generation",
                                         "committed"]),
    "yank": (["yank", "textkit==1.0.0", "--reason", "CVE-1"], ["generation", "committed"]),
    "unyank": (["unyank", "textkit==1.0.1"], ["generation", "committed"]),
    "remove": (["remove", "textkit==1.0.0", "--force"], ["generation", "committed",
                                                          "removed"]),
    "repair": (["store", "repair"], ["generation", "committed"]),
}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_sigkill_at_every_point(tmp_path: Path, make_wheel: WheelMaker, operation: str) -> None:
    root = tmp_path / "store"
    store = Store(root)
    store.install([str(make_wheel("textkit", v)) for v in ("1.0.0", "1.0.1")])
    store.yank("textkit", "1.0.1", "old")
    store.close()
    wheel = make_wheel("textkit", "2.0.0")
    argv, points = OPERATIONS[operation]
    argv = [a.replace("{wheel}", str(wheel)) for a in argv]
    # What the completed operation gives, on a copy.
    import shutil

    done = tmp_path / "done"
    shutil.copytree(root, done)
    before = _state(root)
    finished = subprocess.run([sys.executable, "-m", "siglink", *argv, "--store", str(done)],
                              check=False, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr
    after = _state(done)
    if operation != "repair":
        assert after != before
    pristine = tmp_path / "pristine"
    shutil.copytree(root, pristine)
    for point in points:
        generations_before = read_generations(str(root / "generation"))
        code = _killed_at(root, point, *argv)
        assert code is None, f"{operation} never reached {point} (exit {code})"
        state = _state(root)
        assert state in (before, after), (operation, point)
        generations = read_generations(str(root / "generation"))
        if state != before or point == "generation":
            # committed (or killed with the file ahead): plans from before are all stale
            assert generations[0] > generations_before[0], (operation, point)
            assert generations[1]["textkit"] > generations_before[1]["textkit"]
        shutil.rmtree(root)
        shutil.copytree(pristine, root)
