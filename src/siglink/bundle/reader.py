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
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from siglink.errors import BadInputError

__all__ = ["MAX_BUNDLE_BYTES", "Bundle", "open_bundle"]

INFO_MEMBER = ".siglink/bundle.json"
BOOT_MEMBER = ".siglink/boot.marshal"
MAX_BUNDLE_BYTES = 4 << 30  # uncompressed: a larger "bundle" is refused, not unpacked


def __dir__() -> list[str]:
    return list(__all__)


@dataclass(frozen=True)
class Bundle:
    """An opened bundle: its ``bundle.json`` and every member's bytes."""

    path: Path
    info: dict[str, Any]
    members: dict[str, bytes]

    def problems(self) -> list[str]:
        """Every member that differs from what was recorded at build time (empty: intact)."""
        recorded: dict[str, str] = self.info.get("members") or {}
        out: list[str] = []
        for name in sorted(set(recorded) | set(self.members)):
            if name in (INFO_MEMBER, BOOT_MEMBER) or name.endswith("/"):
                continue
            if name not in self.members:
                out.append(f"member {name} was removed")
            elif name not in recorded:
                out.append(f"member {name} was added")
            elif hashlib.sha256(self.members[name]).hexdigest() != recorded[name]:
                out.append(f"member {name} was modified")
        out.extend(self._boot_problems())
        return out

    def _boot_problems(self) -> list[str]:
        try:
            boot = marshal.loads(self.members[BOOT_MEMBER])
            table = boot["members"]
            same_id = boot["id"] == hashlib.sha256(self.members[INFO_MEMBER]).hexdigest()[:32]
        except (KeyError, EOFError, ValueError, TypeError):
            return [f"member {BOOT_MEMBER} is damaged"]
        actual = {name: [len(data), zlib.crc32(data)] for name, data in self.members.items()
                  if name != BOOT_MEMBER and not name.endswith("/")}
        if table != actual or not same_id:
            return [f"member {BOOT_MEMBER} does not match the bundle's contents"]
        return []

    def app_files(self) -> dict[str, bytes]:
        """The application's own files (bytecode left out: it is rebuilt)."""
        return {name[4:]: data for name, data in self.members.items()
                if name.startswith("app/") and not name.endswith((".pyc", "/"))}


def open_bundle(path: str | os.PathLike[str]) -> Bundle:
    """Read the bundle at ``path``.

    :raises BadInputError: not a file, not a zip archive, not a siglink bundle, too large.
    """
    where = Path(path)
    if not where.is_file():
        raise BadInputError(f"{where}: no such file", path=str(where))
    try:
        archive = zipfile.ZipFile(where)
    except (zipfile.BadZipFile, OSError) as e:
        raise BadInputError(f"{where}: not a siglink bundle (not a zip archive)",
                            path=str(where)) from e
    members: dict[str, bytes] = {}
    total = 0
    with archive:
        names = archive.namelist()
        if INFO_MEMBER not in names or BOOT_MEMBER not in names:
            raise BadInputError(f"{where}: not a siglink bundle (no {INFO_MEMBER})",
                                path=str(where))
        for item in archive.infolist():
            if item.is_dir():
                continue
            try:
                with archive.open(item) as stream:
                    data = stream.read(MAX_BUNDLE_BYTES - total + 1)
            except (zipfile.BadZipFile, zlib.error, OSError, ValueError) as e:
                raise BadInputError(f"{where}: member {item.filename} cannot be read: {e}",
                                    path=str(where)) from e
            total += len(data)
            if total > MAX_BUNDLE_BYTES:
                raise BadInputError(f"{where}: larger than {MAX_BUNDLE_BYTES >> 30} GiB "
                                    "uncompressed; refused", path=str(where))
            members[item.filename] = data
    from siglink.bundle.build import read_json

    info = read_json(members[INFO_MEMBER], f"{where}:{INFO_MEMBER}")
    if info.get("format") != 1:
        raise BadInputError(f"{where}: bundle format {info.get('format')!r} is not one this "
                            "siglink reads (1)", path=str(where))
    for key, kind in (("app", dict), ("libs", dict), ("members", dict), ("python", str)):
        if not isinstance(info.get(key), kind):
            raise BadInputError(f"{where}:{INFO_MEMBER}: missing or malformed {key!r}",
                                path=str(where))
    return Bundle(where, info, members)
