"""The store owner's plans in ``ROOT/plans`` are the owner's alone: a script's plan carries its
compiled code (string constants, secrets included), so the directory is 0700 and its files 0600
whatever the umask, and a directory an earlier version left 0755 is tightened on the next write.
A real second user (``useradd``, ``setpriv``) cannot read them; needs root for that part."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from linkfixtures import install, make_app, make_wheel

LAUNCHER = "import sys; sys.path.pop(0); from siglink._entry import entry; entry()"
USER = "siglink-test"
SECRET = "sk-0123456789abcdef"


def _start(app: Path, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", LAUNCHER, "run", str(app)], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A directory another user can enter (pytest's own may be private)."""
    path = Path(tempfile.mkdtemp(prefix="siglink-modes-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path)


def _setup(tmp: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path, dict[str, str]]:
    store = tmp / "store"
    install(capsys, store, make_wheel(tmp, "textkit", "1.0.0", {
        "textkit/__init__.py": "def shout(text):\n    return text.upper() + '!'\n"}))
    app = make_app(tmp, f"import textkit\nAPI_TOKEN = {SECRET!r}\nprint(textkit.shout('hi'))\n")
    env = {**os.environ, "SIGLINK_STORE": str(store), "SIGLINK_DEBUG": "1",
           "XDG_CACHE_HOME": str(tmp / "cache")}
    return store, app, env


def _modes(plans: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mode & 0o777 for p in [plans, *plans.iterdir()]}


def test_the_owner_s_plans_are_private_whatever_the_umask(
        shared_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store, app, env = _setup(shared_tmp, capsys)
    old = os.umask(0)
    try:
        result = _start(app, env, shared_tmp)
    finally:
        os.umask(old)
    assert (result.returncode, result.stdout) == (0, "HI!\n"), result.stderr
    plans = store / "plans"
    modes = _modes(plans)
    assert any(name.endswith(".warm") for name in modes) and ".key" in modes
    assert modes.pop("plans") == 0o700
    assert set(modes.values()) == {0o600}, modes
    assert SECRET.encode() in next(plans.glob("*.warm")).read_bytes()  # why it matters


def test_an_open_plan_directory_is_tightened_by_the_next_write(
        shared_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store, app, env = _setup(shared_tmp, capsys)
    assert _start(app, env, shared_tmp).returncode == 0
    plans = store / "plans"
    plans.chmod(0o755)  # as an earlier siglink made it
    for plan in plans.glob("*.warm"):
        plan.chmod(0o644)
    warm = _start(app, env, shared_tmp)
    assert (warm.returncode, warm.stdout) == (0, "HI!\n") and "warm plan" in warm.stderr
    app.write_text(app.read_text() + "print('again')\n")  # the next start plans again
    cold = _start(app, env, shared_tmp)
    assert (cold.returncode, cold.stdout) == (0, "HI!\nagain\n"), cold.stderr
    assert "cold plan" in cold.stderr
    assert plans.stat().st_mode & 0o777 == 0o700
    assert {p.stat().st_mode & 0o777 for p in plans.glob("*.warm")} == {0o600}


@pytest.fixture(scope="module")
def other() -> Iterator[pwd.struct_passwd]:
    if os.getuid() != 0 or shutil.which("setpriv") is None or shutil.which("useradd") is None:
        pytest.skip("needs root, setpriv and useradd to read as a second user")
    created = False
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                        "/usr/sbin/nologin", USER], check=True)
        created = True
    try:
        yield pwd.getpwnam(USER)
    finally:
        if created:
            subprocess.run(["userdel", USER], check=False)


def test_another_user_cannot_read_the_owner_s_plan(
        other: pwd.struct_passwd, shared_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store, app, env = _setup(shared_tmp, capsys)
    store.chmod(0o755)
    assert _start(app, env, shared_tmp).returncode == 0
    [plan] = (store / "plans").glob("*.warm")
    as_other = ["setpriv", f"--reuid={other.pw_uid}", f"--regid={other.pw_gid}",
                "--clear-groups", "--"]
    listed = subprocess.run([*as_other, "ls", str(store / "plans")], capture_output=True,
                            text=True, check=False)
    assert listed.returncode != 0 and "Permission denied" in listed.stderr, listed
    read = subprocess.run([*as_other, "cat", str(plan)], capture_output=True, check=False)
    assert read.returncode != 0 and SECRET.encode() not in read.stdout
    assert b"Permission denied" in read.stderr
