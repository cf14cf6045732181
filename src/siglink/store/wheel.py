"""Wheel validation and unpacking: check everything first, then write.

:func:`validate` reads a wheel without writing anything and refuses, naming the wheel and the
member, anything the store must not hold:

- a file that is not a zip, or a truncated or corrupt one;
- no ``*.dist-info/`` or more than one, or one without ``METADATA``, ``WHEEL`` and ``RECORD``;
- a member whose bytes or size differ from its ``RECORD`` entry, a member ``RECORD`` does not
  list, or a ``RECORD`` entry with no member;
- a member path that is absolute, contains ``..``, an empty or ``.`` segment, a backslash
  or a control character (:mod:`siglink._membername`), or is a symbolic link, or a name that
  is flagged UTF-8 and is not;
- two members that would be one file once unpacked, on any file system (``pkg/a.py`` and
  ``PKG/a.py``), or a file where another member needs a directory;
- a member, or the whole archive, that inflates past the limits of :mod:`siglink._unzip`
  (``SIGLINK_UNPACK_MAX_MEMBER``, ``_TOTAL``, ``_RATIO``), counted as the bytes come out;
- a wheel whose tags this interpreter does not support (``packaging.tags.sys_tags()``);
- a name or version in ``METADATA`` that disagrees with the file name, or a field siglink
  keeps (``Name``, ``Version``, ``Requires-Dist``, ``Requires-Python``) holding a control
  character or longer than a manifest's strings may be;
- a module shipped as bytecode without its source (other shipped bytecode is dropped: the
  store compiles its own, see :func:`_shipped_bytecode`);
- exports that would not read back from the manifest the store keeps (checked at staging).

``Requires-Python`` is recorded, not enforced: the linker filters on it. :func:`unpack` then
writes the members into a directory: ``NAME-VER.data/purelib`` and ``platlib`` go to the top
level beside the packages, other ``.data`` parts stay where the wheel put them.

>>> from packaging.tags import Tag
>>> print(IncompatibleWheelError("x-1.0-py2-none-any.whl", [Tag("py2", "none", "any")]))
x-1.0-py2-none-any.whl: wheel tag py2-none-any is not supported by this interpreter
"""

from __future__ import annotations

import base64
import csv
import functools
import hashlib
import io
import os
import re
import stat
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Final

from packaging.tags import Tag, sys_tags
from packaging.utils import (
    InvalidWheelFilename,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from siglink._membername import Paths, unsafe_reason
from siglink._text import header_fields
from siglink._unzip import Budget, open_archive
from siglink.errors import BadInputError

__all__ = [
    "IncompatibleWheelError",
    "WheelInfo",
    "module_claims",
    "overlap",
    "supported_tags",
    "unpack",
    "validate",
]

_SAFE_VERSION: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+!_-]*$")
_WEAK_HASHES: Final = frozenset({"md5", "sha1"})
_UNHASHED: Final = ("RECORD", "RECORD.jws", "RECORD.p7s")
_ROOT_SCHEMES: Final = ("purelib", "platlib")


class IncompatibleWheelError(BadInputError):
    """A wheel built for another platform or Python; ``tags`` are the wheel's own tags."""

    def __init__(self, wheel: str, tags: Iterable[Tag]) -> None:
        self.tags = tuple(sorted(tags, key=str))
        shown = ", ".join(str(t) for t in self.tags)
        plural = "s" if len(self.tags) > 1 else ""
        super().__init__(
            f"{wheel}: wheel tag{plural} {shown} {'are' if plural else 'is'} not supported "
            f"by this interpreter",
            path=wheel,
        )


@dataclass(frozen=True, slots=True)
class WheelInfo:
    """What :func:`validate` learnt about a wheel; ``targets`` maps member → unpacked path."""

    path: Path
    name: str
    display_name: str
    version: str
    tags: tuple[Tag, ...]
    dist_info: str
    top_level: tuple[str, ...]
    requires: tuple[str, ...]
    requires_python: str | None
    content_digest: str
    shipped_manifest: bytes | None
    targets: tuple[tuple[str, str], ...]

    def claims(self) -> frozenset[str]:
        """The modules this wheel would provide (:func:`module_claims` of its files)."""
        prefix = (self.dist_info + "/", self.dist_info[: -len(".dist-info")] + ".data/")
        return module_claims(t for _, t in self.targets if not t.startswith(prefix))


@functools.cache
def supported_tags() -> frozenset[Tag]:
    """The tags this interpreter installs (cached: ``sys_tags()`` is slowish)."""
    return frozenset(sys_tags())


def _bad(wheel: Path, message: str) -> BadInputError:
    return BadInputError(f"{wheel.name}: {message}", path=str(wheel))


def _hash(algorithm: str, chunks: Iterable[bytes]) -> tuple[str, int]:
    h = hashlib.new(algorithm)
    size = 0
    for chunk in chunks:
        h.update(chunk)
        size += len(chunk)
    return base64.urlsafe_b64encode(h.digest()).rstrip(b"=").decode("ascii"), size


_READ_FIELDS: Final = frozenset({"metadata-version", "name", "version", "requires-dist",
                                 "requires-python"})
"""The fields of ``METADATA`` siglink reads: they must be UTF-8 (a ``Summary`` or ``Author``
that is not, from an old tool, is never read)."""


def _parse_headers(wheel: Path, raw: bytes, member: str,
                   fields: frozenset[str] | None = None) -> Message:
    """``WHEEL`` or ``METADATA`` (its header fields): ``fields`` (every one when None) must be
    UTF-8 (:func:`siglink._text.header_fields`)."""
    try:
        return header_fields(raw, member, fields)
    except BadInputError as e:
        raise _bad(wheel, f"invalid wheel metadata: {e.message}") from None


def _top_level(paths: Iterable[str], dist_info: str) -> tuple[str, ...]:
    names: set[str] = set()
    for path in paths:
        first, sep, _ = path.partition("/")
        if first == dist_info or first.endswith(".data") or first == "__pycache__":
            continue
        if sep:
            candidate = first
        elif path.endswith(".py"):
            candidate = path[:-3]
        elif path.endswith((".so", ".pyd")):
            candidate = path.split(".", 1)[0]
        else:
            continue
        if candidate.isidentifier():
            names.add(candidate)
    return tuple(sorted(names))


_MODULE_SUFFIXES: Final = (".py", ".pyc", ".so", ".pyd")


def module_claims(paths: Iterable[str]) -> frozenset[str]:
    """The dotted names a distribution's files make it the provider of: each regular package
    (a directory with ``__init__``) and each module outside one. A directory without
    ``__init__`` is a namespace package (PEP 420): nobody's, and its contents are claimed one
    by one, so two distributions may each ship a portion of it.

    >>> sorted(module_claims(["nsp/a/__init__.py", "nsp/a/x.py", "nsp/b.py", "six.py",
    ...                       "pkg/__init__.py", "pkg/sub/y.py", "nsp/README.txt"]))
    ['nsp.a', 'nsp.b', 'pkg', 'six']
    """
    files = [p for p in paths if p.endswith(_MODULE_SUFFIXES) and "__pycache__" not in p]
    packages = {p.rpartition("/")[0] for p in files
                if p.rpartition("/")[2].partition(".")[0] == "__init__" and "/" in p}
    claims: set[str] = set()
    for path in files:
        parts = path.split("/")
        parts[-1] = parts[-1].partition(".")[0]
        for depth in range(1, len(parts) + 1):
            if depth == len(parts) or "/".join(parts[:depth]) in packages:
                if all(part.isidentifier() for part in parts[:depth]):
                    claims.add(".".join(parts[:depth]))
                break
    return frozenset(claims)


def overlap(mine: Iterable[str], theirs: Iterable[str]) -> str | None:
    """The first module both claim, or one claims inside a package the other claims
    (its shorter name), else ``None``.

    >>> overlap(["nsp.a"], ["nsp.b"]), overlap(["nsp"], ["nsp.b"]), overlap(["a.b"], ["a.b"])
    (None, 'nsp', 'a.b')
    """
    others = sorted(theirs)
    for claim in sorted(mine):
        for other in others:
            if claim == other or other.startswith(claim + "."):
                return claim
            if claim.startswith(other + "."):
                return other
    return None


def _target(member: str, data_dir: str) -> str:
    """Where ``member`` goes in the unpacked directory (purelib/platlib go to the top)."""
    prefix = data_dir + "/"
    if member.startswith(prefix):
        scheme, _, rest = member[len(prefix) :].partition("/")
        if scheme in _ROOT_SCHEMES and rest:
            return rest
    return member


def validate(wheel: Path | str) -> WheelInfo:
    """Check ``wheel`` completely without writing anything; raise :class:`BadInputError`."""
    wheel = Path(wheel)
    if not wheel.is_file():
        raise BadInputError(f"{wheel}: no such file", path=str(wheel))
    try:
        fn_name, fn_version, _build, fn_tags = parse_wheel_filename(wheel.name)
    except InvalidWheelFilename as e:
        raise _bad(wheel, f"not a wheel file name ({e})") from e
    try:
        archive = zipfile.ZipFile(wheel)
    except UnicodeDecodeError:
        open_archive(wheel, wheel.name)  # raises the one-line error naming the member
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise _bad(wheel, "not a valid wheel: not a zip file, or truncated") from e
    with archive:
        return _validate(wheel, archive, fn_name, fn_version, fn_tags)


def _validate(
    wheel: Path,
    archive: zipfile.ZipFile,
    fn_name: str,
    fn_version: Version,
    fn_tags: frozenset[Tag],
) -> WheelInfo:
    files = _members(wheel, archive)
    dist_info = _dist_info(wheel, files)
    budget = Budget(wheel.name)

    def read(member: str) -> bytes:
        return budget.read(archive, files[member])

    wheel_file, metadata_file = f"{dist_info}/WHEEL", f"{dist_info}/METADATA"
    _check_wheel_file(wheel, _parse_headers(wheel, read(wheel_file), wheel_file), dist_info,
                      fn_tags)
    metadata = _parse_headers(wheel, read(metadata_file), metadata_file, _READ_FIELDS)
    _check_text_fields(wheel, metadata, metadata_file)
    display_name, version = _check_metadata(wheel, metadata, dist_info, fn_name, fn_version)
    record = _record(wheel, read(f"{dist_info}/RECORD"), f"{dist_info}/RECORD")
    content_digest = _check_record(wheel, archive, files, record, dist_info=dist_info,
                                   budget=budget)
    targets = _targets(wheel, files, dist_info)
    shipped_path = f"{dist_info}/siglink.json"
    return WheelInfo(
        path=wheel,
        name=canonicalize_name(display_name),
        display_name=display_name,
        version=version,
        tags=tuple(sorted(fn_tags, key=str)),
        dist_info=dist_info,
        top_level=_top_level(targets, dist_info),
        requires=tuple(r.strip() for r in metadata.get_all("Requires-Dist") or ()),
        requires_python=(metadata.get("Requires-Python") or "").strip() or None,
        content_digest=content_digest,
        shipped_manifest=read(shipped_path) if shipped_path in files else None,
        targets=tuple((member, target) for target, member in sorted(targets.items())),
    )


def _members(wheel: Path, archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The wheel's files by name; an unsafe path, a symbolic link or a repeat is refused."""
    files: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        reason = unsafe_reason(info.filename, directory=info.is_dir())
        if reason:
            raise _bad(wheel, f"member {info.filename!r} {reason}; refused")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise _bad(wheel, f"member {info.filename!r} is a symbolic link; refused")
        if info.is_dir():
            continue
        if info.filename in files:
            raise _bad(wheel, f"member {info.filename!r} appears twice")
        files[info.filename] = info
    return files


def _dist_info(wheel: Path, files: Iterable[str]) -> str:
    """The one ``.dist-info`` directory, holding ``METADATA``, ``WHEEL`` and ``RECORD``."""
    names = set(files)
    dist_infos = sorted({n.split("/", 1)[0] for n in names if n.split("/", 1)[0].endswith(
        ".dist-info") and "/" in n})
    if not dist_infos:
        raise _bad(wheel, "not a valid wheel: no .dist-info directory")
    if len(dist_infos) > 1:
        raise _bad(wheel, f"not a valid wheel: {len(dist_infos)} .dist-info directories "
                          f"({', '.join(dist_infos)})")
    dist_info = dist_infos[0]
    for required in ("METADATA", "WHEEL", "RECORD"):
        if f"{dist_info}/{required}" not in names:
            raise _bad(wheel, f"not a valid wheel: {dist_info}/{required} is missing")
    return dist_info


def _check_wheel_file(
    wheel: Path, wheel_meta: Message, dist_info: str, fn_tags: frozenset[Tag]
) -> None:
    """``WHEEL``: a 1.x format, and tags (the file name's and its own) this interpreter runs."""
    wheel_version = (wheel_meta.get("Wheel-Version") or "1.0").strip()
    if not wheel_version.split(".")[0].isdigit() or int(wheel_version.split(".")[0]) > 1:
        raise _bad(wheel, f"Wheel-Version {wheel_version} is not supported (only 1.x)")
    supported = supported_tags()
    if not fn_tags & supported:
        raise IncompatibleWheelError(wheel.name, fn_tags)
    declared: set[Tag] = set()
    for text in wheel_meta.get_all("Tag") or ():
        try:
            declared |= {Tag(*t.split("-")) for t in _expand(text.strip())}
        except TypeError as e:
            raise _bad(wheel, f"{dist_info}/WHEEL: malformed Tag {text.strip()!r}") from e
    if declared and not declared & supported:
        raise IncompatibleWheelError(wheel.name, declared)


_FOLD: Final = re.compile(r"\r?\n(?=[ \t])")
_CONTROL: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_MAX_FIELD: Final = 1 << 20
"""As long as a string of a manifest may be (:mod:`siglink.contracts.manifest`)."""


def _check_text_fields(wheel: Path, metadata: Message, member: str) -> None:
    """The fields of ``METADATA`` siglink keeps hold text a manifest may: no NUL or other
    control character (a folded line's break aside), at most 1 MiB."""
    for field, value in metadata.raw_items():
        if field.lower() not in _READ_FIELDS:
            continue
        bad = _CONTROL.search(_FOLD.sub("", value))
        if bad is not None:
            raise _bad(wheel, f"{member}: {field} holds a control character "
                              f"(U+{ord(bad.group()):04X}); refused")
        if len(value) > _MAX_FIELD:
            raise _bad(wheel, f"{member}: {field} is {len(value)} characters long (at most "
                              f"{_MAX_FIELD}); refused")


def _check_metadata(
    wheel: Path, metadata: Message, dist_info: str, fn_name: str, fn_version: Version
) -> tuple[str, str]:
    """``METADATA``: its name and version, which must agree with the file name's."""
    display_name = (metadata.get("Name") or "").strip()
    version = (metadata.get("Version") or "").strip()
    if not display_name or not version:
        raise _bad(wheel, f"{dist_info}/METADATA has no Name or no Version")
    name = canonicalize_name(display_name)
    if name != fn_name:
        raise _bad(wheel, f"{dist_info}/METADATA names {display_name!r}, the file name {fn_name!r}")
    try:
        parsed = Version(version)
    except InvalidVersion as e:
        raise _bad(wheel, f"{dist_info}/METADATA: version {version!r} is not a PEP 440 version") \
            from e
    if parsed != fn_version or not _SAFE_VERSION.match(version):
        raise _bad(wheel, f"{dist_info}/METADATA: version {version!r} does not match the file "
                          f"name's {fn_version}")
    if canonicalize_name(dist_info[: -len(".dist-info")].rpartition("-")[0]) != name:
        raise _bad(wheel, f"{dist_info} does not belong to {display_name}")
    return display_name, version


def _record(wheel: Path, data: bytes, record_path: str) -> dict[str, tuple[str, str]]:
    """``RECORD`` as path → (digest, size), every path safe."""
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    except (UnicodeDecodeError, csv.Error) as e:
        raise _bad(wheel, f"{record_path} is not a valid RECORD ({e})") from e
    record: dict[str, tuple[str, str]] = {}
    for number, row in enumerate(rows, 1):
        if not row:
            continue
        if len(row) != 3:
            raise _bad(wheel, f"{record_path}:{number}: expected 3 fields, found {len(row)}")
        path, digest, size = row
        reason = unsafe_reason(path)
        if reason:
            raise _bad(wheel, f"{record_path}:{number}: path {path!r} {reason}; refused")
        record[path] = (digest, size)
    return record


def _check_record(
    wheel: Path,
    archive: zipfile.ZipFile,
    files: dict[str, zipfile.ZipInfo],
    record: dict[str, tuple[str, str]],
    *,
    dist_info: str,
    budget: Budget,
) -> str:
    """Every member listed in ``RECORD``, hashed and sized as recorded; the content digest."""
    signatures = {f"{dist_info}/{n}" for n in _UNHASHED}
    for member in files:
        if member not in record and member not in signatures:
            raise _bad(wheel, f"member {member!r} is not listed in RECORD")
    digests: list[str] = []
    for path, (digest, size) in record.items():
        if path in signatures:
            continue
        if path not in files:
            raise _bad(wheel, f"RECORD lists {path!r}, which is not in the wheel")
        algorithm, _, expected = digest.partition("=")
        if not expected:
            raise _bad(wheel, f"member {path!r} has no hash in RECORD")
        if algorithm in _WEAK_HASHES or algorithm not in hashlib.algorithms_guaranteed:
            raise _bad(wheel, f"member {path!r}: hash algorithm {algorithm!r} is not accepted")
        actual, actual_size = _hash(algorithm, budget.chunks(archive, files[path]))
        if actual != expected:
            raise _bad(wheel, f"member {path!r} does not match its RECORD hash "
                              "(tampered or corrupt wheel); refused")
        if size and size != str(actual_size):
            raise _bad(wheel, f"member {path!r} is {actual_size} bytes, RECORD says {size}")
        digests.append(f"{path},{digest}")
    return hashlib.sha256("\n".join(sorted(digests)).encode()).hexdigest()


def _targets(wheel: Path, files: Iterable[str], dist_info: str) -> dict[str, str]:
    """Unpacked path → member; two members must not land on one path, on any file system
    (:class:`siglink._membername.Paths`: not even one that folds case), nor a file where
    another needs a directory. Bytecode a wheel ships is never unpacked
    (:func:`_shipped_bytecode`)."""
    data_dir = f"{dist_info[: -len('.dist-info')]}.data"
    members = list(files)
    unpacked = {_target(member, data_dir): member for member in members}
    targets: dict[str, str] = {}
    paths = Paths()
    for member in members:
        target = _target(member, data_dir)
        if _shipped_bytecode(wheel, target, unpacked):
            continue
        earlier = paths.add(target)
        if earlier is not None:
            raise _bad(wheel, f"members {targets[earlier]!r} and {member!r} collide when "
                              "unpacked; refused")
        targets[target] = member
    return targets


def _expand(tag: str) -> list[str]:
    """``py2.py3-none-any`` → ``py2-none-any``, ``py3-none-any`` (compressed tag sets)."""
    parts = tag.split("-")
    if len(parts) != 3:
        raise TypeError(tag)
    return [
        f"{i}-{a}-{p}"
        for i in parts[0].split(".")
        for a in parts[1].split(".")
        for p in parts[2].split(".")
    ]


def _shipped_bytecode(wheel: Path, target: str, unpacked: Mapping[str, str]) -> bool:
    """Whether ``target`` is bytecode (``.pyc``, ``.pyo``), which the store never takes from a
    wheel: the interpreter could run it instead of the source siglink read (an unchecked-hash
    ``.opt-1.pyc`` under ``-O``, say); the store compiles its own from the source. Bytecode
    in ``__pycache__``, or beside its own ``.py``, is dropped; a module shipped as bytecode
    alone is refused (:class:`~siglink.errors.BadInputError`), as siglink links only code it
    can read."""
    if not target.endswith((".pyc", ".pyo")):
        return False
    folder, _, name = target.rpartition("/")
    if folder.rpartition("/")[2] == "__pycache__":
        return True
    source = (folder + "/" if folder else "") + name.partition(".")[0] + ".py"
    if source in unpacked:
        return True
    raise _bad(wheel, f"member {unpacked[target]!r} is bytecode without its source: siglink "
                      "links only code it can read; refused")


def unpack(info: WheelInfo, dest: Path) -> None:
    """Write the members of a validated wheel into ``dest`` (an existing empty directory)."""
    budget = Budget(info.path.name)
    with zipfile.ZipFile(info.path) as archive:
        for member, target in info.targets:
            zinfo = archive.getinfo(member)
            out = dest / target
            out.parent.mkdir(parents=True, exist_ok=True)
            with open(out, "wb") as dst:
                budget.copy(archive, zinfo, dst)
            mode = (zinfo.external_attr >> 16) & 0o777
            if mode & 0o111:
                os.chmod(out, 0o755)
