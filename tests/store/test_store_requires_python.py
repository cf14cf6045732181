"""``install`` of a version whose Requires-Python excludes this interpreter warns."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from siglink.cli.main import main

WheelMaker = Callable[..., Path]
WARNING = ("textkit==1.0.0: Requires-Python >=3.99 excludes this interpreter: it will not be "
           "linked here")


def test_excluded_interpreter_is_installed_with_a_warning(
        tmp_path: Path, make_wheel: WheelMaker, capsys: pytest.CaptureFixture[str]) -> None:
    wheel = str(make_wheel("textkit", "1.0.0", requires_python=">=3.99"))
    root = str(tmp_path / "store")
    assert main(["install", wheel, "--store", root]) == 0
    out, err = capsys.readouterr()
    assert out == "installed textkit==1.0.0\n"
    assert err == f"siglink: warning: {WARNING}\n"
    assert main(["install", wheel, "--store", root, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["warnings"] == [WARNING]


def test_an_including_requires_python_says_nothing(
        tmp_path: Path, make_wheel: WheelMaker, capsys: pytest.CaptureFixture[str]) -> None:
    wheel = str(make_wheel("textkit", "1.0.0", requires_python=">=3.8"))
    assert main(["install", wheel, "--store", str(tmp_path / "store")]) == 0
    assert capsys.readouterr().err == ""
