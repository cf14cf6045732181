"""The directories a plan links must be the store owner's alone, at every start: the warm one,
the cold one, and in every child interpreter the application starts (which checks what its
parent checked). A ``libs/NAME/VERSION`` others can write is refused with exit 127 and one
line naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from linkfixtures import install, make_app, make_wheel

LAUNCHER = "import sys; sys.path.pop(0); from siglink._entry import entry; entry()"
CHILD = ("import subprocess, sys, textkit\n"
         "r = subprocess.run([sys.executable, '-c', 'import textkit; print(textkit.NAME)'],\n"
         "                   capture_output=True, text=True)\n"
         "print('child', r.returncode, r.stdout.strip())\n"
         "sys.stderr.write(r.stderr)\n")


def _setup(tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str) -> tuple[
        Path, Path, dict[str, str]]:
    store = tmp_path / "store"
    install(capsys, store, make_wheel(tmp_path, "textkit", "1.0.0", {
        "textkit/__init__.py": "NAME = 'textkit 1.0.0'\n"}))
    app = make_app(tmp_path, source)
    env = {**os.environ, "SIGLINK_STORE": str(store), "SIGLINK_DEBUG": "1"}
    return store, app, env


def _start(app: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", LAUNCHER, "run", str(app)], env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def _errors(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("siglink: error:")]


@pytest.mark.parametrize("which", ["version", "name", "dist-info"])
def test_a_linked_directory_others_can_write_is_refused_warm_and_cold(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], which: str) -> None:
    store, app, env = _setup(tmp_path, capsys, "import textkit\nprint(textkit.NAME)\n")
    assert [_start(app, env).stdout for _ in range(2)] == ["textkit 1.0.0\n"] * 2
    version = store / "libs" / "textkit" / "1.0.0"
    loose = {"version": version, "name": version.parent,
             "dist-info": version / "textkit-1.0.0.dist-info"}[which]
    os.chmod(loose, 0o777)
    warm = _start(app, env)
    assert warm.returncode == 127 and warm.stdout == "", warm.stderr
    assert _errors(warm) == [f"siglink: error: {loose}: writable by group and others; "
                             f"refused (chmod go-w {loose})"], warm.stderr
    assert "siglink: warm plan" not in warm.stderr
    for plan in (store / "plans").glob("*.warm"):
        plan.unlink()  # the cold path refuses too
    cold = _start(app, env)
    assert cold.returncode == 127 and cold.stdout == "", cold.stderr
    assert len(_errors(cold)) == 1 and str(loose) in _errors(cold)[0], cold.stderr
    os.chmod(loose, 0o755)
    assert _start(app, env).stdout == "textkit 1.0.0\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a directory to another uid")
def test_a_linked_directory_of_another_owner_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store, app, env = _setup(tmp_path, capsys, "import textkit\nprint(textkit.NAME)\n")
    assert _start(app, env).returncode == 0
    version = store / "libs" / "textkit" / "1.0.0"
    os.chown(version, 65534, 65534)
    result = _start(app, env)
    assert result.returncode == 127 and result.stdout == "", result.stderr
    assert _errors(result) == [f"siglink: error: {version}: owned by uid 65534, not by the "
                               f"store's owner (uid 0) or root; refused"], result.stderr


@pytest.mark.parametrize("change", ["loosen", "yank", "outside"])
def test_a_child_interpreter_checks_what_its_parent_checked(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], change: str) -> None:
    version_dir = tmp_path / "store" / "libs" / "textkit" / "1.0.0"
    # What happens to the store between the application's start and its child's.
    act = {"loosen": f"import os; os.chmod({str(version_dir)!r}, 0o777)\n",
           "yank": f"open({str(version_dir / '.yanked')!r}, 'w').close()\n",
           "outside": f"import os; os.environ['SIGLINK_PLAN_STORE'] = "
                      f"{str(tmp_path / 'elsewhere')!r}\n"}[change]
    _, app, env = _setup(tmp_path, capsys, act + CHILD)
    (tmp_path / "elsewhere" / "libs").mkdir(parents=True)
    result = _start(app, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "child 127 \n", result.stderr
    [error] = _errors(result)
    expected = {"loosen": f"{version_dir}: writable by group and others",
                "yank": "a yanked or a missing version",
                "outside": f"outside {tmp_path / 'elsewhere' / 'libs'}"}[change]
    assert expected in error, result.stderr


def test_a_child_interpreter_of_a_sound_store_links(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, app, env = _setup(tmp_path, capsys, CHILD)
    for _ in range(2):  # cold, then warm
        result = _start(app, env)
        assert result.stdout == "child 0 textkit 1.0.0\n", result.stderr


def test_a_bootstrap_bytecode_directory_others_can_write_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store, app, env = _setup(tmp_path, capsys, CHILD)
    assert _start(app, env).stdout == "child 0 textkit 1.0.0\n"
    pycache = store / "bootstrap" / "__pycache__"
    assert pycache.is_dir() and pycache.stat().st_mode & 0o777 == 0o755
    pycache.chmod(0o777)  # anyone could plant the bytecode of the sitecustomize children run
    result = _start(app, env)
    assert result.returncode == 3 and result.stdout == "", result.stderr
    assert _errors(result) == [f"siglink: error: {pycache}: writable by group and others; "
                               f"refused (chmod go-w {pycache})"], result.stderr
