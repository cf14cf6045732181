"""The ``siglink`` command: parse arguments, dispatch to one function per subcommand.

Each command group lives in its own module and registers its subcommands; heavy imports sit
inside the command functions so that ``siglink --help`` stays fast. ``siglink run`` on a warm
plan never reaches this module (see :mod:`siglink._entry`).

>>> main(["explain", "P7"])
P7  required parameter got a default  (harmless)
Every old call passes it anyway.
<BLANKLINE>
example:
  old:     (a: int) -> None
  new:     (a: int = 0) -> None
  verdict: harmless
<BLANKLINE>
see docs/design.md §3.3 (Python rules)
0"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import sys
import warnings
from collections.abc import Callable, Sequence

from siglink.errors import BadInputError, LinkError, SiglinkError

__all__ = ["INTERNAL_ERROR", "OUTPUT_ERROR", "Interrupted", "add_subcommand", "build_parser",
           "main", "store_option"]

INTERNAL_ERROR = 70
"""The exit code of a defect in siglink itself (``EX_SOFTWARE`` of sysexits.h): an exception
no command expected. Errors about the user's input, files, store or links are
:class:`~siglink.errors.SiglinkError` subclasses with their own codes and never end here."""

OUTPUT_ERROR = 74
"""The exit code of a command that did its work, changed nothing and could not write its
output (stdout on a full disk; ``EX_IOERR`` of sysexits.h). A reader that left early
(``EPIPE``) is not a failure; a command that found a problem or changed the store exits with
its own status, the failure said on stderr."""

Command = Callable[[argparse.Namespace], int]

_GROUPS = (
    "siglink.cli.contracts",
    "siglink.cli.store",
    "siglink.cli.link",
    "siglink.cli.run",
    "siglink.cli.native",
    "siglink.cli.bundle",
    "siglink.cli.demo",
    "siglink.cli.explain",
    "siglink.cli.plugins",
    "siglink.cli.fleet",
)

_EPILOG = """\
examples:
  siglink demo                          the whole story in a throwaway store
  siglink exports markupsafe-2.1.5-py3-none-any.whl
  siglink diff textkit-1.0.0.whl textkit-2.0.0.whl
  siglink install 'werkzeug==3.0.1'     fetch, check and add a version to the store
  siglink build app.py                  record what app.py uses and how
  siglink run app.py -- --verbose       link against the store and run
  siglink explain P11                   what a rule id in a verdict means
  siglink plugins chat                  every plugin of a host, checked against its specs
  siglink pluggy-check pytest           pytest's plugins against its hookspecs, with types

exit codes: 0 ok, 1 check failed, 2 bad input, 3 store error, 4 fetch error,
            70 internal error (a bug in siglink: please report it), 74 output could not
            be written (nothing changed), 75 store busy (try again), 127 link refused,
            130 interrupted (Ctrl-C)
errors: one line on stderr; with --json also {"error": {"message", "exit_code", "kind"}} on
        stdout
"""


def add_subcommand(sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str,
                   help_text: str, epilog: str) -> argparse.ArgumentParser:
    """A subcommand of ``sub`` (an argparse subparsers action) taking the store options, its
    help line as description and its examples (``epilog``) shown as written."""
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=help_text, description=help_text, epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    store_option(parser)
    return parser


def store_option(parser: argparse.ArgumentParser) -> None:
    """``--store DIR``, accepted before or after the subcommand."""
    parser.add_argument(
        "--store",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="the store to use (default: $SIGLINK_STORE or ~/.local/share/siglink)",
    )
    parser.add_argument(  # a store neither root nor this user owns is used only when told to
        "--trust-owner", action=_TrustOwner, nargs=0, default=argparse.SUPPRESS,
        help="use a store owned by another user, not root (also SIGLINK_TRUST_STORE_OWNER=1)")


class _TrustOwner(argparse.Action):
    """``--trust-owner``: once parsed, ``$SIGLINK_TRUST_STORE_OWNER`` is set to the store's
    real path (:func:`siglink._layout.trust_owner`): that store alone, for the exec'd run too."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        namespace.trust_owner = True


def build_parser(groups: Sequence[str] = _GROUPS) -> argparse.ArgumentParser:
    """The parser of every command (of ``groups``' commands only: ``run``'s cold start needs
    one subparser, not thirty)."""
    from importlib import import_module

    parser = argparse.ArgumentParser(
        prog="siglink",
        description="Link Python code and C libraries by signature, not by bare name.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from siglink import __version__

    parser.add_argument("--version", action="version", version=f"siglink {__version__}")
    store_option(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in groups:
        import_module(group).register(sub)
    return parser


def _command(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names, past the global options (None when it names none)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--store":
            skip = True
        elif not arg.startswith("--store=") and arg != "--trust-owner":
            return arg
    return None


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, with what a command wants said about it (``nothing was installed``)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code; errors become one line on stderr (and, under
    ``--json``, ``{"error": {"message", "exit_code", "kind"}}`` on stdout); Ctrl-C exits 130."""
    try:
        return _main(argv)
    except KeyboardInterrupt as e:
        detail = e.detail if isinstance(e, Interrupted) else ""
        _interrupted(detail)
        return 130


def _interrupted(detail: str = "") -> None:
    """``siglink: interrupted`` (``; DETAIL``) on stderr, whatever state stderr is in."""
    import contextlib

    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write("siglink: interrupted" + (f"; {detail}" if detail else "") + "\n")
        sys.stderr.flush()


def _main(argv: Sequence[str] | None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    run = _command(args_list) == "run"
    _print_paths_as_bytes()
    if not run:  # run hands stdout to the application as it is
        from siglink.cli._stdio import guard

        guard()
    parser = build_parser(("siglink.cli.run",) if run else _GROUPS)
    try:
        args = parser.parse_args(args_list)
    except SystemExit as e:  # argparse exits 2 on bad usage, 0 on --help
        return _output_status(int(e.code or 0))
    command: Command | None = getattr(args, "func", None)
    if command is None:
        parser.print_help()
        return _output_status(2)
    return _output_status(_run(command, args))


def _output_status(status: int) -> int:
    """The exit code of a command that returned ``status``, given what became of its output.

    A reader that left (``EPIPE``: ``siglink list | head -1``) changes nothing: the command's
    own status. Any other failure to write stdout (a full disk) is said on stderr; the status
    stays when the command found a problem or changed the store (the change is kept: scripts
    must see it), else the output was the command's only product: :data:`OUTPUT_ERROR`."""
    from siglink.cli._stdio import failure

    error = failure()
    if error is None or error.errno == errno.EPIPE:
        return status
    from siglink.cli._output import error as say_error
    from siglink.cli._output import warn

    changed = False
    if "siglink.store.index" in sys.modules:  # else the command never opened the store
        from siglink.store.index import commits

        changed = commits() > 0
    message = f"cannot write output: {error.strerror or error}"
    if changed and status == 0:
        warn(f"{message}; the change to the store was made")
        return status
    say_error(message)
    return status or OUTPUT_ERROR


def _run(command: Command, args: argparse.Namespace) -> int:
    """``command(args)``; its errors as one line (:func:`_report`) and their exit code."""
    try:
        if getattr(args, "store", None) == "":
            raise BadInputError("--store: empty path")
        if getattr(args, "trust_owner", False):
            from siglink._layout import store_root, trust_owner

            trust_owner(store_root(getattr(args, "store", None)))
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning(warnings.showwarning)
            try:
                return command(args)
            finally:
                output = sys.modules.get("siglink.cli._output")
                if output is not None:
                    output.WARNED.clear()
    except SiglinkError as e:
        _report(e, args)
        return e.exit_code
    except BrokenPipeError:  # stdout not guarded (``run``): the command's status is unknown
        with contextlib.suppress(OSError):  # and nothing more is written (nor at exit)
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as e:  # a file the command could not read or write: one line, no traceback
        from siglink.errors import StoreError

        where = f"{e.filename}: " if e.filename else ""
        stray = StoreError(f"{where}{e.strerror or e}")
        _report(stray, args)
        return stray.exit_code
    except Exception as e:  # a defect: one line naming it, exit 70, never a verdict or exit 2
        if os.environ.get("SIGLINK_DEBUG"):
            raise
        _internal_error(e, args)
        return INTERNAL_ERROR


def _print_paths_as_bytes() -> None:
    """A path whose bytes are not UTF-8 is printed as those bytes (as ``ls`` does, and as
    python does in the C locale), never a ``UnicodeEncodeError``: stdout's errors handler
    ``surrogateescape`` writes back the bytes the OS gave. stderr already escapes them."""
    stdout = sys.stdout
    if getattr(stdout, "errors", None) == "strict" and hasattr(stdout, "reconfigure"):
        with contextlib.suppress(AttributeError, ValueError, OSError):
            stdout.reconfigure(errors="surrogateescape")


def _internal_error(e: Exception, args: argparse.Namespace) -> None:
    """``siglink: internal error: KeyError: 'x' (...)``: what broke, and what to do about it."""
    from siglink.cli._output import error, print_json

    where = e.__traceback__
    while where is not None and where.tb_next is not None:
        where = where.tb_next
    place = ""
    if where is not None:
        code = where.tb_frame.f_code
        place = f" in {code.co_name} ({os.path.basename(code.co_filename)}:{where.tb_lineno})"
    detail = " ".join(str(e).split())[:200]  # one line, whatever the exception holds
    message = (f"internal error: {type(e).__name__}: {detail}{place}; this is a bug in siglink, "
               "please report it with the command that caused it (SIGLINK_DEBUG=1 shows the "
               "traceback)")
    error(message)
    if getattr(args, "json", False):
        print_json({"error": {"message": message, "exit_code": INTERNAL_ERROR,
                              "kind": "InternalError"}})


def _show_warning(original: Callable[..., None]) -> Callable[..., None]:
    """siglink's own warnings (an uninspected compiled module) as ``siglink: warning:`` lines."""

    def show(message: Warning | str, category: type[Warning], *rest: object) -> None:
        if category.__module__.startswith("siglink."):
            from siglink.cli._output import warn

            warn(str(message))
        else:
            original(message, category, *rest)

    return show


def _report(e: SiglinkError, args: argparse.Namespace) -> None:
    """The error on stderr, and as JSON on stdout when the command was given ``--json``."""
    from siglink.cli._output import error, print_json

    message = e.message
    if isinstance(e, LinkError):
        message += _no_store_hint(args)
    error(message, lines=e.multiline)
    if getattr(args, "json", False):
        print_json({"error": {"message": message, "exit_code": e.exit_code,
                              "kind": type(e).__name__}})


def _no_store_hint(args: argparse.Namespace) -> str:
    """A refused link against a store that does not exist (a mistyped ``--store``) says so."""
    from siglink._layout import store_root

    root = store_root(getattr(args, "store", None))
    if os.path.exists(os.path.join(root, "index.sqlite")):
        return ""
    from siglink._text import inert

    return (f"\n(no store at {inert(root)}: nothing is installed there; check --store or "
            "$SIGLINK_STORE)")
