"""Fleet commands: ``install`` with dependencies, ``update``, ``apps``, ``forget``, ``gc``,
``audit``, ``sbom``; and the per-application report every store change prints.

>>> from siglink.fleet.outcome import AppOutcome
>>> from siglink.store import RegisteredApp
>>> app = RegisteredApp("/srv/report.siglink.json", "/srv/report.siglink.json", {})
>>> outcome_line(AppOutcome(app, {"textkit": "1.0.0"}, {"textkit": "1.0.1"}, "move"),
...              ["textkit"])
'  /srv/report.py: 1.0.0 -> 1.0.1'
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from siglink.cli._install_notes import install_warnings, shown
from siglink.cli._output import say
from siglink.cli.main import add_subcommand

if TYPE_CHECKING:
    from siglink.fleet.outcome import AppOutcome
    from siglink.store import Store

__all__ = [
    "install_with_dependencies", "outcome_line", "print_outcomes", "register", "step_printer",
]


def __dir__() -> list[str]:
    return list(__all__)


_UPDATE = """\
examples:
  siglink update                       every library in the store
  siglink update jinja2 werkzeug       only these
  siglink update --dry-run --json      what would be installed, and who would move

The newest release is the one pip would install here (not yanked, not a pre-release, its
Requires-Python admitting this interpreter), asked of the configured index (pip's config,
--index-url) in one resolution. Each newer release is installed with its dependencies (as
'siglink install NAME==VERSION'), side by side with what is stored; every registered
application is then linked again and its outcome printed: moved, stays (and why), refused.
A library the index does not have (built locally) is listed and left alone.
exit codes: 0 done, or nothing newer; 2 a NAME not in the store; 3 store error; 4 the index
            cannot be reached or cannot provide a requirement
"""


_AUDIT = """\
examples:
  siglink audit --advisories PyPI/all.zip     OSV records, as osv.dev publishes them
  siglink audit --advisories advisories/ --yank
  siglink audit --no-index --advisories mirror/all.zip --json

Every version in the store is matched against OSV advisory records (a directory of *.json,
a zip of them, or one file: ecosystem PyPI, ECOSYSTEM ranges and versions lists) and, unless
--no-index, against the package index's own yanked flags (PEP 592, as pip reports them). Each
affected version is listed with its advisories, the fixed versions they name and the
registered applications linking it. With --yank each is yanked, the advisory ids as reason;
every registered application is then linked again: it moves to a fixed compatible version
(at once in its registration, and at its next start), or is refused naming the advisory.
A malformed record is one line on stderr naming its file; then nothing is yanked.
exit codes: 0 nothing affected (or all of it yanked by --yank); 1 affected versions found
            and not yanked; 2 bad input (a malformed record, a missing path; nothing yanked);
            3 store error; 4 the index cannot be reached (use --no-index)
"""


_APPS = """\
examples:
  siglink apps
  siglink apps --json | jq '.[] | select(.status != "healthy")'

Every registered application, what it links, and its status: healthy (it links now what its
registration says), refused (it links nothing: why), or stale (a fresh link differs from the
registration, or its source changed since 'siglink build': its next start relinks). Nothing
is written.
"""

_FORGET = """\
examples:
  siglink forget app.py
  siglink forget -m mypkg.tool
  siglink forget /srv/apps/report.siglink.json

The application's registration is removed (who-uses, gc and audit no longer count it) from
every registry you may change: the store's index when you may write the store, and your own
registry file ($XDG_DATA_HOME/siglink/registrations/); a manifest siglink keeps in the
store's own area (run -m) is removed too. Its source and its own manifest stay. A
registration another user holds (their own registry file, or a shared store's index you
cannot write) is named, one line each: only that user can forget it there.
exit codes: 0 forgotten (a line on stderr for each registry still holding it); 2 not
            registered; 3 registered only where you may not change it (nothing forgotten)
"""

_GC = """\
examples:
  siglink gc --dry-run          what would be removed, and why the rest stays
  siglink gc

Removes every version that no registered application links (as registered, or as it would
link now) and that is not the newest of its release line (major.minor), never one a running
process has open, mapped, or runs from (its link plan): each through 'siglink remove'. Every
registry counts: the store's index and each user's registry file you can read (a shared
store's users register in their own).
exit codes: 0 done; 3 store error
"""


_SBOM = """\
examples:
  siglink sbom app.py                           CycloneDX JSON on stdout
  siglink sbom app.py -o app.cdx.json
  siglink sbom -m mypkg.tool --format cyclonedx-json

The exact versions APP links now (the plan its next start runs on), each with its package
URL, the sha256 of its installed RECORD and where it is served from, as a CycloneDX 1.6
document valid against its schema (Dependency-Track, OSV-Scanner and other fleet tools read
it). Needs the CycloneDX library: pip install 'siglink[sbom]'.
exit codes: 0 written; 2 bad input (no manifest, library missing); 127 APP cannot be linked
"""


def register(sub: Any) -> None:
    """Add the fleet subcommands to ``sub`` (an argparse subparsers action)."""

    def add(name: str, help_text: str, epilog: str) -> argparse.ArgumentParser:
        return add_subcommand(sub, name, help_text, epilog)

    p = add("update", "install the newest release of every library in the store", _UPDATE)
    p.add_argument("names", nargs="*", metavar="NAME", help="only these libraries")
    p.add_argument("--index-url", metavar="URL", help="the package index to ask")
    p.add_argument("--dry-run", action="store_true",
                   help="change nothing; say what would be installed and which apps would move")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_update)

    p = add("apps", "every registered application, what it links, and its status", _APPS)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_apps)

    p = add("forget", "remove an application's registration", _FORGET)
    p.add_argument("app", metavar="APP", help="the application (or its manifest)")
    p.add_argument("-m", dest="module", action="store_true", help="APP is a module name")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_forget)

    p = add("gc", "remove versions no application needs", _GC)
    p.add_argument("--dry-run", action="store_true", help="remove nothing; say what would go")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_gc)

    p = add("sbom", "an application's linked versions as a CycloneDX SBOM", _SBOM)
    p.add_argument("app", metavar="APP", help="the application, as given to 'siglink build'")
    p.add_argument("-m", dest="module", action="store_true", help="APP is a module name")
    p.add_argument("--format", choices=("cyclonedx-json",), default="cyclonedx-json",
                   help="the document format (default: cyclonedx-json)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.set_defaults(func=cmd_sbom)

    p = add("audit", "stored versions that advisories affect, and who links them", _AUDIT)
    p.add_argument("--advisories", metavar="PATH", action="append", default=[],
                   help="OSV records: a directory, a zip archive or a .json file")
    p.add_argument("--no-index", action="store_true",
                   help="do not ask the package index for its yanked flags")
    p.add_argument("--index-url", metavar="URL", help="the package index to ask")
    p.add_argument("--yank", action="store_true",
                   help="yank every affected version, the advisory ids as reason")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_audit)


def _store(args: argparse.Namespace) -> Store:
    from siglink.store import Store

    return Store(getattr(args, "store", None))


def step_printer(enabled: bool = True) -> Any:
    """A progress callback: one line per step on stderr (dimmed on a terminal)."""
    from siglink.cli._output import console, printable, use_colour

    def step(text: str) -> None:
        if not enabled:
            return
        if use_colour(sys.stderr):
            from rich.markup import escape

            console(stderr=True).print(f"[dim]siglink: {escape(printable(text))}[/]")
        else:
            say(f"siglink: {text}", file=sys.stderr, flush=True)

    return step


def _store_steps(step: Any) -> Any:
    """The store's progress callback (``description, done, total``) as one line per step."""

    def progress(description: str, done: int, total: int) -> None:
        step(f"{description} ({done}/{total})")

    return progress


def _label(versions: dict[str, str] | None, names: Sequence[str], single: bool) -> str:
    versions = versions or {}
    if single:
        return versions.get(names[0]) or "(none)"
    return ", ".join(f"{n} {versions.get(n) or '(none)'}" for n in names)


def outcome_line(o: AppOutcome, focus: Sequence[str]) -> str:
    """One line for one application: ``APP: 1.0.0 -> 1.0.1``, ``APP: textkit stays on 1.0.1:
    textkit 2.0.0: ...``, ``APP: 1.0.1 -> refused (WHY)``, ``APP: still refused (WHY)``,
    ``APP: unchanged`` (it links none of ``focus``)."""
    app = shown(o.app.application)
    linked = set(o.before or {}) | set(o.after or {}) | set(o.app.links)
    names = [n for n in focus if n in linked]
    if o.status == "refused":
        return f"  {app}: still refused ({o.reason})"
    single = len(focus) == 1
    shown_names = names or sorted(linked)
    if o.status == "stop":
        return f"  {app}: {_label(o.before, shown_names, single and bool(names))} -> refused " \
               f"({o.reason})"
    if o.before is None:
        return f"  {app}: refused -> {_label(o.after, shown_names, single and bool(names))}"
    if not names and o.status == "stay":
        return f"  {app}: unchanged"
    text = ""
    if o.status == "move" and names and any(
            (o.before or {}).get(n) != (o.after or {}).get(n) for n in names):
        text = f"{_label(o.before, names, single)} -> {_label(o.after, names, single)}"
    held = [h for h in o.held if h.name in names]
    if not text:
        text = "; ".join(h.line() for h in held) if held else \
            f"stays on {_label(o.after, shown_names, single and bool(names))}"
    also = [f"{n} {(o.before or {}).get(n) or '(none)'} -> {(o.after or {}).get(n) or '(none)'}"
            for n in sorted(set(o.before or {}) | set(o.after or {}))
            if n not in names and (o.before or {}).get(n) != (o.after or {}).get(n)]
    return f"  {app}: {text}" + (f" (also {', '.join(also)})" if also else "")


def print_outcomes(outcomes: Sequence[AppOutcome], focus: Sequence[str]) -> None:
    """One line per registered application (:func:`outcome_line`)."""
    for o in outcomes:
        say(outcome_line(o, focus))


def install_with_dependencies(args: argparse.Namespace) -> int:
    """``siglink install`` (the dependency closure, unless ``--no-deps`` with no ``-r``)."""
    from siglink.cli._output import print_json, warn
    from siglink.errors import SiglinkError
    from siglink.fleet.install import install_closure, prepare_closure
    from siglink.fleet.outcome import Overlay, outcomes
    from siglink.link.resolve import StoreSource

    store = _store(args)
    step = step_printer()
    options: dict[str, Any] = {
        "requirement_files": args.requirement, "constraint_files": args.constraint,
        "index_url": args.index_url, "no_deps": args.no_deps, "on_step": step,
    }
    if args.dry_run:
        previews = prepare_closure(store, args.specs, **options)
        adds = [{"name": v.name, "version": v.version} for v, _ in previews]
        states = ["present" if _has(store, v.name, v.version) else "new" for v, _ in previews]
        predicted = outcomes(store, source=Overlay(StoreSource(store), previews), record=False)
        if args.json:
            print_json({"install": adds, "impact": [o.to_json() for o in predicted]})
            return 0
        for row, state in zip(adds, states, strict=True):
            say(f"would install {row['name']}=={row['version']} ({state})")
        print_outcomes(predicted, sorted({r["name"] for r, state in zip(adds, states, strict=True)
                                          if state == "new"}))
        return 0
    had = store.installed()
    try:
        try:
            rows = install_closure(store, args.specs, progress=_store_steps(step),
                                   allow_module_conflict=args.allow_module_conflict,
                                   **options)
        except SiglinkError as e:
            if ((len(args.specs) > 1 or args.requirement)
                    and "nothing was installed" not in e.message):
                e.message += "; nothing was installed"  # all or nothing: say which
                e.args = (e.message,)
            raise
        new = sorted({r.name for r in rows if r.status == "installed"})
        relinked = outcomes(store) if new else []
    except KeyboardInterrupt as e:  # the install commits all or nothing: which was it?
        from siglink.cli.main import Interrupted
        from siglink.store import Store

        added = sorted(Store(store.root).installed() - had)
        done = ", ".join(f"{n}=={v}" for n, v in added)
        raise Interrupted(
            f"{done} installed; the applications using it are relinked at their next start"
            if done else "nothing was installed") from e
    warnings = [*(note for r in rows for note in r.notes), *install_warnings(store, rows)]
    if args.json:
        print_json({
            "install": [{"name": r.name, "version": r.version, "status": r.status}
                        | ({} if r.requested else {"dependency": True}) for r in rows],
            "relinked": [o.to_json() for o in relinked],
            "warnings": warnings,
        })
        return 0
    for r in rows:
        dependency = "" if r.requested else " (dependency)"
        if r.status == "installed":
            say(f"installed {r.name}=={r.version}{dependency}")
        else:
            say(f"{r.name}=={r.version} already present{dependency}")
    for message in warnings:
        warn(message)
    print_outcomes(relinked, new)
    return 0


def _has(store: Store, name: str, version: str) -> bool:
    return any(v.version == version and v.source == "store" for v in store.versions(name))


def cmd_update(args: argparse.Namespace) -> int:
    from siglink.cli._output import print_json
    from siglink.fleet.install import install_closure, prepare_closure
    from siglink.fleet.outcome import Overlay, outcomes
    from siglink.fleet.update import survey
    from siglink.link.resolve import StoreSource

    store = _store(args)
    step = step_printer()
    found = survey(store, args.names, index_url=args.index_url, on_step=step)
    head: dict[str, Any] = {
        "checked": list(found.checked),
        "newer": [{"name": n.name, "stored": n.stored, "latest": n.latest}
                  for n in found.newer],
        "current": found.current,
        "not_on_index": found.absent,
    }
    if not found.newer:
        if args.json:
            print_json({**head, "install": [], "relinked": []})
            return 0
        for name, why in sorted(found.absent.items()):
            say(f"{name}: not on the index ({why})")
        if not found.checked:
            say(f"no libraries in {store.root}" if store.exists else f"no store at {store.root}")
        elif len(found.checked) == 1 and found.current:
            [(name, version)] = found.current.items()
            say(f"{name} {version} is the newest release on the index: nothing to update")
        else:
            say(f"all {len(found.current)} libraries are at the newest release on the index: "
                  "nothing to update")
        return 0
    specs = [n.spec for n in found.newer]
    focus = [n.name for n in found.newer]
    if not args.json:
        for name, why in sorted(found.absent.items()):
            say(f"{name}: not on the index ({why})")
        for n in found.newer:
            say(f"{n.name} {n.stored} -> {n.latest}")
    options: dict[str, Any] = {"index_url": args.index_url, "on_step": step}
    if args.dry_run:
        previews = prepare_closure(store, specs, **options)
        adds = [{"name": v.name, "version": v.version} for v, _ in previews
                if not _has(store, v.name, v.version)]
        predicted = outcomes(store, source=Overlay(StoreSource(store), previews), record=False)
        if args.json:
            print_json({**head, "install": adds, "impact": [o.to_json() for o in predicted]})
            return 0
        for row in adds:
            say(f"would install {row['name']}=={row['version']}")
        print_outcomes(predicted, focus)
        return 0
    rows = install_closure(store, specs, progress=_store_steps(step), **options)
    relinked = outcomes(store)
    if args.json:
        print_json({**head, "install": [
            {"name": r.name, "version": r.version, "status": r.status}
            | ({} if r.requested else {"dependency": True}) for r in rows],
            "relinked": [o.to_json() for o in relinked]})
        return 0
    for r in rows:
        if r.status == "installed":
            say(f"installed {r.name}=={r.version}" + ("" if r.requested else " (dependency)"))
    print_outcomes(relinked, focus)
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from siglink.cli._output import error, print_json
    from siglink.errors import BadInputError
    from siglink.fleet.advisory import Advisory, AdvisoryError, load_advisories
    from siglink.fleet.audit import find, yank_reason
    from siglink.fleet.outcome import outcomes

    store = _store(args)
    if not args.advisories and args.no_index:
        raise BadInputError("nothing to audit against: give --advisories PATH, or leave out "
                            "--no-index")
    advisories: list[Advisory] = []
    malformed: list[AdvisoryError] = []
    for path in args.advisories:
        good, bad = load_advisories(path)
        advisories += good
        malformed += bad
    findings = find(store, advisories, index=not args.no_index, index_url=args.index_url,
                    on_step=step_printer())
    for problem in malformed:
        error(problem.message)
    to_yank = [f for f in findings if f.yanked is None]
    yanked: list[tuple[str, str, str]] = []
    relinked: list[AppOutcome] = []
    if args.yank and to_yank and not malformed:
        for f in to_yank:
            reason = yank_reason(f)
            store.yank(f.name, f.version, reason)
            yanked.append((f.name, f.version, reason))
        relinked = outcomes(store)
    if args.json:
        print_json({"advisories": len(advisories), "malformed": [e.message for e in malformed],
                    "affected": [f.to_json() for f in findings],
                    "yanked": [{"name": n, "version": v, "reason": r} for n, v, r in yanked],
                    "relinked": [o.to_json() for o in relinked]})
    else:
        _print_findings(findings, len(advisories), args.no_index, len(malformed))
        if args.yank and to_yank and malformed:
            error(f"nothing yanked: {len(malformed)} advisory record"
                  f"{'s' * (len(malformed) != 1)} could not be read (above); "
                  "fix or remove them and audit again")
        for name, version, reason in yanked:
            say(f"yanked {name}=={version}: {reason}")
        print_outcomes(relinked, sorted({n for n, _, _ in yanked}))
    if malformed:
        return 2
    return 1 if any(f.yanked is None for f in findings) and not yanked else 0


def _print_findings(findings: Sequence[Any], count: int, no_index: bool,
                    malformed: int = 0) -> None:
    from siglink.fleet.audit import Finding

    checked = f"{count} advisor{'y' if count == 1 else 'ies'}" + (
        "" if no_index else " and the index's yanked flags") + (
        f"; {malformed} malformed record{'s' * (malformed != 1)} not checked"
        if malformed else "")
    if not findings:
        say(("no stored version is affected by the records read" if malformed
               else "no stored version is affected") + f" ({checked})")
        return
    for f in findings:
        assert isinstance(f, Finding)
        state = f" (yanked: {f.yanked})" if f.yanked is not None else ""
        say(f"{f.name} {f.version}{state}")
        for a in f.advisories:
            fixed = a.fixed(f.name)
            say(f"  {a.title}" + (f", fixed in {', '.join(fixed)}" if fixed else "")
                  + (f": {a.summary.splitlines()[0]}" if a.summary else ""))
        if f.index_yank is not None:
            say(f"  yanked on the index: {f.index_yank}")
        say("  linked by: " + (", ".join(shown(u) for u in f.users) or "no registered "
                                 "application"))
    say(f"{len(findings)} affected version{'s' * (len(findings) != 1)} ({checked})")


def _source_changed(manifest_path: str) -> str | None:
    """The first of an application's own source files that changed since it was built."""
    import hashlib
    import os

    from siglink._foreign import ForeignFileError, read_foreign
    from siglink.link.app import app_files, module_cwd

    folder = module_cwd(manifest_path) or os.path.dirname(manifest_path)  # -m: files in its cwd
    for path, digest in app_files(manifest_path, folder).items():
        try:  # maybe another user's: no FIFO or planted link is opened
            if hashlib.sha256(read_foreign(path)[0]).hexdigest() != digest:
                return path
        except (OSError, ForeignFileError):
            return path
    return None


def _status(o: AppOutcome) -> tuple[str, str]:
    """``(healthy|refused|stale, why)`` of one application, from a fresh link."""
    registered = None if o.app.refused else {n: v for n, v in o.app.links.items() if v}
    changed = _source_changed(o.app.manifest_path)
    if changed is not None:
        return "stale", f"{changed} changed since it was built (run siglink build)"
    if o.after is None:
        if registered is None:
            return "refused", o.app.refused or o.reason
        return "stale", f"would be refused now: {o.reason}"
    if registered is None:
        return "stale", "would link now: " + ", ".join(
            f"{n} {v}" for n, v in sorted(o.after.items()))
    if registered != o.after:
        moves = [f"{n} {registered.get(n) or '(none)'} -> {o.after.get(n) or '(none)'}"
                 for n in sorted(set(registered) | set(o.after))
                 if registered.get(n) != o.after.get(n)]
        return "stale", "would link " + ", ".join(moves)
    return "healthy", ""


def cmd_apps(args: argparse.Namespace) -> int:
    from siglink.cli._output import print_json, table
    from siglink.fleet.outcome import outcomes

    store = _store(args)
    rows: list[dict[str, Any]] = []
    for o in outcomes(store, record=False):
        status, why = _status(o)
        rows.append({"app": o.app.application, "manifest": o.app.manifest_path,
                     "status": status, "reason": why or None,
                     "links": {n: v for n, v in sorted(o.app.links.items())}})
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        say(f"no registered applications in {store.root}")
        return 0
    table(None, ("APP", "STATUS", "LINKS", "WHY"), [
        (shown(r["app"]), r["status"],
         ", ".join(f"{n} {v or '(none)'}" for n, v in r["links"].items()) or "-",
         r["reason"] or "") for r in rows])
    return 0


def cmd_forget(args: argparse.Namespace) -> int:
    import os

    from siglink.cli._output import print_json, warn
    from siglink.errors import BadInputError, StoreError
    from siglink.link.app import app_manifest_path

    store = _store(args)
    given = os.path.abspath(args.app)
    candidates = [given] if given.endswith(".siglink.json") or os.path.basename(
        given) == "siglink.json" else []
    candidates.append(app_manifest_path(args.app, args.module, str(store.root)))
    registered = {a.app_id: a for a in store.apps()}
    by_manifest = {a.manifest_path: a for a in registered.values()}
    app = next((registered.get(c) or by_manifest.get(c) for c in candidates
                if c in registered or c in by_manifest), None)
    if app is None:
        raise BadInputError(f"{args.app}: not a registered application (siglink apps lists "
                            "them)")
    application = app.application  # before its manifest goes: it tells a -m application
    done = store.forget_app(app.app_id)
    held = [f"{shown(application)} is still registered by {owner} in "
            + ("the store's index" if where == "index" else where)
            + f", which only {owner} can change" for where, owner in done.kept]
    if not done.removed:
        if not held:  # forgotten meanwhile
            raise BadInputError(f"{args.app}: not a registered application")
        raise StoreError("; ".join(held) + "; nothing was forgotten")
    for line in held:
        warn(line)
    removed = None
    area = os.path.join(str(store.root), "apps") + os.sep
    if app.manifest_path.startswith(area) and not done.kept:  # nobody's registration needs it
        try:
            os.unlink(app.manifest_path)
            removed = app.manifest_path
        except OSError:
            pass
    if args.json:
        print_json({"forgotten": application, "manifest": app.manifest_path,
                    "manifest_removed": removed is not None, "removed_from": done.removed,
                    "still_registered": [{"registry": w, "owner": o} for w, o in done.kept]})
        return 0
    say(f"forgot {shown(application)}" + (f" (removed {removed})" if removed else ""))
    return 0


def cmd_gc(args: argparse.Namespace) -> int:
    from siglink.cli._output import print_json, table
    from siglink.errors import StoreError
    from siglink.fleet.gc import in_use, sweep
    from siglink.fleet.outcome import outcomes
    from siglink.store import StoreLockedError

    store = _store(args)
    linked: set[tuple[str, str]] = set()
    for o in outcomes(store, record=not args.dry_run):  # decide on fresh links
        linked |= {(n, v) for n, v in (o.after or {}).items() if v}
    for app, _ in store.registrations():  # and on every user's registrations, as registered
        linked |= {(n, v) for n, v in app.links.items() if v}
    verdicts = sweep(store, linked)
    removed: list[tuple[str, str]] = []
    kept_late: dict[tuple[str, str], str] = {}
    if not args.dry_run:
        for v in verdicts:
            if not v.removable:
                continue
            path = store.get(v.name, v.version).path
            busy = in_use([path])
            if busy:
                kept_late[(v.name, v.version)] = f"in use by process {busy[str(path)]}"
                continue
            try:
                store.remove(v.name, v.version)
            except StoreLockedError:
                raise  # not this version's verdict: nothing can be removed now
            except StoreError as e:
                kept_late[(v.name, v.version)] = e.message
                continue
            removed.append((v.name, v.version))
    rows: list[dict[str, Any]] = []
    for v in verdicts:
        key = (v.name, v.version)
        why = kept_late.get(key, v.why)
        state = "keep" if why else ("would remove" if args.dry_run else "removed")
        rows.append({"name": v.name, "version": v.version, "action": state, "why": why or None})
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        say(f"no libraries in {store.root}" if store.exists else f"no store at {store.root}")
        return 0
    table(None, ("NAME", "VERSION", "ACTION", "WHY"),
          [(r["name"], r["version"], r["action"], r["why"] or "") for r in rows])
    gone = sum(r["action"] != "keep" for r in rows)
    say(f"{gone} version{'s' * (gone != 1)} {'would be ' if args.dry_run else ''}removed, "
          f"{len(rows) - gone} kept")
    return 0


def cmd_sbom(args: argparse.Namespace) -> int:
    import os

    from siglink.errors import BadInputError
    from siglink.fleet.sbom import sbom
    from siglink.link.app import Application
    from siglink.link.plan import compute, effective_policy, load_app_manifest
    from siglink.store import app_display

    store = _store(args)
    app = Application.resolve(args.app, args.module, str(store.root))
    manifest, path = load_app_manifest(app), app.manifest_path
    plan = compute(store, manifest, manifest_path=path, policy=effective_policy(path))
    shown = app_display(path)
    name = args.app if args.module else os.path.basename(shown.rstrip(os.sep)) or shown
    text = sbom(store, plan, app_name=name)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as f:
                f.write(text + "\n")
        except OSError as e:
            raise BadInputError(f"{args.output}: cannot be written: {e.strerror}",
                                path=args.output) from e
        say(f"wrote {args.output}: {len(plan.links)} linked librar"
              + ("y" if len(plan.links) == 1 else "ies"), file=sys.stderr)
        return 0
    sys.stdout.write(text + "\n")
    return 0
