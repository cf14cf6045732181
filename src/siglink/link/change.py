"""How one application's link changes after a change to the store: it moves, stays or stops.

>>> change = describe("/a.siglink.json", {"x": "1.0"}, {"x": "1.1"}, "")
>>> change.status, change.reason
('move', 'x 1.0 -> 1.1')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["AppImpact", "describe"]


def __dir__() -> list[str]:
    return list(__all__)


@dataclass(frozen=True)
class AppImpact:
    """How one application's link changes: it moves to other versions, stays, or stops
    linking (``after`` is None). ``before`` is None when it does not link now."""

    app_id: str
    before: dict[str, str] | None
    after: dict[str, str] | None
    status: Literal["move", "stay", "stop"]
    reason: str


def _changes(before: dict[str, str], after: dict[str, str]) -> str:
    parts = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old != new:
            parts.append(f"{name} {old or '(none)'} -> {new or '(none)'}")
    return ", ".join(parts)


def describe(
    app_id: str, before: dict[str, str] | None, after: dict[str, str] | None, error: str
) -> AppImpact:
    """How an application's link changed from ``before`` to ``after`` (None: refused, for the
    reason ``error``)."""
    if after is None:
        status: Literal["stay", "stop"] = "stay" if before is None else "stop"
        return AppImpact(app_id, before, None, status,
                         f"still cannot link: {error}" if before is None else error)
    if before == after:
        return AppImpact(app_id, before, after, "stay", "no change")
    if before is None:
        return AppImpact(app_id, None, after, "move", "links again: " +
                         ", ".join(f"{n} {v}" for n, v in sorted(after.items())))
    return AppImpact(app_id, before, after, "move", _changes(before, after))
