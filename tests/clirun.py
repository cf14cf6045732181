"""The real command line in a child process: ``siglink(*argv)`` runs ``python -m siglink``
with a plain environment (and this one's ``PYTHONPATH``, so a test can be pointed at another
source tree) and gives back the finished process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping


def siglink(*argv: str, env: Mapping[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -m siglink ARGV``: its exit code, stdout and stderr (text)."""
    environ = {"PATH": "/usr/bin:/bin", "NO_COLOR": "1",
               **{k: v for k, v in os.environ.items() if k in ("PYTHONPATH", "HOME")},
               **(env or {})}
    return subprocess.run([sys.executable, "-m", "siglink", *argv], capture_output=True,
                          text=True, env=environ, timeout=timeout, check=False)
