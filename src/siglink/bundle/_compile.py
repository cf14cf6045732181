"""Bytecode for the bundle's target interpreter, compiled in a child of that interpreter.

Sources are compiled (never executed) by ``pythonX.Y -I -S``, a fresh interpreter in a fixed
state, so the same sources give the same bytes on every build. Each result is a complete
unchecked hash-based ``.pyc`` (PEP 552): no timestamp, and the loader never compares it with
the source, which sits beside it in the archive for tracebacks.
"""

from __future__ import annotations

import marshal
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence

from siglink.errors import BadInputError

__all__ = ["compile_sources", "interpreter_for"]

_CHILD = r"""
import importlib.util, marshal, sys
items = marshal.loads(sys.stdin.buffer.read())
out = []
for filename, source in items:
    try:
        code = compile(source, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        out.append(None)
        continue
    out.append(importlib.util.MAGIC_NUMBER + (1).to_bytes(4, "little")
               + importlib.util.source_hash(source) + marshal.dumps(code))
sys.stdout.buffer.write(marshal.dumps((tuple(sys.version_info[:2]), out)))
"""


def __dir__() -> list[str]:
    return list(__all__)


def interpreter_for(version: str | None) -> tuple[str, tuple[int, int]]:
    """The interpreter to compile for (``X.Y``, default this one) and its version.

    :raises BadInputError: a malformed version, or no such interpreter on ``PATH``.

    >>> interpreter_for(None) == (sys.executable, sys.version_info[:2])
    True
    >>> interpreter_for("3")
    Traceback (most recent call last):
    siglink.errors.BadInputError: --python-version '3': expected X.Y, e.g. 3.11
    """
    here = sys.version_info[:2]
    if version is None or version == f"{here[0]}.{here[1]}":
        return sys.executable, (here[0], here[1])
    major, dot, minor = version.partition(".")
    if not (dot and major.isdigit() and minor.isdigit()):
        raise BadInputError(f"--python-version {version!r}: expected X.Y, e.g. 3.11")
    found = shutil.which(f"python{major}.{minor}")
    want = (int(major), int(minor))
    probe = subprocess.run([found, "-I", "-S", "-c", "import sys; print(*sys.version_info[:2])"],
                           capture_output=True, text=True, check=False) if found else None
    if probe is None or probe.returncode != 0 or probe.stdout.split() != [major, minor]:
        raise BadInputError(f"--python-version {version}: no working python{version} on PATH "
                            "to compile the bundle's bytecode with")
    return found or "", want


def compile_sources(items: Sequence[tuple[str, bytes]],
                    interpreter: str) -> list[bytes | None]:
    """One ``.pyc`` image per ``(filename, source)`` (None where the source does not compile
    under that interpreter: the loader then reports the error as python would).

    >>> from importlib.util import MAGIC_NUMBER
    >>> images = compile_sources([("ok.py", b"x = 1"), ("bad.py", b"def")], sys.executable)
    >>> images[0][:4] == MAGIC_NUMBER, images[1]
    (True, None)
    """
    if not items:
        return []
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    result = subprocess.run([interpreter, "-I", "-S", "-c", _CHILD],
                            input=marshal.dumps(list(items)), capture_output=True, env=env,
                            check=False)
    if result.returncode != 0:
        raise BadInputError(f"{interpreter}: could not compile the bundle's sources: "
                            f"{result.stderr.decode(errors='replace').strip()[-400:]}")
    _, images = marshal.loads(result.stdout)
    return list(images)
