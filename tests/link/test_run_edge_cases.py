"""``siglink run`` edge cases: pre-imported libraries, stale app manifests,
copied stores, local modules named like libraries, ``-m`` of stdlib and library modules."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from linkfixtures import install, make_wheel

_ENTRY = shutil.which("siglink")
SIGLINK = [_ENTRY] if _ENTRY else [sys.executable, "-m", "siglink"]

LIB = {"textkit/__init__.py": '''
    VERSION = "1.0.0"

    def shout(text: str) -> str:
        return text.upper() + "!"
    '''}


def run(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """``siglink ARGS`` in a child process, with ``SIGLINK_DEBUG=1``."""
    environ = dict(os.environ, SIGLINK_DEBUG="1", **env)
    return subprocess.run([*SIGLINK, *args], capture_output=True, text=True, cwd=cwd,
                          env=environ, timeout=120, check=False)


@pytest.fixture
def store(tmp_path: Path, capsys: pytest.CaptureFixture[str],
          monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "store"
    install(capsys, root, make_wheel(tmp_path, "textkit", "1.0.0", LIB))
    monkeypatch.setenv("SIGLINK_STORE", str(root))
    return root


def test_a_library_imported_before_the_hook_is_replaced(store: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "textkit").mkdir(parents=True)
    (site / "textkit" / "__init__.py").write_text('VERSION = "site"\n')
    (site / "textkit" / "sub.py").write_text("")
    (site / "sitecustomize.py").write_text("import textkit, textkit.sub\n")
    app = tmp_path / "app.py"
    app.write_text("import sys, textkit\nprint(textkit.VERSION, 'textkit.sub' in sys.modules)\n")
    for how in ("cold", "warm"):
        result = run("run", str(app), PYTHONPATH=str(site))
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["1.0.0", "False"], how
        assert f"siglink: {how} plan" in result.stderr
        assert "unloaded textkit" in result.stderr
    plain = subprocess.run([sys.executable, str(app)], capture_output=True, text=True,
                           env=dict(os.environ, PYTHONPATH=str(site)), check=True)
    assert plain.stdout.split() == ["site", "True"]  # the pre-import is what python would see


def test_an_edited_local_module_is_noticed_even_with_an_old_mtime(
        store: Path, tmp_path: Path) -> None:
    folder = tmp_path / "apps"
    folder.mkdir()
    (folder / "helper.py").write_text("from textkit import shout\nWORD = shout('a')\n")
    app = folder / "main.py"
    app.write_text("import helper\nprint(helper.WORD)\n")
    assert run("run", str(app)).stdout.strip() == "A!"
    assert "warm plan" in run("run", str(app)).stderr
    old = time.time() - 3600
    (folder / "helper.py").write_text("from textkit import shout\nWORD = shout('bb')\n")
    os.utime(folder / "helper.py", (old, old))
    edited = run("run", str(app))
    assert edited.stdout.strip() == "BB!"
    assert "cold plan" in edited.stderr
    manifest = json.loads((folder / "main.siglink.json").read_text())
    assert set(manifest["files"]) == {"main.py", "helper.py"}
    assert "warm plan" in run("run", str(app)).stderr


def test_a_copied_store_runs_its_own_libraries(store: Path, tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text("import textkit\nprint(textkit.__file__)\n")
    assert run("run", str(app)).stdout.startswith(str(store))
    copy = tmp_path / "copy"
    shutil.copytree(store, copy)
    result = run("run", str(app), SIGLINK_STORE=str(copy))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(str(copy) + os.sep)
    assert "cold plan" in result.stderr


def test_a_local_module_named_like_a_library_wins(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "store"
    shout = {"shouty/__init__.py": "import textkit\n\ndef go() -> str:\n    return textkit.NAME\n"}
    textkit = {"textkit/__init__.py": 'NAME = "stored"\n'}
    install(capsys, root, make_wheel(tmp_path, "textkit", "1.0.0", textkit),
            make_wheel(tmp_path, "shouty", "1.0.0", shout, requires=["textkit"]))
    monkeypatch.setenv("SIGLINK_STORE", str(root))
    folder = tmp_path / "apps"
    folder.mkdir()
    (folder / "textkit.py").write_text('NAME = "local"\n')
    app = folder / "main.py"
    app.write_text("import textkit, shouty\nprint(textkit.NAME, shouty.go())\n")
    for how in ("cold", "warm"):
        result = run("run", str(app))
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["local", "local"], how
    assert "own module textkit shadows textkit 1.0.0" in run(
        "plan", str(app)).stderr


def test_plan_of_a_missing_file(store: Path, tmp_path: Path) -> None:
    result = run("plan", "nosuch.py", cwd=tmp_path)
    assert result.returncode == 2
    assert "nosuch.py: no such file or directory" in result.stderr
    assert "siglink build" not in result.stderr


def test_deleted_apps_are_forgotten(store: Path, tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text("import textkit\nprint(textkit.shout('x'))\n")
    assert run("run", str(app)).returncode == 0
    assert str(app) in run("who-uses", "textkit").stdout
    assert "stop" in run("yank", "--dry-run", "--reason", "r", "textkit==1.0.0").stdout
    app.unlink()
    (tmp_path / "app.siglink.json").unlink()
    assert str(app) not in run("who-uses", "textkit").stdout
    assert str(app) not in run("yank", "--dry-run", "--reason", "r", "textkit==1.0.0").stdout
    import sqlite3

    with sqlite3.connect(store / "index.sqlite") as db:
        assert db.execute("SELECT count(*) FROM apps").fetchone() == (0,)


def test_install_hints_name_the_distribution(store: Path, tmp_path: Path) -> None:
    from siglink.link._failure import install_hint

    # pytest-cov (a test dependency, so installed here) provides the module pytest_cov
    app = tmp_path / "app.py"
    app.write_text("import pytest_cov\nimport nosuchmodule_xyz\n")
    result = run("run", str(app))
    assert result.returncode == 127
    assert "siglink install pytest-cov==VERSION" in result.stderr
    assert "pytest_cov==VERSION" not in result.stderr
    assert "the distribution that provides nosuchmodule_xyz" in result.stderr
    assert install_hint("pytest_cov.plugin") == "siglink install pytest-cov==VERSION"


def test_every_missing_distribution_is_reported_at_once(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "store"
    top = {"toplib/__init__.py": "X = 1\n"}
    install(capsys, root, make_wheel(tmp_path, "toplib", "1.0.0", top,
                                     requires=["depa>=1", "depb", 'depc; python_version < "3"']))
    monkeypatch.setenv("SIGLINK_STORE", str(root))
    app = tmp_path / "app.py"
    app.write_text("import toplib\nprint(toplib.X)\n")
    result = run("run", str(app))
    assert result.returncode == 127
    assert "depa is not in the store" in result.stderr
    assert "depb is not in the store" in result.stderr
    assert "depc" not in result.stderr  # its marker is false here
    install(capsys, root, make_wheel(tmp_path, "depa", "1.0.0", {"depa/__init__.py": ""},
                                     requires=["depd"]))
    again = run("run", str(app))
    assert again.returncode == 127
    assert "depb is not in the store" in again.stderr
    assert "depd is not in the store" in again.stderr


def test_run_module_of_the_stdlib_and_of_a_library(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "store"
    files = {"textkit/__init__.py": 'VERSION = "1.0.0"\n',
             "textkit/tool.py":
                 "import sys, textkit\nprint('tool', textkit.VERSION, sys.argv[1:])\n"}
    install(capsys, root, make_wheel(tmp_path, "textkit", "1.0.0", files))
    monkeypatch.setenv("SIGLINK_STORE", str(root))
    work = tmp_path / "work"
    work.mkdir()
    (work / "data.json").write_text('{"a": [1]}')
    stdlib = run("run", "-m", "json.tool", "data.json", cwd=work)
    assert stdlib.returncode == 0, stdlib.stderr
    assert json.loads(stdlib.stdout) == {"a": [1]}
    for how in ("cold", "warm"):
        result = run("run", "-m", "textkit.tool", "x", cwd=work)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "tool 1.0.0 ['x']"
        assert f"{how} plan" in result.stderr and "textkit==1.0.0" in result.stderr
    missing = run("run", "-m", "nosuchmod_q", cwd=work)
    assert missing.returncode == 2
    assert "module nosuchmod_q not found" in missing.stderr
