"""``siglink bundle``, ``inspect`` and ``relink``: one self-contained file per application."""

from __future__ import annotations

import argparse

from siglink.cli.main import store_option
from siglink.errors import BadInputError

__all__ = ["register"]

_BUNDLE_EPILOG = """\
examples:
  siglink bundle app.py -o app.pyz            then: python3 app.pyz ARGS, or ./app.pyz ARGS
  siglink bundle --prune app.py -o app.pyz    only the modules app.py can import
  siglink bundle -m mypkg.tool -o tool.pyz --python-version 3.12

The link is exactly `siglink run`'s: a refused link refuses the bundle (exit 127, same
explanation). The bundle runs on a machine with Python and nothing else; it holds the plan
and every manifest, so `siglink inspect` tells what is inside without running it.
exit codes: 0 written, 2 bad input, 127 link refused
"""

_INSPECT_EPILOG = """\
examples:
  siglink inspect app.pyz
  siglink inspect app.pyz --json | jq '.libs[] | [.name, .version]'

exit codes: 0 intact, 1 a member was changed after the bundle was built, 2 not a bundle
"""

_RELINK_EPILOG = """\
examples:
  siglink relink app.pyz --dry-run            which libraries a fix in the store would move
  siglink relink app.pyz -o app-fixed.pyz

The application's recorded imports travel inside the bundle: no sources are needed.
exit codes: 0 done (or nothing to move), 2 bad input or a modified bundle, 127 link refused
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``bundle``, ``inspect`` and ``relink`` to ``sub`` (an argparse subparsers action).

    >>> parser = argparse.ArgumentParser(prog="siglink")
    >>> register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["bundle", "app.py", "-o", "app.pyz", "--prune"])
    >>> args.func.__name__, args.app, args.output, args.prune
    ('cmd_bundle', 'app.py', 'app.pyz', True)
    """
    fmt = argparse.RawDescriptionHelpFormatter
    bundle = sub.add_parser("bundle", help="one self-contained file: the app and its linked "
                            "versions", description=__doc__, epilog=_BUNDLE_EPILOG,
                            formatter_class=fmt)
    store_option(bundle)
    bundle.add_argument("-o", "--output", required=True, metavar="FILE",
                        help="the bundle to write (e.g. app.pyz)")
    bundle.add_argument("--prune", action="store_true",
                        help="keep only the modules the application's imports reach")
    bundle.add_argument("--python-version", metavar="X.Y", default=None,
                        help="the interpreter to compile for (default: this one)")
    bundle.add_argument("--policy", choices=("signature", "semver", "strict"), default=None)
    bundle.add_argument("--pre", action="store_true", help="allow pre-release versions")
    bundle.add_argument("--allow-yanked", action="store_true", help="allow yanked versions")
    bundle.add_argument("-m", dest="module", metavar="MODULE", help="bundle module MODULE")
    bundle.add_argument("app", nargs="?", metavar="APP", help="script or application directory")
    bundle.add_argument("--json", action="store_true", help="print the result as JSON")
    bundle.set_defaults(func=cmd_bundle)

    inspect = sub.add_parser("inspect", help="what a bundle holds, and whether it is intact",
                             epilog=_INSPECT_EPILOG, formatter_class=fmt)
    inspect.add_argument("bundle", metavar="APP.pyz")
    inspect.add_argument("--json", action="store_true", help="print the result as JSON")
    inspect.set_defaults(func=cmd_inspect)

    relink = sub.add_parser("relink", help="rebuild a bundle with the newest compatible "
                            "stored versions", epilog=_RELINK_EPILOG, formatter_class=fmt)
    store_option(relink)
    relink.add_argument("bundle", metavar="APP.pyz")
    relink.add_argument("-o", "--output", metavar="FILE", default=None,
                        help="where to write (default: replace APP.pyz)")
    relink.add_argument("--dry-run", action="store_true", help="report only; write nothing")
    relink.add_argument("--pre", action="store_true", help="allow pre-release versions")
    relink.add_argument("--allow-yanked", action="store_true", help="allow yanked versions")
    relink.add_argument("--json", action="store_true", help="print the result as JSON")
    relink.set_defaults(func=cmd_relink)


def cmd_bundle(args: argparse.Namespace) -> int:
    import os

    from siglink.bundle.build import bundle_app
    from siglink.cli._output import print_json, say

    if args.module is None and args.app is None:
        raise BadInputError("siglink bundle: give an application (APP) or -m MODULE")
    target = args.module if args.module is not None else args.app
    if args.module is None and not os.path.exists(target):
        raise BadInputError(f"{target}: no such file or directory", path=target)
    result = bundle_app(target, args.output, module=args.module is not None,
                        store=getattr(args, "store", None), policy=args.policy,
                        prune=args.prune, python_version=args.python_version, pre=args.pre,
                        allow_yanked=args.allow_yanked)
    if args.json:
        print_json({"bundle": str(result.path), "size": result.size,
                    "libs": result.versions, "kept_whole": result.kept_whole,
                    "python": result.info["python"]})
        return 0
    libs = ", ".join(f"{n}=={v}" for n, v in sorted(result.versions.items())) or "no libraries"
    say(f"wrote {result.path} ({_size(result.size)}, Python {result.info['python']}): {libs}")
    for name, why in sorted(result.kept_whole.items()):
        say(f"  kept whole: {name} ({why})")
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    from siglink.bundle.reader import open_bundle
    from siglink.cli._output import print_json, say, table

    bundle = open_bundle(args.bundle)
    problems = bundle.problems()
    info = bundle.info
    verdicts = (info.get("plan") or {}).get("links") or {}
    libs = [
        {"name": name, "version": lib["version"], "source": lib.get("source", {}),
         "content_sha256": lib.get("content_sha256"), "files": lib.get("files", {}),
         "compiled": lib.get("compiled", False), "pruned": lib.get("pruned", False),
         "verdict": verdicts.get(name, {}).get("verdict", {})}
        for name, lib in sorted(info["libs"].items())
    ]
    if args.json:
        print_json({"bundle": str(bundle.path), "format": info["format"],
                    "siglink": info.get("siglink"), "python": info["python"],
                    "app": info["app"], "libs": libs, "plan": info.get("plan") or {},
                    "intact": not problems, "problems": problems})
        return 1 if problems else 0
    app = info["app"]
    say(f"{bundle.path}: {app['name']} {app['version']} for Python {info['python']} "
        f"(siglink {info.get('siglink')}, policy {app.get('policy')})")
    rows = [[lib["name"], lib["version"], lib["verdict"].get("status", ""),
             str(len(lib["files"])) + (" (pruned)" if lib["pruned"] else ""),
             (lib["content_sha256"] or "")[:16]] for lib in libs]
    if rows:
        table(None, ["library", "version", "verdict", "files", "content sha256"], rows)
    if problems:
        for problem in problems:
            say(f"MODIFIED: {problem}")
        return 1
    say("intact: every member matches what was built")
    return 0


def cmd_relink(args: argparse.Namespace) -> int:
    from siglink.bundle.relink import relink_bundle
    from siglink.cli._output import print_json, say

    result = relink_bundle(args.bundle, output=args.output, dry_run=args.dry_run,
                           store=getattr(args, "store", None), pre=args.pre,
                           allow_yanked=args.allow_yanked)
    if args.json:
        print_json({"dry_run": args.dry_run, **result.to_json()})
        return 0
    verb = "would move" if args.dry_run else "moved"
    for name, (old, new) in sorted(result.moved.items()):
        say(f"{verb} {name} {old} -> {new}")
    for name, version in sorted(result.added.items()):
        say(f"{'would add' if args.dry_run else 'added'} {name} {version}")
    for name, (version, why) in sorted(result.stayed.items()):
        say(f"{name} stays on {version}" + (f": {why}" if why else ": nothing newer links"))
    if not result.moved and not result.added:
        say("nothing to move: the bundle already holds the newest compatible versions")
    if result.written is not None:
        say(f"wrote {result.written.path} ({_size(result.written.size)})")
    return 0


def _size(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 100_000 else f"{n / 1000:.1f} kB"
