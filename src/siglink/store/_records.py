"""The store's value types: a stored version, an install's result, a registered application.

>>> str(NotInStoreError("textkit", "9.9"))
'textkit==9.9 is not in the store'
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from packaging.version import InvalidVersion, Version

from siglink._foreign import MANIFEST_LIMIT, ForeignFileError, read_foreign
from siglink._json import JSONTextError, loads
from siglink.errors import BadInputError, StoreError

STDLIB: frozenset[str] = frozenset(sys.stdlib_module_names) | frozenset(
    sys.builtin_module_names)
"""This interpreter's standard library's top-level module names: never served from the store
(a backport is ignored for the interpreter it duplicates)."""

__all__ = [
    "STDLIB",
    "InstallResult",
    "InstallStatus",
    "NotInStoreError",
    "RegisteredApp",
    "StoredVersion",
    "app_display",
    "version_key",
]


def __dir__() -> list[str]:
    return list(__all__)


class NotInStoreError(BadInputError, StoreError):
    """``NAME==VERSION`` (or ``NAME``) asked for and not there: bad input (exit 2), and a store
    error for callers that catch :class:`StoreError`."""

    def __init__(self, name: str, version: str | None = None, *, hint: str = "") -> None:
        what = name if version is None else f"{name}=={version}"
        super().__init__(f"{what} is not in the store{hint}")
        self.name = name
        self.version = version


@dataclass(frozen=True)
class StoredVersion:
    """One installed version of a library: what the linker puts on ``sys.path``."""

    name: str
    version: str
    path: Path
    dist_info: Path
    top_level: tuple[str, ...]
    requires: tuple[str, ...]
    requires_python: str | None
    yanked: str | None
    source: str = "store"

    def __str__(self) -> str:
        return f"{self.name}=={self.version}"


InstallStatus = Literal["installed", "already-present"]


@dataclass(frozen=True)
class InstallResult:
    """What :meth:`Store.install` did with one spec; ``notes`` for the user (a module of the
    standard library the store will not serve)."""

    name: str
    version: str
    status: InstallStatus
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class RegisteredApp:
    """An application the linker has planned, and the version of each library it links.

    ``refused`` says why it links nothing now (its last link was refused, or a version it
    linked was removed); the libraries it needs are then in ``links`` with version ``None``.
    """

    app_id: str
    manifest_path: str
    links: dict[str, str | None]
    refused: str | None = None

    @property
    def application(self) -> str:
        """The application itself, for people: the script, the directory (``DIR/``) or
        ``-m MODULE (in DIR)``, derived from its manifest's path (:func:`app_display`)."""
        return app_display(self.manifest_path)


def app_display(manifest_path: str) -> str:
    """The application a manifest path belongs to (the inverse of
    :func:`siglink.link._cache.app_manifest_path`): ``DIR/siglink.json`` is the directory
    application ``DIR/``; ``DIR/X.siglink.json`` is the script ``DIR/X.py`` (or the file
    ``DIR/X``) when it exists, else what the manifest's ``entry`` says (``-m X (in DIR)`` for a
    module), else ``DIR/X.py``.

    >>> app_display("/apps/tool/siglink.json")
    '/apps/tool/'
    >>> app_display("/nowhere/report.siglink.json")
    '/nowhere/report.py'
    """
    folder, base = os.path.split(manifest_path)
    if base == "siglink.json":
        return os.path.join(folder, "")
    stem = base.removesuffix(".siglink.json")
    if stem == base or not stem:
        return manifest_path  # not a name siglink gives a manifest: show it as it is
    script = os.path.join(folder, stem + ".py")
    if os.path.exists(script):
        return script
    other = os.path.join(folder, stem)
    if os.path.isfile(other):
        return other
    entry = _manifest_entry(manifest_path) or ""
    if entry.startswith("module:"):
        parent, quoted = os.path.split(folder)
        if os.path.basename(parent) == "modules" and not quoted.startswith("sha256-"):
            from urllib.parse import unquote  # ROOT/apps/modules/<cwd>: _cache.module_dir

            folder = unquote(quoted, errors="surrogateescape")
        return f"-m {entry.removeprefix('module:')} (in {folder})"
    if entry.startswith("script:"):
        return os.path.join(folder, entry.removeprefix("script:"))  # a script since deleted
    return script


def _manifest_entry(manifest_path: str) -> str | None:
    """The ``entry`` an application manifest records (``script:app.py``, ``module:pkg``...)."""
    try:  # another user's file, maybe: no FIFO, device or symbolic link of theirs is opened
        data = loads(read_foreign(manifest_path, MANIFEST_LIMIT)[0])
    except (OSError, ForeignFileError, JSONTextError):
        return None
    entry = data.get("entry") if isinstance(data, dict) else None
    return entry if isinstance(entry, str) else None


def version_key(version: str) -> tuple[int, Version | str]:
    """A sort key: valid versions by PEP 440 order, after every invalid one.

    >>> sorted(["1.10", "1.9", "x"], key=version_key)
    ['x', '1.9', '1.10']
    """
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)
