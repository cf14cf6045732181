"""Reading zip members within limits, counted as the bytes come out.

A zip member's header declares its size; a hostile archive lies. Every member siglink reads
goes through a :class:`Budget`, which counts the bytes as they are inflated and refuses, with
one line naming the archive and the member, a member larger than ``member_bytes``, an archive
whose members add up to more than ``total_bytes``, or a member that inflates more than
``ratio`` times its compressed size (past the first ``RATIO_FLOOR`` bytes: small files may
compress well). Memory stays at one chunk whatever the member.

The limits come from the environment, sizes in bytes with an optional ``K``, ``M`` or ``G``:

=============================  ========  =========================================
variable                       default   limit
=============================  ========  =========================================
``SIGLINK_UNPACK_MAX_MEMBER``  ``1G``    uncompressed size of one member
``SIGLINK_UNPACK_MAX_TOTAL``   ``4G``    uncompressed size of all members together
``SIGLINK_UNPACK_MAX_RATIO``   ``200``   uncompressed / compressed size of a member
=============================  ========  =========================================

>>> UnpackLimits.from_environment({"SIGLINK_UNPACK_MAX_MEMBER": "64M"}).member_bytes
67108864
"""

from __future__ import annotations

import os
import re
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Final

from siglink.errors import BadInputError

__all__ = ["RATIO_FLOOR", "Budget", "UnpackLimitError", "UnpackLimits", "open_archive"]


def __dir__() -> list[str]:
    return list(__all__)


RATIO_FLOOR: Final = 1 << 20
_CHUNK: Final = 1 << 16
_UNITS: Final = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_VARIABLES: Final = {
    "member_bytes": "SIGLINK_UNPACK_MAX_MEMBER",
    "total_bytes": "SIGLINK_UNPACK_MAX_TOTAL",
    "ratio": "SIGLINK_UNPACK_MAX_RATIO",
}
_CORRUPT: Final = (zipfile.BadZipFile, zlib.error, OSError, EOFError, zipfile.LargeZipFile,
                   NotImplementedError, RuntimeError, ValueError)


class UnpackLimitError(BadInputError):
    """A member or an archive larger, or inflating more, than the limits allow."""

    def __init__(self, message: str, *, archive: str, member: str) -> None:
        super().__init__(message, path=archive)
        self.archive = archive
        self.member = member


@dataclass(frozen=True, slots=True)
class UnpackLimits:
    """How much an archive may inflate to."""

    member_bytes: int = 1 << 30
    total_bytes: int = 4 << 30
    ratio: int = 200

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> UnpackLimits:
        """The defaults, overridden by ``SIGLINK_UNPACK_MAX_*``.

        :raises BadInputError: a variable that is not a positive size.
        """
        environ = os.environ if environ is None else environ
        values: dict[str, int] = {}
        for field, variable in _VARIABLES.items():
            text = environ.get(variable, "").strip()
            if not text:
                continue
            match = re.fullmatch(r"(\d{1,15})\s*([KMGT]?)i?B?", text, re.IGNORECASE)
            if match is None or int(match.group(1)) == 0:
                raise BadInputError(f"{variable}={text!r}: expected a positive size such as "
                                    "512M or 2G")
            values[field] = int(match.group(1)) * _UNITS[match.group(2).upper()]
        return cls(**values)


def open_archive(path: str | os.PathLike[str], label: str) -> zipfile.ZipFile:
    """Open a zip archive, or raise :class:`BadInputError` with one line naming ``label``: not
    a zip, truncated, or a member name flagged UTF-8 that is not."""
    try:
        return zipfile.ZipFile(path)
    except UnicodeDecodeError as e:
        shown = e.object[:200].decode("utf-8", "backslashreplace") if isinstance(
            e.object, bytes) else "?"
        raise BadInputError(f"{label}: member name {shown!r} is not valid UTF-8; refused",
                            path=label) from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
            NotImplementedError) as e:
        raise BadInputError(f"{label}: not a valid zip archive: not a zip file, or truncated "
                            f"({e})", path=label) from None


def _size(n: int) -> str:
    """``4 KiB``, ``1.2 MiB``, ``17 bytes``."""
    for unit in ("G", "M", "K"):
        if n >= _UNITS[unit]:
            value = n / _UNITS[unit]
            return f"{value:.0f} {unit}iB" if value.is_integer() else f"{value:.1f} {unit}iB"
    return f"{n} bytes"


class Budget:
    """The bytes one pass over an archive may inflate to; ``label`` names it in messages."""

    def __init__(self, label: str, limits: UnpackLimits | None = None) -> None:
        self.label = label
        self.limits = limits or UnpackLimits.from_environment()
        self.total = 0

    def chunks(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
        """The member's bytes, a chunk at a time, counted against the limits.

        :raises UnpackLimitError: past a limit (at once when the header already says so).
        :raises BadInputError: a corrupt member.
        """
        self._check(info, info.file_size, declared=True)
        produced = 0
        try:
            data = archive.open(info)
        except _CORRUPT as e:
            raise self._corrupt(info, e) from e
        with data:
            while True:
                try:
                    chunk = data.read(_CHUNK)
                except _CORRUPT as e:
                    raise self._corrupt(info, e) from e
                if not chunk:
                    return
                produced += len(chunk)
                self.total += len(chunk)
                self._check(info, produced, declared=False)
                yield chunk

    def _corrupt(self, info: zipfile.ZipInfo, error: Exception) -> BadInputError:
        return BadInputError(f"{self.label}: member {info.filename!r} is corrupt ({error})",
                             path=self.label)

    def read(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
        """The whole member (for small metadata files), within the limits."""
        return b"".join(self.chunks(archive, info))

    def copy(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, out: IO[bytes]) -> int:
        """Write the member to ``out``; the number of bytes written."""
        written = 0
        for chunk in self.chunks(archive, info):
            out.write(chunk)
            written += len(chunk)
        return written

    def _check(self, info: zipfile.ZipInfo, produced: int, *, declared: bool) -> None:
        limits = self.limits
        what = "declares" if declared else "inflates to"
        if produced > limits.member_bytes:
            self._refuse(info, f"{what} more than {_size(limits.member_bytes)}",
                         "SIGLINK_UNPACK_MAX_MEMBER")
        total = self.total + (produced if declared else 0)
        if total > limits.total_bytes:
            self._refuse(info, f"takes the archive past {_size(limits.total_bytes)} "
                               "uncompressed", "SIGLINK_UNPACK_MAX_TOTAL")
        if produced > RATIO_FLOOR and produced > limits.ratio * max(info.compress_size, 1):
            self._refuse(info, f"{what} more than {limits.ratio} times its compressed size "
                               f"({_size(info.compress_size)})", "SIGLINK_UNPACK_MAX_RATIO")

    def _refuse(self, info: zipfile.ZipInfo, what: str, variable: str) -> None:
        raise UnpackLimitError(
            f"{self.label}: member {info.filename!r} {what}; refused (the limit is set by "
            f"{variable})",
            archive=self.label, member=info.filename,
        )
