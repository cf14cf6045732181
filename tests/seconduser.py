"""A real second user for the multi-user tests: made with ``useradd`` (root only) and removed
afterwards; a test that cannot have one is skipped with the reason printed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PYTHON = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"
"""An interpreter the second user can run (root's own may live where they cannot enter)."""


def unavailable() -> str | None:
    """Why no second user can be made here, or None."""
    if os.geteuid() != 0:
        return "needs root to create a second user"
    if shutil.which("useradd") is None or shutil.which("runuser") is None:
        return "needs useradd and runuser"
    if not os.path.exists(PYTHON):
        return f"needs {PYTHON} (an interpreter the second user can run)"
    return None


@contextmanager
def account(name: str, *, home: bool = True) -> Iterator[Path | None]:
    """The user ``name``, with a fresh home directory of their own (or none), for the block."""
    reason = unavailable()
    if reason is not None:
        print(f"skipped: {reason}")
        pytest.skip(reason)
    folder = Path(tempfile.mkdtemp(prefix="siglink-home-", dir="/tmp")) if home else None
    subprocess.run(["userdel", "-f", name], check=False, capture_output=True)
    subprocess.run(["useradd", "-M", "-d", str(folder or "/nonexistent"), "-s", "/bin/sh", name],
                   check=True)
    if folder is not None:
        shutil.chown(folder, name, name)
    try:
        yield folder
    finally:
        subprocess.run(["userdel", "-f", name], check=False, capture_output=True)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
