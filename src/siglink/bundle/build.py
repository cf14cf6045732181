"""``siglink bundle``: link an application as ``siglink run`` would, then write one zipapp.

The plan and its checks are exactly ``run``'s (a refused link refuses the bundle with the same
explanation, exit 127); the bundle then holds the application, exactly the versions linked,
their manifests and the plan.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from siglink._files import write_atomic
from siglink.bundle._compile import interpreter_for
from siglink.bundle.assemble import AppPart, Assembled, LibPart, assemble
from siglink.errors import BadInputError

__all__ = ["BundleResult", "bundle_app", "lib_part", "write_bundle"]

_SKIP_DIRS = frozenset({"__pycache__", ".git", ".hg", ".svn", ".venv", "venv", ".tox",
                        ".mypy_cache", ".pytest_cache", ".ruff_cache", "node_modules"})


def __dir__() -> list[str]:
    return list(__all__)


@dataclass(frozen=True)
class BundleResult:
    """A written bundle: where, its size, the versions inside, what ``--prune`` kept whole."""

    path: Path
    size: int
    versions: dict[str, str]
    kept_whole: dict[str, str]
    info: dict[str, Any]


def bundle_app(app: str, output: str | os.PathLike[str], *, module: bool = False,
               store: str | None = None, policy: str | None = None, prune: bool = False,
               python_version: str | None = None, pre: bool = False,
               allow_yanked: bool = False) -> BundleResult:
    """Link ``app`` against the store and write its bundle to ``output``.

    :raises LinkError: the link is refused (exit 127), as for ``siglink run``.
    :raises BadInputError: a missing application, an unusable output or interpreter.
    """
    from siglink.contracts.policy import policy_of
    from siglink.link.app import Application, PlanRequest
    from siglink.link.plan import read_app_manifest
    from siglink.link.run import prepare

    interpreter, python = interpreter_for(python_version)
    request = PlanRequest(policy_of(policy) if policy else None, pre=pre,
                          allow_yanked=allow_yanked)
    from siglink._layout import store_root

    linked = prepare(Application.resolve(app, module, store_root(store)), request, store=store)
    record: dict[str, Any] = dict(linked.record)
    manifest = read_app_manifest(linked.plan.manifest_path)
    with open(linked.plan.manifest_path, encoding="utf-8") as f:
        manifest_text = f.read()
    app_part = AppPart(
        name=manifest.unit.name, version=manifest.unit.version,
        files=_app_files(record), run=_run_spec(record["run"]), manifest=manifest_text,
        policy=linked.plan.policy)
    libs = [lib_part(name, link) for name, link in sorted(record["links"].items())]
    plan = linked.plan.to_json()
    for entry in plan["links"].values():
        entry.pop("path", None)  # a path on the building machine says nothing inside a bundle
    assembled = assemble(app_part, libs, plan=plan, python=python, interpreter=interpreter,
                         prune=prune)
    return write_bundle(assembled, output)


def write_bundle(assembled: Assembled, output: str | os.PathLike[str]) -> BundleResult:
    """Write ``assembled`` to ``output`` atomically, executable (``./APP.pyz`` runs it)."""
    path = Path(output)
    if path.is_dir():
        raise BadInputError(f"{path}: is a directory; give the bundle's file name with -o",
                            path=str(path))
    try:
        write_atomic(path, assembled.data, mode=0o755)
    except OSError as e:
        raise BadInputError(f"{path}: cannot be written: {e.strerror or e}",
                            path=str(path)) from e
    versions = {name: lib["version"] for name, lib in assembled.info["libs"].items()}
    return BundleResult(path, len(assembled.data), versions, assembled.whole, assembled.info)


def lib_part(name: str, link: Mapping[str, Any]) -> LibPart:
    """A stored library version as a bundle part (its directory as the store holds it)."""
    root = Path(link["path"])
    files = dict(_walk(root))
    dist_info = Path(link["dist_info"]).name if link.get("dist_info") else ""
    manifest = None
    if dist_info and f"{dist_info}/siglink.json" in files:
        # kept once, under .siglink/manifests/: the store wrote it, the wheel did not ship it
        manifest = files.pop(f"{dist_info}/siglink.json").decode("utf-8", "replace")
    return LibPart(name=name, version=link["version"], dist_info=dist_info,
                   top_level=tuple(link["top_level"]), files=files,
                   source={"kind": link.get("source", "store"), "path": str(root)},
                   manifest=manifest)


def _walk(root: Path) -> Iterator[tuple[str, bytes]]:
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in sorted(files):
            if name.endswith((".pyc", ".pyo")):
                continue
            path = Path(directory, name)
            if path.is_symlink() or not path.is_file():
                continue
            yield path.relative_to(root).as_posix(), path.read_bytes()


def _app_files(record: Mapping[str, Any]) -> dict[str, bytes]:
    run = record["run"]
    path0 = Path(run["path0"])
    if run["kind"] == "path" and Path(run["target"]).is_dir():
        return dict(_walk(Path(run["target"])))
    files: dict[str, bytes] = {}
    wanted = [Path(s["path"]) for s in record.get("sources", ())]
    if run["kind"] == "path":
        wanted.append(Path(run["target"]))
    for path in wanted:
        try:
            rel = path.resolve().relative_to(path0.resolve()).as_posix()
        except ValueError:
            continue  # outside the application's directory: not its own
        try:
            data = path.read_bytes()
        except OSError as e:
            raise BadInputError(f"{path}: cannot be read: {e.strerror}", path=str(path)) from e
        if run["kind"] == "path" and path == Path(run["target"]) and not rel.endswith(".py"):
            rel += ".py"  # imported by module name inside the bundle
        files[rel] = data
    return files


def _run_spec(run: Mapping[str, str]) -> dict[str, str]:
    kind, target = run["kind"], run["target"]
    if kind == "module":
        return {"module": target}
    if kind == "func":
        return {"func": target}
    path = Path(target)
    if path.is_dir():
        return {"module": "__main__"}
    return {"module": path.name[:-3] if path.name.endswith(".py") else path.name}


def read_json(data: bytes, source: str) -> dict[str, Any]:
    """A JSON object from a bundle member; :class:`BadInputError` naming it otherwise.

    >>> read_json(b'{"format": 1}', "app.pyz:bundle.json")
    {'format': 1}
    >>> read_json(b"[1, 2]", "app.pyz:bundle.json")
    Traceback (most recent call last):
    siglink.errors.BadInputError: app.pyz:bundle.json: expected a JSON object
    """
    try:
        value = json.loads(data)
    except (ValueError, RecursionError) as e:
        raise BadInputError(f"{source}: not valid JSON: {e}", path=source) from e
    if not isinstance(value, dict):
        raise BadInputError(f"{source}: expected a JSON object", path=source)
    return value
