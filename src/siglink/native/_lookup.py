"""Finding a shared library as the dynamic loader would: a path, ``libz.so.1`` or ``z``.

>>> find_library("/nonexistent/libx.so.1")
Traceback (most recent call last):
siglink.native.elf.ElfError: /nonexistent/libx.so.1: no such file
"""

from __future__ import annotations

import ctypes.util
import os
import re
import subprocess
from collections.abc import Sequence
from functools import lru_cache

from siglink.errors import NativeError
from siglink.native.elf import ElfError, check_loadable

__all__ = ["find_library"]


def __dir__() -> list[str]:
    return list(__all__)


def find_library(
    name_or_path: str | os.PathLike[str], *, search: Sequence[str] = ()
) -> tuple[str, str | None]:
    """The file of a library and the soname asked for: a path, ``libz.so.1`` or ``z``.

    A bare name that is a file in the working directory is that file; otherwise it is
    looked up like the dynamic loader does.

    ``search`` lists directories to try first (a consumer's ``DT_RUNPATH``).
    """
    name = os.fspath(name_or_path)
    # A path, or a bare name that is a file in the working directory, is that file.
    if "/" in name or os.path.isfile(name):
        if not os.path.exists(name):
            raise ElfError(f"{name}: no such file", path=name)
        base = os.path.basename(name)
        # dlopen searches the library path for a name without '/': keep the cwd file.
        return name if "/" in name else os.path.join(".", name), base if ".so." in base else None
    soname = name if ".so" in name else ctypes.util.find_library(name)
    if soname is None:
        raise NativeError(f"library {name!r} not found on this system's library path")
    for directory in [*search, *os.environ.get("LD_LIBRARY_PATH", "").split(":")]:
        candidate = os.path.join(directory, soname) if directory else ""
        if candidate and os.path.exists(candidate) and _loadable(candidate):
            return candidate, soname
    for candidate in _system_paths().get(soname, ()):
        if _loadable(candidate):
            return candidate, soname
    raise NativeError(f"library {soname!r} not found on this system's library path")


def _loadable(path: str) -> bool:
    try:
        check_loadable(path)
    except ElfError:
        return False
    return True


@lru_cache(maxsize=1)
def _system_paths() -> dict[str, tuple[str, ...]]:
    """``ldconfig -p``: soname to paths, plus the usual directories."""
    found: dict[str, list[str]] = {}
    try:
        out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True,
                             check=False).stdout
    except OSError:
        out = ""
    for line in out.splitlines():
        m = re.match(r"\s+(\S+) \(.*\) => (\S+)", line)
        if m:
            found.setdefault(m.group(1), []).append(m.group(2))
    for directory in ("/lib", "/usr/lib", "/lib64", "/usr/lib64", "/usr/local/lib",
                      "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
                      "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu"):
        try:
            for entry in os.listdir(directory):
                if ".so" in entry:
                    found.setdefault(entry, []).append(os.path.join(directory, entry))
        except OSError:
            continue
    return {k: tuple(v) for k, v in found.items()}
