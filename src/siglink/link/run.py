"""Computing, caching and running a plan: the one path behind ``siglink plan`` and ``run``.

The warm path (:mod:`siglink.link.warm`) handles every run whose plan is cached and valid. This
module is the other case. :func:`prepare` is THE computation of a plan for an application: it
builds the application's manifest when it is missing or older than its sources (for ``run``),
computes the link plan (index, resolver, signature checks), records the application in the
store, and writes the plan cache. :func:`run_app` then replaces the interpreter (``os.execv``)
with ``python -c EXEC_CODE``, which starts the application from the plan just written, so the
application never shares the process with siglink's own dependencies (rich, sqlite3,
resolvelib, griffe, packaging), whichever path started it.

Warnings travel as data (:attr:`Prepared.warnings`) and through the ``note`` callback; nothing
here prints.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from siglink._json import JSONTextError, loads
from siglink._layout import StoreLayout, read_regular, store_root
from siglink.errors import StoreError
from siglink.link import _cache, _record
from siglink.link.app import Application, PlanRequest, app_files

if TYPE_CHECKING:
    from siglink.link.plan import LinkPlan
    from siglink.store import Store

__all__ = ["Prepared", "build_if_needed", "exec_argv", "prepare", "run_app"]


def __dir__() -> list[str]:
    return list(__all__)


Note = Callable[[str], None]


def _ignore(message: str) -> None:
    """The default ``note``: warnings are returned as data anyway."""


@dataclass(frozen=True)
class Prepared:
    """A computed and cached plan, ready to run: ``plan_path`` holds the warm record."""

    app: Application
    plan: LinkPlan
    plan_path: str
    bootstrap: str
    record: dict[str, Any]
    root: str = ""

    @property
    def warnings(self) -> tuple[str, ...]:
        """The plan's warnings, as the cache records them (shadowed modules included)."""
        return tuple(self.record["warnings"])


def build_if_needed(store: Store, app: Application, *, note: Note = _ignore) -> None:
    """Build ``app``'s manifest when it is missing or its sources changed (as ``siglink run``
    does), passing the build's warnings to ``note``."""
    if _needs_build(app):
        from siglink.link.build import build_app

        built = build_app(store, app, register=False, misfits="record")
        for warning in built.warnings:
            note(warning)


def _needs_build(app: Application) -> bool:
    """Whether the manifest is missing, or one of the app's own source files it records
    differs (by sha256) from what was analyzed."""
    from siglink._foreign import LIMIT, MANIFEST_LIMIT

    try:  # never a plain open: a FIFO in the manifest's place must not hang the start
        data = loads(read_regular(app.manifest_path, MANIFEST_LIMIT, whole=True))
    except FileNotFoundError:
        return True
    except (OSError, JSONTextError):
        return False  # reported by load_app_manifest
    entry = data.get("entry") if isinstance(data, dict) else None
    path0 = app.run_spec(entry if isinstance(entry, str) else None)["path0"]
    files = app_files(app.manifest_path, path0)
    if not files and not app.module and not os.path.isdir(app.path):
        try:  # a manifest without digests: by mtime
            return os.stat(app.path).st_mtime_ns > os.stat(app.manifest_path).st_mtime_ns
        except OSError:
            return False  # a missing script is reported when it is run, as python does
    for path, digest in files.items():
        try:
            if hashlib.sha256(read_regular(path, LIMIT, whole=True)).hexdigest() != digest:
                return True
        except OSError:
            return True
    return False


def prepare(
    app: Application,
    request: PlanRequest | None = None,
    *,
    store: str | None = None,
    build: bool = True,
    private_fallback: bool = True,
    keep_planner: bool = False,
    note: Note = _ignore,
) -> Prepared:
    """THE computation of a plan: build ``app`` if needed (``build``), link it against the
    store at ``store`` (``--store`` > ``$SIGLINK_STORE`` > the default) as ``request`` asks,
    record it in the store's registrations and write the plan cache.

    A store that cannot record the application or cache the plan (read-only) still plans:
    ``note`` is told, and with ``private_fallback`` the plan goes to a private directory of
    this user's; without it, a plan that cannot be cached is a :class:`StoreError`.

    The plan lock this process took as the planner (see :mod:`siglink.link.warm`) is released
    once the plan is written, unless ``keep_planner``: :func:`run_app` hands it on to the
    interpreter it starts the application in.

    :raises LinkError: no compatible set of versions (exit 127).
    :raises BadInputError: a missing application, a bad manifest or policy.
    :raises StoreError: a store, plan directory or bootstrap writable by others (exit 3).
    """
    from siglink.link.hook import write_bootstrap
    from siglink.link.plan import effective_policy, load_app_manifest, plan_and_register
    from siglink.store import Store

    request = request or PlanRequest()
    root = store_root(store)
    plans, boot = _cache.plan_dir(root), _cache.bootstrap_dir(root)
    problem = _cache.trust_problem(root, plans, boot)
    if problem is not None:
        raise StoreError(problem)
    generations = _cache.read_generations(root)  # before planning: a change since makes it stale
    exists = os.path.exists(StoreLayout(root).index)

    def unrecorded(message: str) -> None:
        if exists:  # no store yet: nothing to record the application in, nothing to say
            note(message)

    lib_store = Store(root, environment=request.environment)
    try:
        if build:
            build_if_needed(lib_store, app, note=note)
        manifest = load_app_manifest(app)
        policy = effective_policy(app.manifest_path, request.policy)
        plan = plan_and_register(lib_store, manifest, manifest_path=app.manifest_path,
                                 policy=policy, pre=request.pre,
                                 allow_yanked=request.allow_yanked, on_unrecorded=unrecorded)
    finally:
        lib_store.close()
    record = _record.cache_record(plan, app, root=root, request=request, generations=generations)
    name = _cache.plan_key(app.manifest_path, request.policy or "", request.flags) + ".json"
    plan_path = os.path.join(plans, name)
    try:
        _record.write_plan(plan_path, record)
        write_bootstrap(boot)
    except OSError as e:
        if not private_fallback:
            raise StoreError(f"{plan_path}: cannot cache the link plan "
                             f"({e.strerror or e})") from e
        note(f"cannot cache the link plan in {root}: {e.strerror or e}")
        private = _private_dir(plan_path)
        plan_path = os.path.join(private, name)
        boot = os.path.join(private, "bootstrap")
        _record.write_plan(plan_path, record)
        write_bootstrap(boot)
    if not keep_planner:
        from siglink.link.warm import release_planner

        release_planner()  # the plan is written: starters waiting for it may go
    return Prepared(app, plan, plan_path, boot, record, root)


def _private_dir(plan_path: str) -> str:
    """This user's directory for the plan of ``plan_path`` when the store is read-only:
    ``$XDG_CACHE_HOME/siglink/run/KEY`` (else ``~/.cache``, else ``/tmp/siglink-UID``), reused
    by every run of the same plan rather than a new temporary directory each time."""
    import tempfile

    key = hashlib.sha256(os.path.abspath(plan_path).encode()).hexdigest()[:16]
    bases = []
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        bases.append(os.path.join(xdg, "siglink"))
    home = os.path.expanduser("~")
    if home != "~":
        bases.append(os.path.join(home, ".cache", "siglink"))
    bases.append(os.path.join(tempfile.gettempdir(), f"siglink-{os.getuid()}"))
    error: OSError | None = None
    for base in bases:
        private = os.path.join(base, "run", key)
        try:
            _cache.make_dirs(private, 0o700)  # its parents too, whatever the umask
            if os.stat(base).st_uid != os.getuid():
                raise PermissionError(1, "not owned by this user", base)
            if os.access(private, os.W_OK):
                return private
        except OSError as e:
            error = e
    raise error or PermissionError(13, "no writable cache directory", bases[-1])


def exec_argv(prepared: Prepared, args: Sequence[str], *,
              planner_lock: int | None = None) -> list[str]:
    """The command line that starts the application from ``prepared``'s cached plan in a fresh
    interpreter (this interpreter's flags, such as ``-X importtime``, carried over), which
    releases the inherited plan lock ``planner_lock`` once it has read the plan.

    >>> from types import SimpleNamespace
    >>> prepared = SimpleNamespace(plan_path="/cache/plan.json", bootstrap="/cache/boot",
    ...                            app=SimpleNamespace(target="app.py"), root="/srv/store")
    >>> argv = exec_argv(prepared, ["-v"])
    >>> argv[0] == sys.executable, argv[-5:]
    (True, ['--store-root=/srv/store', '/cache/plan.json', '/cache/boot', 'app.py', '-v'])
    """
    from siglink.link.warm import EXEC_CODE

    try:
        from subprocess import _args_from_interpreter_flags  # type: ignore[attr-defined]

        flags: list[str] = list(_args_from_interpreter_flags())
    except ImportError:
        flags = []
    lock = [] if planner_lock is None else [f"--planner-lock={planner_lock}"]
    root = [f"--store-root={prepared.root}"] if prepared.root else []
    return [sys.executable, *flags, "-c", EXEC_CODE, *lock, *root, prepared.plan_path,
            prepared.bootstrap, prepared.app.target, *args]


def run_app(
    app: Application, args: Sequence[str], request: PlanRequest | None = None, *,
    store: str | None = None, note: Note = _ignore,
) -> NoReturn:
    """:func:`prepare` ``app`` and replace this process with it, passing ``args``; the plan's
    warnings go to ``note`` first.

    The plan lock goes with the process into the new interpreter, which releases it once it
    has read the plan: starters waiting for the plan start warm while this one runs, not while
    it starts an interpreter of its own, so the last to finish is not the one that planned.
    """
    from siglink.link.warm import handoff_planner

    prepared = prepare(app, request, store=store, keep_planner=True, note=note)
    for warning in prepared.warnings:
        note(warning)
    argv = exec_argv(prepared, args, planner_lock=handoff_planner())
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    if sys.executable:
        os.execv(sys.executable, argv)
    # no interpreter to exec (embedded python): run here, after siglink's own imports
    from siglink.link.warm import run_record

    run_record(prepared.record, prepared.plan_path, prepared.bootstrap, app.target, list(args),
               how="cold", root=prepared.root or None)
