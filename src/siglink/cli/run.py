"""``siglink run``: link an application against the store and run it.

A warm run (valid cached plan) never reaches this module: :mod:`siglink._entry` hands it to
:mod:`siglink.link.warm` first. Here the plan is (re)computed, cached, and the interpreter is
replaced by the bootstrap.
"""

from __future__ import annotations

import argparse

from siglink.cli.main import store_option
from siglink.errors import BadInputError

__all__ = ["register"]

_DESCRIPTION = """\
Link APP (a script, a directory with __main__.py, or a project directory) or -m MODULE against
the store and run it in this interpreter, exactly as `python APP ARGS` would: for each library
it imports, the newest stored version compatible with every recorded import (not yanked). A
missing manifest is built first; the plan is cached until the store, the manifest or the
interpreter changes. Options come before APP; everything after APP goes to the application.
Child interpreters the application starts (subprocess of sys.executable, multiprocessing)
inherit the link through $SIGLINK_PLAN and a sitecustomize on $PYTHONPATH.
"""

_EPILOG = """\
examples:
  siglink run app.py -- --verbose
  siglink run --policy semver app.py
  siglink run -m mypkg.tool -- input.txt

policy: --policy > $SIGLINK_POLICY > [tool.siglink] policy in the app's pyproject > signature
exit codes: the application's own; 127 when the link is refused (the reason on stderr);
            2 for a missing application or a bad manifest
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``run`` to ``sub`` (an argparse subparsers action); what follows APP is the app's.

    >>> parser = argparse.ArgumentParser(prog="siglink")
    >>> register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["run", "--pre", "app.py", "--verbose"])
    >>> args.func.__name__, args.pre, args.app, args.args
    ('run_command', True, 'app.py', ['--verbose'])
    """
    parser = sub.add_parser(
        "run",
        help="link an application against the store and run it",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    store_option(parser)
    parser.add_argument("--policy", choices=("signature", "semver", "strict"), default=None,
                        help="how strictly versions must match the recorded imports")
    parser.add_argument("--pre", action="store_true", help="allow pre-release versions")
    parser.add_argument("--allow-yanked", action="store_true",
                        help="allow yanked versions (a last resort)")
    parser.add_argument("--environment", action="store_true",
                        help="let the running environment's installed distributions take part")
    parser.add_argument("-m", dest="module", metavar="MODULE",
                        help="run library module MODULE as a script (as python -m)")
    parser.add_argument("app", nargs="?", metavar="APP", help="script or application directory")
    parser.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS",
                        help="arguments for the application")
    parser.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    """Link and exec; returns only on an error raised before the application starts."""
    from siglink._layout import store_root
    from siglink.cli._output import warn
    from siglink.link.app import Application, PlanRequest
    from siglink.link.run import run_app

    rest: list[str] = list(args.args)
    if args.module is not None:
        target, module = args.module, True
        if args.app is not None:
            rest.insert(0, args.app)
    elif args.app is not None:
        target, module = args.app, False
    else:
        raise BadInputError("siglink run: give an application (APP) or -m MODULE")
    if rest and rest[0] == "--":
        del rest[0]
    if not module and not _exists(target):
        raise BadInputError(f"{target}: no such file or directory", path=target)
    request = PlanRequest(args.policy, pre=args.pre, allow_yanked=args.allow_yanked,
                          environment=args.environment)
    store = getattr(args, "store", None)
    run_app(Application.resolve(target, module, store_root(store)), rest, request, store=store,
            note=warn)


def _exists(path: str) -> bool:
    import os

    return os.path.exists(path)
