"""How big is the store's index? 32 real versions (Flask's world and friends, from the
package index), installed into a store; the index's size printed, against the layout before
schema 3 (each manifest as plain JSON text, every export and import also copied into rows of
its own) rebuilt from the same manifests in the same run.

Target (issue: compact index): at most 4 MB for the 32 versions.

Run: ``python3 benchmarks/bench_index.py`` (downloads the wheels once, with pip, into
``~/.cache/siglink-tests``).
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from conftest import fetch
from siglink.store import Store

VERSIONS = [
    "attrs==23.2.0", "attrs==24.2.0", "blinker==1.8.2", "click==7.1.2", "click==8.1.7",
    "execnet==2.1.2", "flask==2.2.5", "flask==3.0.3", "itsdangerous==2.1.2",
    "itsdangerous==2.2.0", "jinja2==3.1.3", "jinja2==3.1.4", "markupsafe==2.1.5",
    "packaging==21.3", "packaging==23.2", "packaging==24.0", "packaging==24.1",
    "pytest-benchmark==5.3.1", "pytest-xdist==3.8.0", "pyyaml==6.0.1", "requests==2.32.0",
    "urllib3==2.2.1", "urllib3==2.2.2", "werkzeug==2.3.8", "werkzeug==3.0.1",
    "werkzeug==3.0.3", "werkzeug==3.0.6", "werkzeug==3.1.3", "idna==3.7", "certifi==2024.2.2",
    "six==1.16.0", "charset-normalizer==3.3.2",
]

LEGACY_SCHEMA = """
CREATE TABLE versions (name TEXT, version TEXT, manifest TEXT, PRIMARY KEY (name, version));
CREATE TABLE exports (name TEXT NOT NULL, version TEXT NOT NULL, path TEXT NOT NULL,
                      kind TEXT NOT NULL, digest TEXT NOT NULL,
                      PRIMARY KEY (name, version, path));
CREATE TABLE imports (name TEXT NOT NULL, version TEXT NOT NULL, library TEXT NOT NULL,
                      path TEXT NOT NULL, digest TEXT, built_against TEXT);
CREATE INDEX imports_by_unit ON imports (name, version);
"""


def legacy_size(store: Store, folder: Path) -> int:
    """The bytes the same manifests took before schema 3 (the other tables are the same in
    both layouts and are counted from the real index: see :func:`main`)."""
    path = folder / "legacy.sqlite"
    db = sqlite3.connect(path)
    db.executescript(LEGACY_SCHEMA)
    for name, version in sorted(store.installed()):
        text = store.manifest_json(name, version)
        assert text is not None
        manifest = json.loads(text)
        db.execute("INSERT INTO versions VALUES (?, ?, ?)",
                   (name, version, json.dumps(manifest, sort_keys=True)))
        db.executemany("INSERT INTO exports VALUES (?, ?, ?, ?, ?)", [
            (name, version, p, str(e.get("kind", "")), str(e.get("digest", "")))
            for p, e in manifest.get("exports", {}).items()])
        db.executemany("INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?)", [
            (name, version, lib, i.get("path", ""), (i.get("expected") or {}).get("digest"),
             i.get("built_against"))
            for lib, items in manifest.get("imports", {}).items() for i in items])
    db.commit()
    db.execute("VACUUM")
    db.close()
    return path.stat().st_size


def table_bytes(index: Path, tables: tuple[str, ...]) -> int:
    """Bytes the pages of ``tables`` (and their indexes) take (SQLite's ``dbstat``)."""
    db = sqlite3.connect(f"file:{index}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
        owners = dict(db.execute("SELECT name, tbl_name FROM sqlite_master").fetchall())
    finally:
        db.close()
    return sum(size for name, size in rows if owners.get(name, name) in tables)


def main() -> None:
    wheels = [str(fetch(spec)) for spec in VERSIONS]
    with tempfile.TemporaryDirectory(prefix="siglink-bench-index-") as tmp:
        folder = Path(tmp)
        store = Store(folder / "store")
        start = time.perf_counter()
        store.install(wheels, allow_module_conflict=True)
        took = time.perf_counter() - start
        store.close()
        index = folder / "store" / "index.sqlite"
        db = sqlite3.connect(index)
        db.execute("VACUUM")
        db.close()
        size = index.stat().st_size
        versions_now = table_bytes(index, ("versions",))
        legacy_manifests = legacy_size(store, folder)
        other = size - versions_now - table_bytes(index, ("exports", "imports"))
        legacy = other + legacy_manifests
        print(f"{len(store.installed())} versions installed in {took:.1f} s")
        print(f"index (schema 3, compressed manifests): {size / 1e6:.2f} MB "
              f"({size} bytes, target <= 4 MB)")
        print(f"same manifests as before (text + export/import rows): {legacy / 1e6:.2f} MB")
        print(f"ratio before/now: {legacy / size:.1f}x")
        print(f"file records for verify: {table_bytes(index, ('records',)) / 1e6:.2f} MB "
              "of the index")


if __name__ == "__main__":
    main()
