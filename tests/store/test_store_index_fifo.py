"""A FIFO or a directory where the store's index (or its generation file) should be: no
command hangs, every command exits 3 naming ``siglink store repair``, and the repair works."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from siglink.store import Store

WheelMaker = Callable[..., Path]

REPAIR = "nothing was changed: run 'siglink store repair' to rebuild it from libs/"


def siglink(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "siglink", "--store", str(root), *args],
                          capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, "NO_COLOR": "1"})


@pytest.fixture
def warm(tmp_path: Path, make_wheel: WheelMaker) -> tuple[Path, Path]:
    """A store and an application whose plan is cached (the next run is warm)."""
    root = tmp_path / "store"
    Store(root).install([str(make_wheel("datax", "1.0"))])
    app = tmp_path / "app.py"
    app.write_text("import datax\nprint(datax.greet('x'))\n")
    for _ in range(2):
        done = siglink(root, "run", str(app))
        assert (done.returncode, done.stdout) == (0, "hello x\n"), done.stderr
    return root, app


def replace(path: Path, kind: str) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.mkdir()


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_an_index_that_is_not_a_file_names_repair(warm: tuple[Path, Path], kind: str) -> None:
    root, app = warm
    index = root / "index.sqlite"
    replace(index, kind)
    what = "a FIFO" if kind == "fifo" else "a directory"
    message = (f"siglink: error: {index}: the store index is {what}, not a regular file; "
               f"{REPAIR}\n")
    for args in (("run", str(app)), ("list",), ("verify",), ("yank", "datax==1.0",
                                                              "--reason", "x")):
        done = siglink(root, *args)  # a warm run used to wait on the FIFO for ever
        assert (done.returncode, done.stdout, done.stderr) == (3, "", message), args
    done = siglink(root, "store", "repair")
    assert done.returncode == 0, done.stderr
    assert siglink(root, "run", str(app)).stdout == "hello x\n"
    aside = [p for p in root.iterdir() if p.name.startswith("index.sqlite.damaged-")]
    assert len(aside) == 1 and (aside[0].is_dir() if kind == "directory" else
                                aside[0].is_fifo())


def test_a_generation_fifo_does_not_hang_a_warm_run(warm: tuple[Path, Path]) -> None:
    root, app = warm
    replace(root / "generation", "fifo")
    done = siglink(root, "run", str(app))
    assert (done.returncode, done.stdout) == (0, "hello x\n"), done.stderr
