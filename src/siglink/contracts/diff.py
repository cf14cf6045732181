"""Two releases of a library compared export by export (``siglink diff``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from siglink.contracts.compat import check_export, class_graph
from siglink.contracts.manifest import Manifest
from siglink.contracts.policy import Policy, policy_of
from siglink.contracts.verdict import Verdict

__all__ = ["ReleaseDiff", "diff_manifests"]


@dataclass(frozen=True, slots=True)
class ReleaseDiff:
    """Every export of an old release against a new one (``siglink diff``).

    ``removed`` and ``incompatible`` break consumers; ``compatible`` lists changed exports that
    do not (their verdicts may carry reviews); ``added`` holds new exports (verdict ``None``).
    """

    removed: list[tuple[str, Verdict | None]] = field(default_factory=list)
    incompatible: list[tuple[str, Verdict | None]] = field(default_factory=list)
    compatible: list[tuple[str, Verdict | None]] = field(default_factory=list)
    added: list[tuple[str, Verdict | None]] = field(default_factory=list)

    @property
    def breaking(self) -> bool:
        """Does the new release break a consumer of the old one?"""
        return bool(self.removed or self.incompatible)

    @property
    def reviews(self) -> list[tuple[str, Verdict | None]]:
        """Compatible changes that still deserve a look."""
        return [(p, v) for p, v in self.compatible if v is not None and v.reviews]


def diff_manifests(old: Manifest, new: Manifest, *, policy: Policy = "signature") -> ReleaseDiff:
    """Compare every export of ``old`` with the same path in ``new``.

    User classes relate through the new release's recorded bases. Every problem's path starts
    with its export's path (``P1 lib.g``, ``P16 lib.h param a``).
    """
    policy_of(policy)
    classes = class_graph(new.exports.values())
    diff = ReleaseDiff()
    for path, export in sorted(old.exports.items()):
        other = new.exports.get(path)
        if other is None:
            verdict = check_export(export, None, policy=policy)
            diff.removed.append((path, verdict.prefixed(path)))
            continue
        verdict = check_export(export, other, policy=policy, classes=classes)
        if verdict.identical:
            continue
        (diff.compatible if verdict.ok else diff.incompatible).append(
            (path, verdict.prefixed(path)))
    diff.added.extend((path, None) for path in sorted(new.exports) if path not in old.exports)
    return diff


def __dir__() -> list[str]:
    return list(__all__)
