"""Failures say what is wrong once, in the user's terms: an install refused for a module
conflict says "nothing was installed" once; a store file that cannot be written is named, not
the temporary file beside it."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
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


def test_a_full_disk_is_not_a_damaged_index(make_wheel: WheelMaker,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """SQLite's "database or disk is full" says so, exit 3, and does not send the user to
    ``store repair`` (nothing is damaged). Needs root to mount a small tmpfs."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        print("skipped: needs root and mount for a small tmpfs")
        pytest.skip("needs root and mount for a small tmpfs")
    mount = Path(tempfile.mkdtemp(prefix="siglink-full-", dir="/tmp"))
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
                      check=False, capture_output=True).returncode != 0:
        mount.rmdir()
        print("skipped: cannot mount a tmpfs here")
        pytest.skip("cannot mount a tmpfs here")
    try:
        os.chmod(mount, 0o755)
        root = mount / "store"
        store = Store(root)
        store.install([str(make_wheel("textkit", "1.0.0"))])
        store.close()
        fd = os.open(mount / "fill", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError:
            pass  # full
        finally:
            os.close(fd)
        code = main(["yank", "textkit==1.0.0", "--reason", "x", "--store", str(root)])
        err = capsys.readouterr().err
        assert code == 3, err
        assert err.count("\n") == 1 and "store repair" not in err and "corrupt" not in err, err
        assert "full" in err or "No space left" in err, err
        (mount / "fill").unlink()
        store = Store(root)
        assert store.get("textkit", "1.0.0").yanked is None
        store.close()
        assert main(["yank", "textkit==1.0.0", "--reason", "x", "--store", str(root)]) == 0
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], check=False)
        mount.rmdir()
