"""``siglink exports`` and ``siglink diff``: a library's export table, and what a release breaks."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from siglink.contracts.compat import ReleaseDiff
    from siglink.contracts.manifest import Export, Manifest
    from siglink.contracts.verdict import Problem, Verdict

__all__ = ["major_bump", "register"]


def __dir__() -> list[str]:
    return list(__all__)

_EXPORTS_EPILOG = """\
TARGET is a wheel (.whl, any platform tag), an sdist (.tar.gz, .zip), a source tree
(a package directory or a project with pyproject.toml/setup.py), the name of an installed
distribution, or a manifest file (siglink.json). The library's code is never imported.

examples:
  siglink exports itsdangerous-2.1.2-py3-none-any.whl
  siglink exports ./src/mypkg
  siglink exports MarkupSafe-2.0.1.tar.gz --json > siglink.json

exit codes: 0 ok, 2 bad input (missing or corrupt file, unreadable manifest)
"""

_DIFF_EPILOG = """\
OLD and NEW are anything `siglink exports` reads (wheels, sdists, trees, manifests).

policies:
  semver     (default) fail when an incompatible change (a removal included) ships without
             a major version bump; for 0.x the leftmost non-zero component is the major
  signature  fail on any incompatible change, whatever the versions say
  strict     as signature, and a changed default value (P9) is incompatible too

examples:
  siglink diff MarkupSafe-2.0.1.tar.gz MarkupSafe-2.1.5-cp311-cp311-manylinux2014_x86_64.whl
  siglink diff old/siglink.json dist/textkit-2.0.0-py3-none-any.whl --policy signature
  siglink diff textkit-1.0.0.whl textkit-1.1.0.whl --json

exit codes: 0 no breaking change (or a major bump under semver), 1 breaking change,
            2 bad input
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``exports`` and ``diff`` to the ``siglink`` command."""
    exports = sub.add_parser(
        "exports",
        help="show a library's exports and their signatures",
        description="Show every public name of a Python library with its kind and signature.",
        epilog=_EXPORTS_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    exports.add_argument("target", metavar="TARGET", help="wheel, sdist, tree, name or manifest")
    exports.add_argument("--json", action="store_true", help="print the manifest JSON")
    exports.set_defaults(func=run_exports)

    diff = sub.add_parser(
        "diff",
        help="list what changed between two releases, and fail on breaking changes",
        description="Compare the exports of two releases of a library (DESIGN §3.3).",
        epilog=_DIFF_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    diff.add_argument("old", metavar="OLD", help="the previous release")
    diff.add_argument("new", metavar="NEW", help="the candidate release")
    diff.add_argument("--json", action="store_true", help="print the result as JSON")
    diff.add_argument(
        "--policy",
        choices=("semver", "signature", "strict"),
        default="semver",
        help="what makes the check fail (default: semver)",
    )
    diff.set_defaults(func=run_diff)


def _describe(export: Export) -> str:
    if export.reference is not None:
        return f"-> {export.reference}"
    if export.signature is not None:
        text = str(export.signature)
        if export.overloads:
            text += f"  (+{len(export.overloads)} overloads)"
        return text
    text = f": {export.type}" if export.type is not None else ""
    if export.value is not None:
        text += f" = {export.value}"
    return text.strip()


def _describe_export(export: Export) -> str:
    return f"{_kind(export)} {_describe(export)}".strip()


def _kind(export: Export) -> str:
    kind = export.kind.value
    if export.flavor:
        kind += f" ({export.flavor})"
    if export.compiled:
        kind += " [compiled]"
    return kind


def run_exports(args: argparse.Namespace) -> int:
    """``siglink exports TARGET``."""
    from siglink.cli._output import print_json, table, warn
    from siglink.python.exports import extract

    manifest = extract(args.target)
    for diagnostic in manifest.diagnostics:
        warn(str(diagnostic))
    if args.json:
        print_json(manifest.to_json())
        return 0
    rows: list[list[str]] = []
    for path, export in sorted(manifest.exports.items()):
        rows.append([path, _kind(export), _describe(export)])
        for name, member in export.members.items():
            rows.append([f"  .{name}", _kind(member), _describe(member)])
    unit = manifest.unit
    table(f"{unit.name} {unit.version}: {len(manifest.exports)} exports",
          ("path", "kind", "signature"), rows)
    return 0


def major_bump(old: str, new: str) -> bool:
    """Whether ``new`` raises the major version of ``old``; for 0.x the leftmost non-zero
    component counts as major.

    >>> major_bump("1.4.2", "2.0.0"), major_bump("0.3.1", "0.4.0"), major_bump("2.0.1", "2.1.5")
    (True, True, False)
    >>> major_bump("0.0.3", "0.0.4"), major_bump("0.9", "1.0")
    (True, True)
    """
    from packaging.version import InvalidVersion, Version

    try:
        before, after = Version(old), Version(new)
    except InvalidVersion:
        return False
    a, b = list(before.release), list(after.release)
    width = max(len(a), len(b), 3)
    a += [0] * (width - len(a))
    b += [0] * (width - len(b))
    for i in range(width):
        if a[i] != 0 or i == width - 1:
            return tuple(b[: i + 1]) > tuple(a[: i + 1])
        if b[i] != 0:
            return True  # 0.x -> 1.x, 0.0.x -> 0.1.x
    return False


def _where(path: str, problem: Problem) -> str:
    """A problem's location relative to its export (``param b``, ``member grow``)."""
    return problem.path.removeprefix(path).strip()


def _entry(path: str, verdict: Verdict | None) -> dict[str, Any]:
    if verdict is None:
        return {"path": path, "problems": [], "unverified": []}
    return {"path": path, "problems": [p.to_json() for p in verdict.problems],
            "unverified": list(verdict.unverified)}


def _diff_json(
    old: Manifest, new: Manifest, result: ReleaseDiff, *, policy: str, bumped: bool, ok: bool
) -> dict[str, Any]:
    return {
        "old": {"name": old.unit.name, "version": old.unit.version},
        "new": {"name": new.unit.name, "version": new.unit.version},
        "policy": policy,
        "major_bump": bumped,
        "removed": [path for path, _ in result.removed],
        "incompatible": [_entry(path, v) for path, v in result.incompatible],
        "compatible": [_entry(path, v) for path, v in result.compatible],
        "added": [path for path, _ in result.added],
        "ok": ok,
    }


def run_diff(args: argparse.Namespace) -> int:
    """``siglink diff OLD NEW``."""
    from siglink.cli._output import print_json, table, warn
    from siglink.contracts.compat import diff_manifests
    from siglink.python.exports import extract

    old = extract(args.old)
    new = extract(args.new)
    policy: str = args.policy
    result = diff_manifests(old, new, policy=policy)
    breaking = result.breaking
    bumped = major_bump(old.unit.version, new.unit.version)
    ok = not breaking or (policy == "semver" and bumped)
    if args.json:
        print_json(_diff_json(old, new, result, policy=policy, bumped=bumped, ok=ok))
        return 0 if ok else 1
    for manifest in (old, new):
        for diagnostic in manifest.diagnostics:
            warn(f"{manifest.unit.name} {manifest.unit.version}: {diagnostic}")
    print(f"{old.unit.name} {old.unit.version} -> {new.unit.name} {new.unit.version} "
          f"(policy {policy})")
    if result.removed:
        table("removed (P1, incompatible):", ("path", "was"),
              [[p, _describe_export(old.exports[p])] for p, _ in result.removed])
    rows: list[list[str]] = []
    for path, verdict in result.incompatible:
        for problem in verdict.incompatible if verdict is not None else ():
            rows.append([path, problem.rule, _where(path, problem), problem.expected,
                         problem.found, problem.note])
    if rows:
        table("incompatible:", ("path", "rule", "where", "expected", "found", "why"), rows)
    rows = []
    for path, verdict in result.compatible:
        for problem in verdict.problems if verdict is not None else ():
            rows.append([path, problem.rule, problem.severity.value, _where(path, problem),
                         problem.expected, problem.found])
        if verdict is None or not verdict.problems:
            before, after = old.exports[path], new.exports[path]
            if before.module != after.module:
                rows.append([path, "", "moved", "defining module", before.module,
                             after.module])
            elif verdict is not None and verdict.unverified:
                more = len(verdict.unverified) - 1
                rows.append([path, "P24", "unverified", verdict.unverified[0].removeprefix(path)
                             .strip() + (f" (+{more} more)" if more else ""), "", ""])
            else:
                rows.append([path, "", "changed", "", "", ""])
    if rows:
        table("compatible changes:", ("path", "rule", "severity", "where", "expected", "found"),
              rows)
    if result.added:
        table("added:", ("path", "is"),
              [[p, _describe_export(new.exports[p])] for p, _ in result.added])
    if not (result.removed or result.incompatible or result.compatible or result.added):
        print("no changes")
    changed = [v for _, v in (*result.incompatible, *result.compatible) if v is not None]
    unverified = sum(len(v.unverified) for v in changed)
    if unverified:
        exports = sum(1 for v in changed if v.unverified)
        print(f"unverified: {unverified} part{'s' if unverified != 1 else ''} of {exports} "
              f"changed export{'s' if exports != 1 else ''} (Any, unknown or missing "
              "annotations; --json lists them)")
    if ok:
        note = " (allowed by the major version bump)" if breaking else ""
        print(f"ok: no breaking change{note}" if not breaking else f"ok{note}")
        return 0
    count = len(result.removed) + len(result.incompatible)
    why = "without a major version bump" if policy == "semver" else f"under policy {policy}"
    print(f"FAIL: {count} breaking change{'s' if count != 1 else ''} {why}", file=sys.stderr)
    return 1
