"""Parsed manifests are cached per store and index generation, never across a change."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from siglink.store import Store

WheelMaker = Callable[..., Path]


def test_reinstalled_version_with_another_signature(tmp_path: Path,
                                                   make_wheel: WheelMaker) -> None:
    root = tmp_path / "store"
    first = make_wheel("textkit", "1.0.0", {"textkit/__init__.py": "def greet(who): ...\n"})
    store = Store(root)
    store.install([str(first)])
    assert "textkit.greet" in store.manifest("textkit", "1.0.0").exports
    store.remove("textkit", "1.0.0")
    second = make_wheel("textkit", "1.0.0", {"textkit/__init__.py": "def shout(who): ...\n"})
    store.install([str(second)])
    exports = store.manifest("textkit", "1.0.0").exports
    assert "textkit.shout" in exports and "textkit.greet" not in exports
    # Another Store object in the same process sees the same (no process-wide cache).
    other = Store(root)
    assert "textkit.shout" in other.manifest("textkit", "1.0.0").exports


def test_two_stores_with_the_same_version_do_not_share_manifests(
        tmp_path: Path, make_wheel: WheelMaker) -> None:
    a = make_wheel("textkit", "1.0.0", {"textkit/__init__.py": "def greet(who): ...\n"})
    one = Store(tmp_path / "one")
    one.install([str(a)])
    assert "textkit.greet" in one.manifest("textkit", "1.0.0").exports
    b = make_wheel("textkit", "1.0.0", {"textkit/__init__.py": "def shout(who): ...\n"})
    two = Store(tmp_path / "two")
    two.install([str(b)])
    assert "textkit.shout" in two.manifest("textkit", "1.0.0").exports


def test_a_store_deleted_and_created_again(tmp_path: Path, make_wheel: WheelMaker) -> None:
    import shutil

    root = tmp_path / "store"
    Store(root).install([str(make_wheel("textkit", "1.0.0",
                                        {"textkit/__init__.py": "def greet(who): ...\n"}))])
    assert "textkit.greet" in Store(root).manifest("textkit", "1.0.0").exports
    shutil.rmtree(root)
    Store(root).install([str(make_wheel("textkit", "1.0.0",
                                        {"textkit/__init__.py": "def shout(who): ...\n"}))])
    assert "textkit.shout" in Store(root).manifest("textkit", "1.0.0").exports
