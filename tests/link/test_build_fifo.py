"""A FIFO where one of an application's own files should be (its ``pyproject.toml``, its
``requirements.txt``, its manifest, a module of it): ``siglink build`` and ``run`` refuse it
in one line (exit 2) and never wait on it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from siglink.demo.wheels import make_wheel
from siglink.store import Store

FIFO = "cannot be read: is a FIFO, not a regular file"


def siglink(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "siglink", "--store", str(store), *args],
                          capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, "NO_COLOR": "1"})


@pytest.fixture
def store(tmp_path: Path) -> Path:
    root = tmp_path / "store"
    Store(root).install([str(make_wheel(tmp_path / "w", "datax", "1.0",
                                        {"datax/__init__.py": "def greet(w):\n    return w\n"}))])
    return root


def app(folder: Path) -> Path:
    folder.mkdir()
    script = folder / "app.py"
    script.write_text("import datax\nprint(datax.greet('x'))\n")
    return script


@pytest.mark.parametrize("name", ["pyproject.toml", "requirements.txt"])
def test_a_fifo_beside_the_app_is_refused(tmp_path: Path, store: Path, name: str) -> None:
    script = app(tmp_path / "app")
    os.mkfifo(script.parent / name)
    for command in ("build", "run"):
        done = siglink(store, command, str(script))
        assert (done.returncode, done.stdout, done.stderr) == (
            2, "", f"siglink: error: {script.parent / name}: {FIFO}\n"), command


def test_a_fifo_manifest_is_refused_by_run(tmp_path: Path, store: Path) -> None:
    script = app(tmp_path / "app")
    manifest = script.parent / "app.siglink.json"
    os.mkfifo(manifest)
    done = siglink(store, "run", str(script))
    assert (done.returncode, done.stderr) == (
        2, f"siglink: error: {manifest}: not read: it is a FIFO, not a regular file\n")


def test_a_fifo_module_of_a_directory_app_is_refused(tmp_path: Path, store: Path) -> None:
    folder = tmp_path / "tool"
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    (folder / "__main__.py").write_text("import datax\nfrom . import helper\n")
    os.mkfifo(folder / "helper.py")
    done = siglink(store, "build", str(folder))
    assert (done.returncode, done.stderr) == (2, f"siglink: error: helper.py: {FIFO}\n")
