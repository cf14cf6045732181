"""A shared store owned by root, read by a real second user: the user runs linked
applications from it, registers them in a file of their own, and root's ``remove`` refuses a
version the user's application links. Needs root (``useradd``); skipped with the reason
otherwise."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import siglink
from seconduser import PYTHON, account
from siglink._layout import store_root
from siglink.store import Store

WheelMaker = Callable[..., Path]
USER = "siglinkshared"
SRC = str(Path(siglink.__file__ or "").resolve().parent.parent)


@pytest.fixture
def second_user(readable_site: str) -> Iterator[Path]:
    _SITE[:] = [readable_site]
    with account(USER) as home:
        assert home is not None
        yield home


_SITE: list[str] = []  # readable_site, set by the second_user fixture


def _as_user(home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "PYTHONPATH": _SITE[0],
           "NO_COLOR": "1", "LANG": "C.UTF-8"}
    return subprocess.run(["runuser", "-u", USER, "--", "env", "-i",
                           *(f"{k}={v}" for k, v in env.items()), PYTHON, "-m", "siglink",
                           *argv], check=False, capture_output=True, text=True, timeout=300,
                          cwd=home)


def test_a_user_runs_from_roots_shared_store(second_user: Path, make_wheel: WheelMaker,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from siglink.cli.main import main

    shared = Path(tempfile.mkdtemp(prefix="siglink-shared-", dir="/tmp"))
    os.chmod(shared, 0o755)
    try:
        root = shared / "store"
        Store(root).install([str(make_wheel("textkit", "1.0.0"))])
        app = second_user / "hello.py"
        app.write_text("import textkit\nprint(textkit.greet('x'))\n")
        shutil.chown(app, USER, USER)

        ran = _as_user(second_user, "run", "--store", str(root), str(app))
        assert (ran.returncode, ran.stdout) == (0, "hello x\n"), ran.stderr
        registries = list((second_user / ".local/share/siglink/registrations").glob("*.json"))
        assert len(registries) == 1 and registries[0].stat().st_uid != 0
        # The user cannot change the store: one line, exit 3.
        yank = _as_user(second_user, "yank", "textkit==1.0.0", "--reason", "x", "--store",
                        str(root))
        assert yank.returncode == 3 and yank.stderr.count("\n") == 1, yank.stderr

        # Root sees the user's application and will not remove what it links.
        code = main(["who-uses", "textkit", "--store", str(root)])
        out, _ = capsys.readouterr()
        assert code == 0 and "hello.py" in out, out
        code = main(["remove", "textkit==1.0.0", "--store", str(root)])
        _, err = capsys.readouterr()
        assert code == 3 and str(app) in err, err
        assert Store(root).installed() == {("textkit", "1.0.0")}
        assert main(["remove", "textkit==1.0.0", "--force", "--store", str(root)]) == 0
        assert Store(root).installed() == set()
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def test_search_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--store > $SIGLINK_STORE > the user's store if it exists > $XDG_DATA_DIRS/siglink >
    /var/lib/siglink > the user's store (to be created)."""
    monkeypatch.delenv("SIGLINK_STORE")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home"))
    shared = [tmp_path / "a", tmp_path / "b"]
    monkeypatch.setenv("XDG_DATA_DIRS", ":".join(map(str, shared)))
    own = str(tmp_path / "home" / "siglink")
    assert store_root() == own  # nothing exists: the user's, created by the first change
    (shared[1] / "siglink").mkdir(parents=True)
    (shared[1] / "siglink" / "index.sqlite").touch()
    assert store_root() == str(shared[1] / "siglink")
    (shared[0] / "siglink").mkdir(parents=True)
    assert store_root() == str(shared[1] / "siglink")  # a directory without an index: no
    (shared[0] / "siglink" / "index.sqlite").touch()
    assert store_root() == str(shared[0] / "siglink")
    Path(own).mkdir(parents=True)
    (Path(own) / "index.sqlite").touch()
    assert store_root() == own
    monkeypatch.setenv("SIGLINK_STORE", str(tmp_path / "env"))
    assert store_root() == str(tmp_path / "env")
    assert store_root(tmp_path / "given") == str(tmp_path / "given")
