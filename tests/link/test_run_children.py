"""Interpreters a linked application starts itself inherit its link (real MarkupSafe wheel).

The test environment has its own MarkupSafe installed (a different version than the store's);
the children must import the linked one.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from linkfixtures import install, make_app

from siglink.link import hook

_ENTRY = shutil.which("siglink")
SIGLINK = [_ENTRY] if _ENTRY else [sys.executable, "-m", "siglink"]

CHILD = (
    "import builtins, importlib.metadata, json, markupsafe, sys; "
    "print(json.dumps([importlib.metadata.version('markupsafe'), markupsafe.__file__, "
    "getattr(builtins, 'USER_SITECUSTOMIZE', None)]))"
)

APP = f"""
import builtins
import importlib.metadata
import json
import multiprocessing
import subprocess
import sys

import markupsafe


def report(queue):
    import markupsafe

    queue.put([importlib.metadata.version("markupsafe"), markupsafe.__file__,
               getattr(builtins, "USER_SITECUSTOMIZE", None)])


if __name__ == "__main__":
    child = subprocess.run([sys.executable, "-c", {CHILD!r}], capture_output=True, text=True)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    worker = context.Process(target=report, args=(queue,))
    worker.start()
    spawned = queue.get(timeout=60)
    worker.join()
    print(json.dumps({{
        "self": [importlib.metadata.version("markupsafe"), markupsafe.__file__],
        "subprocess": json.loads(child.stdout) if child.stdout else child.stderr,
        "spawn": spawned,
        "exitcode": worker.exitcode,
    }}))
"""


@pytest.mark.network
def test_children_inherit_the_link(
    pypi: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    install(capsys, store, pypi.fetch("markupsafe==2.1.5"))
    environment_version = importlib.metadata.version("markupsafe")
    assert environment_version != "2.1.5", "the test needs another MarkupSafe in the environment"
    app = make_app(tmp_path, APP)
    user = tmp_path / "user-site"  # a sitecustomize of the user's own, which must still run
    user.mkdir()
    (user / "sitecustomize.py").write_text("import builtins\nbuiltins.USER_SITECUSTOMIZE = 1\n")
    env = dict(os.environ, SIGLINK_STORE=str(store), SIGLINK_DEBUG="1", PYTHONPATH=str(user))
    linked = str(store / "libs" / "markupsafe" / "2.1.5" / "markupsafe" / "__init__.py")
    for warmth in ("cold", "warm"):
        result = subprocess.run([*SIGLINK, "run", str(app)], capture_output=True, text=True,
                                env=env, timeout=120, check=False)
        assert result.returncode == 0, result.stderr
        assert f"siglink: {warmth} plan" in result.stderr
        data = json.loads(result.stdout)
        assert data["self"] == ["2.1.5", linked]
        assert data["subprocess"] == ["2.1.5", linked, 1]
        assert data["spawn"] == ["2.1.5", linked, 1]
        assert data["exitcode"] == 0
    # the same child outside siglink sees the environment's copy
    plain = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                           env=dict(os.environ, PYTHONPATH=str(user)), check=True)
    assert json.loads(plain.stdout)[0] == environment_version


def test_export_to_children_prepends_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", "/somewhere")
    hook.export_to_children("/plans/x.json", "/boot")
    hook.export_to_children("/plans/x.json", "/boot")
    assert os.environ["PYTHONPATH"] == os.pathsep.join(["/boot", "/somewhere"])
    assert os.environ["SIGLINK_PLAN"] == "/plans/x.json"
    monkeypatch.delenv("PYTHONPATH")
    hook.export_to_children("/plans/y.json", "/boot")
    assert os.environ["PYTHONPATH"] == "/boot"


def test_environment_takes_part_only_when_asked(tmp_path: Path) -> None:
    """``--environment`` links the running environment's own MarkupSafe; without it the
    store alone decides (and an empty store refuses)."""
    app = make_app(tmp_path, """
        import importlib.metadata
        import markupsafe
        print(importlib.metadata.version("markupsafe"), markupsafe.__file__)
        """)
    env = dict(os.environ, SIGLINK_STORE=str(tmp_path / "empty-store"), SIGLINK_DEBUG="1")
    installed = importlib.metadata.distribution("markupsafe")
    expected = f"{installed.version} {installed.locate_file('markupsafe/__init__.py')}\n"
    for warmth in ("cold", "warm"):
        result = subprocess.run([*SIGLINK, "run", "--environment", str(app)],
                                capture_output=True, text=True, env=env, check=False)
        assert result.returncode == 0, result.stderr
        assert f"siglink: {warmth} plan" in result.stderr
        assert result.stdout == expected
    refused = subprocess.run([*SIGLINK, "run", str(app)], capture_output=True, text=True,
                             env=env, check=False)
    assert refused.returncode == 127
    assert "markupsafe is not in the store" in refused.stderr
