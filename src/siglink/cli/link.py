"""``siglink build`` and ``siglink plan``: record what an application uses, and link it."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register"]


def __dir__() -> list[str]:
    return list(__all__)


_BUILD = """\
examples:
  siglink build app.py                          writes app.siglink.json beside app.py
  siglink build myapp/                          a directory with __main__.py, or a project
                                                with [project.scripts] or [tool.siglink] entry
  siglink build -m mypkg.tool                   a module, looked up from the current directory
  siglink build app.py --against textkit==1.0.0 record the signatures of that version
  siglink build app.py --json

Uses that cannot be seen statically (getattr with a computed name, __import__, private names
such as werkzeug._internal) are recorded as such and reported as warnings; optional uses (in
try/except ImportError, under if TYPE_CHECKING, ...) are recorded and never refuse a link. A
module no library in the store provides is a warning: the link is refused until one does. The
application is then linked, and the store records what it links now (siglink who-uses).
exit codes: 0 built; 1 a call the version built against does not accept (each one listed);
            2 bad input (a syntax error, an unknown --against version)
"""

_PLAN = """\
examples:
  siglink plan app.py                  the newest compatible version of every library
  siglink plan app.py --json           {"app", "links": {NAME: {"version", "path", "source",
                                        "verdict"}}, "rejected": {NAME: [{"version",
                                        "problems"}]}, "warnings"}; refused: "links" is
                                        empty and "error" holds the message
  siglink plan app.py --policy semver  stay within the major versions built against
  siglink plan app.py --allow-yanked   a last resort when every compatible version is yanked

The plan is cached for 'siglink run' and the application registered (siglink who-uses).
exit codes: 0 linked; 127 refused (every unsatisfied import and why each version was refused,
            on stderr); 2 bad input (no manifest: run 'siglink build' first); 3 store error
            (a linked version's directory is missing)
"""


def register(sub: Any) -> None:
    """Add ``build`` and ``plan`` to ``sub`` (an argparse subparsers action).

    >>> parser = argparse.ArgumentParser(prog="siglink")
    >>> register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["build", "app.py", "--against", "attrs==23.1.0"])
    >>> args.func.__name__, args.app, args.against
    ('cmd_build', 'app.py', ['attrs==23.1.0'])
    """
    from siglink.cli.main import store_option

    build = sub.add_parser(
        "build", help="record what an application uses from each library, and how",
        description="Read APP's source statically, record every library name it uses with the "
        "signature of the version it is built against, and write APP's manifest.",
        epilog=_BUILD, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    build.add_argument("app", metavar="APP",
                       help="a script, a directory with __main__.py, or a project directory")
    build.add_argument("-m", dest="module", action="store_true",
                       help="APP is a module name, looked up from the current directory")
    build.add_argument("--against", metavar="NAME==VERSION", action="append", default=[],
                       help="build against this version (default: the newest non-yanked "
                       "version providing every name used)")
    build.add_argument("--json", action="store_true", help="print JSON")
    store_option(build)
    build.set_defaults(func=cmd_build)

    plan = sub.add_parser(
        "plan", help="link an application: choose the newest compatible versions",
        description="Choose one version of every library APP needs, transitively: the newest "
        "whose exports satisfy every consumer. Caches the plan for 'siglink run'.",
        epilog=_PLAN, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    plan.add_argument("app", metavar="APP", help="the application, as given to 'siglink build'")
    plan.add_argument("-m", dest="module", action="store_true",
                      help="APP is a module name, looked up from the current directory")
    plan.add_argument("--json", action="store_true", help="print JSON")
    plan.add_argument("--policy", choices=("signature", "semver", "strict"), default=None,
                      help="signature (default), semver (also stay within the major version "
                      "built against) or strict (a changed default value breaks)")
    plan.add_argument("--pre", action="store_true", help="consider pre-releases")
    plan.add_argument("--allow-yanked", action="store_true", help="consider yanked versions")
    plan.add_argument("--environment", action="store_true",
                      help="also link distributions installed in the running environment")
    store_option(plan)
    plan.set_defaults(func=cmd_plan)


def _pins(values: list[str]) -> dict[str, str]:
    from siglink.errors import BadInputError

    pins = {}
    for value in values:
        name, sep, version = value.partition("==")
        if not sep or not name.strip() or not version.strip():
            raise BadInputError(f"--against {value!r}: expected NAME==VERSION")
        pins[name.strip()] = version.strip()
    return pins


def cmd_build(args: argparse.Namespace) -> int:
    from siglink._layout import store_root
    from siglink.cli._output import print_json, say, table, warn
    from siglink.link.app import Application
    from siglink.link.build import build_app
    from siglink.store import Store

    store = Store(store_root(getattr(args, "store", None)))
    from siglink.plugins.build import is_plugin

    if not args.module and is_plugin(args.app):  # a plugin: implements, exports, imports
        from siglink.cli.plugins import cmd_build_plugin

        return cmd_build_plugin(args, store)
    result = build_app(store, Application.resolve(args.app, args.module, str(store.root)),
                       against=_pins(args.against))
    if args.json:
        print_json({
            "app": result.manifest_path,
            "entry": result.manifest.entry,
            "against": result.against,
            "defaulted": list(result.defaulted),
            "unserved": {name: list(uses) for name, uses in sorted(result.unserved.items())},
            "imports": {name: [i.to_json() for i in items]
                        for name, items in sorted(result.manifest.imports.items())},
            "unprovided": {module: [i.to_json() for i in items]
                           for module, items in sorted(result.manifest.unprovided.items())},
            "warnings": list(result.warnings),
        })
        return 0
    for message in result.warnings:
        warn(message)
    rows = []
    for name, version in sorted(result.against.items()):
        items = result.manifest.imports.get(name, ())
        how = "newest serving every use" if name in result.defaulted else "--against"
        if name in result.unserved:
            how = ("no version serves every use" if name in result.defaulted
                   else "--against") + f" (lacks {len(result.unserved[name])})"
        rows.append([name, version, str(len(items)), how])
    say(f"built {result.manifest_path}")
    if rows:
        table(None, ["library", "built against", "names", "chosen"], rows)
    else:
        say("  (uses no library from the store)")
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    import os

    from siglink.cli._output import error, print_json, say, table, warn
    from siglink.errors import BadInputError, LinkError
    from siglink.link.app import Application, PlanRequest
    from siglink.link.plan import effective_policy, rejected_json
    from siglink.link.resolve import LinkFailure, refusal_lines
    from siglink.link.run import prepare

    if not args.module and not os.path.exists(args.app):
        raise BadInputError(f"{args.app}: no such file or directory", path=args.app)
    from siglink._layout import store_root

    app = Application.resolve(args.app, args.module, store_root(getattr(args, "store", None)))
    request = PlanRequest(args.policy, pre=args.pre, allow_yanked=args.allow_yanked,
                          environment=args.environment)
    try:
        prepared = prepare(app, request, store=getattr(args, "store", None), build=False,
                           private_fallback=False, note=warn)
    except LinkError as e:
        if not args.json:
            raise
        error(e.message, lines=e.multiline)
        failure = e.report if isinstance(e.report, LinkFailure) else None
        print_json({"app": app.manifest_path,
                    "policy": effective_policy(app.manifest_path, args.policy), "links": {},
                    "rejected": rejected_json(failure.rejected if failure else {}),
                    "warnings": [], "error": e.message})
        return e.exit_code
    plan, record = prepared.plan, prepared.record
    if args.json:
        print_json({**plan.to_json(), "warnings": record["warnings"]})
        return 0
    for message in record["warnings"]:
        warn(message)
    say(f"linked {plan.app} (policy {plan.policy})")
    rows = [[name, lib.version, lib.source, lib.status] for name, lib in plan.links.items()]
    if rows:
        table(None, ["library", "version", "source", "verdict"], rows)
    for name, lib in plan.links.items():
        for problem in lib.verdict.reviews:
            warn(f"{name} {lib.version}: {problem.explain()}")
    for name, refused in plan.rejected.items():
        for version, why in refused:
            say(f"  {name} {version} refused: {'; '.join(refusal_lines(name, version, why))}")
    return 0
