"""The files inside ``libs/NAME/VERSION/`` are checked as they are imported: a module's file, its
bytecode, its directory and its ``__pycache__`` must be the store owner's (or root's) and
writable by nobody else. Otherwise the start ends with exit 127 and one line naming the path
(``siglink: error: ...``), never a traceback; warm, cold and in a child interpreter."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from linkfixtures import install, make_app, make_wheel

LAUNCHER = "import sys; sys.path.pop(0); from siglink._entry import entry; entry()"
LIB = {"textkit/__init__.py": "NAME = 'textkit 1.0.0'\n",
       "textkit/extra.py": "WORD = 'extra'\n"}
APP = ("import textkit\nprint(textkit.NAME, flush=True)\n"
       "from textkit import extra\nprint(extra.WORD)\n")
CHILD = ("import os, subprocess, sys, textkit\n"
         "if os.environ.get('LOOSEN'):  # after this interpreter imported textkit\n"
         "    os.chmod(os.path.join(os.path.dirname(textkit.__file__), 'extra.py'), 0o646)\n"
         "r = subprocess.run([sys.executable, '-c', 'from textkit import extra; print(1)'],\n"
         "                   capture_output=True, text=True)\n"
         "print('child', r.returncode, r.stdout.strip())\n"
         "sys.stderr.write(r.stderr)\n")


def _setup(tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str) -> tuple[
        Path, Path, dict[str, str]]:
    store = tmp_path / "store"
    install(capsys, store, make_wheel(tmp_path, "textkit", "1.0.0", LIB))
    app = make_app(tmp_path, source)
    env = {**os.environ, "SIGLINK_STORE": str(store), "SIGLINK_DEBUG": "1",
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    return store, app, env


def _start(app: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", LAUNCHER, "run", str(app)], env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def _refusals(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("siglink: error:")]


def _package(store: Path) -> Path:
    return store / "libs" / "textkit" / "1.0.0" / "textkit"


def _pyc(store: Path, stem: str) -> Path:
    [pyc] = (_package(store) / "__pycache__").glob(f"{stem}.{sys.implementation.cache_tag}.pyc")
    return pyc


LOOSEN: dict[str, Callable[[Path], Path]] = {
    "init": lambda store: _package(store) / "__init__.py",
    "package": _package,
    "pycache": lambda store: _package(store) / "__pycache__",
    "bytecode": lambda store: _pyc(store, "__init__"),
}


@pytest.mark.parametrize("which", sorted(LOOSEN))
def test_a_module_file_others_can_write_is_refused_warm_and_cold(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], which: str) -> None:
    store, app, env = _setup(tmp_path, capsys, APP)
    assert [_start(app, env).stdout for _ in range(2)] == ["textkit 1.0.0\nextra\n"] * 2
    loose = LOOSEN[which](store)
    os.chmod(loose, 0o777 if loose.is_dir() else 0o666)
    warm = _start(app, env)
    assert "siglink: warm plan" in warm.stderr
    for result in (warm, _start_cold(store, app, env)):
        assert result.returncode == 127 and result.stdout == "", result.stderr
        assert _refusals(result) == [
            f"siglink: error: {loose} is writable by group and others; its code would run "
            f"as this user (chmod go-w {loose}, or siglink store repair)"], result.stderr
        assert "Traceback" not in result.stderr


def _start_cold(store: Path, app: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    for plan in (store / "plans").glob("*.warm"):
        plan.unlink()
    result = _start(app, env)
    assert "siglink: cold plan" in result.stderr
    return result


def test_a_submodule_is_checked_when_it_is_imported(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store, app, env = _setup(tmp_path, capsys, APP)
    assert _start(app, env).returncode == 0
    extra = _package(store) / "extra.py"
    extra.chmod(0o664)
    result = _start(app, env)
    # what ran before the import has been written out; nothing after it ran
    assert (result.returncode, result.stdout) == (127, "textkit 1.0.0\n"), result.stderr
    assert _refusals(result) == [
        f"siglink: error: {extra} is writable by group; its code would run as this user "
        f"(chmod go-w {extra}, or siglink store repair)"]


def test_a_child_interpreter_checks_the_modules_it_imports(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store, app, env = _setup(tmp_path, capsys, CHILD)
    for _ in range(2):  # cold, then warm
        assert _start(app, env).stdout == "child 0 1\n"
    result = _start(app, {**env, "LOOSEN": "1"})
    assert (result.returncode, result.stdout) == (0, "child 127 \n"), result.stderr
    extra = _package(store) / "extra.py"
    assert _refusals(result) == [
        f"siglink: error: {extra} is writable by others; its code would run as this "
        f"user (chmod go-w {extra}, or siglink store repair)"], result.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a directory to another user")
def test_a_package_directory_of_another_user_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store, app, env = _setup(tmp_path, capsys, APP)
    assert _start(app, env).returncode == 0
    try:
        nobody = pwd.getpwnam("nobody").pw_uid
    except KeyError:
        nobody = 65534
    package = _package(store)
    os.chown(package, nobody, -1)
    result = _start(app, env)
    assert (result.returncode, result.stdout) == (127, ""), result.stderr
    assert _refusals(result) == [
        f"siglink: error: {package} is owned by uid {nobody}, not by the store's owner (uid "
        f"{os.getuid()}) or root; its code would run as this user"], result.stderr


def test_a_sound_store_runs_every_module(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, app, env = _setup(tmp_path, capsys, APP)
    for _ in range(2):
        result = _start(app, env)
        assert (result.returncode, result.stdout) == (0, "textkit 1.0.0\nextra\n")
        assert not _refusals(result)
