"""Shared fixtures: real artifacts from the package index, cached across runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CACHE = Path(os.environ.get("SIGLINK_TEST_CACHE", Path.home() / ".cache" / "siglink-tests"))


def fetch(requirement: str, *, kind: str = "wheel") -> Path:
    """Download one real artifact of ``requirement`` (``NAME==VERSION``) from the package index.

    ``kind`` is ``wheel`` (pure-Python or any wheel pip picks for this interpreter) or
    ``sdist``. Artifacts are cached in ``$SIGLINK_TEST_CACHE`` (default
    ``~/.cache/siglink-tests``) so a second run needs no network.
    """
    name, _, version = requirement.partition("==")
    dest = CACHE / kind / f"{name.lower()}-{version}"
    dest.mkdir(parents=True, exist_ok=True)
    found = [p for p in dest.iterdir() if p.suffix in (".whl", ".gz", ".zip")]
    if found:
        return found[0]
    binary = ["--only-binary", ":all:"] if kind == "wheel" else ["--no-binary", ":all:"]
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
           "--quiet", "--dest", str(dest), *binary, requirement]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    found = [p for p in dest.iterdir() if p.suffix in (".whl", ".gz", ".zip")]
    if result.returncode != 0 or not found:
        raise RuntimeError(f"pip download {requirement} ({kind}) failed:\n{result.stderr}")
    return found[0]


@pytest.fixture(scope="session")
def pypi() -> type[_Pypi]:
    """``pypi.fetch("markupsafe==2.1.5")`` gives the path of a real artifact."""
    return _Pypi


class _Pypi:
    fetch = staticmethod(fetch)


@pytest.fixture(autouse=True)
def _isolated_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test ever touches the user's real store or colour settings."""
    monkeypatch.setenv("SIGLINK_STORE", str(tmp_path / "default-store"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
