"""A registry file's entries are read only when sane: a manifest path that is not absolute or
holds a control character, or a link that is not a project name and a version, is skipped
with one warning line (printed inert); a registry holds at most MAX_ENTRIES entries."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from siglink.store import _registry
from siglink.store._core import StoreCore


def _registry_file(tmp_path: Path, core: StoreCore, entries: dict[str, object]) -> Path:
    path = tmp_path / "registry.json"
    path.write_text(json.dumps({"store": os.fsdecode(core.root), "apps": entries}))
    return path


def _entry(manifest: str, links: dict[str, object]) -> dict[str, object]:
    return {"manifest_path": manifest, "links": links, "refused": None}


@pytest.mark.parametrize(("manifest", "links", "why"), [
    ("/srv/app\x1b[2J/a.siglink.json", {"textkit": "1.0.0"}, "manifest path"),
    ("/srv/app\n/a.siglink.json", {"textkit": "1.0.0"}, "manifest path"),
    ("/srv/app\x9b/a.siglink.json", {"textkit": "1.0.0"}, "manifest path"),
    ("relative/a.siglink.json", {"textkit": "1.0.0"}, "manifest path"),
    ("/srv/a.siglink.json", {"textkit": "1.0\x07"}, "not a valid version"),
    ("/srv/a.siglink.json", {"textkit": "\x1b[2J"}, "not a valid version"),
    ("/srv/a.siglink.json", {"textkit": 3}, "not a valid version"),
    ("/srv/a.siglink.json", {"text\x1bkit": "1.0.0"}, "not a project name"),
])
def test_an_insane_entry_is_skipped_with_a_warning(
        tmp_path: Path, manifest: str, links: dict[str, object], why: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    core = StoreCore(tmp_path / "store")
    path = _registry_file(tmp_path, core, {
        "bad": _entry(manifest, links),
        "good": _entry("/srv/good.siglink.json", {"textkit": "1.0.0", "other": None})})
    found = _registry._read_registry(path, core)
    assert [a.app_id for a in found] == ["good"]
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"siglink: warning: skipped the registration bad in {path}: ") and why in lines[0]
    assert err.isprintable() is False and err[:-1].isprintable()  # only the final newline


def test_a_registry_is_read_up_to_its_cap(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    core = StoreCore(tmp_path / "store")
    count = _registry.MAX_ENTRIES + 5
    path = _registry_file(tmp_path, core, {
        f"app{i}": _entry(f"/srv/{i}.siglink.json", {"textkit": "1.0.0"})
        for i in range(count)})
    found = _registry._read_registry(path, core)
    assert len(found) == _registry.MAX_ENTRIES
    err = capsys.readouterr().err
    assert f"past its first {_registry.MAX_ENTRIES} entries (it holds {count})" in err
