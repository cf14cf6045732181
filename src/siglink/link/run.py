"""``siglink run`` when no valid cached plan exists: build, link, cache, then exec the bootstrap.

The warm path (:mod:`siglink.link.warm`) handles every run whose plan is cached and valid. This
module is the other case: it builds the application's manifest when it is missing or older than
the script, computes the link plan (index, resolver, signature checks), writes the plan cache,
and replaces the interpreter (``os.execv``) with ``python -c EXEC_CODE``, which starts the
application from the plan just written. The application therefore never shares the process
with siglink's own dependencies (rich, sqlite3, resolvelib, griffe, packaging), whichever path
started it.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from siglink.link import _cache

if TYPE_CHECKING:
    from siglink.link.plan import LinkPlan

__all__ = ["Linked", "build_if_needed", "exec_argv", "link_app", "run_app"]


def __dir__() -> list[str]:
    return list(__all__)


@dataclass(frozen=True)
class Linked:
    """A computed and cached plan, ready to run: ``plan_path`` holds the warm record."""

    plan: LinkPlan
    plan_path: str
    bootstrap: str
    record: dict[str, object]


def build_if_needed(
    store: Any, app: str, *, module: bool = False, note: Callable[[str], None],
) -> None:
    """Build ``app``'s manifest when it is missing or its sources changed (as ``siglink run``
    does), passing the build's warnings to ``note``."""
    if _needs_build(app, module, _cache.app_manifest_path(app, module, str(store.root))):
        from siglink.link.build import build_app

        built = build_app(store, app, module=module, register=False, misfits="record")
        for warning in built.warnings:
            note(warning)


def _needs_build(app: str, module: bool, manifest_path: str) -> bool:
    """Whether the manifest is missing, or one of the app's own source files it records
    differs (by sha256) from what was analyzed."""
    import hashlib
    import json

    try:
        with open(manifest_path, "rb") as f:
            data = json.loads(f.read())
    except FileNotFoundError:
        return True
    except (OSError, ValueError):
        return False  # reported by load_app_manifest
    entry = data.get("entry") if isinstance(data, dict) else None
    path0 = _cache.run_spec(app, module, entry if isinstance(entry, str) else None)["path0"]
    files = _cache.app_files(manifest_path, path0)
    if not files and not module and not os.path.isdir(app):
        try:  # a manifest without digests: by mtime
            return os.stat(app).st_mtime_ns > os.stat(manifest_path).st_mtime_ns
        except OSError:
            return False  # a missing script is reported when it is run, as python does
    for path, digest in files.items():
        try:
            with open(path, "rb") as f:
                if hashlib.sha256(f.read()).hexdigest() != digest:
                    return True
        except OSError:
            return True
    return False


def link_app(
    app: str,
    *,
    module: bool = False,
    store: str | None = None,
    policy: str | None = None,
    pre: bool = False,
    allow_yanked: bool = False,
    environment: bool = False,
) -> Linked:
    """Build ``app`` if needed, compute its link plan and write the plan cache.

    :raises LinkError: no compatible set of versions (exit 127).
    :raises BadInputError: a missing application, a bad manifest or policy.
    """
    from siglink.link.hook import bootstrap_dir, write_bootstrap
    from siglink.link.plan import effective_policy, link, load_app_manifest
    from siglink.store import Store

    root = _cache.store_root(store)
    manifest_path = _cache.app_manifest_path(app, module, root)
    generation = _cache.read_generation(root)  # (a fallback: the plan says what it read)
    lib_store = Store(root, environment=environment)
    try:
        build_if_needed(lib_store, app, module=module, note=_note)
        manifest, manifest_path = load_app_manifest(app, module=module, root=root)
        chosen = effective_policy(manifest_path, policy)
        # a read-only store still runs applications: not recording them is only a warning
        plan = link(lib_store, manifest, manifest_path=manifest_path, policy=chosen, pre=pre,
                    allow_yanked=allow_yanked, on_unrecorded=_note)
    finally:
        lib_store.close()
    if plan.generation is not None:
        generation = plan.generation
    record = _cache.cache_record(plan, root=root, app=app, module=module, generation=generation,
                                 environment=environment)
    flags = _cache.flags_text(pre=pre, allow_yanked=allow_yanked, environment=environment)
    plan_path = _cache.plan_file(root, manifest_path, policy or "", flags)
    boot = bootstrap_dir(root)
    try:
        _cache.write_plan(plan_path, record)
        write_bootstrap(boot)
    except OSError as e:  # a read-only store: run from a private copy of the plan
        _note(f"cannot cache the link plan in {root}: {e.strerror or e}")
        private = _private_dir(plan_path)
        plan_path = os.path.join(private, os.path.basename(plan_path))
        boot = os.path.join(private, "bootstrap")
        _cache.write_plan(plan_path, record)
        write_bootstrap(boot)
    return Linked(plan, plan_path, boot, record)


def _private_dir(plan_path: str) -> str:
    """This user's directory for the plan of ``plan_path`` when the store is read-only:
    ``$XDG_CACHE_HOME/siglink/run/KEY`` (else ``~/.cache``, else ``/tmp/siglink-UID``), reused
    by every run of the same plan rather than a new temporary directory each time."""
    import hashlib

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
            os.makedirs(private, mode=0o700, exist_ok=True)
            if os.stat(base).st_uid != os.getuid():
                raise PermissionError(1, "not owned by this user", base)
            if os.access(private, os.W_OK):
                return private
        except OSError as e:
            error = e
    raise error or PermissionError(13, "no writable cache directory", bases[-1])


def _note(text: str) -> None:
    from siglink.cli._output import warn

    warn(text)


def exec_argv(linked: Linked, app: str, args: list[str]) -> list[str]:
    """The command line that starts ``app`` from ``linked``'s cached plan in a fresh interpreter
    (this interpreter's flags, such as ``-X importtime``, carried over)."""
    from siglink.link.warm import EXEC_CODE

    try:
        from subprocess import _args_from_interpreter_flags  # type: ignore[attr-defined]

        flags: list[str] = list(_args_from_interpreter_flags())
    except ImportError:
        flags = []
    return [sys.executable, *flags, "-c", EXEC_CODE, linked.plan_path, linked.bootstrap, app,
            *args]


def run_app(app: str, args: list[str], **options: object) -> NoReturn:
    """Link ``app`` (see :func:`link_app` for ``options``) and replace this process with it."""
    linked = link_app(app, **options)  # type: ignore[arg-type]
    for warning in linked.record["warnings"]:  # type: ignore[attr-defined]
        _note(warning)
    argv = exec_argv(linked, app, args)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    if sys.executable:
        os.execv(sys.executable, argv)
    # no interpreter to exec (embedded python): run here, after siglink's own imports
    from siglink.link.warm import run_record

    run_record(linked.record, linked.plan_path, linked.bootstrap, app, args, how="cold")
