"""Choosing among discovered plugins, before importing any: faults, checks, newest versions.

Each record gets an :class:`Outcome`. A record whose manifest is unusable, a second plugin of
the same name and version, plugins importing each other's API (a cycle), and an implementation
that does not fit the host's current spec are rejected with the reason; among the versions of
one plugin, the newest that is not rejected is selected and the others are ``superseded``.

>>> from siglink.plugins.records import PluginRecord
>>> outcome = Outcome(PluginRecord("p", "1.0", "directory", "p/siglink.json"), "chat.commands",
...                   "rejected", reason="the manifest implements no extension point")
>>> outcome.selected, outcome.lines()
(False, ['the manifest implements no extension point'])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from packaging.utils import canonicalize_name

from siglink.contracts.manifest import Export, Manifest
from siglink.contracts.verdict import Severity, Verdict
from siglink.plugins.checking import check_implementation, check_imports, spec_classes
from siglink.plugins.records import Fault, PluginRecord
from siglink.store import version_key

__all__ = ["Outcome", "Status", "select"]

Status = Literal["compatible", "unchecked", "superseded", "rejected", "failed"]


def __dir__() -> list[str]:
    return list(__all__)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one plugin version for one extension point."""

    record: PluginRecord
    point: str
    status: Status
    verdict: Verdict | None = None
    fault: Fault | None = None
    reason: str = ""

    @property
    def selected(self) -> bool:
        """Loaded on first use (checked, or to be checked when imported)."""
        return self.status in ("compatible", "unchecked")

    def lines(self) -> list[str]:
        """The reasons, one a line: the fault, then each problem worth reading (harmless ones
        are in the JSON only) with its rule id."""
        out = [self.reason] if self.reason else []
        if self.verdict is not None:
            out.extend(p.explain() for p in self.verdict.problems
                       if p.severity is not Severity.HARMLESS)
            if self.verdict.unverified:
                out.append("unverified: " + ", ".join(self.verdict.unverified))
        return out

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "name": self.record.name, "version": self.record.version,
            "source": self.record.source, "location": self.record.location,
            "status": self.status,
        }
        impl = self.record.implementation(self.point)
        if impl is not None:
            data["object"] = impl.target
        if self.fault is not None:
            data["fault"] = self.fault.value
        if self.reason:
            data["reason"] = self.reason
        if self.verdict is not None:
            data["verdict"] = self.verdict.to_json()
        return data



def _cycles(records: Sequence[PluginRecord]) -> dict[int, str]:
    """Records (by index) that import, directly or not, a plugin that imports them back:
    index -> ``a -> b -> a``."""
    by_module: dict[str, int] = {}
    by_name: dict[str, int] = {}
    for i, r in enumerate(records):
        by_name.setdefault(canonicalize_name(r.name), i)
        for module in r.modules:
            by_module.setdefault(module, i)
    edges: dict[int, set[int]] = {}
    for i, r in enumerate(records):
        targets: set[int] = set()
        if r.manifest is not None:
            for lib in (*r.manifest.imports, *r.manifest.unprovided):
                j = by_name.get(canonicalize_name(lib), by_module.get(lib))
                if j is not None and j != i:
                    targets.add(j)
        edges[i] = targets
    found: dict[int, str] = {}
    for start in edges:
        stack: list[tuple[int, list[int]]] = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in sorted(edges.get(node, ())):
                if nxt == start:  # each member names the cycle from itself
                    found.setdefault(start, " -> ".join(records[k].name for k in [*path, start]))
                elif nxt not in path and len(path) < 16:
                    stack.append((nxt, [*path, nxt]))
    return found


def select(
    point: str,
    spec: Export | None,
    records: Sequence[PluginRecord],
    *,
    host: Manifest | None = None,
) -> list[Outcome]:
    """An outcome for every record, in the order given (newest version of a name first among
    its versions). ``spec`` is the host's current extension point (``None``: not declared by
    the host, every implementation is rejected); ``host`` is the host's manifest, against
    which the plugins' imports of its API are checked."""
    outcomes: list[Outcome | None] = [None] * len(records)
    first: dict[tuple[str, str], PluginRecord] = {}
    cycles = _cycles(records)
    for i, r in enumerate(records):
        if r.problem is not None:
            outcomes[i] = Outcome(r, point, "rejected", fault=Fault.BAD_MANIFEST, reason=r.problem)
            continue
        key = (canonicalize_name(r.name), r.version)
        if key in first:
            other = first[key]
            outcomes[i] = Outcome(r, point, "rejected", fault=Fault.DUPLICATE, reason=(
                f"another plugin named {r.name} {r.version} came first: {other.location}"))
            continue
        first[key] = r
        if i in cycles:
            outcomes[i] = Outcome(r, point, "rejected", fault=Fault.CYCLE, reason=(
                f"plugins import each other's API: {cycles[i]}"))
            continue
        outcomes[i] = _check(point, spec, r, host)
    done = [o for o in outcomes if o is not None]
    # Newest non-rejected version of each name is selected; older ones are superseded.
    order = sorted(range(len(done)), key=lambda k: version_key(done[k].record.version),
                   reverse=True)
    taken: set[str] = set()
    for k in order:
        o = done[k]
        if not o.selected:
            continue
        name = canonicalize_name(o.record.name)
        if name in taken:
            done[k] = replace(o, status="superseded",
                              reason="a newer compatible version is selected")
        taken.add(name)
    return done


def _check(point: str, spec: Export | None, r: PluginRecord, host: Manifest | None) -> Outcome:
    impl = r.implementation(point)
    assert impl is not None
    if spec is None:
        return Outcome(r, point, "rejected", fault=Fault.INCOMPATIBLE,
                       reason=f"the host declares no extension point {point}")
    if impl.export is None:
        if r.manifest is None:
            return Outcome(r, point, "unchecked",
                           reason="no manifest: checked when it is imported")
        return Outcome(r, point, "rejected", fault=Fault.MISSING_OBJECT, reason=(
            f"the manifest names {impl.target}, which the plugin does not export"))
    classes = spec_classes(host, r.manifest)
    verdict = check_implementation(spec, impl.export, classes=classes).prefixed(impl.target)
    if host is not None and r.manifest is not None:
        verdict = Verdict.merge([verdict, check_imports(r.manifest, host, classes=classes)])
    if verdict.ok:
        return Outcome(r, point, "compatible", verdict)
    return Outcome(r, point, "rejected", verdict, Fault.INCOMPATIBLE,
                   f"not assignable to the host's {point}")
