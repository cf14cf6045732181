"""``gc`` and ``forget`` on a shared store owned by root, with a real second user whose
application is registered in their own registry file. Needs root (``useradd``, ``runuser``);
skipped with the reason otherwise."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from seconduser import PYTHON, account
from siglink.cli.main import main
from siglink.demo.wheels import make_wheel
from siglink.store import Store

USER = "siglinkfleet"
GREET = "def greet(who):\n    return 'hello ' + who\n"


@pytest.fixture
def other(readable_site: str) -> Iterator[tuple[Path, str]]:
    """A second user's home, and the directory that lets them import this siglink."""
    with account(USER) as home:
        assert home is not None
        yield home, readable_site


def _as_user(other: tuple[Path, str], *argv: str) -> subprocess.CompletedProcess[str]:
    home, site = other
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "PYTHONPATH": site, "NO_COLOR": "1",
           "LANG": "C.UTF-8"}
    return subprocess.run(["runuser", "-u", USER, "--", "env", "-i",
                           *(f"{k}={v}" for k, v in env.items()), PYTHON, "-m", "siglink",
                           *argv], check=False, capture_output=True, text=True, timeout=300,
                          cwd=home)


@pytest.fixture
def shared() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="siglink-shared-", dir="/tmp"))
    os.chmod(folder, 0o755)
    try:
        yield folder / "store"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _root(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([*argv])
    out, err = capsys.readouterr()
    return code, out, "".join(ln for ln in err.splitlines(keepends=True)
                              if not ln.startswith("siglink: ") or "error" in ln
                              or "warning" in ln)


def test_gc_and_forget_count_another_users_registry(
        other: tuple[Path, str], shared: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    home = other[0]
    wheels = {v: make_wheel(tmp_path / "wheels", "textkit", v, {"textkit/__init__.py": GREET})
              for v in ("1.0.0", "1.0.1")}
    Store(shared).install([str(wheels["1.0.0"])])
    app = home / "hello.py"
    app.write_text("import textkit\nprint(textkit.greet('x'))\n")
    shutil.chown(app, USER, USER)
    ran = _as_user(other, "run", "--store", str(shared), str(app))
    assert (ran.returncode, ran.stdout) == (0, "hello x\n"), ran.stderr
    [registry] = (home / ".local/share/siglink/registrations").glob("*.json")
    assert registry.stat().st_uid != 0
    mine = registry.read_bytes()

    # root installs the fix: the user's application is relinked for the report, but its
    # registration stays the user's (nothing copied into the index).
    code, out, err = _root(capsys, "install", str(wheels["1.0.1"]), "--store", str(shared))
    assert code == 0 and f"{app}: 1.0.0 -> 1.0.1" in out, (out, err)
    assert [w for _, w in Store(shared).registrations()] == [str(registry)]
    assert registry.read_bytes() == mine  # still says 1.0.0: the user's next start moves it

    # gc keeps the version the user's registration links, although no registration in the
    # index does and 1.0.1 is the newest of the release line.
    code, out, err = _root(capsys, "gc", "--json", "--store", str(shared))
    assert code == 0, err
    rows = {r["version"]: (r["action"], r["why"]) for r in json.loads(out)}
    assert rows == {"1.0.1": ("keep", "linked by a registered application"),
                    "1.0.0": ("keep", "linked by a registered application")}
    assert Store(shared).installed() == {("textkit", "1.0.0"), ("textkit", "1.0.1")}

    # root cannot forget it where the user registered it: one line naming the file and the
    # user, exit 3, nothing changed.
    code, out, err = _root(capsys, "forget", str(app), "--store", str(shared))
    assert (code, out) == (3, ""), err
    assert err == (f"siglink: error: {app} is still registered by {USER} in {registry}, "
                   f"which only {USER} can change; nothing was forgotten\n")
    assert registry.read_bytes() == mine

    # The user can; then gc removes the version nothing links any more.
    forgot = _as_user(other, "forget", str(app), "--store", str(shared))
    assert (forgot.returncode, forgot.stdout) == (0, "forgot hello.py\n"), forgot.stderr
    assert json.loads(registry.read_text())["apps"] == {}
    code, out, err = _root(capsys, "gc", "--store", str(shared))
    assert code == 0, err
    assert Store(shared).installed() == {("textkit", "1.0.1")}


def test_a_user_cannot_forget_what_the_index_holds(
        other: tuple[Path, str], shared: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """An application root registered (in the store's index) is named, not silently kept."""
    Store(shared).install([str(make_wheel(tmp_path / "wheels", "textkit", "1.0.0",
                                          {"textkit/__init__.py": GREET}))])
    folder = Path(tempfile.mkdtemp(prefix="siglink-app-", dir="/tmp"))
    os.chmod(folder, 0o755)
    try:
        app = folder / "tool.py"
        app.write_text("import textkit\nprint(textkit.greet('y'))\n")
        os.chmod(app, 0o644)
        code, _, err = _root(capsys, "build", str(app), "--store", str(shared))
        assert code == 0, err
        assert [w for _, w in Store(shared).registrations()] == ["index"]
        forgot = _as_user(other, "forget", str(app), "--store", str(shared))
        assert (forgot.returncode, forgot.stdout) == (3, ""), forgot.stderr
        assert forgot.stderr == (f"siglink: error: {app} is still registered by root in the "
                                 "store's index, which only root can change; nothing was "
                                 "forgotten\n")
        assert [w for _, w in Store(shared).registrations()] == ["index"]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
