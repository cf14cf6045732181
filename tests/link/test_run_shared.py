"""A shared store owned by root, run from by a real second user (``useradd``, ``setpriv``):
their plans live in their own cache, with their own key, and their starts are warm."""

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

pytestmark = pytest.mark.skipif(
    os.getuid() != 0 or shutil.which("setpriv") is None or shutil.which("useradd") is None,
    reason="needs root, setpriv and useradd to run as a second user")


@pytest.fixture(scope="module")
def other() -> Iterator[pwd.struct_passwd]:
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


def _as(user: pwd.struct_passwd, cmd: list[str]) -> list[str]:
    return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups",
            "--", *cmd]


def _python(user: pwd.struct_passwd, work: Path, readable_site: str) -> str:
    """An interpreter the user can start (and that can exec itself), with siglink."""
    probe = [sys.executable, "-c", "import os, sys; os.execv(sys.executable, "
             "[sys.executable, '-c', 'import siglink'])"]
    if subprocess.run(_as(user, probe), capture_output=True, check=False).returncode == 0:
        return sys.executable
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    system = shutil.which(version, path="/usr/local/bin:/usr/bin")
    if system is None:
        pytest.skip(f"this interpreter is not runnable by {USER} and there is no system {version}")
    venv = work / "venv"
    subprocess.run([system, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next(venv.glob("lib/python*/site-packages"))
    (site / "siglink-test.pth").write_text(
        f"import site; site.addsitedir({readable_site!r})\n")
    return str(venv / "bin" / "python")


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A directory the second user can enter (pytest's own are private to root)."""
    path = Path(tempfile.mkdtemp(prefix="siglink-shared-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path)


def test_a_user_of_a_root_owned_store_starts_warm_from_their_own_cache(
        other: pwd.struct_passwd, shared_tmp: Path, capsys: pytest.CaptureFixture[str],
        readable_site: str) -> None:
    tmp_path = shared_tmp
    store = tmp_path / "store"
    install(capsys, store, make_wheel(tmp_path, "textkit", "1.0.0", {
        "textkit/__init__.py": "def shout(text):\n    return text.upper() + '!'\n"}))
    app = make_app(tmp_path, "import textkit\nprint(textkit.shout('hi'))\n")
    (tmp_path / "apps").chmod(0o755)
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    os.chown(cache, other.pw_uid, other.pw_gid)
    python = _python(other, tmp_path, readable_site)
    env = {**os.environ, "SIGLINK_STORE": str(store), "SIGLINK_DEBUG": "1",
           "XDG_CACHE_HOME": str(cache)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([python, "-c", LAUNCHER, "build", str(app)], env=env, check=True,
                   capture_output=True)

    def start() -> str:
        result = subprocess.run(_as(other, [python, "-c", LAUNCHER, "run", str(app)]),
                                env=env, cwd=tmp_path, capture_output=True, text=True,
                                timeout=300, check=False)
        assert result.returncode == 0, result.stderr
        assert result.stdout == "HI!\n"
        return "warm" if "siglink: warm plan" in result.stderr else "cold"

    assert [start() for _ in range(3)] == ["cold", "warm", "warm"]
    [key] = cache.glob("siglink/plans/*/.key")
    assert key.stat().st_uid == other.pw_uid and key.stat().st_mode & 0o777 == 0o600
    assert list(cache.glob("siglink/plans/*/*.warm"))
    assert not (store / "plans").exists() or not any((store / "plans").glob("*.warm"))
    assert (cache / "siglink" / "bootstrap" / "sitecustomize.py").is_file()
