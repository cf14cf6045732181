"""Store commands: ``install``, ``list``, ``show``, ``remove``, ``yank``, ``unyank``,
``who-uses``, ``store repair``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from siglink.cli._install_notes import install_warnings, shown
from siglink.cli._output import say
from siglink.cli.main import add_subcommand, store_option
from siglink.errors import BadInputError, SiglinkError

if TYPE_CHECKING:
    from siglink.store import RegisteredApp, Store, StoredVersion

__all__ = ["register"]

_INSTALL = """\
examples:
  siglink install textkit-1.0.1-py3-none-any.whl    a wheel file
  siglink install 'werkzeug==3.0.1'                 fetched from the package index
  siglink install ./mylib/                          a project directory, built into a wheel
  siglink install 'markupsafe==2.0.1' --index-url https://pypi.example.org/simple
  siglink install textkit-1.0.1-py3-none-any.whl --dry-run
                                   which registered applications would move, stay or stop

  siglink install 'requests[socks]==2.31.0'        with its dependencies, as pip resolves them
  siglink install -r requirements.txt -c constraints.txt
  siglink install 'werkzeug==3.0.1' --no-deps      that version alone

Dependencies are resolved by pip's own resolver against the configured index (pip's config,
--index-url); versions the store already has are kept, the others fetched, built when only an
sdist exists, and installed side by side with what is stored. Long steps print one line each
on stderr. A failed build shows the compiler's or build backend's error lines.
Versions sit side by side; installing NAME==VERSION again is a no-op ("already present").
A top-level module belongs to one distribution: a wheel shipping a module another distribution
provides is refused (exit 3) unless --allow-module-conflict. Modules of the standard library
(a backport such as argparse 1.4.0) are installed but never served (a note says so).
Every wheel is checked (RECORD hashes, paths, platform tags) before anything is written; one
refused spec installs nothing. The registered applications linking an installed library are
then linked again, and each one's outcome is printed: moved, stays (and why, when a newer
version of an installed library is not linked), or still refused (and why).
exit codes: 0 installed (or already present); 2 bad input (a malformed requirement or
            requirements file, a refused wheel); 3 store error; 4 the index cannot provide a
            requirement, cannot be reached, the requirements conflict, or a build failed
"""

_LIST = """\
examples:
  siglink list
  siglink list --json | jq '.[].name'

A store that does not exist lists as empty ("no store at DIR", exit 0); nothing is created.
"""

_SHOW = """\
examples:
  siglink show textkit                 the versions in the store
  siglink show textkit==1.0.1          one version's metadata and export summary
  siglink show textkit==1.0.1 --json
"""

_REMOVE = """\
examples:
  siglink remove textkit==1.0.0
  siglink remove textkit==1.0.0 --force    even while a registered application links it
"""

_YANK = """\
examples:
  siglink yank textkit==1.0.0 --reason 'CVE-2024-0001: path traversal'
  siglink yank textkit==1.0.0 --reason test --dry-run    who would move or stop

After the yank, the registered applications linking textkit are linked again and each one's
outcome is printed ("report: 1.0.0 -> 1.0.1", "tagger: stays on 2.0.0", "... -> refused").
"""

_UNYANK = """\
examples:
  siglink unyank textkit==1.0.0

The registered applications linking textkit are linked again, as after a yank.
"""

_WHO_USES = """\
examples:
  siglink who-uses textkit               every registered application linking textkit
  siglink who-uses textkit==1.0.0 --json

Applications are registered when built, planned or run cold, and linked again by every
install, remove, yank and unyank that concerns them. A library not in the store is bad input
(exit 2); one in the store that no application links prints so (exit 0).
"""

_VERIFY = """\
examples:
  siglink verify                       every version in the store
  siglink verify textkit==1.0.1 idna   one version, every version of idna
  siglink verify --json

Every file of every version was hashed (sha256) at install, the byte-compiled .pyc included.
Exit 0 when every file is as installed; 1 naming each file changed, missing or extra (or a
version installed by an older siglink, which recorded no hashes). A path with no store has
nothing to verify (exit 0, saying so); a version named there is not in the store (exit 2).
"""

_STORE = """\
examples:
  siglink store repair              rebuild a missing, empty or damaged index from libs/
"""

_REPAIR = """\
Rebuild the store's index from libs/: the damaged index is moved aside
(index.sqlite.damaged-TIME), every libs/NAME/VERSION/ is adopted with the manifest written at
install (its dist-info's siglink.json), yanks come back from the old index or yanks.json, and
registrations from the old index when it can be read. What could not be restored is printed;
a version that cannot be adopted is left in place. Exit 0 when everything was adopted, 1 when
something was reported, 2 when there is no store at that path (nothing is created).
"""


def register(sub: Any) -> None:
    """Add the store subcommands to ``sub`` (an argparse subparsers action).

    >>> parser = argparse.ArgumentParser(prog="siglink")
    >>> register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["yank", "attrs==23.1.0", "--reason", "broken wheel"])
    >>> args.func.__name__, args.target, args.reason
    ('cmd_yank', 'attrs==23.1.0', 'broken wheel')
    """

    def add(name: str, help_text: str, epilog: str) -> argparse.ArgumentParser:
        return add_subcommand(sub, name, help_text, epilog)

    p = add("install", "add library versions to the store", _INSTALL)
    p.add_argument("specs", nargs="*", metavar="SPEC",
                   help="a wheel, an sdist, a project directory or NAME==VERSION")
    p.add_argument("--index-url", metavar="URL", help="the package index to fetch from")
    p.add_argument("-r", "--requirement", metavar="FILE", action="append", default=[],
                   help="install from this requirements file (as pip reads it)")
    p.add_argument("-c", "--constraint", metavar="FILE", action="append", default=[],
                   help="constrain versions with this constraints file (as pip reads it)")
    p.add_argument("--no-deps", action="store_true",
                   help="install only what is given, not its dependencies")
    p.add_argument("--dry-run", action="store_true",
                   help="write nothing; show which applications would move, stay or stop")
    p.add_argument("--allow-module-conflict", action="store_true",
                   help="install even when another distribution provides one of its top-level "
                        "modules (the linker then picks one and says which)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_install)

    p = add("list", "list the libraries in the store", _LIST)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_list)

    p = add("show", "show a library's versions, or one version's details", _SHOW)
    p.add_argument("target", metavar="NAME[==VERSION]")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_show)

    p = add("remove", "remove one version from the store", _REMOVE)
    p.add_argument("target", metavar="NAME==VERSION")
    p.add_argument("--force", action="store_true",
                   help="remove even while registered applications link it")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_remove)

    p = add("yank", "mark a version as never to be linked again", _YANK)
    p.add_argument("target", metavar="NAME==VERSION")
    p.add_argument("--reason", metavar="TEXT", required=True, help="why (shown to users)")
    p.add_argument("--dry-run", action="store_true",
                   help="write nothing; show which applications would move, stay or stop")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_yank)

    p = add("unyank", "make a yanked version linkable again", _UNYANK)
    p.add_argument("target", metavar="NAME==VERSION")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_unyank)

    p = add("who-uses", "registered applications linking a library", _WHO_USES)
    p.add_argument("target", metavar="NAME[==VERSION]")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_who_uses)

    p = add("verify", "check every stored file against the hashes recorded at install",
            _VERIFY)
    p.add_argument("targets", nargs="*", metavar="NAME[==VERSION]",
                   help="the versions to check (default: every version)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_verify)

    p = add("store", "look after the store itself", _STORE)
    actions = p.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    repair: argparse.ArgumentParser = actions.add_parser(
        "repair", help="rebuild the index from libs/", description=_REPAIR,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    store_option(repair)
    repair.add_argument("--json", action="store_true", help="machine-readable output")
    repair.set_defaults(func=cmd_store_repair)


def _store(args: argparse.Namespace) -> Store:
    from siglink.cli._output import warn
    from siglink.store import Store

    return Store(getattr(args, "store", None), on_wait=warn)


def _split(target: str, *, pinned: bool) -> tuple[str, str | None]:
    """``NAME==VERSION`` → ``(name, version)``; ``NAME`` alone when not ``pinned``.

    >>> _split("Zope.Interface==6.1", pinned=True), _split("attrs", pinned=False)
    (('zope-interface', '6.1'), ('attrs', None))
    >>> _split("attrs>=23", pinned=False)
    Traceback (most recent call last):
    siglink.errors.BadInputError: attrs>=23: expected NAME or NAME==VERSION
    """
    from packaging.utils import canonicalize_name

    name, sep, version = target.partition("==")
    name, version = name.strip(), version.strip()
    if not name or (sep and not version) or (pinned and not sep) or any(
        c in name for c in "<>=!~ ;[]@"
    ):
        expected = "NAME==VERSION" if pinned else "NAME or NAME==VERSION"
        raise BadInputError(f"{target}: expected {expected}")
    return canonicalize_name(name), (version if sep else None)


def _pinned(args: argparse.Namespace) -> tuple[Store, StoredVersion]:
    """The store and the version ``args.target`` (``NAME==VERSION``) names in it."""
    name, version = _split(args.target, pinned=True)
    assert version is not None
    store = _store(args)
    return store, store.get(name, version)


def _print_impact(store: Store, impacts: list[Any], *, as_json: bool, head: Any) -> None:
    from siglink.cli._output import print_json, table
    from siglink.store import app_display

    manifests = {app.app_id: app.manifest_path for app in store.apps()}
    rows = [
        {
            "app": app_display(manifests.get(i.app_id, i.app_id)),
            "manifest": manifests.get(i.app_id, i.app_id),
            "status": i.status,
            "before": i.before,
            "after": i.after,
            "reason": i.reason,
        }
        for i in impacts
    ]
    if as_json:
        print_json({**head, "impact": rows})
        return
    if not rows:
        say(f"no registered applications in {store.root}")
        return
    table(None, ("APP", "STATUS", "REASON"),
          [(shown(r["app"]), r["status"], r["reason"]) for r in rows])


def _predict(store: Store, **kwargs: Any) -> list[Any]:
    from importlib import import_module

    predict = import_module("siglink.link.impact").predict
    return list(predict(store, **kwargs))


def _linking(store: Store, names: Iterable[str]) -> list[RegisteredApp]:
    """The registered applications a change to ``names`` may affect: those whose registration
    names one of them. A registration lists every library of the application's last link,
    transitively (or, when it was refused, every library it needs), so this is every
    application whose manifest imports one of ``names``, directly or through a library."""
    wanted = set(names)
    return [app for app in store.apps() if wanted & set(app.links)]


def _relink(store: Store, apps: Sequence[RegisteredApp]) -> list[dict[str, Any]]:
    """Link ``apps`` again and record what each links now (who-uses tells it from then on);
    one row per application: ``app``, ``manifest``, ``status`` (``move``, ``stay`` or
    ``stop``, as a dry run says), ``before``, ``after`` (``{library: version}``, ``None`` when
    refused) and ``reason`` (why it is refused now)."""
    if not apps:
        return []
    from siglink.cli._output import warn
    from siglink.link.plan import relink

    try:
        outcomes = relink(store, [app.app_id for app in apps])
    except SiglinkError as e:  # the change is committed: say so, and that the links are stale
        warn(f"the registered applications were not relinked: {e.message}")
        return []
    registered = {app.app_id: app for app in apps}
    rows = []
    for impact in outcomes:
        app = registered[impact.app_id]
        # before: as registered before the change (a removal marks its users refused)
        before = None if app.refused is not None else {
            n: v for n, v in app.links.items() if v is not None}
        after = impact.after
        if after is None:
            status = "stay" if before is None else "stop"
        else:
            status = "stay" if before == after else "move"
        why = (impact.reason or "refused").removeprefix("still cannot link: ")
        rows.append({
            "app": app.application, "manifest": app.manifest_path, "status": status,
            "before": before, "after": after, "reason": why if after is None else None,
        })
    return rows


def _print_relinked(rows: Sequence[dict[str, Any]], focus: Sequence[str]) -> None:
    """One line per application: ``APP: 1.0.0 -> 1.0.1``, ``APP: stays on 2.0.0``,
    ``APP: 1.0.1 -> refused (WHY)``, naming the libraries only when ``focus`` has several."""
    def label(versions: dict[str, Any], names: Sequence[str]) -> str:
        if len(focus) == 1:
            return str(versions.get(focus[0]) or "(none)")
        return ", ".join(f"{n} {versions.get(n) or '(none)'}" for n in names)

    for row in rows:
        before, after = row["before"], row["after"]
        names = [n for n in focus if n in (before or {}) or n in (after or {})] or list(focus)
        if after is None:
            was = "still refused" if before is None else f"{label(before, names)} -> refused"
            say(f"  {shown(row['app'])}: {was} ({row['reason']})")
            continue
        now = label(after, names)
        if before is None:
            text = f"refused -> {now}"
        elif all(before.get(n) == after.get(n) for n in names):
            text = f"stays on {now}"
        else:
            text = f"{label(before, names)} -> {now}"
        also = [f"{n} {before.get(n) or '(none)'} -> {after.get(n) or '(none)'}"
                for n in sorted(set(before or {}) | set(after))
                if n not in names and before is not None and before.get(n) != after.get(n)]
        say(f"  {shown(row['app'])}: {text}" + (f" (also {', '.join(also)})" if also else ""))


def cmd_install(args: argparse.Namespace) -> int:
    from siglink.cli._output import print_json

    if not args.no_deps or args.requirement or args.constraint:
        from siglink.cli.fleet import install_with_dependencies

        return install_with_dependencies(args)
    store = _store(args)
    if args.dry_run:
        previews = store.preview(args.specs, index_url=args.index_url)
        adds = [{"name": v.name, "version": v.version} for v, _ in previews]
        if not args.json:
            for v, _ in previews:
                state = "present" if _has(store, v.name, v.version) else "new"
                say(f"would install {v.name}=={v.version} ({state})")
        impacts = _predict(store, add=previews)
        _print_impact(store, impacts, as_json=args.json, head={"install": adds})
        return 0
    had = store.installed()
    # A bar only for what takes seconds (fetching, building); a local wheel takes less time
    # than the bar would flicker on the screen.
    slow = any(not (spec.endswith(".whl") and os.path.isfile(spec)) for spec in args.specs)
    try:
        try:
            with _ProgressBar(not args.json and slow and sys.stderr.isatty()) as bar:
                results = store.install(args.specs, index_url=args.index_url,
                                        progress=bar.callback,
                                        allow_module_conflict=args.allow_module_conflict)
        except SiglinkError as e:
            if len(args.specs) > 1 and "nothing was installed" not in e.message:
                e.message += "; nothing was installed"  # all or nothing: say which
                e.args = (e.message,)
            raise
        new = sorted({r.name for r in results if r.status == "installed"})
        relinked = _relink(store, _linking(store, new)) if new else []
    except KeyboardInterrupt as e:  # the install commits all or nothing: which was it?
        from siglink.cli.main import Interrupted
        from siglink.store import Store

        added = sorted(Store(store.root).installed() - had)
        done = ", ".join(f"{n}=={v}" for n, v in added)
        raise Interrupted(
            f"{done} installed; the applications using it are relinked at their next start"
            if done else "nothing was installed") from e
    warnings = [*(note for r in results for note in r.notes),
                *install_warnings(store, results)]
    if args.json:
        print_json({
            "install": [{"name": r.name, "version": r.version, "status": r.status}
                        for r in results],
            "relinked": relinked,
            "warnings": warnings,
        })
        return 0
    from siglink.cli._output import warn

    for r in results:
        if r.status == "installed":
            say(f"installed {r.name}=={r.version}")
        else:
            say(f"{r.name}=={r.version} already present")
    for message in warnings:
        warn(message)
    _print_relinked(relinked, new)
    return 0


class _ProgressBar:
    """A rich progress bar on stderr for a long store operation (``enabled``), else nothing;
    :attr:`callback` is what the store calls once per step."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> _ProgressBar:
        return self

    @property
    def callback(self) -> Any:
        return self._step if self.enabled else None

    def _step(self, description: str, done: int, total: int) -> None:
        if self._progress is None:
            from rich.progress import BarColumn, Progress, TextColumn

            from siglink.cli._output import console

            self._progress = Progress(
                TextColumn("{task.description}"), BarColumn(), console=console(stderr=True),
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("installing", total=total)
        self._progress.update(self._task, completed=done, description=description)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()


def _has(store: Store, name: str, version: str) -> bool:
    return any(v.version == version and v.source == "store" for v in store.versions(name))


def _version_label(version: Any) -> str:
    return f"{version.version} (yanked)" if version.yanked is not None else version.version


def cmd_list(args: argparse.Namespace) -> int:
    from siglink.cli._output import print_json, table

    store = _store(args)
    entries = [(name, store.versions(name)) for name in store.names()]
    if args.json:
        print_json([
            {"name": name, "versions": [
                {"version": v.version, "yanked": v.yanked, "source": v.source} for v in versions
            ]}
            for name, versions in entries
        ])
        return 0
    if not entries:
        # A store that does not exist is an empty one (a fresh machine has none): exit 0, but
        # say so, for a mistyped --store; nothing is created.
        say(f"no store at {store.root}" if not store.exists else f"no libraries in {store.root}")
        return 0
    table(None, ("NAME", "VERSIONS"),
          [(name, ", ".join(_version_label(v) for v in versions)) for name, versions in entries])
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from siglink.cli._output import print_json, table
    from siglink.store import NotInStoreError

    store = _store(args)
    name, version = _split(args.target, pinned=False)
    if version is None:
        versions = store.versions(name)
        if not versions:
            raise NotInStoreError(name, hint=store.where)
        users = store.users(name)
        rows: list[dict[str, Any]] = [
            {
                "version": v.version,
                "yanked": v.yanked,
                "requires_python": v.requires_python,
                "source": v.source,
                "path": str(v.path),
                "used_by": sorted(app.app_id for app, linked in users if linked == v.version),
            }
            for v in versions
        ]
        if args.json:
            print_json({"name": name, "versions": rows})
            return 0
        table(
            name,
            ("VERSION", "REQUIRES-PYTHON", "YANKED", "USED BY"),
            [(r["version"], r["requires_python"] or "", r["yanked"] or "",
              str(len(r["used_by"]))) for r in rows],
        )
        return 0
    stored = store.get(name, version)
    users = store.users(name, stored.version)
    counts = store.export_counts(name, version)
    manifest = store.manifest(name, version)
    data = {
        "name": stored.name,
        "version": stored.version,
        "source": stored.source,
        "path": str(stored.path),
        "dist_info": str(stored.dist_info),
        "top_level": list(stored.top_level),
        "requires": list(stored.requires),
        "requires_python": stored.requires_python,
        "yanked": stored.yanked,
        "exports": dict(sorted(counts.items())),
        "export_paths": sorted(manifest.exports),
        "imports": sorted(manifest.imports),
        "used_by": [app.app_id for app, _ in users],
    }
    if args.json:
        print_json(data)
        return 0
    total = sum(counts.values())
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    lines = [
        ("name", stored.name),
        ("version", stored.version + ("" if stored.source == "store" else f" ({stored.source})")),
        ("path", str(stored.path)),
        ("top-level", ", ".join(stored.top_level) or "-"),
        ("requires", ", ".join(stored.requires) or "-"),
        ("requires-python", stored.requires_python or "-"),
        ("yanked", stored.yanked or "no"),
        ("exports", f"{total}" + (f" ({summary})" if summary else "")),
        ("imports", ", ".join(sorted(manifest.imports)) or "-"),
        ("used by", ", ".join(shown(app.application) for app, _ in users) or "-"),
    ]
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        say(f"{key + ':':<{width + 1}} {value}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from siglink.cli._output import print_json, warn

    store, stored = _pinned(args)
    if not args.force:
        # Decide on fresh links: a registration may predate a change to the store or to the
        # application (relinking writes only what changed).
        _relink(store, [app for app, _ in store.users(stored.name, stored.version)])
    registered = {app.app_id: app for app in store.apps()}
    left: list[str] = []
    unlinked = store.remove(stored.name, stored.version, force=args.force, on_left=left.append)
    # The applications that linked it: what do they link now?
    relinked = _relink(store, [registered[i] for i in unlinked if i in registered])
    for message in left:  # committed, but its files are left behind: a store failure
        warn(message)
    if args.json:
        print_json({"removed": {"name": stored.name, "version": stored.version},
                    "relinked": relinked, "left": left})
        return 3 if left else 0
    say(f"removed {stored.name}=={stored.version}")
    _print_relinked(relinked, [stored.name])
    return 3 if left else 0


def cmd_yank(args: argparse.Namespace) -> int:
    from siglink._text import check_text
    from siglink.cli._output import print_json

    check_text(args.reason, "--reason")  # before --dry-run too (Store.yank checks it again)
    store, stored = _pinned(args)
    if args.dry_run:
        impacts = _predict(store, yank=[(stored.name, stored.version)], reason=args.reason)
        _print_impact(store, impacts, as_json=args.json, head={
            "yank": {"name": stored.name, "version": stored.version, "reason": args.reason}})
        return 0
    before = store.yank(stored.name, stored.version, args.reason)
    changed = before != args.reason
    relinked = _relink(store, _linking(store, [stored.name])) if changed else []
    if args.json:
        print_json({"yanked": {"name": stored.name, "version": stored.version,
                               "reason": args.reason, "was_yanked": before},
                    "relinked": relinked})
        return 0
    what = f"{stored.name}=={stored.version}"
    if before is None:
        say(f"yanked {what}: {args.reason}")
    elif changed:
        say(f"{what} was already yanked ({before}); reason updated: {args.reason}")
    else:
        say(f"{what} was already yanked ({before}); nothing changed")
    _print_relinked(relinked, [stored.name])
    return 0


def cmd_unyank(args: argparse.Namespace) -> int:
    from siglink.cli._output import print_json

    store, stored = _pinned(args)
    before = store.unyank(stored.name, stored.version)
    relinked = _relink(store, _linking(store, [stored.name])) if before is not None else []
    if args.json:
        print_json({"unyanked": {"name": stored.name, "version": stored.version,
                                 "was_yanked": before},
                    "relinked": relinked})
        return 0
    what = f"{stored.name}=={stored.version}"
    if before is None:
        say(f"{what} is not yanked; nothing changed")
        return 0
    say(f"unyanked {what} (was yanked: {before})")
    _print_relinked(relinked, [stored.name])
    return 0


def cmd_who_uses(args: argparse.Namespace) -> int:
    from siglink.cli._output import print_json, table
    from siglink.store import NotInStoreError

    name, version = _split(args.target, pinned=False)
    store = _store(args)
    if version is not None:
        version = store.get(name, version).version  # not in the store: bad input, exit 2
    users = store.users(name, version)
    if not users and not store.versions(name):
        raise NotInStoreError(name, hint=store.where)
    if args.json:
        print_json([
            {"app": app.application, "manifest": app.manifest_path, "version": linked,
             "status": "linked" if linked is not None else "refused",
             "reason": None if linked is not None else app.refused}
            for app, linked in users
        ])
        return 0
    what = name if version is None else f"{name}=={version}"
    if not users:
        say(f"no registered application links {what}")
        return 0
    show_note = any(linked is None for _, linked in users)  # why some link no version now
    columns = ["APP", "VERSION"] + ["WHY"] * show_note
    rows = []
    for app, linked in users:
        row = [shown(app.application), linked or "none (refused)"]
        row += [app.refused or "" if linked is None else ""] * show_note
        rows.append(row)
    table(None, columns, rows)
    return 0


def cmd_store_repair(args: argparse.Namespace) -> int:
    from siglink.cli._output import print_json

    store = _store(args)
    report = store.repair()
    if args.json:
        print_json({"versions": report.versions, "yanks": report.yanks, "apps": report.apps,
                    "problems": report.problems, "damaged_index": report.damaged,
                    "recompiled": report.recompiled, "deleted": report.deleted})
    else:
        if report.damaged:
            say(f"moved the old index to {report.damaged}")
        say(f"adopted {len(report.versions)} version{'s' * (len(report.versions) != 1)}"
              + (f": {', '.join(report.versions)}" if report.versions else ""))
        if report.yanks:
            say(f"restored {len(report.yanks)} yank{'s' * (len(report.yanks) != 1)}: "
                  + ", ".join(report.yanks))
        say(f"restored {report.apps} registered application{'s' * (report.apps != 1)}")
        for compiled in report.recompiled:
            say(f"compiled again from its proven source: {compiled}")
        for compiled in report.deleted:
            say(f"deleted bytecode that no proven source compiles to: {compiled}")
        for problem in report.problems:
            say(f"not restored: {problem}")
    return 1 if any(p for p in report.problems if "registers again" not in p) else 0


def cmd_verify(args: argparse.Namespace) -> int:
    from siglink.cli._output import print_json

    store = _store(args)
    targets = [_split(t, pinned=False) for t in args.targets]
    findings = store.verify(targets)
    if args.json:
        print_json({"intact": not findings, "findings": [
            {"name": f.name, "version": f.version, "kind": f.kind, "path": f.path}
            for f in findings]})
        return 1 if findings else 0
    for finding in findings:
        say(str(finding))
    if not findings and not store.exists:
        say(f"no store at {store.root}: nothing to verify")
    elif not findings:
        count = len(store.installed()) if not targets else len(targets)
        say(f"intact: {count} version{'s' * (count != 1)} as installed")
    return 1 if findings else 0
