"""Writing link plans (the cold path's half of :mod:`siglink.link._cache`, which the warm path
reads without loading this module).

:func:`cache_record` turns a computed :class:`~siglink.link.plan.LinkPlan` into the record the
warm path validates; :func:`write_plan` writes it authenticated, with the key of its directory
(made on first use, mode 0600).

>>> import os, tempfile
>>> from siglink.link._cache import read_plan
>>> plans = tempfile.mkdtemp()
>>> path = os.path.join(plans, "0" * 32 + ".json")
>>> write_plan(path, {"format": 1})
>>> read_plan(path) is None  # authentic, but not the shape of a plan record
True
>>> oct(os.stat(os.path.join(plans, ".key")).st_mode & 0o777)
'0o600'
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from siglink._layout import ALL
from siglink.link._cache import (
    _KEY,
    FORMAT,
    PLAN_MODES,
    _read_key,
    _sidecar,
    _siglink_version,
    _stat_record,
    environment_fingerprint,
    mac,
    make_dirs,
    read_generations,
    sha256_digest,
)
from siglink.link.app import Application, app_files

if TYPE_CHECKING:
    from siglink.link.app import PlanRequest
    from siglink.link.plan import LinkPlan

__all__ = ["cache_record", "write_plan"]

Record = dict[str, Any]


def __dir__() -> list[str]:
    return list(__all__)


def _make_key(directory: str) -> bytes:
    """The plan key of ``directory``, created (mode 0600) when there is none."""
    key = _read_key(directory)
    if key is not None:
        return key
    path = os.path.join(directory, _KEY)
    if os.path.lexists(path):  # there, but unusable: replace it (the old plans go stale)
        from siglink._files import write_atomic

        write_atomic(path, os.urandom(32), mode=0o600)
    else:
        tmp = f"{path}.{os.getpid()}.{os.urandom(4).hex()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, os.urandom(32))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # never replaces a key another process made meanwhile
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    key = _read_key(directory)
    if key is None:
        raise PermissionError(13, "the plan key cannot be read back", path)
    return key


def write_plan(path: str, data: Record) -> None:
    """Write a plan record: ``<key>.warm`` (authenticated, what is read back) and ``<key>.json``
    (for people and tools), each atomically. Both are the plan owner's alone whatever the umask
    and wherever they lie (the store owner's ``ROOT/plans`` too): mode 0600 in a directory of
    mode 0700 (:data:`~siglink.link._cache.PLAN_MODES`), since a script's plan carries its
    compiled code, constants and secrets included. A plan directory left more open by an
    earlier siglink is tightened here."""
    import json
    import marshal

    from siglink._files import write_atomic

    directory = os.path.dirname(path)
    _private_dir(directory)
    file_mode = PLAN_MODES[1]
    body = marshal.dumps(data)
    write_atomic(_sidecar(path), mac(_make_key(directory), body) + body, mode=file_mode,
                 durable=False)
    write_atomic(path, json.dumps(_readable(data), indent=1, sort_keys=True).encode(),
                 mode=file_mode, durable=False)


def _private_dir(directory: str) -> None:
    """Make the plan directory ``directory`` (mode 0700; missing parents as
    :func:`~siglink.link._cache.modes_for` says), or take group's and others' access away
    from an existing one of this user's."""
    make_dirs(os.path.dirname(directory))
    make_dirs(directory, PLAN_MODES[0])
    st = os.stat(directory)
    if st.st_mode & 0o077 and st.st_uid == os.getuid():
        os.chmod(directory, PLAN_MODES[0])


def _readable(data: Record) -> Record:
    """``data`` for the JSON copy: the script's bytecode as its digest and size."""
    code = data.get("code")
    if not isinstance(code, dict):
        return data
    return {**data, "code": {
        key: value.hex() if key == "sha256" and isinstance(value, bytes) else value
        for key, value in code.items() if key != "data"} | {"size": len(code.get("data", b""))}}


def cache_record(
    plan: LinkPlan,
    app: Application,
    *,
    root: str,
    request: PlanRequest | None = None,
    generations: tuple[int, Mapping[str, int]] | None = None,
) -> Record:
    """The record to :func:`write_plan` for ``plan``, computed for ``app`` as asked by
    ``request``.

    ``generations`` is :func:`read_generations` as read *before* computing, so that a
    concurrent install makes the record stale rather than wrong (read now when not given); a
    plan whose index generation differs from it is valid only at that exact generation.
    """
    run = app.run_spec(plan.entry)
    local = app.own_modules(plan.entry)
    warnings = list(plan.warnings)
    links = {}
    for name, lib in plan.links.items():
        tops = list(lib.top_level)
        for top in sorted(set(tops) & local):  # python finds the app's own module first
            warnings.append(
                f"{os.path.join(run['path0'], top)}: the application's own module {top} shadows "
                f"{name} {lib.version}'s, for the libraries too (as in plain python)")
        links[name] = {
            "version": lib.version,
            "path": os.path.abspath(lib.path),
            "dist_info": os.path.abspath(lib.dist_info) if lib.dist_info else "",
            "top_level": [t for t in tops if t not in local],
            "source": lib.source,
        }
    generation, table = read_generations(root) if generations is None else generations
    if plan.generation is not None and plan.generation != generation:
        # the index read is not the one the file described (a change was committing): valid
        # only while the global generation is the index's
        generation, table = plan.generation, {}
    if generation < 0 or not table:
        depends = {ALL: -1}  # matches no file: valid only at this global generation
    else:
        depends = {name: table.get(name, generation) for name in sorted(plan.considered)}
    environment = request is not None and request.environment
    return {
        "format": FORMAT,
        "generation": generation,
        "generations": depends,
        "siglink": _siglink_version(),
        "flags": request.flags if request is not None else "",
        "python": {"executable": sys.executable, "prefix": sys.prefix, "version": sys.version},
        "manifest": _stat_record(app.manifest_path),
        "pyproject": _stat_record(app.pyproject),
        "environment": environment_fingerprint() if environment else None,
        "policy": plan.policy,
        "entry": plan.entry,
        "run": run,
        "sources": _sources(app.manifest_path, run["path0"]),
        "links": links,
        "warnings": warnings,
        "code": _script_code(run),
    }


def _script_code(run: Mapping[str, str]) -> Record | None:
    """The script's code object for the warm path (see :mod:`siglink.link._cache`), compiled as
    ``python SCRIPT`` compiles it, with the sha256 of the source it came from; None for a
    module, a function, a directory or zip application, and a script that cannot be read or
    compiled (the warm path compiles it then, and reports its errors as python does)."""
    if run["kind"] != "path":
        return None
    import marshal

    path = run["target"]
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError:  # a directory application, say
        return None
    if source[:4] == b"PK\x03\x04":  # a zip application: python runs its __main__
        return None
    optimize = sys.flags.optimize
    try:
        code = compile(source, path, "exec", dont_inherit=True, optimize=optimize)
    except (SyntaxError, ValueError):
        return None
    return {"path": path, "sha256": sha256_digest(source), "optimize": optimize,
            "data": marshal.dumps(code)}


def _sources(manifest_path: str, path0: str) -> list[Record]:
    out = []
    for path in sorted(app_files(manifest_path, path0)):
        stat = _stat_record(path)
        out.append(stat if stat is not None else {"path": path, "size": -1, "mtime_ns": -1})
    return out


