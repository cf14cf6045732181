"""``siglink audit``: which stored versions advisories affect, and who links them.

Two sources: OSV advisory records (:mod:`siglink.fleet.advisory`), matched by normalized name
and version against every version in the store; and the package index's own yanked flags
(PEP 592), read from its project pages (:func:`siglink.store.fetch.yanked_on_index`). Each affected
version is listed with its advisories, the fixed versions they name, and the registered
applications linking it. :func:`yank_reason` is the reason a ``--yank`` records: the advisory
ids first, so that an application refused afterwards names them.

>>> from siglink.fleet.advisory import Advisory
>>> yank_reason(Finding("werkzeug", "3.0.1", (Advisory("GHSA-2g68-c3qc-8985", (),
...     "Werkzeug debugger RCE", (), "x.json"),), None, None, ()))
'GHSA-2g68-c3qc-8985: Werkzeug debugger RCE'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from siglink.fleet.advisory import Advisory
    from siglink.fleet.install import Step
    from siglink.store import Store

__all__ = ["Finding", "find", "yank_reason"]


def __dir__() -> list[str]:
    return list(__all__)


@dataclass(frozen=True)
class Finding:
    """One stored version that advisories affect (or the index has yanked): the advisories,
    the index's yank reason, the store's own yank (``yanked``), and who links it (``users``:
    application paths)."""

    name: str
    version: str
    advisories: tuple[Advisory, ...]
    index_yank: str | None
    yanked: str | None
    users: tuple[str, ...]

    def fixed(self) -> list[str]:
        """The fixed versions the advisories name."""
        from packaging.version import Version

        found = {f for a in self.advisories for f in a.fixed(self.name)}
        return sorted(found, key=Version)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "version": self.version,
            "advisories": [{"id": a.id, "aliases": list(a.aliases), "summary": a.summary,
                            "fixed": a.fixed(self.name), "source": a.source}
                           for a in self.advisories],
            "index_yanked": self.index_yank, "yanked": self.yanked,
            "linked_by": list(self.users),
        }


def yank_reason(finding: Finding) -> str:
    """``GHSA-...: summary`` (several ids joined), or ``yanked on the index: reason``."""
    if finding.advisories:
        ids = ", ".join(a.id for a in finding.advisories)
        summary = finding.advisories[0].summary.splitlines()[0] if finding.advisories[
            0].summary else ""
        text = f"{ids}: {summary}" if summary else ids
        return text if len(text) <= 160 else text[:157] + "..."
    return f"yanked on the index: {finding.index_yank}"


def find(
    store: Store, advisories: Sequence[Advisory], *, index: bool = False,
    index_url: str | None = None, on_step: Step | None = None,
) -> list[Finding]:
    """Every stored version that one of ``advisories`` affects or (with ``index``) that the
    index has yanked, sorted by name and version.

    :raises FetchError: ``index`` and the index cannot be reached.
    """
    from packaging.version import InvalidVersion, Version

    stored = [v for name in store.names() for v in store.versions(name) if v.source == "store"]
    by_name: dict[str, list[Advisory]] = {}
    for advisory in advisories:
        for affected in advisory.affected:
            by_name.setdefault(affected.name, []).append(advisory)
    index_yanks: dict[tuple[str, str], str] = {}
    if index and stored:
        from siglink.store.fetch import yanked_on_index

        if on_step is not None:
            on_step(f"asking the index which of {len(stored)} stored versions it has yanked")
        index_yanks, _ = yanked_on_index([(v.name, v.version) for v in stored],
                                         index_url=index_url)
    out = []
    for v in stored:
        hits = tuple(dict.fromkeys(a for a in by_name.get(v.name, ())
                                   if a.affects(v.name, v.version)))
        from_index = index_yanks.get((v.name, v.version))
        if not hits and from_index is None:
            continue
        users = tuple(app.application for app, _ in store.users(v.name, v.version))
        out.append(Finding(v.name, v.version, hits, from_index, v.yanked, users))

    def key(f: Finding) -> tuple[str, Any]:
        try:
            return (f.name, Version(f.version))
        except InvalidVersion:
            return (f.name, Version("0"))

    return sorted(out, key=key)
