"""Two releases of a library compared export by export (``siglink diff``).

>>> from siglink.contracts.manifest import Export, ExportKind, Manifest, Unit
>>> from siglink.contracts.signature import Signature
>>> def release(version: str, wrap: str) -> Manifest:
...     f = Export("textkit.wrap", ExportKind.FUNCTION, signature=Signature.parse(wrap))
...     return Manifest(Unit("textkit", version), {f.path: f})
>>> old = release("1.0.0", "(text: str, width: int = ...) -> str")
>>> new = release("2.0.0", "(text: str, *, width: int = ...) -> str")
>>> result = diff_manifests(old, new)
>>> result.breaking
True
>>> print(result.incompatible[0][1].explain())  # doctest: +NORMALIZE_WHITESPACE
P18 textkit.wrap param width: expected positional-or-keyword, found keyword-only; positional
calls no longer reach it (incompatible)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from siglink.contracts.compat import check_export, class_graph
from siglink.contracts.manifest import ExportKind, Manifest
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
    classes = class_graph(new.exports.values(), {**old.protocols, **new.protocols})
    diff = ReleaseDiff()
    for path, export in sorted(old.exports.items()):
        other = new.exports.get(path)
        if other is None:
            if export.kind is ExportKind.ATTRIBUTE and export.flavor in _TYPING_OBJECTS:
                continue  # a TypeVar or a type alias: no call or read of anything breaks
            verdict = check_export(export, None, policy=policy)
            diff.removed.append((path, verdict.prefixed(path)))
            continue
        verdict = check_export(export, other, policy=policy, classes=classes)
        if verdict.identical:
            continue
        public = _without_private_params(verdict)
        if public is not verdict and not (public.problems or public.unverified):
            continue  # the change was confined to private parameters
        verdict = public
        (diff.compatible if verdict.ok else diff.incompatible).append(
            (path, verdict.prefixed(path)))
    diff.added.extend((path, None) for path in sorted(new.exports) if path not in old.exports)
    return diff


_TYPING_OBJECTS = frozenset({"typevar", "alias"})


def _without_private_params(verdict: Verdict) -> Verdict:
    """Changes confined to parameters whose names mark them private (``_x``) are not the
    library's contract: dropped from what ``diff`` reports (a call passing one is still
    checked by the linker)."""
    kept = tuple(p for p in verdict.problems if not _private_param(p.path))
    if len(kept) == len(verdict.problems):
        return verdict
    unverified = tuple(u for u in verdict.unverified if not _private_param(u.split(":")[0]))
    return Verdict(kept, unverified, verdict.usage_compatible)


def _private_param(path: str) -> bool:
    name = path.rpartition("param ")[2]
    return "param " in path and name.lstrip("*").startswith("_") and not (
        name.startswith("__") and name.endswith("__"))


def __dir__() -> list[str]:
    return list(__all__)
