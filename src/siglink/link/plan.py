"""Link plans: the chosen version of every library an application needs, with verdicts.

>>> LinkPlan("/app.siglink.json", "/app.siglink.json", None, "signature", {}, {}, ()).to_json()
{'app': '/app.siglink.json', 'policy': 'signature', 'links': {}, 'rejected': {}, 'warnings': []}
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from siglink.contracts.manifest import Manifest
from siglink.contracts.verdict import Verdict
from siglink.errors import BadInputError, LinkError, SiglinkError, StoreError

if TYPE_CHECKING:
    from siglink.link.resolve import LinkSource, Rejections

__all__ = [
    "LinkPlan",
    "LinkedLib",
    "compute",
    "effective_policy",
    "link",
    "load_app_manifest",
    "read_app_manifest",
    "relink",
]


def __dir__() -> list[str]:
    return list(__all__)


@dataclass(frozen=True)
class LinkedLib:
    """One linked library version and the merged verdict of every consumer's imports."""

    name: str
    version: str
    path: str
    dist_info: str
    top_level: tuple[str, ...]
    source: str  # "store" | "environment"
    verdict: Verdict

    @property
    def status(self) -> str:
        """``identical``, ``compatible``, ``usage-compatible`` or ``compatible (unverified)``."""
        if self.verdict.identical:
            return "identical"
        text = "usage-compatible" if self.verdict.usage_compatible else "compatible"
        if self.verdict.reviews:
            text += " with warnings"
        if self.verdict.unverified:
            text += " (unverified)"
        return text


@dataclass(frozen=True)
class LinkPlan:
    """The result of linking one application (``app`` is its absolute manifest path)."""

    app: str
    manifest_path: str
    entry: str | None
    policy: str
    links: dict[str, LinkedLib]
    rejected: Rejections  # explained on first access
    warnings: tuple[str, ...]

    @property
    def versions(self) -> dict[str, str]:
        return {name: lib.version for name, lib in self.links.items()}

    def to_json(self) -> dict[str, Any]:
        links = {
            name: {
                "version": lib.version,
                "path": lib.path,
                "source": lib.source,
                "verdict": {**lib.verdict.to_json(), "status": lib.status},
            }
            for name, lib in sorted(self.links.items())
        }
        rejected = {
            name: [
                {"version": version,
                 "problems": why.to_json()["problems"] if isinstance(why, Verdict)
                 else [{"rule": "", "note": why, "severity": "incompatible"}]}
                for version, why in items
            ]
            for name, items in sorted(self.rejected.items())
        }
        return {"app": self.app, "policy": self.policy, "links": links, "rejected": rejected,
                "warnings": list(self.warnings)}


def effective_policy(manifest_path: str, asked: str | None = None) -> str:
    """``--policy`` > ``$SIGLINK_POLICY`` > the app's ``pyproject.toml`` ``[tool.siglink]
    policy`` > ``signature``."""
    from siglink.link.resolve import POLICIES

    policy = asked or os.environ.get("SIGLINK_POLICY") or ""
    source = "--policy" if asked else "$SIGLINK_POLICY"
    if not policy:
        pyproject = os.path.join(os.path.dirname(manifest_path), "pyproject.toml")
        source = pyproject
        try:
            with open(pyproject, "rb") as f:
                data = tomllib.load(f)
        except FileNotFoundError:
            data = {}
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise BadInputError(f"{pyproject}: cannot be read: {e}", path=pyproject) from e
        policy = str(data.get("tool", {}).get("siglink", {}).get("policy", "signature"))
    if policy not in POLICIES:
        raise BadInputError(f"{source}: unknown policy {policy!r} (one of {', '.join(POLICIES)})")
    return policy


def load_app_manifest(app: str, *, module: bool = False) -> tuple[Manifest, str]:
    """The application's manifest and its path; :class:`BadInputError` when it was never built."""
    from siglink.link._cache import app_manifest_path

    path = app_manifest_path(app, module)
    if not os.path.exists(path):
        build = f"siglink build -m {app}" if module else f"siglink build {app}"
        raise BadInputError(f"{path}: no manifest for {app}; run '{build}' first", path=path)
    return read_app_manifest(path), path


def read_app_manifest(path: str) -> Manifest:
    """The application manifest at ``path``."""
    try:
        with open(path, "rb") as f:
            text = f.read()
    except OSError as e:
        raise BadInputError(f"{path}: cannot be read: {e.strerror}", path=path) from e
    from siglink.link.resolve import _gc_paused

    with _gc_paused():  # thousands of parsed imports, no cycles: see _gc_paused
        manifest = Manifest.loads(text, source=path)
    if manifest.unit.kind != "application":
        raise BadInputError(f"{path}: not an application manifest (kind {manifest.unit.kind})",
                            path=path)
    return manifest


def compute(
    store: Any, manifest: Manifest, *, manifest_path: str, policy: str = "signature",
    pre: bool = False, allow_yanked: bool = False, source: LinkSource | None = None,
) -> LinkPlan:
    """Link ``manifest``'s application against ``store``.

    :param source: read versions from this instead of ``store`` (a hypothetical store, for
        impact prediction).
    :raises LinkError: no compatible set of versions; the message lists every unsatisfied
        import and why each candidate was refused (exit 127).
    """
    from siglink.link.resolve import StoreSource, app_requirements, resolve

    app = os.path.abspath(manifest_path)
    if source is None:
        source = StoreSource(store)
    requirements = app_requirements(app, manifest.imports, policy)
    warnings = [f"{i.location or app}: dynamic use of {i.path} ({i.dynamic}): not checked"
                for items in manifest.imports.values() for i in items
                if i.dynamic and i.expected is None]
    resolution = resolve(source, requirements, app=app, policy=policy, pre=pre,
                         allow_yanked=allow_yanked)
    links = {}
    for name, candidate in sorted(resolution.chosen.items()):
        stored = candidate.stored
        links[name] = LinkedLib(
            name=name,
            version=stored.version,
            path=str(stored.path),
            dist_info=str(stored.dist_info or ""),
            top_level=tuple(stored.top_level),
            source=str(getattr(stored, "source", "store") or "store"),
            verdict=resolution.verdicts[name],
        )
        if _yanked(stored):
            warnings.append(f"{name} {stored.version} is yanked ({_yanked(stored)}), "
                            "linked because of --allow-yanked")
    return LinkPlan(app, app, manifest.entry, policy, links, resolution.rejected,
                    (*warnings, *resolution.warnings))


def _yanked(stored: Any) -> str | None:
    yanked = getattr(stored, "yanked", None)
    if not yanked:
        return None
    return yanked if isinstance(yanked, str) else "yanked"



def link(
    store: Any, manifest: Manifest, *, manifest_path: str, policy: str = "signature",
    pre: bool = False, allow_yanked: bool = False,
    on_unrecorded: Callable[[str], None] | None = None,
) -> LinkPlan:
    """:func:`compute`, and record the outcome in the store's registrations (what
    ``siglink who-uses`` lists): the versions linked, or, when the link is refused, the
    libraries the application needs and why none links.

    :param on_unrecorded: called with a message when the store cannot record it (a read-only
        store); without it, that failure raises (a refused link raises its LinkError anyway).
    :raises LinkError: as :func:`compute`.
    """
    from siglink.link.resolve import LinkFailure

    app = os.path.abspath(manifest_path)
    try:
        plan = compute(store, manifest, manifest_path=manifest_path, policy=policy, pre=pre,
                       allow_yanked=allow_yanked)
    except LinkError as e:
        failure = e.report if isinstance(e.report, LinkFailure) else None
        needed: dict[str, str | None] = dict.fromkeys(
            sorted({*manifest.imports, *(failure.names if failure else ())}))
        why = failure.summary if failure else e.message.splitlines()[0]
        _record(store, app, needed, why or "refused",
                on_unrecorded or (lambda message: None))
        raise
    _record(store, app, plan.versions, None, on_unrecorded)
    return plan


def _record(
    store: Any, app: str, links: Mapping[str, str | None], refused: str | None,
    on_unrecorded: Callable[[str], None] | None,
) -> None:
    try:
        store.register_app(app, manifest_path=app, links=links, refused=refused)
    except (OSError, StoreError) as e:
        if on_unrecorded is None:
            raise
        on_unrecorded(f"cannot record the application in {store.root}: {e}")


def relink(store: Any, app_ids: Sequence[str]) -> list[tuple[str, dict[str, str] | None, str]]:
    """Link registered applications again (after a forced removal) and record the outcome:
    ``(app_id, versions linked or None, why not)`` for each."""
    registered = {app.app_id: app for app in store.apps()}
    out: list[tuple[str, dict[str, str] | None, str]] = []
    for app_id in app_ids:
        app = registered.get(app_id)
        try:
            if app is None:
                raise BadInputError(f"{app_id} is not registered")
            manifest = read_app_manifest(app.manifest_path)
            plan = link(store, manifest, manifest_path=app.manifest_path,
                        policy=effective_policy(app.manifest_path))
        except LinkError as e:
            summary = getattr(e.report, "summary", "") or e.message.splitlines()[0]
            out.append((app_id, None, summary))
        except SiglinkError as e:
            out.append((app_id, None, e.message))
        else:
            out.append((app_id, plan.versions, ""))
    return out
