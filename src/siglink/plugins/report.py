"""``siglink plugins HOST``: every extension point of a host, every plugin found for it, its
status and reasons, the last failure a running host recorded, and (``--against``) what a new
release of the host would break before it ships.

Failures reach the report through the store: a host that passes ``store=`` to
:func:`siglink.plugins` records each plugin's last failure in ``STORE/plugins/failures.json``.

>>> import tempfile
>>> from siglink.plugins.records import Fault
>>> log = FailureLog(tempfile.mkdtemp())
>>> log.record(CallFailure("boom 1.0", "chat.commands", Fault.CALL_ERROR, "ValueError: x"))
>>> log.read()["boom 1.0"]["message"]
'ValueError: x'
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from siglink._files import write_atomic
from siglink.contracts.manifest import Manifest
from siglink.plugins.build import spec_exports
from siglink.plugins.discovery import discover
from siglink.plugins.dispatch import CallFailure
from siglink.plugins.records import PluginRecord, dotted
from siglink.plugins.selection import Outcome, select

__all__ = ["FailureLog", "HostReport", "PointReport", "host_report"]


def __dir__() -> list[str]:
    return list(__all__)


class FailureLog:
    """The last failure of each plugin, kept beside the store's index."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.path = Path(root) / "plugins" / "failures.json"

    def read(self) -> dict[str, dict[str, Any]]:
        """``"name version"`` -> the failure's JSON; a missing or damaged file reads empty."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def record(self, failure: CallFailure) -> None:
        """Keep ``failure`` as its plugin's last one; a store that cannot be written (read-only,
        not created) is left alone: the host runs on."""
        if not self.path.parent.parent.is_dir():  # no store there: recording never creates one
            return
        data = self.read()
        data[failure.plugin] = failure.to_json()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, json.dumps(data, indent=1, sort_keys=True).encode(),
                         durable=False)
        except OSError:
            pass  # the host runs on


@dataclass(frozen=True)
class PointReport:
    """One extension point: each plugin version's outcome now, and under ``--against``."""

    point: str
    spec: str
    outcomes: tuple[Outcome, ...]
    against: tuple[Outcome, ...] | None = None

    def breaks(self) -> list[tuple[Outcome, Outcome]]:
        """Plugins selected under the current host and rejected under the new one."""
        if self.against is None:
            return []
        now = {(o.record.name, o.record.version, o.record.location): o for o in self.outcomes}
        out = []
        for then in self.against:
            before = now.get((then.record.name, then.record.version, then.record.location))
            if before is not None and before.selected and not then.selected and (
                    then.status != "superseded"):
                out.append((before, then))
        return out


@dataclass(frozen=True)
class HostReport:
    host: str
    version: str
    against: str | None
    points: tuple[PointReport, ...]
    failures: dict[str, dict[str, Any]] = field(default_factory=dict)
    orphans: tuple[Outcome, ...] = ()

    @property
    def rejected(self) -> list[Outcome]:
        """Every rejected plugin version (under ``--against`` when given)."""
        out = [o for p in self.points for o in (p.against if p.against is not None
                                                else p.outcomes) if o.status == "rejected"]
        return out + [o for o in self.orphans if o.status == "rejected"]

    def to_json(self) -> dict[str, Any]:
        points = []
        for p in self.points:
            item: dict[str, Any] = {"point": p.point, "spec": p.spec,
                                    "plugins": [self._with_failure(o) for o in p.outcomes]}
            if p.against is not None:
                item["against"] = [o.to_json() for o in p.against]
                item["breaks"] = [f"{now.record.name} {now.record.version}"
                                  for now, _ in p.breaks()]
            points.append(item)
        data: dict[str, Any] = {"host": self.host, "version": self.version, "points": points}
        if self.against is not None:
            data["against"] = self.against
        if self.orphans:
            data["unknown_points"] = [o.to_json() for o in self.orphans]
        data["ok"] = not self.rejected
        return data

    def _with_failure(self, o: Outcome) -> dict[str, object]:
        data = o.to_json()
        last = self.failures.get(o.record.label)
        if last is not None:
            data["last_failure"] = last
        return data


def _spec_text(manifest: Manifest, point: str) -> str:
    spec = spec_exports(manifest).get(point)
    if spec is None:
        return "(not declared)"
    if spec.signature is not None:
        return f"{spec.path}{spec.signature}"
    return f"{spec.path}: " + ", ".join(f"{n}{m.signature or ''}" for n, m in spec.members.items())


def host_report(
    host: Manifest,
    *,
    store: Any = None,
    directories: Iterable[str | os.PathLike[str]] = (),
    entry_points: bool = True,
    paths: Sequence[str] | None = None,
    against: Manifest | None = None,
) -> HostReport:
    """Check every plugin found for every extension point ``host`` declares (and, with
    ``against``, for the host release ``against``); nothing is imported."""
    points = spec_exports(host)
    new_points = spec_exports(against) if against is not None else {}
    dirs = list(directories)
    reports = []
    extracted: dict[str, Manifest | None] = {}
    for point in sorted(set(points) | set(new_points)):
        records = [_read_statically(r, extracted) for r in discover(
            point, directories=dirs, store=store, entry_points=entry_points, paths=paths)]
        now = tuple(select(point, points.get(point), records, host=host))
        then = None
        if against is not None:
            then = tuple(select(point, new_points.get(point), records, host=against))
        reports.append(PointReport(point, _spec_text(host, point), now, then))
    # Plugins implementing a group the host does not declare (a typo, a removed point).
    orphans: list[Outcome] = []
    if store is not None:
        from siglink.plugins.discovery import from_store

        known = set(points) | set(new_points)
        for record in from_store(store):
            for impl in record.implementations:
                if impl.point not in known and _implements_host(record, host):
                    orphans.extend(select(impl.point, None, [record], host=host))
    failures = FailureLog(store.root).read() if store is not None else {}
    return HostReport(host.unit.name, host.unit.version,
                      None if against is None else against.unit.version,
                      tuple(reports), failures, tuple(orphans))


def _read_statically(record: PluginRecord, cache: dict[str, Manifest | None]) -> PluginRecord:
    """An entry-point plugin without a manifest, with its implementations' exports read from
    the installed distribution's source (griffe; nothing imported), so that the report checks
    it too. An implementation the extractor does not export (a private module) stays
    unchecked until the host imports it."""
    if record.source != "entry-point" or record.manifest is not None or record.problem:
        return record
    from siglink.errors import SiglinkError
    from siglink.python.exports import extract

    if record.name not in cache:
        try:
            cache[record.name] = extract(record.name)
        except SiglinkError:
            cache[record.name] = None
    manifest = cache[record.name]
    if manifest is None:
        return record
    impls = tuple(dataclasses.replace(i, export=manifest.exports.get(dotted(i.target)))
                  if i.export is None else i for i in record.implementations)
    return dataclasses.replace(record, implementations=impls)


def _implements_host(record: Any, host: Manifest) -> bool:
    """A plugin built against this host (its recorded specs or imports name it)."""
    from packaging.utils import canonicalize_name

    manifest = record.manifest
    if manifest is None:
        return False
    name = canonicalize_name(host.unit.name)
    tops = set(host.top_level)
    return name in manifest.imports or any(
        i.spec is not None and i.spec.path.split(".")[0] in tops
        for i in manifest.implements.values())
