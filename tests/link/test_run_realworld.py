"""Real libraries from PyPI: each application runs on the newest version it can use."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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
    apps = {
        "old_markup.py": ("""
            import importlib.metadata
            from markupsafe import soft_unicode
            print(importlib.metadata.version("markupsafe"), soft_unicode("<b>"))
            """, "2.0.1 <b>\n"),
        "new_markup.py": ("""
            import importlib.metadata
            from markupsafe import escape
            print(importlib.metadata.version("markupsafe"), escape("<b>"))
            """, "2.1.5 &lt;b&gt;\n"),
        "old_urls.py": ("""
            import importlib.metadata
            from werkzeug.urls import url_quote
            print(importlib.metadata.version("werkzeug"), url_quote("a b/c"))
            """, "2.3.8 a%20b/c\n"),
        "new_urls.py": ("""
            import importlib.metadata
            from werkzeug.utils import secure_filename
            print(importlib.metadata.version("werkzeug"), secure_filename("../x y.txt"))
            """, "3.0.1 x_y.txt\n"),
    }
    for name, (source, expected) in apps.items():
        app = make_app(tmp_path, source, name=name)
        for _ in ("cold", "warm"):
            result = run(store, app)
            assert result.returncode == 0, f"{name}: {result.stderr}"
            assert result.stdout == expected, name
