"""Read a bundle without running it: what is inside, and whether it is what was built.

>>> from siglink.errors import BadInputError
>>> try:
...     open_bundle(__file__)
... except BadInputError as e:
...     print(str(e).split(": ", 1)[1])
not a siglink bundle (not a zip archive)
"""

from __future__ import annotations

import hashlib
import marshal
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from siglink._unzip import Budget, open_archive
from siglink.bundle._description import check_description
from siglink.errors import BadInputError

__all__ = ["Bundle", "open_bundle"]

INFO_MEMBER = ".siglink/bundle.json"
BOOT_MEMBER = ".siglink/boot.marshal"
_KEPT = (".siglink/", "app/")
"""Members whose bytes a reader keeps (the description, the manifests, the application's
files); of the libraries' only the digests are kept."""


def __dir__() -> list[str]:
    return list(__all__)


@dataclass(frozen=True)
class Bundle:
    """An opened bundle: its checked ``bundle.json``, every member's ``(sha256, size,
    CRC-32)`` and the bytes of its ``.siglink/`` and ``app/`` members."""

    path: Path
    info: dict[str, Any]
    digests: dict[str, tuple[str, int, int]]
    members: dict[str, bytes]

    def problems(self) -> list[str]:
        """Every member that differs from what was recorded at build time (empty: intact)."""
        recorded: dict[str, str] = self.info.get("members") or {}
        out: list[str] = []
        for name in sorted(set(recorded) | set(self.digests)):
            if name in (INFO_MEMBER, BOOT_MEMBER) or name.endswith("/"):
                continue
            if name not in self.digests:
                out.append(f"member {name} was removed")
            elif name not in recorded:
                out.append(f"member {name} was added")
            elif self.digests[name][0] != recorded[name]:
                out.append(f"member {name} was modified")
        out.extend(self._boot_problems())
        return out

    def _boot_problems(self) -> list[str]:
        try:
            boot = marshal.loads(self.members[BOOT_MEMBER])
            table = boot["members"]
            same_id = boot["id"] == hashlib.sha256(self.members[INFO_MEMBER]).hexdigest()[:32]
        except (KeyError, EOFError, ValueError, TypeError, IndexError):
            return [f"member {BOOT_MEMBER} is damaged"]
        actual = {name: [size, crc] for name, (_, size, crc) in self.digests.items()
                  if name != BOOT_MEMBER and not name.endswith("/")}
        if table != actual or not same_id:
            return [f"member {BOOT_MEMBER} does not match the bundle's contents"]
        return []

    def app_files(self) -> dict[str, bytes]:
        """The application's own files (bytecode left out: it is rebuilt)."""
        return {name[4:]: data for name, data in self.members.items()
                if name.startswith("app/") and not name.endswith((".pyc", "/"))}


def open_bundle(path: str | os.PathLike[str]) -> Bundle:
    """Read the bundle at ``path``, each member streamed within the unpack limits
    (:mod:`siglink._unzip`: ``SIGLINK_UNPACK_MAX_MEMBER``, ``_TOTAL``, ``_RATIO``).

    :raises BadInputError: not a file, not a zip archive, not a siglink bundle, past a limit,
        or a description (``bundle.json``) with a field of the wrong type (naming it).
    """
    where = Path(path)
    if not where.is_file():
        raise BadInputError(f"{where}: no such file", path=str(where))
    try:
        archive = open_archive(where, str(where))
    except BadInputError as e:
        raise BadInputError(f"{where}: not a siglink bundle (not a zip archive)",
                            path=str(where)) from e
    digests: dict[str, tuple[str, int, int]] = {}
    members: dict[str, bytes] = {}
    budget = Budget(str(where))
    with archive:
        names = archive.namelist()
        if INFO_MEMBER not in names or BOOT_MEMBER not in names:
            raise BadInputError(f"{where}: not a siglink bundle (no {INFO_MEMBER})",
                                path=str(where))
        for item in archive.infolist():
            if item.is_dir():
                continue
            keep = item.filename.startswith(_KEPT)
            digest, size, crc, kept = hashlib.sha256(), 0, 0, []
            for chunk in budget.chunks(archive, item):  # counted as the bytes come out
                digest.update(chunk)
                size += len(chunk)
                crc = zlib.crc32(chunk, crc)
                if keep:
                    kept.append(chunk)
            digests[item.filename] = (digest.hexdigest(), size, crc)
            if keep:
                members[item.filename] = b"".join(kept)
    from siglink.bundle.build import read_json

    info = read_json(members[INFO_MEMBER], f"{where}:{INFO_MEMBER}")
    fmt = info.get("format")
    if fmt != 1 or isinstance(fmt, bool):
        raise BadInputError(f"{where}: bundle format {repr(fmt)[:40]} is not one this siglink "
                            "reads (1)", path=str(where))
    wrong = check_description(info, frozenset(members))
    if wrong is not None:
        raise BadInputError(f"{where}:{INFO_MEMBER}: {wrong}; refused", path=str(where))
    return Bundle(where, info, digests, members)
