"""A real Werkzeug application bundled, then run where neither siglink nor the libraries exist."""

from __future__ import annotations

import json
import shutil
import subprocess
import venv
from pathlib import Path
from typing import Any

import pytest

from siglink.cli.main import main

APP = """\
import importlib.metadata
import markupsafe
from werkzeug.datastructures import MultiDict
from werkzeug.utils import secure_filename

d = MultiDict([("a", "1"), ("a", "2")])
print(importlib.metadata.version("werkzeug"), d.getlist("a"), secure_filename("../x y.txt"),
      markupsafe.escape("<b>"), type(markupsafe.escape("x")).__module__)
import markupsafe._speedups
print(markupsafe._speedups.__file__.endswith(".so"))
"""


def siglink(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _offline(argv: list[str]) -> list[str]:
    """``argv`` in a new network namespace (no network at all) when ``unshare`` allows it."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-rn", "true"], capture_output=True,
                                  check=False).returncode == 0:
        return [unshare, "-rn", *argv]
    pytest.skip("unshare -rn is not available: cannot run the bundle without a network")


@pytest.mark.network
@pytest.mark.slow
def test_werkzeug_app_runs_from_its_bundle_in_a_bare_environment(
        tmp_path: Path, pypi: Any, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store"
    old, new = pypi.fetch("werkzeug==3.0.3"), pypi.fetch("werkzeug==3.0.6")
    markupsafe = pypi.fetch("markupsafe==2.1.5")
    assert siglink(capsys, "install", "--store", str(store), str(old), str(markupsafe))[0] == 0
    app = tmp_path / "app" / "app.py"
    app.parent.mkdir()
    app.write_text(APP)
    out = tmp_path / "dist" / "app.pyz"
    out.parent.mkdir()
    code, _, err = siglink(capsys, "bundle", "--store", str(store), str(app), "-o", str(out))
    assert code == 0, err

    bare = tmp_path / "bare"
    venv.create(bare, with_pip=False)  # neither siglink nor the libraries
    python = str(bare / "bin" / "python")
    env = {"PATH": "/usr/bin:/bin", "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "HOME": str(tmp_path)}
    probe = subprocess.run([python, "-c", "import siglink"], capture_output=True, env=env,
                           check=False)
    assert probe.returncode == 1  # siglink is not importable there
    done = subprocess.run(_offline([python, str(out)]), capture_output=True, text=True, env=env,
                          cwd=tmp_path, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "3.0.3 ['1', '2'] x_y.txt &lt;b&gt; markupsafe", "True"]
    extracted = list((tmp_path / "cache" / "siglink" / "bundles").glob("*/markupsafe-2.1.5"))
    assert len(extracted) == 1  # the compiled part, extracted once, keyed by the bundle

    code, stdout, _ = siglink(capsys, "inspect", str(out), "--json")
    data = json.loads(stdout)
    assert code == 0
    assert [(lib["name"], lib["version"]) for lib in data["libs"]] == [
        ("markupsafe", "2.1.5"), ("werkzeug", "3.0.3")]
    assert [lib["compiled"] for lib in data["libs"]] == [True, False]

    assert siglink(capsys, "install", "--store", str(store), str(new))[0] == 0
    code, stdout, _ = siglink(capsys, "relink", "--store", str(store), str(out))
    assert code == 0 and "moved werkzeug 3.0.3 -> 3.0.6" in stdout
    done = subprocess.run(_offline([python, str(out)]), capture_output=True, text=True,
                          env=env, cwd=tmp_path, check=False, timeout=120)
    assert done.stdout.startswith("3.0.6 "), done.stderr

