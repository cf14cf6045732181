"""Helpers for the fleet tests: a CLI runner, store snapshots, the console script."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from siglink.cli.main import main

SIGLINK = [sys.executable, "-m", "siglink"]  # this interpreter's siglink, whatever is on PATH
DATA = Path(__file__).parent / "data"


class Cli:
    """``cli("install", "x==1")`` runs ``siglink ... --store ROOT`` in-process: (code, out,
    err), with the progress lines (``siglink: resolving ...``) left out of ``err``."""

    def __init__(self, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.root = root
        self.capsys = capsys

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        code = main([*argv, "--store", str(self.root)])
        out, err = self.capsys.readouterr()
        kept = [ln for ln in err.splitlines(keepends=True) if not ln.startswith("siglink: ")
                or ln.startswith(("siglink: error:", "siglink: warning:"))]
        return code, out, "".join(kept)

    def ok(self, *argv: str) -> str:
        code, out, err = self(*argv)
        assert code == 0, err
        return out

    def run_app(self, app: Path, *args: str) -> subprocess.CompletedProcess[str]:
        """``siglink run APP`` through the console script (it replaces its process)."""
        return subprocess.run([*SIGLINK, "run", "--store", str(self.root), str(app), *args],
                              capture_output=True, text=True, check=False, timeout=300)


def snapshot_of(root: Path) -> dict[str, object]:
    """Every file under ``root`` with its hash, and the index as SQL (the store unchanged?)."""
    if not root.exists():
        return {"exists": False}
    tree = {str(p.relative_to(root)): "dir" if p.is_dir() else
            hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if ".lock" not in p.name}
    index = root / "index.sqlite"
    dump: list[str] = []
    if index.is_file():
        with sqlite3.connect(index) as db:
            dump = list(db.iterdump())
        tree.pop("index.sqlite", None)
    return {"tree": tree, "index": dump}
