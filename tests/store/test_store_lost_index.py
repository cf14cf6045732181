"""A user's store whose index was deleted is still the user's store: every command stops with
exit 3 naming ``siglink store repair`` and the index's path, instead of silently using a store
found further along the search path (``$XDG_DATA_DIRS``, ``/var/lib/siglink``)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from siglink._layout import store_root
from siglink.cli.main import main
from siglink.store import Store

WheelMaker = Callable[..., Path]


@pytest.fixture
def stores(tmp_path: Path, make_wheel: WheelMaker,
           monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.delenv("SIGLINK_STORE", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_DIRS", str(tmp_path / "shared"))
    shared = tmp_path / "shared" / "siglink"
    Store(shared).install([str(make_wheel("textkit", "1.0.0"))])
    own = tmp_path / "home" / "siglink"
    Store(own).install([str(make_wheel("textkit", "2.0.0"))])
    assert store_root() == str(own)
    return own, shared


@pytest.mark.parametrize("keep", ["libs", "generation"])
def test_a_store_without_its_index_is_refused_not_replaced(
        stores: tuple[Path, Path], keep: str, make_wheel: WheelMaker,
        capsys: pytest.CaptureFixture[str]) -> None:
    own, shared = stores
    (own / "index.sqlite").unlink()
    if keep == "generation":  # no version left in libs/: the store's other files say it
        shutil.rmtree(own / "libs")
        (own / "yanks.json").unlink(missing_ok=True)
    assert store_root() == str(own)
    other = make_wheel("otherlib", "1.0")
    for argv in (["list"], ["show", "textkit"], ["install", str(other), "--no-deps"],
                 ["yank", "textkit==1.0.0", "--reason", "x"], ["verify"], ["gc"]):
        code, out = main(argv), capsys.readouterr()
        assert code == 3, (argv, out)
        assert out.err.count("\n") == 1, (argv, out.err)
        assert str(own / "index.sqlite") in out.err and "siglink store repair" in out.err, (
            argv, out.err)
    assert Store(shared).get("textkit", "1.0.0").yanked is None  # the shared one untouched
    assert not (own / "index.sqlite").exists()
    assert main(["store", "repair"]) in (0, 1)
    capsys.readouterr()
    assert main(["list"]) == 0
    listed = capsys.readouterr().out
    assert ("2.0.0" in listed) == (keep == "libs") and "1.0.0" not in listed, listed


def test_a_users_registrations_alone_do_not_make_a_store(
        stores: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """A user of a shared store keeps registrations in their own directory: that is not a
    store, and the shared one is found."""
    own, shared = stores
    shutil.rmtree(own)
    (own / "registrations").mkdir(parents=True)
    assert store_root() == str(shared)
    assert main(["list"]) == 0
    assert "1.0.0" in capsys.readouterr().out
