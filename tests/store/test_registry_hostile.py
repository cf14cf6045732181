"""Another user's registrations, read by root: hostile ones (a FIFO, a huge file, a planted
symbolic link as the manifest; a registry file of the wrong owner or behind a link) never hang
or mislead a command, and a user's registration is found wherever their environment says data
lives. A real second user (``useradd``, ``runuser``); needs root, skipped with the reason
otherwise."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from seconduser import PYTHON, account

USER = "siglinkhostile"
WheelMaker = Callable[..., Path]


class Other:
    """The second user: their home, and how to run siglink or a shell command as them."""

    def __init__(self, home: Path, site: str) -> None:
        self.home = home
        self.site = site

    def env(self, **extra: str) -> list[str]:
        env = {"HOME": str(self.home), "PATH": "/usr/bin:/bin", "PYTHONPATH": self.site,
               "NO_COLOR": "1", "LANG": "C.UTF-8", **extra}
        return [f"{k}={v}" for k, v in env.items()]

    def siglink(self, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["runuser", "-u", USER, "--", "env", "-i", *self.env(**env),
                               PYTHON, "-m", "siglink", *argv], check=False,
                              capture_output=True, text=True, timeout=300, cwd=self.home)

    def sh(self, script: str) -> None:
        subprocess.run(["runuser", "-u", USER, "--", "sh", "-c", script], check=True,
                       cwd=self.home, timeout=60)


@pytest.fixture
def other(readable_site: str) -> Iterator[Other]:
    with account(USER) as home:
        assert home is not None
        yield Other(home, readable_site)


@pytest.fixture
def shared() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="siglink-shared-", dir="/tmp"))
    os.chmod(folder, 0o755)
    try:
        yield folder / "store"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _root(*argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """siglink as root, in a process of its own: a hang is a timeout, a failed test."""
    return subprocess.run([sys.executable, "-m", "siglink", *argv], check=False,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "NO_COLOR": "1"})


def _registered_app(other: Other, store: Path, make_wheel: WheelMaker, **env: str) -> Path:
    """A store of root's with textkit 1.0.0, and the user's application linking it (run once,
    so registered)."""
    from siglink.store import Store

    Store(store).install([str(make_wheel("textkit", "1.0.0"))])
    app = other.home / "hello.py"
    app.write_text("import textkit\nprint(textkit.greet('x'))\n")
    shutil.chown(app, USER, USER)
    ran = other.siglink("run", "--store", str(store), str(app), **env)
    assert (ran.returncode, ran.stdout) == (0, "hello x\n"), ran.stderr
    return app


def _warned(result: subprocess.CompletedProcess[str], *words: str) -> bool:
    return any(line.startswith("siglink: warning: skipped") and all(w in line for w in words)
               for line in result.stderr.splitlines())


@pytest.mark.parametrize("attack", ["fifo", "huge", "link"])
def test_a_hostile_manifest_is_skipped_by_every_command(
        other: Other, shared: Path, make_wheel: WheelMaker, attack: str) -> None:
    app = _registered_app(other, shared, make_wheel)
    manifest = other.home / "hello.siglink.json"
    make = {"fifo": f"rm {manifest} && mkfifo {manifest}",
            "huge": f"truncate -s 100M {manifest}",
            "link": f"rm {manifest} && ln -s /dev/zero {manifest}"}[attack]
    other.sh(make)
    why = {"fifo": "is a FIFO, not a regular file", "huge": "is larger than 8 MiB",
           "link": "a symbolic link owned by uid"}[attack]
    commands = [["who-uses", "textkit"], ["apps"], ["gc", "--dry-run"],
                ["yank", "textkit==1.0.0", "--reason", "broken"],
                ["install", str(make_wheel("textkit", "1.1.0"))], ["remove", "textkit==1.0.0"]]
    if attack != "fifo":
        commands = commands[:1] + commands[3:4]
    for argv in commands:
        result = _root(*argv, "--store", str(shared))
        assert result.returncode == 0, (argv, result.stderr)
        assert "Traceback" not in result.stderr
        if attack == "link" and argv[0] == "who-uses":
            # counting needs only the registry's record: counted, the link never followed
            assert str(app) in result.stdout and "warning" not in result.stderr, result.stderr
            continue
        assert _warned(result, str(app), str(manifest), why), (argv, result.stderr)
        assert str(app) not in result.stdout, (argv, result.stdout)


def test_a_registry_file_is_trusted_only_from_its_owner_and_not_through_links(
        other: Other, shared: Path, make_wheel: WheelMaker) -> None:
    app = _registered_app(other, shared, make_wheel)
    [registry] = (other.home / ".local/share/siglink/registrations").glob("*.json")
    listed = _root("who-uses", "textkit", "--store", str(shared))
    assert str(app) in listed.stdout, listed.stderr

    os.chown(registry, 65534, 65534)  # as if another user had put it there
    listed = _root("who-uses", "textkit", "--store", str(shared))
    assert str(app) not in listed.stdout
    assert f"skipped the registry {registry}: it is owned by uid 65534" in listed.stderr

    # The user's registry behind a link of theirs (to a copy they own elsewhere) is not
    # followed either.
    shutil.chown(registry, USER, USER)
    other.sh(f"mv {registry} {other.home}/copy.json && ln -s {other.home}/copy.json {registry}")
    listed = _root("who-uses", "textkit", "--store", str(shared))
    assert str(app) not in listed.stdout
    assert "a symbolic link owned by uid" in listed.stderr


def test_a_registration_under_a_custom_data_home_protects_the_users_app(
        other: Other, shared: Path, make_wheel: WheelMaker) -> None:
    data = other.home / "elsewhere" / "data"
    app = _registered_app(other, shared, make_wheel, XDG_DATA_HOME=str(data))
    listed = _root("who-uses", "textkit", "--store", str(shared))
    assert listed.returncode == 0 and str(app) in listed.stdout, listed.stderr
    refused = _root("remove", "textkit==1.0.0", "--store", str(shared))
    assert refused.returncode == 3 and str(app) in refused.stderr, refused.stderr
    assert (shared / "libs" / "textkit" / "1.0.0").is_dir()
    assert not (data / "siglink" / "registrations").exists()

    # A registration an earlier siglink wrote under the custom directory moves home.
    [registry] = (other.home / ".local/share/siglink/registrations").glob("*.json")
    legacy = data / "siglink" / "registrations" / registry.name
    other.sh(f"mkdir -p {legacy.parent} && cp {registry} {legacy}")
    planned = other.siglink("plan", "--store", str(shared), str(app), XDG_DATA_HOME=str(data))
    assert planned.returncode == 0, planned.stderr
    manifest = str(other.home / "hello.siglink.json")
    assert manifest not in legacy.read_text() and manifest in registry.read_text()


def test_under_umask_000_what_siglink_makes_for_a_user_has_fixed_modes(
        other: Other, shared: Path, make_wheel: WheelMaker) -> None:
    from siglink.store import Store

    Store(shared).install([str(make_wheel("textkit", "1.0.0"))])
    app = other.home / "hello.py"
    app.write_text("import subprocess, sys, textkit\nprint(textkit.greet('x'))\n"
                   "subprocess.run([sys.executable, '-c', 'import textkit'], check=True)\n")
    shutil.chown(app, USER, USER)
    command = ["env", "-i", *other.env(), PYTHON, "-m", "siglink", "run", "--store",
               str(shared), str(app)]
    for _ in range(2):  # cold (plans, key, lock, bootstrap, registration), then warm
        ran = subprocess.run(["runuser", "-u", USER, "--", "sh", "-c",
                              'umask 000; exec "$@"', "sh", *command], check=False,
                             capture_output=True, text=True, timeout=300, cwd=other.home)
        assert (ran.returncode, ran.stdout) == (0, "hello x\n"), ran.stderr
    cache, data = other.home / ".cache", other.home / ".local"
    assert list(cache.glob("siglink/plans/*/*.warm")) and list(
        data.glob("share/siglink/registrations/*.json"))
    modes = {}
    for top in (cache, data):
        modes[top] = top.stat().st_mode & 0o7777
        for path in top.rglob("*"):
            modes[path] = path.lstat().st_mode & 0o7777
    wrong = {str(p): oct(m) for p, m in modes.items()
             if m != {(True, True): 0o700, (True, False): 0o600,
                      (False, True): 0o755, (False, False): 0o644}[
                          (p == cache or cache in p.parents, p.is_dir())]}
    assert wrong == {}


def test_an_application_behind_its_users_own_link_is_counted_unread(
        other: Other, shared: Path, make_wheel: WheelMaker) -> None:
    from siglink.store import Store

    Store(shared).install([str(make_wheel("textkit", "1.0.0"))])
    other.sh(f"mkdir {other.home}/real && ln -s {other.home}/real {other.home}/apps && "
             f"echo \"import textkit; print(textkit.greet('x'))\" > {other.home}/real/hello.py")
    app = other.home / "apps" / "hello.py"
    ran = other.siglink("run", "--store", str(shared), str(app))
    assert (ran.returncode, ran.stdout) == (0, "hello x\n"), ran.stderr
    refused = _root("remove", "textkit==1.0.0", "--store", str(shared))
    assert refused.returncode == 3 and str(app) in refused.stderr, refused.stderr
    assert "a symbolic link owned by uid" in refused.stderr  # its relink reads nothing there
    assert (shared / "libs" / "textkit" / "1.0.0").is_dir()


@pytest.mark.parametrize("plan", ["fifo", "nested"])
def test_a_users_process_naming_a_hostile_plan_does_not_stop_gc(
        other: Other, shared: Path, make_wheel: WheelMaker, plan: str) -> None:
    from siglink.store import Store

    Store(shared).install([str(make_wheel("textkit", "1.0.0"))])
    path = other.home / "plans" / "x.json"
    other.sh(f"mkdir {path.parent} && " + (
        f"mkfifo {path}" if plan == "fifo" else
        f"python3 -c \"open('{path}', 'w').write('[' * 100000)\""))
    sleeper = subprocess.Popen(["runuser", "-u", USER, "--", "env", "-i",
                                f"SIGLINK_PLAN={path}", "sleep", "60"], start_new_session=True)
    try:
        for _ in range(200):  # until a process of the user's runs with that environment
            ready = subprocess.run(["pgrep", "-u", USER, "-x", "sleep"], capture_output=True,
                                   check=False)
            if ready.returncode == 0:
                break
            time.sleep(0.05)
        result = _root("gc", "--dry-run", "--store", str(shared), timeout=60)
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    finally:
        os.killpg(sleeper.pid, signal.SIGKILL)
        sleeper.wait()
