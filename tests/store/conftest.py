"""Fixtures for the store tests: real wheels (``siglink.demo.wheels``), and store snapshots."""

from __future__ import annotations

import hashlib
import sqlite3
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from siglink.demo import wheels

WheelMaker = Callable[..., Path]


def build_wheel(
    folder: Path,
    name: str,
    version: str,
    files: Mapping[str, str | bytes] | None = None,
    *,
    tag: str = "py3-none-any",
    requires: tuple[str, ...] = (),
    requires_python: str | None = None,
    extra_members: Mapping[str, bytes] | None = None,
    tamper: Mapping[str, bytes] | None = None,
    filename: str | None = None,
) -> Path:
    """A valid wheel (:func:`siglink.demo.wheels.make_wheel`) of ``files``.

    ``extra_members`` are written to the zip after ``files``, with a correct RECORD entry;
    ``tamper`` replaces members' bytes after RECORD was hashed.
    """
    module = name.replace("-", "_").lower()
    files = dict(files if files is not None else {
        f"{module}/__init__.py": (
            f'"""{name} {version}."""\n\n__version__ = "{version}"\n\n\n'
            "def greet(who, *, loud=False):\n"
            "    return ('HELLO ' if loud else 'hello ') + who\n"
        ),
    })
    path = wheels.make_wheel(folder, name, version, {**files, **(extra_members or {})},
                             tag=tag, requires=requires, requires_python=requires_python,
                             filename=filename or f"{module}-{version}-{tag}.whl")
    if tamper:
        with zipfile.ZipFile(path) as archive:
            members = {info.filename: archive.read(info) for info in archive.infolist()}
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for member, data in {**members, **tamper}.items():
                archive.writestr(member, data)
    return path


@pytest.fixture
def make_wheel(tmp_path: Path) -> WheelMaker:
    """``make_wheel("textkit", "1.0.0", {...files})`` → a wheel in ``tmp_path/wheels``."""

    def make(name: str, version: str, files: Mapping[str, str | bytes] | None = None,
             **kwargs: object) -> Path:
        folder = tmp_path / "wheels"
        return build_wheel(folder, name, version, files, **kwargs)  # type: ignore[arg-type]

    return make


def _snapshot(root: Path) -> dict[str, object]:
    """Every file under ``root`` with its bytes' hash, and the index dumped as SQL."""
    if not root.exists():
        return {"exists": False}
    tree = {
        str(p.relative_to(root)): (
            "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
        )
        for p in sorted(root.rglob("*"))
    }
    dump: list[str] = []
    index = root / "index.sqlite"
    if index.is_file():
        try:
            db = sqlite3.connect(f"file:{index}?mode=ro", uri=True)
            dump = list(db.iterdump())
            db.close()
        except sqlite3.DatabaseError as e:
            dump = [f"unreadable: {e}"]
    return {"exists": True, "tree": tree, "dump": dump}


@pytest.fixture
def snapshot() -> Callable[[Path], dict[str, object]]:
    """``snapshot(root)``: the store's files (hashed) and its index dump, for before/after."""
    return _snapshot
