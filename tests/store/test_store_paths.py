"""Paths are paths: a store under a directory whose name has ``#``, ``?``, ``%41``, spaces or
bytes that are not UTF-8 works like any other, and nothing is written beside it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from siglink.cli.main import main
from siglink.store import Store

WheelMaker = Callable[..., Path]

NAMES = ["a #1", "b?mode=ro", "c%41", "d%2Fe", "f:g", os.fsdecode(b"h\xff\xfei")]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name", NAMES)
def test_store_under_any_name(tmp_path: Path, name: str, make_wheel: WheelMaker,
                              capsys: pytest.CaptureFixture[str]) -> None:
    parent = tmp_path / "stores"
    parent.mkdir()
    root = parent / name
    wheel = make_wheel("textkit", "1.0.0")
    assert run(capsys, "install", str(wheel), "--store", str(root)) == (
        0, "installed textkit==1.0.0\n", "")
    assert os.listdir(parent) == [name]  # nothing beside it (no index under a cut path)
    assert (root / "index.sqlite").is_file()
    code, out, _ = run(capsys, "list", "--json", "--store", str(root))
    assert (code, json.loads(out)[0]["name"]) == (0, "textkit")
    assert Store(root).installed() == {("textkit", "1.0.0")}
    app = tmp_path / "hello.py"
    app.write_text("import textkit\nprint(textkit.greet('x'))\n")
    ran = subprocess.run([sys.executable, "-m", "siglink", "run", "--store", os.fsencode(root),
                          str(app)], check=False, capture_output=True, timeout=300)
    assert (ran.returncode, ran.stdout) == (0, b"hello x\n"), ran.stderr
    assert run(capsys, "remove", "textkit==1.0.0", "--force", "--store", str(root))[0] == 0
    assert Store(root).installed() == set()


def test_not_utf8_in_messages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A message naming such a path is one line, the bytes escaped, never a traceback."""
    root = tmp_path / os.fsdecode(b"s\xff")
    proc = subprocess.run([sys.executable, "-m", "siglink", "list", "--store",
                           os.fsencode(root)], check=False, capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(b"no store at ") and proc.stdout.count(b"\n") == 1
    proc = subprocess.run([sys.executable, "-m", "siglink", "show", "x==1", "--store",
                           os.fsencode(root)], check=False, capture_output=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.count(b"\n") == 1, proc.stderr
    assert b"Traceback" not in proc.stderr
