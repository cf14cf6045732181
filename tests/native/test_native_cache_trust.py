"""The cache of measured declarations is private: its directories get fixed modes whatever the
umask, and an entry that anyone but this user or root could have written is measured again, not
trusted (a forged layout would make a wrong call look verified)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from siglink.native.cdecl import describe

DECL = "struct point { int x; long y; };\nint area(struct point *p);\n"


def _measure(cache: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    monkeypatch.setenv("SIGLINK_NATIVE_CACHE", str(cache))
    return describe(DECL, text=True)


def test_cache_directories_are_not_left_to_the_umask(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "a" / "b" / "native"
    old = os.umask(0)
    try:
        _measure(cache, monkeypatch)
    finally:
        os.umask(old)
    for each in (tmp_path / "a", tmp_path / "a" / "b", cache):
        assert each.stat().st_mode & 0o777 == 0o755, (each, oct(each.stat().st_mode))
    (entry,) = cache.glob("*.json")
    assert not entry.stat().st_mode & 0o022


@pytest.mark.parametrize("loosen", ["file", "directory", "owner"])
def test_an_entry_others_could_write_is_measured_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loosen: str) -> None:
    cache = tmp_path / "native"
    measured = _measure(cache, monkeypatch)
    (entry,) = cache.glob("*.json")
    forged = json.loads(entry.read_text())
    forged["forged"] = True
    entry.write_text(json.dumps(forged))
    assert _measure(cache, monkeypatch).get("forged") is True  # this user's own entry is used
    if loosen == "file":
        entry.chmod(0o666)
    elif loosen == "directory":
        cache.chmod(0o777)
    else:
        if os.geteuid() != 0:
            pytest.skip("needs root to give the cache entry to another user")
        os.chown(entry, 65534, 65534)
    again = _measure(cache, monkeypatch)
    assert "forged" not in again and again == measured
