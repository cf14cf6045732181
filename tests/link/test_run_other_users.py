"""Real second users (``useradd``, ``runuser``) and the stores they may use: ``-m``
applications of a user who cannot write a root-owned store, and a store another ordinary
user owns, found by discovery. Needs root; skipped with the reason otherwise."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from linkfixtures import chown_tree, install, make_wheel

from seconduser import PYTHON, account

ALICE = "siglinkalice"
MALLORY = "siglinkmallory"
SHOUT = "def shout(text):\n    return text.upper() + '!'\n"


@pytest.fixture
def shared() -> Iterator[Path]:
    """A directory every user can enter (pytest's own are private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="siglink-users-", dir="/tmp"))
    os.chmod(folder, 0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _as(user: str, home: Path, site: str, *argv: str, cwd: Path | None = None,
        **env: str) -> subprocess.CompletedProcess[str]:
    base = {"HOME": str(home), "PATH": "/usr/bin:/bin", "PYTHONPATH": site, "NO_COLOR": "1",
            "LANG": "C.UTF-8", **env}
    return subprocess.run(["runuser", "-u", user, "--", "env", "-i",
                           *(f"{k}={v}" for k, v in base.items()), PYTHON, "-m", "siglink",
                           *argv], check=False, capture_output=True, text=True, timeout=300,
                          cwd=cwd or home)


def test_a_user_builds_plans_and_runs_a_module_against_a_root_owned_store(
        shared: Path, capsys: pytest.CaptureFixture[str], readable_site: str) -> None:
    store = shared / "store"
    install(capsys, store, make_wheel(shared, "textkit", "1.0.0", {
        "textkit/__init__.py": SHOUT}))
    with account(ALICE) as home:
        assert home is not None
        mod = home / "mymod.py"
        mod.write_text("import textkit\nprint(textkit.shout('hi'))\n")
        shutil.chown(mod, ALICE, ALICE)
        for argv in (["build", "-m", "mymod"], ["plan", "-m", "mymod"],
                     ["run", "-m", "mymod"], ["run", "-m", "mymod"]):
            result = _as(ALICE, home, readable_site, "--store", str(store), *argv)
            assert result.returncode == 0, (argv, result.stderr)
        assert result.stdout == "HI!\n"
        [manifest] = (home / ".local/share/siglink/stores").glob(
            "*/apps/modules/*/mymod.siglink.json")
        assert manifest.stat().st_uid != 0
        assert not (store / "apps").exists()
        apps = _as(ALICE, home, readable_site, "--store", str(store), "apps")
        assert f"-m mymod (in {home})" in apps.stdout, apps.stdout + apps.stderr


def test_a_store_another_ordinary_user_owns_is_refused_unless_trusted(
        shared: Path, capsys: pytest.CaptureFixture[str], readable_site: str) -> None:
    data = shared / "share"
    store = data / "siglink"
    install(capsys, store, make_wheel(shared, "textkit", "1.0.0", {
        "textkit/__init__.py": SHOUT}))
    with account(MALLORY) as mallory_home, account(ALICE) as home:
        assert home is not None and mallory_home is not None
        import pwd

        mallory = pwd.getpwnam(MALLORY).pw_uid
        alice = pwd.getpwnam(ALICE).pw_uid
        chown_tree(store, mallory)
        app = home / "app.py"
        app.write_text("import textkit\nprint(textkit.shout('hi'))\n")
        shutil.chown(app, ALICE, ALICE)

        def start(user: str, user_home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
            return _as(user, user_home, readable_site, *argv, str(app), cwd=user_home,
                       XDG_DATA_DIRS=str(data), SIGLINK_DEBUG="1")

        refused = start(ALICE, home, "run")
        assert refused.returncode == 3, refused.stderr
        assert (f"{store}: owned by uid {mallory}, neither root nor this user (uid {alice}): "
                "siglink does not use another user's store (--trust-owner or "
                "SIGLINK_TRUST_STORE_OWNER=1 trusts it)") in refused.stderr
        assert "HI!" not in refused.stdout
        hows = []
        for _ in range(2):
            trusted = start(ALICE, home, "run", "--trust-owner")
            assert (trusted.returncode, trusted.stdout) == (0, "HI!\n"), trusted.stderr
            hows.append("warm" if "siglink: warm plan" in trusted.stderr else "cold")
        assert hows == ["cold", "warm"]
        again = start(ALICE, home, "run")  # a warm plan exists: still refused without the flag
        assert again.returncode == 3 and "HI!" not in again.stdout, again.stderr
        assert start(ALICE, home, "plan").returncode == 3
        # the store's owner uses it as ever
        shutil.copy(app, mallory_home / "app.py")
        shutil.chown(mallory_home / "app.py", MALLORY, MALLORY)
        own = _as(MALLORY, mallory_home, readable_site, "run", str(mallory_home / "app.py"),
                  XDG_DATA_DIRS=str(data))
        assert (own.returncode, own.stdout) == (0, "HI!\n"), own.stderr
