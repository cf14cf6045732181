"""Failures say what is wrong once, in the user's terms: an install refused for a module
conflict says "nothing was installed" once; a store file that cannot be written is named, not
the temporary file beside it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from siglink.cli.main import main
from siglink.store import Store

WheelMaker = Callable[..., Path]


@pytest.mark.parametrize("deps", [["--no-deps"], []])
def test_a_refused_install_says_nothing_was_installed_once(
        tmp_path: Path, make_wheel: WheelMaker, deps: list[str],
        capsys: pytest.CaptureFixture[str]) -> None:
    first = make_wheel("textkit", "1.0.0")
    second = make_wheel("otherkit", "1.0.0", {"textkit/__init__.py": "def f(): pass\n"})
    code = main(["install", *deps, str(first), str(second), "--store", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert code == 3, err
    assert err.count("nothing was installed") == 1, err
    assert err.count("\n") == 1, err


def test_a_generation_file_that_is_a_directory_is_named(
        tmp_path: Path, make_wheel: WheelMaker, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "store"
    Store(root).install([str(make_wheel("textkit", "1.0.0"))])
    (root / "generation").unlink()
    (root / "generation").mkdir()
    code = main(["yank", "textkit==1.0.0", "--reason", "x", "--store", str(root)])
    err = capsys.readouterr().err
    assert code == 3, err
    assert err == (f"siglink: error: {root / 'generation'}: cannot write the store's generation "
                   "file: it is a directory (remove it: the store writes the file again); "
                   "nothing was changed\n")
    (root / "generation").rmdir()
    assert Store(root).get("textkit", "1.0.0").yanked is None
    assert main(["yank", "textkit==1.0.0", "--reason", "x", "--store", str(root)]) == 0
