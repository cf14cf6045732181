"""The link-plan cache: where plans live, what they record, and when one is still valid.

Standard library only and cheap to import: the warm bootstrap (:mod:`siglink.link.warm`) reads
a plan with these functions before anything else of siglink is loaded. ``json`` and hashing are
imported inside the functions that need them.

A plan file ``ROOT/plans/<key>.json`` is keyed by what the user *asked for* (the application's
manifest path, the ``--policy`` given on the command line or ``""``, ``$SIGLINK_POLICY``, and the
flags ``pre``, ``allow-yanked``, ``environment``). Everything the plan *depends on* is recorded
inside it and checked on every read (:func:`read_valid_plan`): the store's generation, the
manifest's size and mtime, the application's ``pyproject.toml`` (it may set the policy), the
interpreter, siglink's version, the app's own source files (size and mtime: any change sends
``run`` to the cold path, which compares their sha256 with the manifest's), the linked
directories (a store's must lie under the current store root: a copied store recomputes), and
with ``environment`` the site-packages directories' mtimes. Any difference makes the plan
stale, and it is recomputed.

Record shape (``format`` 1)::

    {"format": 1, "generation": 7, "siglink": "0.1.0",
     "python": {"executable": ..., "prefix": ..., "version": ...},
     "manifest": {"path": ..., "size": ..., "mtime_ns": ...},
     "pyproject": {"path": ..., "size": ..., "mtime_ns": ...} | null,
     "environment": [[site_dir, mtime_ns], ...] | null,
     "policy": "signature", "entry": "script:app.py",
     "run": {"kind": "path" | "module" | "func", "target": ..., "path0": ...},
     "sources": [{"path", "size", "mtime_ns"}, ...],  # the app's own files that were read
     "links": {NAME: {"version", "path", "dist_info", "top_level": [...], "source"}},
     "warnings": [...]}
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: this module is on the warm path
    from typing import Any

    Record = dict[str, Any]

__all__ = [
    "FORMAT",
    "app_files",
    "app_manifest_path",
    "app_pyproject",
    "cache_record",
    "environment_fingerprint",
    "flags_text",
    "module_dir",
    "plan_file",
    "read_generation",
    "read_plan",
    "read_valid_plan",
    "run_spec",
    "store_root",
    "write_plan",
]

FORMAT = 1


def __dir__() -> list[str]:
    return list(__all__)


def store_root(explicit: str | None = None) -> str:
    """The store directory: ``--store`` > ``$SIGLINK_STORE`` > ``$XDG_DATA_HOME/siglink`` >
    ``~/.local/share/siglink`` (absolute, user-expanded)."""
    root = explicit or os.environ.get("SIGLINK_STORE")
    if not root:
        data = os.environ.get("XDG_DATA_HOME") or os.path.join("~", ".local", "share")
        root = os.path.join(data, "siglink")
    return os.path.abspath(os.path.expanduser(root))


def read_generation(root: str) -> int:
    """The store's generation counter from ``ROOT/generation``; 0 when absent or unreadable."""
    try:
        with open(os.path.join(root, "generation"), "rb") as f:
            return int(f.read().split(b"\n", 1)[0].strip() or b"0")  # the global line
    except (OSError, ValueError):
        return 0


def app_manifest_path(app: str, module: bool = False, root: str | None = None) -> str:
    """Where an application's manifest lives (absolute path); THE definition for build and run.

    - script ``DIR/app.py`` -> ``DIR/app.siglink.json`` (another file ``DIR/x``:
      ``DIR/x.siglink.json``)
    - directory ``DIR/`` (``__main__.py`` or a project with a pyproject) -> ``DIR/siglink.json``
    - ``module=True``: ``-m pkg.mod`` run from ``CWD`` (the module is looked up from the
      current directory, as ``python -m`` does) -> in the store's own area (``root``, default
      :func:`store_root`), never in the current directory:
      ``ROOT/apps/modules/<CWD, %-quoted>/pkg.mod.siglink.json`` (:func:`module_dir`)
    """
    if module:
        return os.path.join(module_dir(root or store_root(), os.getcwd()), app + ".siglink.json")
    path = os.path.abspath(app)
    if os.path.isdir(path):
        return os.path.join(path, "siglink.json")
    stem = path[:-3] if path.endswith(".py") else path
    return stem + ".siglink.json"


def module_dir(root: str, cwd: str) -> str:
    """``ROOT/apps/modules/<cwd>``: where the manifests of ``-m`` applications run from ``cwd``
    live; ``cwd`` %-quoted into one name (``sha256-<hex>`` when that would be too long), so
    that :func:`siglink.store.app_display` can tell the directory back."""
    from urllib.parse import quote

    name = quote(cwd, safe="")
    if len(name) > 200:
        name = "sha256-" + _sha256_hex(cwd)
    return os.path.join(root, "apps", "modules", name)


def app_pyproject(manifest_path: str) -> str:
    """The ``pyproject.toml`` beside an app's manifest (may set ``[tool.siglink] policy``)."""
    return os.path.join(os.path.dirname(manifest_path), "pyproject.toml")


def flags_text(*, pre: bool = False, allow_yanked: bool = False, environment: bool = False) -> str:
    """The flags part of a plan's cache key, e.g. ``"pre,allow-yanked"``."""
    names = (("pre", pre), ("allow-yanked", allow_yanked), ("environment", environment))
    return ",".join(name for name, on in names if on)


def _sha256_hex(text: str) -> str:
    # _sha256 (3.11) / _sha2 (3.12+) are builtin and cost nothing to import; hashlib loads OpenSSL.
    try:
        from _sha256 import sha256  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        try:
            from _sha2 import sha256  # type: ignore[import-not-found, no-redef, unused-ignore]
        except ImportError:
            from hashlib import sha256  # type: ignore[assignment, unused-ignore]
    digest: str = sha256(text.encode("utf-8", "surrogateescape")).hexdigest()
    return digest


def plan_file(root: str, manifest_path: str, policy: str = "", flags: str = "") -> str:
    """``ROOT/plans/<key>.json`` for a request.

    ``policy`` is the policy *asked for on the command line* (``""`` when not given; the
    effective policy, which may come from the app's pyproject, is recorded inside the plan);
    ``flags`` is :func:`flags_text`. ``$SIGLINK_POLICY`` is part of the key.
    """
    key = "\0".join(
        (os.path.abspath(manifest_path), policy, flags, os.environ.get("SIGLINK_POLICY", ""))
    )
    return os.path.join(root, "plans", _sha256_hex(key)[:32] + ".json")


def write_plan(path: str, data: Record) -> None:
    """Write a plan record atomically (temporary file in the same directory, then rename).

    Beside ``KEY.json`` (for people and tools) goes ``KEY.warm``, the same record in
    :mod:`marshal` form, which the warm path reads without importing :mod:`json`.
    """
    import json
    import marshal

    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    text = json.dumps(data, indent=1, sort_keys=True).encode()
    # The sidecar first; a reader takes it only beside a JSON file of the size it records.
    _write_atomic(_sidecar(path), marshal.dumps({**json.loads(text), "json_size": len(text)}))
    _write_atomic(path, text)


def _sidecar(path: str) -> str:
    return (path[:-5] if path.endswith(".json") else path) + ".warm"


def _write_atomic(path: str, content: bytes) -> None:
    tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(content)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_plan(path: str) -> Record | None:
    """The plan record at ``path``, or None when absent, unreadable or not a format-1 record."""
    data = None
    try:
        with open(_sidecar(path), "rb") as f:
            warm = f.read()
        st = os.stat(path)
    except OSError:
        pass
    else:  # marshal is version-specific: the record checks the interpreter's version anyway
        import marshal

        try:
            data = marshal.loads(warm)
        except (ValueError, EOFError, TypeError):
            data = None
        if isinstance(data, dict) and data.get("json_size") != st.st_size:
            data = None  # the JSON file was rewritten (by hand or by an older writer) since
    if data is None:
        try:
            with open(path, "rb") as f:
                text = f.read()
        except OSError:
            return None
        import json

        try:
            data = json.loads(text)
        except ValueError:
            return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    return data


def _stat_record(path: str) -> Record | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return {"path": path, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _siglink_version() -> str:
    from siglink import __version__

    return __version__


def environment_fingerprint() -> list[list[Any]]:
    """``[[site_dir, mtime_ns], ...]`` of the interpreter's site-packages directories.

    Installing or removing a distribution adds or removes a ``*.dist-info`` directory, which
    changes its parent's mtime, so a plan that linked from the environment notices.
    """
    import site

    dirs = list(site.getsitepackages())
    user = site.getusersitepackages()
    if user:
        dirs.append(user)
    out = []
    for d in dirs:
        try:
            out.append([d, os.stat(d).st_mtime_ns])
        except OSError:
            continue
    return out


def read_valid_plan(path: str, root: str, manifest_path: str) -> Record | None:
    """The plan record at ``path`` when still valid for this store and interpreter, else None."""
    data = read_plan(path)
    if data is None:
        return None
    try:
        if data["generation"] != read_generation(root):
            return None
        python = data["python"]
        # sys.prefix, not sys.executable: python3 and python3.11 are one interpreter, while
        # two virtual environments of one interpreter differ in prefix.
        if python["prefix"] != sys.prefix or python["version"] != sys.version:
            return None
        if data["siglink"] != _siglink_version():
            return None
        manifest = data["manifest"]
        if manifest != _stat_record(os.path.abspath(manifest_path)):
            return None
        if data["pyproject"] != _stat_record(app_pyproject(manifest["path"])):
            return None
        if data.get("environment") is not None and data["environment"] != environment_fingerprint():
            return None
        for source in data["sources"]:  # the app's own files, edited (or touched) since
            if _stat_record(source["path"]) != source:
                return None
        inside = os.path.join(root, "")
        for link in data["links"].values():  # a damaged store: the cold path reports it
            if link.get("source") == "store" and not (
                    link["path"].startswith(inside) and link["dist_info"].startswith(inside)):
                return None  # a copied (or moved) store: its plans name the original's files
            if not os.path.isdir(link["path"]) or (
                    link["dist_info"] and not os.path.isdir(link["dist_info"])):
                return None
    except (KeyError, TypeError, AttributeError):
        return None
    return data


def run_spec(app: str, module: bool, entry: str | None) -> Record:
    """How to start the application: ``{"kind", "target", "path0"}``.

    - a script or a directory with ``__main__.py``: ``path`` (``runpy.run_path``), ``path0`` its
      directory (the directory itself for a directory app), as ``python APP`` does;
    - ``-m MODULE``: ``module`` (``runpy.run_module``), ``path0`` the current directory;
    - a project directory whose entry is ``func:pkg.mod:main``: ``func``, ``path0`` the project's
      ``src/`` when the package lives there, else the project directory.
    """
    if module:
        return {"kind": "module", "target": app, "path0": os.getcwd()}
    path = os.path.abspath(app)
    if os.path.isdir(path) and not os.path.exists(os.path.join(path, "__main__.py")):
        if entry and entry.startswith("func:"):
            target = entry[len("func:"):]
            top = target.split(":", 1)[0].split(".", 1)[0]
            src = os.path.join(path, "src")
            path0 = src if os.path.exists(os.path.join(src, top)) else path
            return {"kind": "func", "target": target, "path0": path0}
        if entry and entry.startswith("module:"):
            return {"kind": "module", "target": entry[len("module:"):], "path0": path}
    path0 = path if os.path.isdir(path) else os.path.dirname(path)
    return {"kind": "path", "target": path, "path0": path0}


def cache_record(
    plan: object,
    *,
    root: str,
    app: str,
    module: bool = False,
    generation: int | None = None,
    environment: bool = False,
) -> Record:
    """The record to :func:`write_plan` for a computed ``LinkPlan`` (duck-typed: ``links``,
    ``manifest_path``, ``entry``, ``policy``, ``warnings``).

    ``generation`` is the store generation the plan was computed against (read it *before*
    computing, so a concurrent install makes the record stale rather than wrong); ``app`` and
    ``module`` are as given to ``siglink run``.
    """
    manifest_path = os.path.abspath(plan.manifest_path)  # type: ignore[attr-defined]
    entry = plan.entry  # type: ignore[attr-defined]
    run = run_spec(app, module, entry)
    local = _local_names(run["path0"])
    warnings = list(getattr(plan, "warnings", ()))
    links = {}
    for name, lib in plan.links.items():  # type: ignore[attr-defined]
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
    return {
        "format": FORMAT,
        "generation": read_generation(root) if generation is None else generation,
        "siglink": _siglink_version(),
        "python": {"executable": sys.executable, "prefix": sys.prefix, "version": sys.version},
        "manifest": _stat_record(manifest_path),
        "pyproject": _stat_record(app_pyproject(manifest_path)),
        "environment": environment_fingerprint() if environment else None,
        "policy": plan.policy,  # type: ignore[attr-defined]
        "entry": entry,
        "run": run,
        "sources": _sources(manifest_path, run["path0"]),
        "links": links,
        "warnings": warnings,
    }


def _local_names(directory: str) -> set[str]:
    """Top-level module names ``directory`` provides (``x.py``, ``x/`` with Python files):
    first on ``sys.path`` when the application runs, so they win over any linked library."""
    names: set[str] = set()
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return names
    for entry in entries:
        try:
            if entry.is_file() and entry.name.endswith(".py"):
                names.add(entry.name[:-3])
            elif entry.is_dir() and entry.name.isidentifier() and any(
                    n.endswith(".py") for n in os.listdir(entry.path)):
                names.add(entry.name)
        except OSError:
            continue
    return names


def app_files(manifest_path: str, path0: str) -> dict[str, str]:
    """The application's own source files the manifest records (absolute path -> sha256)."""
    import json

    try:
        with open(manifest_path, "rb") as f:
            files = json.loads(f.read()).get("files") or {}
    except (OSError, ValueError, AttributeError):
        return {}
    return {os.path.join(path0, shown): digest for shown, digest in files.items()}


def _sources(manifest_path: str, path0: str) -> list[Record]:
    out = []
    for path in sorted(app_files(manifest_path, path0)):
        stat = _stat_record(path)
        out.append(stat if stat is not None else {"path": path, "size": -1, "mtime_ns": -1})
    return out
