"""Real libraries from PyPI: each application runs on the newest version it can use."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from linkfixtures import install, make_app

_ENTRY = shutil.which("siglink")
SIGLINK = [_ENTRY] if _ENTRY else [sys.executable, "-m", "siglink"]


def run(store: Path, app: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SIGLINK, "run", str(app)], capture_output=True, text=True,
                          env=dict(os.environ, SIGLINK_STORE=str(store)), timeout=300,
                          check=False)


@pytest.mark.network
@pytest.mark.slow
def test_markupsafe_and_werkzeug(
    pypi: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    install(capsys, store,
            pypi.fetch("markupsafe==2.0.1", kind="sdist"),  # built from source by install
            pypi.fetch("markupsafe==2.1.5"),
            pypi.fetch("werkzeug==2.3.8"),
            pypi.fetch("werkzeug==3.0.1"))
    # Each application prints: the linked version as importlib.metadata tells it, what the
    # call returned, whether the name it imported is the very object its defining module holds
    # (no proxy, no wrapper), and the file that module was loaded from.
    report = """
        import importlib.metadata, json, sys
        defining = sys.modules[f.__module__]
        print(json.dumps([importlib.metadata.version(DIST), str(RESULT),
                          f is getattr(defining, f.__name__), defining.__file__]))
        """
    apps = {
        "old_markup.py": ("from markupsafe import soft_unicode as f\nRESULT = f('<b>')\n"
                          "DIST = 'markupsafe'\n", "markupsafe", "2.0.1", "<b>"),
        "new_markup.py": ("from markupsafe import escape as f\nRESULT = f('<b>')\n"
                          "DIST = 'markupsafe'\n", "markupsafe", "2.1.5", "&lt;b&gt;"),
        "old_urls.py": ("from werkzeug.urls import url_quote as f\nRESULT = f('a b/c')\n"
                        "DIST = 'werkzeug'\n", "werkzeug", "2.3.8", "a%20b/c"),
        "new_urls.py": ("from werkzeug.utils import secure_filename as f\n"
                        "RESULT = f('../x y.txt')\nDIST = 'werkzeug'\n",
                        "werkzeug", "3.0.1", "x_y.txt"),
    }
    for name, (source, dist, version, result) in apps.items():
        app = make_app(tmp_path, source + textwrap.dedent(report), name=name)
        for _ in ("cold", "warm"):
            ran = run(store, app)
            assert ran.returncode == 0, f"{name}: {ran.stderr}"
            linked, returned, identical, where = json.loads(ran.stdout)
            assert (linked, returned, identical) == (version, result, True), name
            assert where.startswith(str(store / "libs" / dist / version) + os.sep), where
