"""``siglink exports`` and ``siglink diff``: a library's export table, and what a release breaks."""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from siglink.errors import BadInputError

if TYPE_CHECKING:
    from siglink.contracts.diff import ReleaseDiff
    from siglink.contracts.manifest import Export, Manifest
    from siglink.contracts.verdict import Problem, Verdict

__all__ = ["changes", "is_downgrade", "load_target", "major_bump", "register"]


def __dir__() -> list[str]:
    return list(__all__)

_EXPORTS_EPILOG = """\
TARGET is NAME==VERSION of a library in the store, a wheel (.whl, any platform tag), an
sdist (.tar.gz, .zip), a source tree (a package directory or a project with
pyproject.toml/setup.py), the name (or NAME==VERSION) of an installed distribution, or a
manifest file (siglink.json). The library's code is never imported.

examples:
  siglink exports textkit==1.0.0                   a version in the store
  siglink exports itsdangerous-2.1.2-py3-none-any.whl
  siglink exports ./src/mypkg
  siglink exports MarkupSafe-2.0.1.tar.gz --json > siglink.json

exit codes: 0 ok, 2 bad input (missing or corrupt file, unreadable manifest)
"""

_DIFF_EPILOG = """\
OLD and NEW are anything `siglink exports` reads (NAME==VERSION in the store, wheels, sdists,
trees, installed distributions, manifests), two versions of one library (--any-names to
compare two different libraries). A NEW older than OLD is reported as a downgrade, which is
never a major bump.

policies:
  semver     (default) fail when an incompatible change (a removal included) ships without
             a major version bump; for 0.x the leftmost non-zero component is the major
  signature  fail on any incompatible change, whatever the versions say
  strict     as signature, and a changed default value (P9) is incompatible too

examples:
  siglink diff textkit==1.0.0 textkit==2.0.0       two versions in the store
  siglink diff MarkupSafe-2.0.1.tar.gz MarkupSafe-2.1.5-cp311-cp311-manylinux2014_x86_64.whl
  siglink diff old/siglink.json dist/textkit-2.0.0-py3-none-any.whl --policy signature
  siglink diff textkit-1.0.0.whl textkit-1.1.0.whl --json

Each problem names its rule (P11, R6, ...): `siglink explain RULE` says what it means, with an
example (docs/design.md §3.3).

exit codes: 0 no breaking change (or a major bump under semver), 1 breaking change,
            2 bad input
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``exports`` and ``diff`` to the ``siglink`` command."""
    from siglink.cli.main import store_option

    exports = sub.add_parser(
        "exports",
        help="show a library's exports and their signatures",
        description="Show every public name of a Python library with its kind and signature.",
        epilog=_EXPORTS_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    exports.add_argument("target", metavar="TARGET", help="wheel, sdist, tree, name or manifest")
    exports.add_argument("--json", action="store_true", help="print the manifest JSON")
    store_option(exports)
    exports.set_defaults(func=run_exports)

    diff = sub.add_parser(
        "diff",
        help="list what changed between two releases, and fail on breaking changes",
        description="Compare the exports of two releases of a library (docs/design.md §3.3).",
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
    diff.add_argument(
        "--any-names",
        action="store_true",
        help="compare OLD and NEW even when they are different libraries",
    )
    store_option(diff)
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
    from siglink.cli._output import print_json, table, use_colour, warn

    manifest = load_target(args.target, getattr(args, "store", None))
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
    title = f"{unit.name} {unit.version}: {len(manifest.exports)} exports"
    if use_colour():  # whole paths and kinds; signatures wrap at spaces
        lines = [f"{path} {kind} {signature}".rstrip() for path, kind, signature in rows]
        _section(title, (("path", "fixed"), ("kind", "fixed"), ("signature", "wrap")), rows,
                 lines, rich=True)
    else:
        table(title, ("path", "kind", "signature"), rows)
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


def is_downgrade(old: str, new: str) -> bool:
    """Whether ``new`` is an older version than ``old`` (versions that do not parse: no).

    >>> is_downgrade("8.1.7", "7.1.2"), is_downgrade("1.0", "1.0.1"), is_downgrade("2.0", "2.0.0")
    (True, False, False)
    """
    from packaging.version import InvalidVersion, Version

    try:
        return Version(new) < Version(old)
    except InvalidVersion:
        return False


_PINNED: Final = re.compile(r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*==\s*(\S+)\s*$")


def load_target(target: str, store: str | None = None) -> Manifest:
    """The manifest ``siglink exports``/``diff`` reads for ``target``.

    A path that exists is read as a file or directory. ``NAME==VERSION`` is that version in the
    store (``store`` or ``$SIGLINK_STORE``), else the installed distribution of that name when
    it has that version. Anything else is what :func:`siglink.python.exports.extract` reads.

    :raises BadInputError: ``NAME==VERSION`` is neither in the store nor installed.
    """
    from siglink.python.exports import extract

    match = _PINNED.match(target)
    if match is None or os.path.exists(target):
        return extract(target)
    from siglink.store import NotInStoreError, Store

    name, version = match.groups()
    shelf = Store(store)
    try:
        return shelf.manifest(name, version)
    except NotInStoreError as e:
        have = e.message.partition(" is not in the store")[2]
    finally:
        shelf.close()
    installed = _installed_version(name)
    if installed is not None and _same_version(installed, version):
        return extract(name)
    elsewhere = f" (the installed {name} is {installed})" if installed is not None else ""
    raise BadInputError(
        f"{target}: not in the store {shelf.root}{have}, not installed here{elsewhere}, "
        "and no such file or directory",
        path=target,
    )


def _installed_version(name: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(name)
    except (metadata.PackageNotFoundError, ValueError):
        return None


def _same_version(a: str, b: str) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def _where(path: str, problem: Problem) -> str:
    """A problem's location relative to its export (``param b``, ``member grow``)."""
    return problem.path.removeprefix(path).strip()


def _relative(path: str, problem: Problem) -> Problem:
    return dataclasses.replace(problem, path=_where(path, problem))


def changes(old: Export, new: Export, prefix: str = "") -> list[tuple[str, str, str]]:
    """What differs between two versions of an export, as ``(where, old, new)`` rows: for a
    change that no rule reports (bases, members, values, the defining module, ...)."""
    rows: list[tuple[str, str, str]] = []

    def differ(where: str, before: object, after: object) -> None:
        if before != after:
            rows.append((f"{prefix}{where}", _text(before), _text(after)))

    differ("kind", old.kind.value, new.kind.value)
    differ("defining module", old.module, new.module)
    differ("signature", old.signature and str(old.signature), new.signature and str(new.signature))
    if old.signature is not None and new.signature is not None:
        differ("default values", old.signature.defaults, new.signature.defaults)
    differ("overloads", [str(s) for s in old.overloads], [str(s) for s in new.overloads])
    differ("type", old.type and str(old.type), new.type and str(new.type))
    differ("bases", list(old.bases), list(new.bases))
    for key in ("flavor", "value", "reference", "optional", "setter", "deleter"):
        differ(key, getattr(old, key), getattr(new, key))
    differ("member order", [n for n in old.members if n in new.members],
           [n for n in new.members if n in old.members])
    for name, member in old.members.items():
        other = new.members.get(name)
        if other is None:
            rows.append((f"{prefix}member {name}", _describe_export(member), "absent"))
        elif other.digest != member.digest:
            rows.extend(changes(member, other, f"{prefix}member {name} "))
    for name, member in new.members.items():
        if name not in old.members:
            rows.append((f"{prefix}member {name}", "absent", _describe_export(member)))
    if not rows and old.digest != new.digest and not prefix:
        rows.append(("digest", old.digest, new.digest))
    return rows


def _text(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, list):
        return f"({', '.join(map(str, value))})"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "none"
    return str(value)


def _entry(path: str, verdict: Verdict | None) -> dict[str, Any]:
    if verdict is None:
        return {"path": path, "problems": [], "unverified": []}
    return {"path": path, "problems": [p.to_json() for p in verdict.problems],
            "unverified": list(verdict.unverified)}


def _diff_json(
    old: Manifest, new: Manifest, result: ReleaseDiff, *, policy: str, bumped: bool,
    downgrade: bool, ok: bool
) -> dict[str, Any]:
    compatible = []
    for path, verdict in result.compatible:
        entry = _entry(path, verdict)
        if not entry["problems"]:
            entry["changes"] = [{"where": w, "old": a, "new": b}
                                for w, a, b in changes(old.exports[path], new.exports[path])]
        compatible.append(entry)
    return {
        "old": {"name": old.unit.name, "version": old.unit.version},
        "new": {"name": new.unit.name, "version": new.unit.version},
        "policy": policy,
        "major_bump": bumped,
        "downgrade": downgrade,
        "removed": [path for path, _ in result.removed],
        "incompatible": [_entry(path, v) for path, v in result.incompatible],
        "compatible": compatible,
        "added": [path for path, _ in result.added],
        "ok": ok,
    }


_MIN_WRAP: Final = 16  # the narrowest a signature column may be before tables give way to lines


def _section(title: str, columns: Sequence[tuple[str, str]], rows: list[list[str]],
             lines: list[str], *, rich: bool) -> None:
    """A titled table on a terminal, else ``lines``, one per row. ``columns`` are (header,
    ``wrap`` | ``fixed``): ``fixed`` cells (paths, rule ids, severities) are never broken,
    ``wrap`` cells (signatures, types, locations) break at spaces."""
    if not rows:
        return
    from siglink.cli._output import console, printable, say

    out = console() if rich else None
    fixed = sum(max(len(r[i]) for r in [[h for h, _ in columns], *rows]) for i, (_, mode)
                in enumerate(columns) if mode == "fixed")
    wrapped = sum(1 for _, mode in columns if mode == "wrap")
    if out is None or fixed + wrapped * _MIN_WRAP + 3 * len(columns) > out.width:
        # Piped, or a terminal too narrow for a table: one line per problem.
        say(title)
        for line in lines:
            say(f"  {line}")
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=printable(title), title_justify="left", show_edge=False,
                  header_style="bold")
    for header, mode in columns:
        if mode == "wrap":  # signatures, types, locations: wrap at spaces, fold only a
            table.add_column(header, overflow="fold", min_width=_MIN_WRAP)  # huge token
        else:  # paths, rules, severities: whole tokens, never split
            table.add_column(header, no_wrap=True)
    for row in rows:
        table.add_row(*(escape(printable(cell)) for cell in row))
    out.print(table)


class _Report:
    """A release diff for people: rich tables on a terminal, one problem per line when piped.

    Plain lines are ``  path: RULE where: expected X, found Y (severity)``, never padded or
    wrapped, so ``grep`` and narrow terminals both read them.
    """

    def __init__(self, old: Manifest, new: Manifest, result: ReleaseDiff) -> None:
        from siglink.cli._output import use_colour

        self.old, self.new, self.result = old, new, result
        self.rich = use_colour()

    def exports(self, title: str, manifest: Manifest, paths: list[str]) -> None:
        rows = [[p, _describe_export(manifest.exports[p])] for p in paths]
        _section(title, (("path", "fixed"), ("signature", "wrap")), rows,
                 [f"{p}: {d}" for p, d in rows], rich=self.rich)

    def incompatible(self) -> None:
        rows, lines = [], []
        for path, verdict in self.result.incompatible:
            for problem in verdict.incompatible if verdict is not None else ():
                rows.append([path, problem.rule, _where(path, problem), _cut(problem.expected),
                             _cut(problem.found), problem.note])
                lines.append(f"{path}: {_relative(path, problem).explain()}")
        _section("incompatible:", (("path", "fixed"), ("rule", "fixed"), ("where", "wrap"),
                                   ("expected", "wrap"), ("found", "wrap"), ("why", "wrap")),
                 rows, lines, rich=self.rich)

    def compatible(self) -> None:
        rows, lines = [], []
        for path, verdict in self.result.compatible:
            for problem in verdict.problems if verdict is not None else ():
                rows.append([path, problem.rule, problem.severity.value, _where(path, problem),
                             _cut(problem.expected), _cut(problem.found)])
                lines.append(f"{path}: {_relative(path, problem).explain()}")
            if verdict is not None and verdict.problems:
                continue
            if verdict is not None and verdict.unverified:
                first = verdict.unverified[0].removeprefix(path).strip()
                more = len(verdict.unverified) - 1
                where = first + (f" (+{more} more)" if more else "")
                rows.append([path, "P24", "unverified", where, "", ""])
                lines.append(f"{path}: P24 {where} (unverified)")
            for where, was, now in changes(self.old.exports[path], self.new.exports[path]):
                severity = "moved" if where == "defining module" else "changed"
                before, after = _cut(was), _cut(now)
                rows.append([path, "", severity, where, before, after])
                lines.append(f"{path}: {severity} {where}: was {before}, now {after}")
        _section("compatible changes:",
                 (("path", "fixed"), ("rule", "fixed"), ("severity", "fixed"),
                  ("where", "wrap"), ("expected", "wrap"), ("found", "wrap")), rows, lines,
                 rich=self.rich)


def run_diff(args: argparse.Namespace) -> int:
    """``siglink diff OLD NEW``."""
    from packaging.utils import canonicalize_name

    from siglink.cli._output import print_json, say, warn
    from siglink.contracts.diff import diff_manifests
    from siglink.contracts.policy import policy_of

    store = getattr(args, "store", None)
    old = load_target(args.old, store)
    new = load_target(args.new, store)
    if canonicalize_name(old.unit.name) != canonicalize_name(new.unit.name) and not (
        args.any_names
    ):
        raise BadInputError(
            f"OLD is {old.unit.name}, NEW is {new.unit.name}: a release diff compares two "
            "versions of one library (--any-names compares them anyway)")
    policy = policy_of(args.policy)
    result = diff_manifests(old, new, policy=policy)
    breaking = result.breaking
    downgrade = is_downgrade(old.unit.version, new.unit.version)
    bumped = major_bump(old.unit.version, new.unit.version) and not downgrade
    ok = not breaking or (policy == "semver" and bumped)
    if args.json:
        print_json(_diff_json(old, new, result, policy=policy, bumped=bumped,
                              downgrade=downgrade, ok=ok))
        return 0 if ok else 1
    for manifest in (old, new):
        for diagnostic in manifest.diagnostics:
            warn(f"{manifest.unit.name} {manifest.unit.version}: {diagnostic}")
    say(f"{old.unit.name} {old.unit.version} -> {new.unit.name} {new.unit.version} "
        f"(policy {policy})")
    if downgrade:
        say(f"downgrade: NEW {new.unit.version} is older than OLD {old.unit.version}")
    report = _Report(old, new, result)
    report.exports("removed (P1, incompatible):", old, [p for p, _ in result.removed])
    report.incompatible()
    report.compatible()
    report.exports("added:", new, [p for p, _ in result.added])
    if not (result.removed or result.incompatible or result.compatible or result.added):
        say("no changes")
    changed = [v for _, v in (*result.incompatible, *result.compatible) if v is not None]
    unverified = sum(len(v.unverified) for v in changed)
    if unverified:
        exports = sum(1 for v in changed if v.unverified)
        say(f"unverified: {unverified} part{'s' if unverified != 1 else ''} of {exports} "
            f"changed export{'s' if exports != 1 else ''} (Any, unknown or missing "
            "annotations; --json lists them)")
    if ok:
        note = " (allowed by the major version bump)" if breaking else ""
        say(f"ok: no breaking change{note}" if not breaking else f"ok{note}")
        return 0
    count = len(result.removed) + len(result.incompatible)
    if policy != "semver":
        why = f"under policy {policy}"
    elif downgrade:
        why = "in a downgrade (never a major bump)"
    else:
        why = "without a major version bump"
    say(f"FAIL: {count} breaking change{'s' if count != 1 else ''} {why}", file=sys.stderr)
    return 1


def _cut(text: str, limit: int = 200) -> str:
    """A type or signature shortened for a terminal line (``--json`` keeps it whole)."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
