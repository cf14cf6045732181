"""OSV advisory records (https://ossf.github.io/osv-schema/), read as hostile input.

A source is a directory (searched recursively for ``*.json``), a zip archive of such records
(as osv.dev publishes one per ecosystem, ``PyPI/all.zip``) or one ``.json`` file. Each record
is validated before use; a malformed one becomes one line naming its file (and member) and
what is wrong, never a traceback, and is not used. Only ``affected`` entries of ecosystem
``PyPI`` count; their ``ECOSYSTEM`` ranges (``introduced``/``fixed``/``last_affected``; other
range types are ignored, as OSV says for ecosystems with ordered versions) and ``versions``
lists decide which versions are affected. A withdrawn record affects nothing.

>>> record = {"id": "GHSA-x", "affected": [{"package": {"ecosystem": "PyPI", "name": "Jinja2"},
...           "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"},
...                                                      {"fixed": "3.1.4"}]}]}]}
>>> advisory = parse_record(record, "x.json")
>>> advisory.affects("jinja2", "3.1.3"), advisory.affects("jinja2", "3.1.4")
(True, False)
>>> try:
...     parse_record({"id": "GHSA-x", "affected": "all"}, "x.json")
... except AdvisoryError as e:
...     print(e)
x.json: GHSA-x: malformed advisory record: affected is not a list
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from siglink.errors import BadInputError

__all__ = ["Advisory", "AdvisoryError", "Affected", "load_advisories", "parse_record"]

MAX_RECORD: Final = 4 * 1024 * 1024
"""A record larger than this (bytes) is refused: OSV records are a few kilobytes."""

_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_EVENTS: Final = ("introduced", "fixed", "last_affected", "limit")


def __dir__() -> list[str]:
    return list(__all__)


class AdvisoryError(BadInputError):
    """A malformed advisory record or source (exit 2)."""


@dataclass(frozen=True)
class Affected:
    """The versions of one PyPI package an advisory affects: ``ranges`` (each a tuple of
    ``(event, Version)``, in order) and explicit ``versions``."""

    name: str
    ranges: tuple[tuple[tuple[str, Version], ...], ...]
    versions: frozenset[str]

    def affects(self, version: str) -> bool:
        if version in self.versions:
            return True
        try:
            v = Version(version)
        except InvalidVersion:
            return False
        if any(_same(v, listed) for listed in self.versions):
            return True
        return any(_in_range(v, events) for events in self.ranges)

    def fixed(self) -> list[str]:
        """The versions the ranges name as fixed, lowest first."""
        found = sorted({v for events in self.ranges for kind, v in events if kind == "fixed"})
        return [str(v) for v in found]


def _same(v: Version, listed: str) -> bool:
    try:
        return Version(listed) == v
    except InvalidVersion:
        return False


def _in_range(v: Version, events: tuple[tuple[str, Version], ...]) -> bool:
    """OSV's evaluation of one ECOSYSTEM range: events sorted by version; the last event at or
    below ``v`` decides (``introduced`` in, ``fixed`` out; past ``last_affected`` out)."""
    affected = False
    order = {"introduced": 0, "last_affected": 1, "fixed": 2, "limit": 3}
    for kind, at in sorted(events, key=lambda e: (e[1], order[e[0]])):
        if kind == "introduced" and v >= at:
            affected = True
        elif (kind == "fixed" and v >= at) or (kind == "last_affected" and v > at):
            affected = False
        elif kind == "limit" and v >= at:
            return False
    return affected


@dataclass(frozen=True)
class Advisory:
    """One OSV record: its id, aliases, summary, where it was read, and what it affects."""

    id: str
    aliases: tuple[str, ...]
    summary: str
    affected: tuple[Affected, ...]
    source: str
    withdrawn: bool = False

    def affects(self, name: str, version: str) -> bool:
        name = canonicalize_name(name)
        return not self.withdrawn and any(
            a.name == name and a.affects(version) for a in self.affected)

    def fixed(self, name: str) -> list[str]:
        name = canonicalize_name(name)
        return sorted({f for a in self.affected if a.name == name for f in a.fixed()},
                      key=Version)

    @property
    def title(self) -> str:
        """``GHSA-... (CVE-...)``."""
        cves = [a for a in self.aliases if a.startswith("CVE-")]
        return self.id + (f" ({', '.join(cves)})" if cves else "")


def _fail(source: str, rid: str | None, what: str) -> AdvisoryError:
    who = f"{rid}: " if rid else ""
    return AdvisoryError(f"{source}: {who}malformed advisory record: {what}", path=source)


def _text(value: Any, what: str, source: str, rid: str | None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(source, rid, f"{what} is not a non-empty string")
    return value


def _list(value: Any, what: str, source: str, rid: str | None) -> list[Any]:
    if not isinstance(value, list):
        raise _fail(source, rid, f"{what} is not a list")
    return value


def _version(value: Any, what: str, source: str, rid: str | None) -> Version:
    text = _text(value, what, source, rid)
    if text == "0":
        return Version("0")
    try:
        return Version(text)
    except InvalidVersion as e:
        raise _fail(source, rid, f"{what}: invalid version {text!r}") from e


def parse_record(data: Any, source: str) -> Advisory:
    """Validate one OSV record (parsed JSON) read from ``source``.

    :raises AdvisoryError: one line naming ``source``, the record id when known, and what is
        wrong.
    """
    if not isinstance(data, dict):
        raise _fail(source, None, "not a JSON object")
    raw_id = data.get("id")
    if not isinstance(raw_id, str) or not _ID.fullmatch(raw_id):
        raise _fail(source, None, f"id {str(raw_id)[:40]!r} is missing or not an OSV id")
    rid = raw_id
    aliases = tuple(_text(a, "aliases[]", source, rid)
                    for a in _list(data.get("aliases", []), "aliases", source, rid))
    summary = data.get("summary", "")
    if not isinstance(summary, str):
        raise _fail(source, rid, "summary is not a string")
    withdrawn = data.get("withdrawn")
    if withdrawn is not None and not isinstance(withdrawn, str):
        raise _fail(source, rid, "withdrawn is not a timestamp string")
    affected = []
    for i, entry in enumerate(_list(data.get("affected", []), "affected", source, rid)):
        where = f"affected[{i}]"
        if not isinstance(entry, dict):
            raise _fail(source, rid, f"{where} is not an object")
        package = entry.get("package")
        if not isinstance(package, dict):
            raise _fail(source, rid, f"{where}.package is not an object")
        ecosystem = _text(package.get("ecosystem"), f"{where}.package.ecosystem", source, rid)
        name = _text(package.get("name"), f"{where}.package.name", source, rid)
        ranges = []
        for j, item in enumerate(_list(entry.get("ranges", []), f"{where}.ranges", source,
                                       rid)):
            if not isinstance(item, dict):
                raise _fail(source, rid, f"{where}.ranges[{j}] is not an object")
            kind = _text(item.get("type"), f"{where}.ranges[{j}].type", source, rid)
            events = _list(item.get("events"), f"{where}.ranges[{j}].events", source, rid)
            if kind != "ECOSYSTEM" or ecosystem != "PyPI":
                continue  # GIT and SEMVER ranges, other ecosystems: not ours to order
            parsed = []
            for k, event in enumerate(events):
                at = f"{where}.ranges[{j}].events[{k}]"
                if not isinstance(event, dict) or len(event) != 1 or next(
                        iter(event)) not in _EVENTS:
                    raise _fail(source, rid, f"{at} is not one of {', '.join(_EVENTS)}")
                [(event_kind, value)] = event.items()
                parsed.append((event_kind, _version(value, at, source, rid)))
            if not any(k == "introduced" for k, _ in parsed):
                raise _fail(source, rid, f"{where}.ranges[{j}] has no introduced event")
            ranges.append(tuple(parsed))
        versions = frozenset(_text(v, f"{where}.versions[]", source, rid)
                             for v in _list(entry.get("versions", []), f"{where}.versions",
                                            source, rid))
        if ecosystem == "PyPI":
            affected.append(Affected(canonicalize_name(name), tuple(ranges), versions))
    return Advisory(rid, aliases, summary.strip(), tuple(affected), source, withdrawn is not None)


def _decode(raw: bytes, source: str) -> Any:
    if len(raw) > MAX_RECORD:
        raise _fail(source, None, f"larger than {MAX_RECORD // (1024 * 1024)} MB")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise _fail(source, None, f"not JSON ({reason})") from None


def _records(path: Path) -> Iterator[tuple[str, bytes | AdvisoryError]]:
    """``(source, bytes)`` of every record under ``path``; an unreadable one as its error."""
    if path.is_dir():
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                if not name.endswith(".json"):
                    continue
                file = Path(root, name)
                try:
                    if file.stat().st_size > MAX_RECORD:
                        yield str(file), _fail(str(file), None, "larger than 4 MB")
                        continue
                    yield str(file), file.read_bytes()
                except OSError as e:
                    yield str(file), AdvisoryError(f"{file}: cannot be read: {e.strerror}")
        return
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    if info.is_dir() or not info.filename.endswith(".json"):
                        continue
                    source = f"{path}:{info.filename}"
                    if info.file_size > MAX_RECORD:
                        yield source, _fail(source, None, "larger than 4 MB")
                        continue
                    try:
                        with archive.open(info) as member:
                            data = member.read(MAX_RECORD + 1)
                    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
                        yield source, AdvisoryError(f"{source}: cannot be read: {e}")
                        continue
                    yield source, data
        except (zipfile.BadZipFile, OSError) as e:
            raise AdvisoryError(f"{path}: not a readable zip archive: {e}", path=str(path)) from e
        return
    if path.is_file():
        try:
            yield str(path), path.read_bytes()[: MAX_RECORD + 1]
        except OSError as e:
            raise AdvisoryError(f"{path}: cannot be read: {e.strerror}", path=str(path)) from e
        return
    raise AdvisoryError(f"{path}: no such file or directory", path=str(path))


def load_advisories(path: str | Path) -> tuple[list[Advisory], list[AdvisoryError]]:
    """Every valid record under ``path``, and one error per malformed one.

    :raises AdvisoryError: ``path`` does not exist, or is a damaged zip archive.
    """
    good: list[Advisory] = []
    bad: list[AdvisoryError] = []
    for source, raw in _records(Path(path)):
        if isinstance(raw, AdvisoryError):
            bad.append(raw)
            continue
        try:
            good.append(parse_record(_decode(raw, source), source))
        except AdvisoryError as e:
            bad.append(e)
    return good, bad
