"""The bytecode of a stored version: siglink's own, compiled from the source it read.

A wheel's own bytecode is never unpacked (:func:`siglink.store.wheel.validate` drops it, and
refuses a module shipped as bytecode alone): the interpreter could run it instead of the
source, and nothing ties it to that source (an unchecked-hash ``.pyc`` is loaded whatever the
source says). Each source is compiled at every optimization level (:data:`LEVELS`), so that an
interpreter run with ``-O`` or ``-OO`` (``PYTHONOPTIMIZE``) loads siglink's bytecode too and
never writes its own into the store.
"""

from __future__ import annotations

import compileall
from pathlib import Path

__all__ = ["LEVELS", "compile_all", "level_of"]

LEVELS = (0, 1, 2)
"""The optimization levels compiled: none, ``-O``, ``-OO``."""


def __dir__() -> list[str]:
    return list(__all__)


def compile_all(lib: Path, final: str) -> None:
    """Compile every source under ``lib`` at each of :data:`LEVELS`, naming it as it will lie
    under ``final`` (in tracebacks)."""
    for level in LEVELS:
        compileall.compile_dir(str(lib), quiet=2, ddir=final, workers=1, optimize=level)


def level_of(name: str) -> int | None:
    """The optimization level of the ``__pycache__`` file ``name``, None when none of ours.

    >>> level_of("mod.cpython-311.pyc"), level_of("mod.cpython-311.opt-2.pyc")
    (0, 2)
    >>> level_of("mod.cpython-311.opt-7.pyc"), level_of("mod.py") is None
    (None, True)
    """
    parts = name.split(".")
    if len(parts) == 3 and parts[2] == "pyc":
        return 0
    if len(parts) == 4 and parts[3] == "pyc" and parts[2] in ("opt-1", "opt-2"):
        return int(parts[2][-1])
    return None
