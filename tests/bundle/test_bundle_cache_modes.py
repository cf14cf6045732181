"""A bundle extracts its compiled parts only under directories this user alone can write: made
0700 whatever the umask, and a cache directory others could write (where they could swap what
was extracted) is refused with exit 127, before and after the first extraction."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from siglink.cli.main import main

APP = "import markupsafe._speedups\nprint(markupsafe.escape('<b>'))\n"


@pytest.fixture
def bundle(tmp_path: Path, pypi: Any, capsys: pytest.CaptureFixture[str]) -> Path:
    store = tmp_path / "store"
    assert main(["install", "--store", str(store), str(pypi.fetch("markupsafe==2.1.5"))]) == 0
    app = tmp_path / "app" / "app.py"
    app.parent.mkdir()
    app.write_text(APP)
    out = tmp_path / "app.pyz"
    assert main(["bundle", "--store", str(store), str(app), "-o", str(out)]) == 0
    capsys.readouterr()
    return out


def _start(bundle: Path, cache: Path, umask: int = 0o022) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "XDG_CACHE_HOME": str(cache), "HOME": str(cache.parent)}
    return subprocess.run(
        [sys.executable, "-I", str(bundle)], env=env, capture_output=True, text=True,
        timeout=120, check=False, preexec_fn=lambda: os.umask(umask))


@pytest.mark.network
def test_extraction_directories_are_private_whatever_the_umask(
        bundle: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    done = _start(bundle, cache, umask=0)
    assert (done.returncode, done.stdout) == (0, "&lt;b&gt;\n"), done.stderr
    (extracted,) = (cache / "siglink" / "bundles").glob("*/markupsafe-2.1.5")
    for each in (cache, cache / "siglink", cache / "siglink" / "bundles", extracted.parent):
        assert each.stat().st_mode & 0o777 == 0o700, (each, oct(each.stat().st_mode))


@pytest.mark.network
@pytest.mark.parametrize("when", ["before", "after"])
def test_a_cache_others_can_write_is_refused(bundle: Path, tmp_path: Path, when: str) -> None:
    cache = tmp_path / "cache"
    if when == "after":
        assert _start(bundle, cache).returncode == 0
    else:
        (cache / "siglink").mkdir(parents=True)
    (cache / "siglink").chmod(0o777)
    refused = _start(bundle, cache)
    assert refused.returncode == 127, refused.stderr
    assert "not a private directory" in refused.stderr and str(cache / "siglink") in (
        refused.stderr), refused.stderr
    assert "Traceback" not in refused.stderr and refused.stdout == ""
