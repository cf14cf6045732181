"""``siglink relink``: rebuild a bundle from itself with the newest compatible stored versions.

The application's recorded imports travel inside the bundle (its manifest), so a security fix
installed in the store can be put into a bundle without the application's sources: the plan
is computed as ``siglink plan`` computes it, against that manifest.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from siglink._text import decode
from siglink.bundle._compile import interpreter_for
from siglink.bundle.assemble import AppPart, assemble
from siglink.bundle.build import BundleResult, lib_part, write_bundle
from siglink.bundle.reader import open_bundle
from siglink.errors import BadInputError

__all__ = ["RelinkResult", "relink_bundle"]


def __dir__() -> list[str]:
    return list(__all__)


@dataclass(frozen=True)
class RelinkResult:
    """What a relink changed: ``moved`` name -> (old, new); ``stayed`` name -> (version, why
    no newer stored version links, or "" when none is newer)."""

    moved: dict[str, tuple[str, str]] = field(default_factory=dict)
    stayed: dict[str, tuple[str, str]] = field(default_factory=dict)
    added: dict[str, str] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)
    written: BundleResult | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "moved": {n: {"from": a, "to": b} for n, (a, b) in sorted(self.moved.items())},
            "stayed": {n: {"version": v, "why": w} for n, (v, w) in sorted(self.stayed.items())},
            "added": dict(sorted(self.added.items())),
            "dropped": dict(sorted(self.dropped.items())),
            "written": str(self.written.path) if self.written else None,
        }


def relink_bundle(path: str | os.PathLike[str], *, output: str | os.PathLike[str] | None = None,
                  dry_run: bool = False, store: str | None = None, pre: bool = False,
                  allow_yanked: bool = False) -> RelinkResult:
    """Plan the bundle's application against the store and, unless ``dry_run``, write the
    bundle with the chosen versions to ``output`` (default: in place).

    :raises BadInputError: not a siglink bundle, or one modified since it was built.
    :raises LinkError: no compatible set of versions in the store (exit 127).
    """
    from siglink.link.plan import compute, read_app_manifest, rejected_json
    from siglink.store import Store

    bundle = open_bundle(path)
    problems = bundle.problems()
    if problems:
        raise BadInputError(f"{bundle.path}: {problems[0]} after the bundle was built; "
                            "refusing to relink it", path=str(bundle.path))
    info = bundle.info
    app_info = info["app"]
    manifest_text = decode(bundle.members[app_info["manifest"]],
                           f"{bundle.path}: {app_info['manifest']}")
    with tempfile.TemporaryDirectory(prefix="siglink-relink-") as tmp:
        manifest_path = os.path.join(tmp, "app.siglink.json")
        Path(manifest_path).write_text(manifest_text, encoding="utf-8")
        manifest = read_app_manifest(manifest_path)
        from siglink._layout import store_root

        lib_store = Store(store_root(store))
        try:
            plan = compute(lib_store, manifest, manifest_path=manifest_path,
                           policy=app_info.get("policy") or "signature", pre=pre,
                           allow_yanked=allow_yanked)
        finally:
            lib_store.close()
    old = {name: lib["version"] for name, lib in info["libs"].items()}
    new = plan.versions
    rejected = rejected_json(plan.rejected)
    result = RelinkResult(
        moved={n: (old[n], new[n]) for n in old if n in new and old[n] != new[n]},
        stayed={n: (old[n], _why(rejected.get(n, []), old[n])) for n in old
                if new.get(n) == old[n]},
        added={n: v for n, v in new.items() if n not in old},
        dropped={n: v for n, v in old.items() if n not in new},
    )
    if dry_run:
        return result
    local = _local_names(bundle.app_files())
    libs = []
    for name, lib in sorted(plan.links.items()):
        link = {"path": lib.path, "dist_info": lib.dist_info, "version": lib.version,
                "source": lib.source, "top_level": [t for t in lib.top_level if t not in local]}
        libs.append(lib_part(name, link))
    interpreter, python = interpreter_for(info["python"])
    plan_json = plan.to_json()
    for entry in plan_json["links"].values():
        entry.pop("path", None)
    app = AppPart(name=app_info["name"], version=app_info["version"],
                  files=bundle.app_files(), run=app_info["run"], manifest=manifest_text,
                  policy=app_info.get("policy") or "signature")
    target = Path(output) if output is not None else bundle.path
    assembled = assemble(app, libs, plan=plan_json, python=python, interpreter=interpreter,
                         prune=bool(info.get("prune")))
    written = write_bundle(assembled, target)
    return RelinkResult(result.moved, result.stayed, result.added, result.dropped, written)


def _why(rejections: list[dict[str, Any]], current: str) -> str:
    """One line: why the newest rejected version did not link (empty when none was newer).

    >>> refused = [{"version": "3.0", "problems": [{"rule": "P1", "path": "attrs.define",
    ...                                              "expected": "function", "found": "absent"}]}]
    >>> _why(refused, "2.1")
    '3.0 refused: P1 attrs.define expected function, found absent'
    >>> _why(refused, "3.1")
    ''
    """
    from packaging.version import InvalidVersion, Version

    def newer(entry: dict[str, Any]) -> bool:
        try:
            return bool(Version(entry["version"]) > Version(current))
        except InvalidVersion:
            return False

    candidates = [r for r in rejections if newer(r)]
    if not candidates:
        return ""
    best = candidates[0]
    problem = (best.get("problems") or [{}])[0]
    rule = problem.get("rule") or ""
    where = problem.get("path") or ""
    detail = problem.get("note") or (
        f"expected {problem.get('expected')}, found {problem.get('found')}"
        if problem.get("expected") is not None or problem.get("found") is not None else "")
    text = " ".join(part for part in (rule, where, detail) if part)
    return f"{best['version']} refused: {text}".strip()


def _local_names(files: dict[str, bytes]) -> set[str]:
    names = set()
    for rel in files:
        top = rel.split("/", 1)[0]
        if "/" in rel:
            names.add(top)
        elif top.endswith(".py"):
            names.add(top[:-3])
    return names
