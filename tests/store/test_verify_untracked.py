"""``verify`` over the whole store names each ``libs/NAME/VERSION`` directory the index does
not track (rows lost from the index), exits 1 and points to ``store repair``."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from siglink.cli.main import main
from siglink.store import Store

WheelMaker = Callable[..., Path]


@pytest.fixture
def root(tmp_path: Path, make_wheel: WheelMaker) -> Path:
    root = tmp_path / "store"
    store = Store(root)
    store.install([str(make_wheel("textkit", v)) for v in ("1.0.0", "1.0.1")])
    store.close()
    return root


def test_intact_store_stays_intact(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (root / ".staging").mkdir(exist_ok=True)
    assert main(["verify", "--store", str(root)]) == 0
    assert "intact: 2 versions as installed" in capsys.readouterr().out


@pytest.mark.parametrize("how", ["rows deleted", "directory planted"])
def test_verify_names_an_untracked_version_directory(
        root: Path, how: str, capsys: pytest.CaptureFixture[str]) -> None:
    if how == "rows deleted":
        with sqlite3.connect(root / "index.sqlite") as db:
            tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE "
                                               "type = 'table'")]
            db.execute("PRAGMA foreign_keys = OFF")
            for table in tables:
                columns = [c[1] for c in db.execute(f"PRAGMA table_info({table})")]
                if "version" in columns and "name" in columns:
                    db.execute(f"DELETE FROM {table} WHERE version = '1.0.1'")
        db.close()
        untracked = "libs/textkit/1.0.1"
    else:
        (root / "libs/other/9.9").mkdir(parents=True)
        untracked = "libs/other/9.9"
    code = main(["verify", "--store", str(root)])
    out = capsys.readouterr().out
    assert code == 1, out
    assert (f"{untracked}: a version directory the index does not track (run "
            "'siglink store repair' to adopt it)") in out.splitlines()
    assert "intact" not in out
    assert main(["verify", "--json", "--store", str(root)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["intact"] is False
    assert {"name": untracked.split("/")[1], "version": untracked.split("/")[2],
            "kind": "untracked", "path": untracked} in report["findings"]
