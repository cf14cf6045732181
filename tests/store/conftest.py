"""Fixtures for the store tests: real wheels built with ``zipfile``, and store snapshots."""

from __future__ import annotations

import base64
import hashlib
import sqlite3
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

WheelMaker = Callable[..., Path]


def record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


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
    """A valid wheel (METADATA, WHEEL, RECORD with sha256 hashes) of ``files``.

    ``extra_members`` are written to the zip but left out of RECORD's hashing (they get a
    correct entry too unless ``tamper`` replaces their bytes after hashing).
    """
    module = name.replace("-", "_").lower()
    files = dict(files if files is not None else {
        f"{module}/__init__.py": (
            f'"""{name} {version}."""\n\n__version__ = "{version}"\n\n\n'
            "def greet(who, *, loud=False):\n"
            "    return ('HELLO ' if loud else 'hello ') + who\n"
        ),
    })
    dist_info = f"{name.replace('-', '_')}-{version}.dist-info"
    meta = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    meta += [f"Requires-Dist: {r}" for r in requires]
    if requires_python:
        meta.append(f"Requires-Python: {requires_python}")
    members: dict[str, bytes] = {
        path: data.encode() if isinstance(data, str) else data for path, data in files.items()
    }
    members.update(extra_members or {})
    members[f"{dist_info}/METADATA"] = ("\n".join(meta) + "\n").encode()
    members[f"{dist_info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: siglink-tests\nRoot-Is-Purelib: true\nTag: {tag}\n"
    ).encode()
    rows = [f"{p},{record_hash(d)},{len(d)}" for p, d in members.items()]
    rows.append(f"{dist_info}/RECORD,,")
    members[f"{dist_info}/RECORD"] = ("\n".join(rows) + "\n").encode()
    members.update(tamper or {})
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (filename or f"{module}-{version}-{tag}.whl")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
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
