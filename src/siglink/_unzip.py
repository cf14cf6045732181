"""Reading zip members within limits, counted as the bytes come out.

A zip member's header declares its size; a hostile archive lies. Every member siglink reads
goes through a :class:`Budget`, which counts the bytes as they are inflated and refuses, with
one line naming the archive and the member, a member larger than ``member_bytes``, an archive
whose members add up to more than ``total_bytes``, or a member that inflates more than
``ratio`` times its compressed size (past the first ``RATIO_FLOOR`` bytes: small files may
compress well). Memory stays at one chunk whatever the member.

A source archive (an sdist, ``.tar.*`` or ``.zip``) is unpacked by :func:`extract` under the
same limits; a tar's members have no compressed size of their own, so its ratio is the whole
uncompressed stream (headers included) against the archive's size on disk. Only regular files
and directories are unpacked: a link, device, FIFO, absolute or ``..`` member is refused.

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

import lzma
import os
import re
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final, Literal

from siglink.errors import BadInputError

__all__ = ["RATIO_FLOOR", "Budget", "UnpackLimitError", "UnpackLimits", "extract",
           "open_archive"]


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
# What zipfile raises for hostile or broken archives: NotImplementedError for an unknown
# compression method, RuntimeError for an encrypted member, ValueError for bad headers.
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
        self.check(info.filename, produced, info.compress_size, declared=declared)

    def check(self, member: str, produced: int, compressed: int, *, declared: bool,
              stream: int | None = None) -> None:
        """Refuse ``member`` once it has produced (or declares) ``produced`` bytes from
        ``compressed`` ones; ``stream``: for a tar, the uncompressed stream so far, which the
        ratio is taken of instead (``compressed`` is then the archive's size).

        :raises UnpackLimitError: past a limit.
        """
        limits = self.limits
        what = "declares" if declared else "inflates to"
        if produced > limits.member_bytes:
            self._refuse(member, f"{what} more than {_size(limits.member_bytes)}",
                         "SIGLINK_UNPACK_MAX_MEMBER")
        total = self.total + (produced if declared else 0)
        if total > limits.total_bytes:
            self._refuse(member, f"takes the archive past {_size(limits.total_bytes)} "
                                 "uncompressed", "SIGLINK_UNPACK_MAX_TOTAL")
        inflated = produced if stream is None else stream
        if inflated > RATIO_FLOOR and inflated > limits.ratio * max(compressed, 1):
            whose = "its" if stream is None else "the archive's"
            self._refuse(member, f"{what if stream is None else 'takes the archive to'} more "
                                 f"than {limits.ratio} times {whose} compressed size "
                                 f"({_size(compressed)})", "SIGLINK_UNPACK_MAX_RATIO")

    def _refuse(self, member: str, what: str, variable: str) -> None:
        raise UnpackLimitError(
            f"{self.label}: member {member!r} {what}; refused (the limit is set by "
            f"{variable})",
            archive=self.label, member=member,
        )


# -- source archives ---------------------------------------------------------------------------

_TAR_ERRORS: Final = (tarfile.TarError, zlib.error, lzma.LZMAError, EOFError, OSError,
                      ValueError)


def extract(path: Path, dest: Path, label: str, limits: UnpackLimits | None = None) -> None:
    """Unpack the source archive ``path`` (``.zip``, else a tar by its suffix) into the
    existing directory ``dest``, within the limits.

    :raises UnpackLimitError: past a limit.
    :raises BadInputError: not a readable archive, or a member that is not a plain file or
        directory inside ``dest`` (one line naming it).
    """
    budget = Budget(label, limits)
    if path.name.lower().endswith(".zip"):
        _extract_zip(path, dest, budget)
        return
    try:
        with tarfile.open(path, _tar_mode(path.name.lower())) as archive:
            _extract_tar(archive, max(path.stat().st_size, 1), dest, budget)
    except _TAR_ERRORS as e:
        if isinstance(e, BadInputError):
            raise
        reason = " ".join(str(e).split()) or type(e).__name__  # one line, whatever tarfile says
        raise BadInputError(f"{label}: not a valid source archive: {reason}",
                            path=label) from None


def _tar_mode(name: str) -> Literal["r:gz", "r:bz2", "r:xz", "r:"]:
    """Open by the archive's own suffix (auto-detection reports every method it tried)."""
    if name.endswith((".tar.gz", ".tgz")):
        return "r:gz"
    if name.endswith(".tar.bz2"):
        return "r:bz2"
    return "r:xz" if name.endswith(".tar.xz") else "r:"


def _target(dest: Path, name: str, label: str) -> Path:
    parts = name.split("/")
    if name.startswith("/") or ".." in parts or "\0" in name or not name.strip("/"):
        raise BadInputError(f"{label}: unsafe member path {name!r}; refused", path=label)
    return dest.joinpath(*(p for p in parts if p not in ("", ".")))


def _write(target: Path, chunks: Iterator[bytes]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC,
                 0o644)
    with os.fdopen(fd, "wb") as out:
        for chunk in chunks:
            out.write(chunk)


def _extract_tar(archive: tarfile.TarFile, compressed: int, dest: Path, budget: Budget) -> None:
    label = budget.label
    while True:
        member = archive.next()
        if member is None:
            return
        name = member.name
        budget.check(name, 0, compressed, declared=True, stream=archive.offset)
        target = _target(dest, name, label)
        if member.isdir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        if not member.isreg():
            kind = ("a symbolic link" if member.issym() else "a hard link" if member.islnk()
                    else "a FIFO" if member.isfifo()
                    else "a device" if member.isdev() else "not a regular file")
            raise BadInputError(f"{label}: member {name!r} is {kind}; refused", path=label)
        budget.check(name, member.size, compressed, declared=True)
        data = archive.extractfile(member)
        if data is None:  # pragma: no cover - isreg() members always have data
            continue
        _write(target, _tar_chunks(data, name, member.offset_data, compressed, budget))


def _tar_chunks(data: IO[bytes], name: str, start: int, compressed: int,
                budget: Budget) -> Iterator[bytes]:
    produced = 0
    while chunk := data.read(_CHUNK):
        produced += len(chunk)
        budget.total += len(chunk)
        budget.check(name, produced, compressed, declared=False, stream=start + produced)
        yield chunk


def _extract_zip(path: Path, dest: Path, budget: Budget) -> None:
    label = budget.label
    with open_archive(path, label) as archive:
        for info in archive.infolist():
            target = _target(dest, info.filename, label)
            mode = info.external_attr >> 16
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            if stat.S_IFMT(mode) and not stat.S_ISREG(mode):
                kind = "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file"
                raise BadInputError(f"{label}: member {info.filename!r} is {kind}; refused",
                                    path=label)
            _write(target, budget.chunks(archive, info))
