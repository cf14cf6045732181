"""Store commands: ``install``, ``list``, ``show``, ``remove``, ``yank``, ``unyank``,
``who-uses``."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from siglink.cli.main import store_option
from siglink.errors import BadInputError

if TYPE_CHECKING:
    from siglink.store import Store

__all__ = ["register"]

_INSTALL = """\
examples:
  siglink install textkit-1.0.1-py3-none-any.whl    a wheel file
  siglink install 'werkzeug==3.0.1'                 fetched from the package index
  siglink install ./mylib/                          a project directory, built into a wheel
  siglink install 'markupsafe==2.0.1' --index-url https://pypi.example.org/simple
  siglink install textkit-1.0.1-py3-none-any.whl --dry-run
                                   which registered applications would move, stay or stop

Versions sit side by side; installing NAME==VERSION again is a no-op ("already present").
Every wheel is checked (RECORD hashes, paths, platform tags) before anything is written.
"""

_LIST = """\
examples:
  siglink list
  siglink list --json | jq '.[].name'
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
"""

_UNYANK = """\
examples:
  siglink unyank textkit==1.0.0
"""

_WHO_USES = """\
examples:
  siglink who-uses textkit               every registered application linking textkit
  siglink who-uses textkit==1.0.0 --json
"""


def register(sub: Any) -> None:
    """Add the store subcommands to ``sub`` (an argparse subparsers action)."""

    def add(name: str, help_text: str, epilog: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = sub.add_parser(
            name, help=help_text, description=help_text, epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        store_option(parser)
        return parser

    p = add("install", "add library versions to the store", _INSTALL)
    p.add_argument("specs", nargs="+", metavar="SPEC",
                   help="a wheel, an sdist, a project directory or NAME==VERSION")
    p.add_argument("--index-url", metavar="URL", help="the package index to fetch from")
    p.add_argument("--dry-run", action="store_true",
                   help="write nothing; show which applications would move, stay or stop")
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


def _store(args: argparse.Namespace) -> Store:
    from siglink.store import Store

    return Store(getattr(args, "store", None))


def _split(target: str, *, pinned: bool) -> tuple[str, str | None]:
    """``NAME==VERSION`` → ``(name, version)``; ``NAME`` alone when not ``pinned``."""
    from packaging.utils import canonicalize_name

    name, sep, version = target.partition("==")
    name, version = name.strip(), version.strip()
    if not name or (sep and not version) or (pinned and not sep) or any(
        c in name for c in "<>=!~ ;[]@"
    ):
        expected = "NAME==VERSION" if pinned else "NAME or NAME==VERSION"
        raise BadInputError(f"{target}: expected {expected}")
    return canonicalize_name(name), (version if sep else None)


def _print_impact(store: Store, impacts: list[Any], *, as_json: bool, head: Any) -> None:
    from siglink.cli._output import print_json, table

    rows = [
        {
            "app": i.app_id,
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
        print(f"no registered applications in {store.root}")
        return
    table(None, ("APP", "STATUS", "REASON"), [(r["app"], r["status"], r["reason"]) for r in rows])


def _predict(store: Store, **kwargs: Any) -> list[Any]:
    from importlib import import_module

    predict = import_module("siglink.link.impact").predict
    return list(predict(store, **kwargs))


def cmd_install(args: argparse.Namespace) -> int:
    from siglink.cli._output import print_json

    store = _store(args)
    if args.dry_run:
        previews = store.preview(args.specs, index_url=args.index_url)
        adds = [{"name": v.name, "version": v.version} for v, _ in previews]
        if not args.json:
            for v, _ in previews:
                state = "present" if _has(store, v.name, v.version) else "new"
                print(f"would install {v.name}=={v.version} ({state})")
        impacts = _predict(store, add=previews)
        _print_impact(store, impacts, as_json=args.json, head={"install": adds})
        return 0
    progress = not args.json and sys.stderr.isatty()
    results = store.install(args.specs, index_url=args.index_url, progress=progress)
    if args.json:
        print_json([{"name": r.name, "version": r.version, "status": r.status}
                    for r in results])
        return 0
    for r in results:
        if r.status == "installed":
            print(f"installed {r.name}=={r.version}")
        else:
            print(f"{r.name}=={r.version} already present")
    return 0


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
        print(f"no libraries in {store.root}")
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
            raise NotInStoreError(name)
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
        ("used by", ", ".join(app.app_id for app, _ in users) or "-"),
    ]
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        print(f"{key + ':':<{width + 1}} {value}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    name, version = _split(args.target, pinned=True)
    assert version is not None
    store = _store(args)
    unlinked = store.remove(name, version, force=args.force)
    outcomes = []
    if unlinked:  # the applications that linked it: what do they link now?
        from siglink.link.plan import relink

        outcomes = relink(store, unlinked)
    if args.json:
        from siglink.cli._output import print_json

        print_json({"removed": {"name": name, "version": version}, "relinked": [
            {"app": app_id, "links": links, "reason": why or None}
            for app_id, links, why in outcomes]})
        return 0
    print(f"removed {name}=={version}")
    for app_id, links, why in outcomes:
        if links is None:
            print(f"  {app_id} linked it and cannot be linked now: {why}")
        else:
            now = ", ".join(f"{n} {v}" for n, v in sorted(links.items())) or "nothing"
            print(f"  {app_id} linked it and now links {now}")
    return 0


def cmd_yank(args: argparse.Namespace) -> int:
    name, version = _split(args.target, pinned=True)
    assert version is not None
    store = _store(args)
    if args.dry_run:
        stored = store.get(name, version)
        impacts = _predict(store, yank=[(name, version)], reason=args.reason)
        _print_impact(store, impacts, as_json=args.json, head={
            "yank": {"name": stored.name, "version": stored.version, "reason": args.reason}})
        return 0
    store.yank(name, version, args.reason)
    if args.json:
        from siglink.cli._output import print_json

        print_json({"yanked": {"name": name, "version": version, "reason": args.reason}})
        return 0
    print(f"yanked {name}=={version}: {args.reason}")
    return 0


def cmd_unyank(args: argparse.Namespace) -> int:
    name, version = _split(args.target, pinned=True)
    assert version is not None
    _store(args).unyank(name, version)
    if args.json:
        from siglink.cli._output import print_json

        print_json({"unyanked": {"name": name, "version": version}})
        return 0
    print(f"unyanked {name}=={version}")
    return 0


def cmd_who_uses(args: argparse.Namespace) -> int:
    from siglink.cli._output import print_json, table

    name, version = _split(args.target, pinned=False)
    users = _store(args).users(name, version)
    if args.json:
        print_json([
            {"app": app.app_id, "manifest": app.manifest_path, "version": linked,
             "status": "linked" if linked is not None else "refused",
             "reason": None if linked is not None else app.refused}
            for app, linked in users
        ])
        return 0
    what = name if version is None else f"{name}=={version}"
    if not users:
        print(f"no registered application links {what}")
        return 0
    # The columns a reader needs: the manifest only where it is not the app id itself, the
    # note only when some application links no version now (why).
    columns = ["APP", "VERSION"]
    show_manifest = any(app.manifest_path != app.app_id for app, _ in users)
    show_note = any(linked is None for _, linked in users)
    columns += ["MANIFEST"] * show_manifest + ["WHY"] * show_note
    rows = []
    for app, linked in users:
        row = [app.app_id, linked or "none (refused)"]
        row += [app.manifest_path] * show_manifest
        row += [app.refused or "" if linked is None else ""] * show_note
        rows.append(row)
    table(None, columns, rows)
    return 0
