"""Archive member names: one spelling per file, or a refusal.

A zip stores names as text, and several texts can name one file once unpacked:
``pkg/__init__.py``, ``pkg/./__init__.py`` and ``pkg//__init__.py`` on every system,
``PKG/__init__.py`` or a differently composed ``é`` where the file system folds case or
normalizes Unicode. A reader that takes one of them and a writer that keeps the other would
disagree about a file's bytes, so siglink accepts only the plain spelling of a name
(:func:`unsafe_reason`) and refuses two names that would meet on any file system, or a file
that another name needs as a directory (:class:`Paths`).

Standard library only and cheap to import.

>>> unsafe_reason("pkg/./__init__.py"), unsafe_reason("pkg//x.py"), unsafe_reason("pkg/x.py")
("has an empty or '.' path segment", "has an empty or '.' path segment", None)
>>> paths = Paths()
>>> paths.add("pkg/__init__.py"), paths.add("PKG/__init__.py")
(None, 'pkg/__init__.py')
>>> paths.add("pkg/__init__.py/x.py")
'pkg/__init__.py'
"""

from __future__ import annotations

import unicodedata

__all__ = ["Paths", "unsafe_reason"]


def __dir__() -> list[str]:
    return list(__all__)


def unsafe_reason(name: str, *, directory: bool = False) -> str | None:
    """Why member ``name`` may not be unpacked (a phrase after the name), or None.

    ``directory``: a directory entry, whose one trailing ``/`` is part of the format.
    """
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        return "contains a NUL byte" if "\0" in name else "contains a control character"
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":" and name[0].isalpha()):
        return "is an absolute path"
    if "\\" in name:
        return "contains a backslash (a path separator on Windows)"
    parts = (name[:-1] if directory and name.endswith("/") else name).split("/")
    if ".." in parts:
        return "escapes the wheel directory ('..')"
    if any(part in ("", ".") for part in parts):
        return "has an empty or '.' path segment"
    return None


def _key(path: str) -> str:
    """What a case-folding, Unicode-normalizing file system makes of ``path``: Unicode's
    canonical caseless match (``NFD(casefold(NFD(x)))``), since folding can undo a
    normalization (U+015B and U+017F U+0301 are one name)."""
    return unicodedata.normalize(
        "NFD", unicodedata.normalize("NFD", path).casefold())


class Paths:
    """The files of one archive, each added once: :meth:`add` gives the earlier name a new one
    would collide with."""

    def __init__(self) -> None:
        self._files: dict[str, str] = {}  # key -> name as added
        self._directories: dict[str, str] = {}  # key -> a file name that needs it

    def add(self, name: str) -> str | None:
        """Record file ``name`` (a safe name: :func:`unsafe_reason`); the earlier file it
        would meet (the same file, a directory it needs, or one that needs it as a
        directory), else None."""
        key = _key(name)
        earlier = self._files.get(key) or self._directories.get(key)
        if earlier is not None:
            return earlier
        parents = key.split("/")[:-1]
        for depth in range(1, len(parents) + 1):
            parent = "/".join(parents[:depth])
            if parent in self._files:
                return self._files[parent]
        for depth in range(1, len(parents) + 1):
            self._directories.setdefault("/".join(parents[:depth]), name)
        self._files[key] = name
        return None
