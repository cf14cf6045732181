"""A removal that commits but cannot delete the version's files (here an immutable directory,
``chattr +i``): ``remove`` says so in one line naming the path and exits 3, the index keeps the
garbage entry, and the next change to the store deletes the files and drops the entry."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from tests.clirun import siglink
from tests.store.conftest import build_wheel


def _garbage(store: Path) -> list[str]:
    db = sqlite3.connect(f"file:{store / 'index.sqlite'}?mode=ro", uri=True)
    try:
        return [row[0] for row in db.execute("SELECT path FROM garbage ORDER BY path")]
    finally:
        db.close()


@contextmanager
def immutable(path: Path) -> Iterator[None]:
    """``path`` made immutable (its entries can be neither renamed nor deleted), then not."""
    chattr = shutil.which("chattr")
    if chattr is None:
        pytest.skip("chattr (e2fsprogs) is not installed")
    done = subprocess.run([chattr, "+i", str(path)], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        pytest.skip(f"chattr +i is not possible here: {done.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)


def test_files_that_cannot_be_deleted_keep_their_garbage_entry(tmp_path: Path) -> None:
    store = tmp_path / "store"
    for version in ("1.0", "2.0"):
        wheel = build_wheel(tmp_path / "w", "datax", version)
        assert siglink("install", "--no-deps", str(wheel), "--store", str(store)).returncode == 0
    lib = store / "libs/datax/1.0"
    with immutable(store / "libs/datax"):
        done = siglink("remove", "datax==1.0", "--store", str(store))
        assert done.returncode == 3, done.stderr
        assert done.stdout == "removed datax==1.0\n"
        [line] = done.stderr.splitlines()
        assert line.startswith(f"siglink: warning: removed datax==1.0 from the index, but {lib} "
                               "is still there ("), line
        assert line.endswith("Operation not permitted); the next change to the store tries "
                             "to delete it again"), line
        assert lib.is_dir()
        assert _garbage(store) == ["libs/datax/1.0"]
        listed = siglink("list", "--store", str(store))
        assert (listed.returncode, "1.0" in listed.stdout) == (0, False), listed
        # still immutable: a later change tries again, and keeps the entry again
        assert siglink("yank", "datax==2.0", "--reason", "x", "--store",
                       str(store)).returncode == 0
        assert lib.is_dir() and _garbage(store) == ["libs/datax/1.0"]
    assert siglink("unyank", "datax==2.0", "--store", str(store)).returncode == 0
    assert not lib.exists()
    assert _garbage(store) == []
