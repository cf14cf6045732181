"""``siglink run``: a store it cannot write, an application's own ``siglink.py``, and the warm
path's command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from linkfixtures import install, make_app, make_wheel

from siglink.link.warm import parse_run_argv

LIB = {"textkit/__init__.py": "def shout(text):\n    return text.upper() + '!'\n"}
APP = "from textkit import shout\nprint(shout('hi'))\n"


def run(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, **env}
    launcher = "import sys; sys.path.pop(0); from siglink._entry import entry; entry()"
    return subprocess.run([sys.executable, "-c", launcher, *args], capture_output=True,
                          text=True, cwd=cwd, env=environ, timeout=120, check=False)


@pytest.fixture
def store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    root = tmp_path / "store"
    install(capsys, root, make_wheel(tmp_path, "textkit", "1.0.0", LIB))
    return root


def test_an_unwritable_store_reuses_one_private_plan_directory(store: Path,
                                                               tmp_path: Path) -> None:
    app = make_app(tmp_path, APP)
    assert run("build", str(app), "--store", str(store), cwd=tmp_path).returncode == 0
    (store / "plans").mkdir(exist_ok=True)
    (store / "plans").rmdir()
    (store / "plans").write_text("")  # the plan cache cannot be written
    cache = tmp_path / "cache"
    for _ in range(3):
        result = run("--store", str(store), "run", str(app), cwd=tmp_path,
                     XDG_CACHE_HOME=str(cache))
        assert result.returncode == 0, result.stderr
        assert result.stdout == "HI!\n"
        assert "cannot cache the link plan" in result.stderr
    [private] = (cache / "siglink" / "run").iterdir()
    assert sorted(p.name for p in private.iterdir() if p.suffix == ".json")
    assert (private / "bootstrap" / "sitecustomize.py").is_file()


def test_an_application_s_own_siglink_py_does_not_shadow_siglink(store: Path,
                                                                 tmp_path: Path) -> None:
    app = make_app(tmp_path, APP)
    (app.parent / "siglink.py").write_text("raise SystemExit('the app shadowed siglink')\n")
    result = run("--store", str(store), "run", app.name, cwd=app.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "HI!\n"


def test_policy_goes_after_run() -> None:
    assert parse_run_argv(["--policy", "strict", "run", "app.py"]) is None
    assert parse_run_argv(["--policy=strict", "run", "app.py"]) is None
    parsed = parse_run_argv(["--store", "S", "run", "--policy", "strict", "app.py", "x"])
    assert parsed is not None
    assert (parsed["store"], parsed["policy"], parsed["app"], parsed["args"]) == (
        "S", "strict", "app.py", ["x"])
