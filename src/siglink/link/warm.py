"""The warm bootstrap: start an application from a valid cached link plan, standard library only.

``siglink run`` enters here first (from :mod:`siglink._entry`, before argparse or anything else of
siglink is imported). :func:`warm_run` reads ``ROOT/generation`` and the plan file; when the plan
is valid it installs the import hook and runs the application in this interpreter, exactly as
``python APP ARGS`` (or ``python -m MODULE ARGS``) would, and never returns. Otherwise it returns
None at once and the full CLI (:mod:`siglink.link.run`) builds, plans, writes the cache and then
replaces the interpreter with :func:`exec_main`, which runs the fresh plan the same way, so no
dependency of siglink is loaded when the application starts.

When the plan is stale, concurrent starters of one application wait for one planner
(:func:`siglink.link._cache.wait_for_planner`, bounded) and then start warm from its plan. The
planner keeps the plan's lock through its ``exec`` and lets them go once its new interpreter
has read the plan (:func:`handoff_planner`), so that their starts do not delay its own. A link
the application itself refuses at run time (``siglink.native.link`` raising a
:class:`~siglink.errors.LinkError`) prints its explanation and exits 127.

``SIGLINK_DEBUG=1`` prints one line on stderr saying which path started the application.
"""

from __future__ import annotations

import os
import sys

from siglink._layout import store_root, trust_owner
from siglink.link import _cache
from siglink.link.app import Application, PlanRequest

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time
    from collections.abc import Sequence
    from types import TracebackType
    from typing import Any, NoReturn

__all__ = [
    "EXEC_CODE", "PLANNER_TIMEOUT", "exec_main", "handoff_planner", "parse_run_argv",
    "release_planner", "run_record", "warm_run",
]

_FLAGS = {"--pre": "pre", "--allow-yanked": "allow_yanked", "--environment": "environment"}

EXEC_CODE = (
    "import sys; cwd = sys.path[:1] == [''] and [sys.path.pop(0)]; "
    "from siglink.link.warm import exec_main; sys.path[:0] = cwd or []; exec_main()"
)
"""What the cold path runs with ``python -c`` after writing the plan (see :func:`exec_main`):
the current directory (``''``, first on ``sys.path`` under ``-c``) is left out while siglink is
imported, so that an application directory's own ``siglink.py`` cannot shadow it."""


def __dir__() -> list[str]:
    return list(__all__)


def parse_run_argv(argv: Sequence[str]) -> dict[str, Any] | None:
    """The ``siglink [--store DIR] [--trust-owner] run [OPTIONS] (APP | -m MODULE) [--] [ARGS]``
    command line as a dict, or None when it holds anything else (``--help``, a typo): the full
    CLI decides then.

    Options must come before ``APP``; everything after it goes to the application (a leading
    ``--`` is dropped). ``--trust-owner`` (before or after ``run``) is ``trust_owner``.

    >>> opts = parse_run_argv(["--store", "/srv/store", "run", "--pre", "app.py", "--", "-v"])
    >>> opts["store"], opts["pre"], opts["app"], opts["args"]
    ('/srv/store', True, 'app.py', ['-v'])
    >>> parse_run_argv(["run", "--trust-owner", "app.py"])["trust_owner"]
    True
    >>> parse_run_argv(["run", "--help"]) is None
    True
    """
    opts: dict[str, Any] = {
        "store": None, "policy": "", "pre": False, "allow_yanked": False,
        "environment": False, "module": False, "app": None, "args": [], "trust_owner": False,
    }
    n = len(argv)
    i = 0
    seen_run = False
    while i < n:
        a = argv[i]
        if a == "run" and not seen_run:
            seen_run = True
            i += 1
        elif a in ("--store", "--policy") and i + 1 < n and (seen_run or a == "--store"):
            opts[a[2:]] = argv[i + 1]
            i += 2
        elif a.startswith("--store=") or (seen_run and a.startswith("--policy=")):
            key, _, value = a[2:].partition("=")
            opts[key] = value
            i += 1
        elif a == "--trust-owner":
            opts["trust_owner"] = True
            i += 1
        elif not seen_run:
            return None
        elif a in _FLAGS:
            opts[_FLAGS[a]] = True
            i += 1
        elif a == "-m" and i + 1 < n:
            opts["module"] = True
            opts["app"] = argv[i + 1]
            i += 2
            break
        elif a.startswith("-"):
            return None
        else:
            opts["app"] = a
            i += 1
            break
    if not seen_run or not opts["app"] or opts["app"].startswith("-"):
        return None
    rest = list(argv[i:])
    if rest and rest[0] == "--":
        del rest[0]
    opts["args"] = rest
    return opts


PLANNER_TIMEOUT = 30.0
"""Seconds a cold start waits for another process computing the same plan before it computes
the plan itself."""

_planner: list[int] = []  # the plan lock this process holds while the cold path plans


def warm_run(argv: Sequence[str]) -> None:
    """Run the application from a valid cached plan and exit with its code; return None
    when there is no such plan (holding the plan's lock, see :func:`release_planner`) or the
    command line is not a plain ``run``."""
    opts = parse_run_argv(argv)
    if opts is None:
        return
    try:
        request = PlanRequest(opts["policy"] or None, pre=opts["pre"],
                              allow_yanked=opts["allow_yanked"], environment=opts["environment"])
    except ValueError:
        return  # the full CLI names the unknown policy
    try:
        root = store_root(opts["store"])
        if opts["trust_owner"]:
            trust_owner(root)  # as the full CLI's option: this store alone, here and in children
        app = Application.resolve(opts["app"], opts["module"], root)
    except OSError:
        return  # a current directory removed, say: the full CLI says so in one line
    plans, boot = _cache.plan_dir(root), _cache.bootstrap_dir(root)
    if _cache.trust_problem(root, plans, boot) is not None:
        return  # the cold path refuses with the reason
    key = _cache.plan_key(app.manifest_path, opts["policy"], request.flags)
    plan_path = os.path.join(plans, key + ".json")

    def valid() -> dict[str, Any] | None:
        return _cache.read_valid_plan(plan_path, root, app, request)

    record = valid()
    if record is None:
        record, held = _cache.wait_for_planner(plan_path, PLANNER_TIMEOUT, valid)
        if record is None:
            if held is not None:
                _planner.append(held)
            return
    if not _bootstrap_ready(boot):
        return
    run_record(record, plan_path, boot, opts["app"], opts["args"], how="warm", root=root)


def handoff_planner() -> int | None:
    """The plan lock :func:`warm_run` took for the cold path, made inheritable for the
    interpreter the cold path execs (``--planner-lock`` of :func:`exec_main`, which releases
    it); None when this process holds none."""
    if not _planner:
        return None
    os.set_inheritable(_planner[-1], True)
    return _planner[-1]


def release_planner() -> None:
    """Release the plan lock :func:`warm_run` took for the cold path (the plan is written)."""
    while _planner:
        try:  # noqa: SIM105 (contextlib is not imported on the warm path)
            os.close(_planner.pop())
        except OSError:
            pass


def _bootstrap_ready(boot: str) -> bool:
    """Whether ``boot`` holds exactly the expected ``sitecustomize.py`` (written when missing
    or different, as after a plan cached by ``siglink plan``)."""
    from siglink.link.hook import SITECUSTOMIZE, write_bootstrap

    try:
        with open(os.path.join(boot, "sitecustomize.py"), "rb") as f:
            if f.read() == SITECUSTOMIZE.encode():
                return True
    except OSError:
        pass
    try:
        write_bootstrap(boot)
    except OSError:
        return False
    return True


def exec_main() -> NoReturn:
    """Entry of ``python -c EXEC_CODE [--planner-lock=FD] [--store-root=ROOT] PLAN BOOTDIR APP
    [ARGS...]``: run a freshly computed plan of the store at ``ROOT``, releasing the plan lock
    ``FD`` the planner handed over (see :func:`handoff_planner`) once the plan is read."""
    argv = sys.argv[1:]
    if argv and argv[0].startswith("--planner-lock="):
        fd = argv.pop(0).partition("=")[2]
        if fd.isdigit():
            _planner.append(int(fd))
    root = None
    if argv and argv[0].startswith("--store-root="):
        root = argv.pop(0).partition("=")[2]
    plan_path, boot, app, *args = argv
    record = _cache.read_plan(plan_path)
    if record is None:
        release_planner()
        from siglink.link.hook import inert

        sys.stderr.write(f"siglink: link plan {inert(plan_path)} vanished before the app "
                         "started\n")
        sys.exit(127)
    run_record(record, plan_path, boot, app, args, how="cold", root=root)


def run_record(
    record: dict[str, Any], plan_path: str, boot: str, app: str, args: list[str], *, how: str,
    root: str | None = None,
) -> NoReturn:
    """Install the link of ``record`` (here and for child interpreters) and run its application
    as the ``__main__`` program with ``sys.argv == [APP, *args]``; exit with its code. The
    store directories it links must be the store owner's alone
    (:func:`~siglink.link._cache.links_untrusted`): otherwise exit 127 with the reason."""
    from siglink.link.hook import export_to_children, inert, install, libs_owner

    release_planner()
    owner = None
    if root is not None:
        problem = _cache.links_untrusted(record, root)
        if problem is not None:
            sys.stderr.write(f"siglink: error: {inert(problem)}\n")
            sys.exit(127)
        owner = libs_owner(root)
    install(record["links"], owner)  # the store's modules are checked as they are imported
    export_to_children(plan_path, boot, root)
    if os.environ.get("SIGLINK_DEBUG"):
        links = ", ".join(f"{n}=={v['version']}" for n, v in sorted(record["links"].items()))
        sys.stderr.write(f"siglink: {how} plan {inert(plan_path)}: "
                         f"{inert(links) or 'no libraries'}\n")
    run = record["run"]
    try:
        _start(run["kind"], run["target"], run["path0"], app, args, code=record["code"])
    except SystemExit:
        raise
    except BaseException as e:
        _refused(e)
        _report_uncaught(e)
    sys.exit(0)


def _refused(e: BaseException) -> None:
    """A link the application itself asked for at run time and was refused (a native library,
    say): its explanation on stderr and the link's exit code (127), as the dynamic loader.
    siglink's errors are imported only if they already are: otherwise ``e`` is none of them."""
    errors = sys.modules.get("siglink.errors")
    if errors is None or not isinstance(e, errors.LinkError):
        return
    try:  # noqa: SIM105 (contextlib is not imported on the warm path)
        sys.stdout.flush()
    except (OSError, ValueError, AttributeError):
        pass
    from siglink.link.hook import inert

    # a multi-line message's lines are its own (SiglinkError.multiline): what they quote was
    # made inert when built; any other is one line
    text = "\n".join(map(inert, e.message.split("\n") if e.multiline else [e.message]))
    sys.stderr.write(f"siglink: error: {text}\n")
    sys.exit(e.exit_code)


def _set_path0(path0: str) -> None:
    # The entry python put first on sys.path (the console script's directory, or '' for -c)
    # is replaced by the application's, as `python APP` would have put it (none under -P).
    if sys.flags.safe_path:
        return
    if sys.path:
        sys.path[0] = path0
    else:
        sys.path.append(path0)


def _start(kind: str, target: str, path0: str, app: str, args: list[str], *,
           code: dict[str, Any] | None = None) -> None:
    if kind == "module":
        import runpy

        _set_path0(path0)
        sys.argv = [app, *args]  # _run_module_code puts the module's file in argv[0], as -m does
        error = runpy._Error  # type: ignore[attr-defined]
        try:  # what run_module does, with python -m's one line for a module it cannot run
            _, spec, code = runpy._get_module_details(target, error)  # type: ignore[attr-defined]
        except error as e:
            from siglink.link.hook import inert

            sys.stderr.write(f"siglink: error: {inert(str(e))}\n")
            sys.exit(2)
        runpy._run_module_code(code, None, "__main__", spec)  # type: ignore[attr-defined]
    elif kind == "func":
        from importlib import import_module

        _set_path0(path0)
        sys.argv = [app, *args]
        module, _, attr = target.partition(":")
        func = import_module(module)
        for part in attr.split("."):
            func = getattr(func, part)
        sys.exit(func())  # type: ignore[operator]
    elif os.path.isdir(target) or _is_zip(target):
        import runpy

        # what python does for `python DIR` or `python APP.zip` (run_path would put the path
        # as typed, not absolute, on sys.path)
        _set_path0(target)
        sys.argv = [app, *args]
        runpy._run_module_as_main("__main__", alter_argv=False)  # type: ignore[attr-defined]
    else:
        _set_path0(os.path.dirname(os.path.realpath(target)))
        sys.argv = [app, *args]
        _run_source(target, code)


def _is_zip(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def _run_source(path: str, cached: dict[str, Any] | None = None) -> None:
    """Execute a script as the ``__main__`` module, as ``python path`` does: with the plan's
    ``cached`` code object when it was compiled from this very source, else compiled now."""
    from _frozen_importlib_external import SourceFileLoader  # importlib.machinery's, unimported

    with open(path, "rb") as f:
        source = f.read()
    code = _cached_code(cached, path, source)
    if code is None:
        code = compile(source, path, "exec", dont_inherit=True)
    main = type(sys)("__main__")
    main.__file__ = path
    main.__cached__ = None  # type: ignore[attr-defined]
    main.__loader__ = SourceFileLoader("__main__", path)
    main.__builtins__ = __builtins__  # type: ignore[attr-defined]
    sys.modules["__main__"] = main
    exec(code, main.__dict__)


def _cached_code(cached: dict[str, Any] | None, path: str, source: bytes) -> Any:
    """The code object of ``cached`` (a plan's ``code``) when it was compiled from ``source``
    for ``path`` at this interpreter's optimization level; else None."""
    if (cached is None or cached["path"] != path or cached["optimize"] != sys.flags.optimize
            or cached["sha256"] != _cache.sha256_digest(source)):
        return None
    import marshal

    try:
        code = marshal.loads(cached["data"])
    except (ValueError, EOFError, TypeError):
        return None
    return code if type(code) is type(_cached_code.__code__) else None


def _report_uncaught(e: BaseException) -> NoReturn:
    """Print the traceback python would print (without siglink's frames) and exit like python."""
    own = {__file__}
    runpy = sys.modules.get("runpy")
    if runpy is not None and runpy.__file__:
        own.add(runpy.__file__)
    tb: TracebackType | None = e.__traceback__
    while tb is not None and tb.tb_next is not None and tb.tb_frame.f_code.co_filename in own:
        tb = tb.tb_next
    sys.excepthook(type(e), e.with_traceback(tb), tb)  # the hook prints e.__traceback__
    if isinstance(e, KeyboardInterrupt):
        # python exits through SIGINT after an uncaught KeyboardInterrupt (status 130 in a shell)
        import atexit
        import contextlib
        import signal

        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError, AttributeError):
                stream.flush()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
        os._exit(130)
    sys.exit(1)


if __name__ == "__main__":  # python -m siglink.link.warm [--planner-lock=FD] PLAN BOOTDIR APP ...
    exec_main()
