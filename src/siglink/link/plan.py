"""Link plans: the chosen version of every library an application needs, with verdicts.

>>> LinkPlan("/app.siglink.json", "/app.siglink.json", None, "signature", {}, {}, ()).to_json()
{'app': '/app.siglink.json', 'policy': 'signature', 'links': {}, 'rejected': {}, 'warnings': []}
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from siglink.contracts.manifest import Import, Manifest
from siglink.contracts.policy import POLICIES, Policy, is_policy
from siglink.contracts.verdict import Verdict
from siglink.errors import BadInputError, LinkError, SiglinkError, StoreError
from siglink.link.app import Application
from siglink.link.change import AppImpact, describe

if TYPE_CHECKING:
    from siglink.link.resolve import LinkSource, Rejections
    from siglink.store import Store, StoredVersion

__all__ = [
    "LinkPlan",
    "LinkedLib",
    "compute",
    "effective_policy",
    "load_app_manifest",
    "plan_and_register",
    "read_app_manifest",
    "rejected_json",
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
    policy: Policy
    links: dict[str, LinkedLib]
    rejected: Rejections  # explained on first access
    warnings: tuple[str, ...]
    generation: int | None = None  # the store generation (of the index read) it was planned from
    considered: frozenset[str] = frozenset()
    """The libraries whose versions the resolver examined (the linked ones among them): the
    plan stays valid while none of them changes."""

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
        return {"app": self.app, "policy": self.policy, "links": links,
                "rejected": rejected_json(self.rejected), "warnings": list(self.warnings)}


def rejected_json(rejected: Rejections) -> dict[str, list[dict[str, Any]]]:
    """``{NAME: [{"version", "problems": [...]}]}``: a refusal that is not a verdict (yanked,
    a requirement) is one problem with an empty rule and the reason as its note."""
    return {
        name: [
            {"version": version,
             "problems": why.to_json()["problems"] if isinstance(why, Verdict)
             else [{"rule": "", "note": why, "severity": "incompatible"}]}
            for version, why in items
        ]
        for name, items in sorted(rejected.items())
    }


def effective_policy(manifest_path: str, asked: str | None = None) -> Policy:
    """``--policy`` > ``$SIGLINK_POLICY`` > the app's ``pyproject.toml`` ``[tool.siglink]
    policy`` > ``signature``."""
    policy = asked or os.environ.get("SIGLINK_POLICY") or ""
    source = "--policy" if asked else "$SIGLINK_POLICY"
    if not policy:
        pyproject = os.path.join(os.path.dirname(manifest_path), "pyproject.toml")
        source = pyproject
        from siglink._foreign import ForeignFileError, read_foreign

        try:  # maybe another user's (a registration): read as the manifest is
            data = tomllib.loads(read_foreign(pyproject)[0].decode())
        except FileNotFoundError:
            data = {}
        except (OSError, ForeignFileError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise BadInputError(f"{pyproject}: cannot be read: {e}", path=pyproject) from e
        policy = str(data.get("tool", {}).get("siglink", {}).get("policy", "signature"))
    if not is_policy(policy):
        raise BadInputError(f"{source}: unknown policy {policy!r} (one of {', '.join(POLICIES)})")
    return policy


def load_app_manifest(app: Application) -> Manifest:
    """The application's manifest; :class:`BadInputError` when it was never built."""
    path = app.manifest_path
    if not os.path.exists(path):
        build = f"siglink build -m {app.target}" if app.module else f"siglink build {app.target}"
        raise BadInputError(f"{path}: no manifest for {app.target}; run '{build}' first",
                            path=path)
    return read_app_manifest(path)


_PARSED: dict[tuple[str, bytes], Manifest] = {}  # manifests are frozen: safe to share


def read_app_manifest(path: str) -> Manifest:
    """The application manifest at ``path``."""
    import hashlib

    from siglink._foreign import MANIFEST_LIMIT, ForeignFileError, read_foreign

    try:  # maybe another user's (a registration): no FIFO, device or planted link is opened
        text = read_foreign(path, MANIFEST_LIMIT)[0]
    except ForeignFileError as e:
        raise BadInputError(f"{path}: not read: it {e.reason}", path=path) from e
    except OSError as e:
        raise BadInputError(f"{path}: cannot be read: {e.strerror}", path=path) from e
    key = (path, hashlib.sha256(text).digest())  # many registrations, one file: parsed once
    manifest = _PARSED.get(key)
    if manifest is None:
        from siglink._gc import fewer_collections

        with fewer_collections():  # thousands of parsed imports: see siglink._gc
            manifest = Manifest.loads(text, source=path)
        if len(_PARSED) >= 64:
            _PARSED.clear()
        _PARSED[key] = manifest
    if manifest.unit.kind != "application":
        raise BadInputError(f"{path}: not an application manifest (kind {manifest.unit.kind})",
                            path=path)
    return manifest


def compute(
    store: Store | None, manifest: Manifest, *, manifest_path: str, policy: Policy = "signature",
    pre: bool = False, allow_yanked: bool = False, source: LinkSource | None = None,
    verify: bool = True,
) -> LinkPlan:
    """Link ``manifest``'s application against ``store``.

    A module the application requires that no library provides refuses the link: the running
    environment takes part only when ``store`` was opened with ``environment=True``.

    :param source: read versions from this instead of ``store`` (a hypothetical store, for
        impact prediction); ``store`` may then be None.
    :param verify: check that each chosen version's directories exist (not for hypothetical
        versions).
    :raises LinkError: no compatible set of versions; the message lists every unsatisfied
        import and why each candidate was refused (exit 127).
    :raises StoreError: a chosen version's directory is missing (a damaged store, exit 3).
    """
    if source is not None or store is None:
        if source is None:
            raise TypeError("compute() needs a store or a source")
        return _compute(store, manifest, manifest_path=manifest_path, policy=policy, pre=pre,
                        allow_yanked=allow_yanked, source=source, verify=verify)
    with store.snapshot() as generation:  # plan from one committed index, keyed by its generation
        plan = _compute(store, manifest, manifest_path=manifest_path, policy=policy, pre=pre,
                        allow_yanked=allow_yanked, source=source, verify=verify)
    return dataclasses.replace(plan, generation=generation)


def _compute(
    store: Store | None, manifest: Manifest, *, manifest_path: str, policy: Policy,
    pre: bool, allow_yanked: bool, source: LinkSource | None, verify: bool,
) -> LinkPlan:
    from siglink.link.constraints import limits
    from siglink.link.resolve import LinkFailure, StoreSource, app_requirements, resolve

    app = os.path.abspath(manifest_path)
    if source is None:
        assert store is not None
        source = StoreSource(store)
    imports, unprovided = _provided(source, manifest)
    requirements = app_requirements(app, imports, policy)
    warnings = [f"{i.location or app}: dynamic use of {i.path} ({i.dynamic}): not checked"
                for items in manifest.imports.values() for i in items
                if i.dynamic and i.expected is None]
    environment = store is not None and store.environment
    try:
        resolution = resolve(source, requirements, app=app, policy=policy, pre=pre,
                             allow_yanked=allow_yanked, constraints=limits(manifest.requires),
                             warnings_error=manifest.warnings_error)
    except LinkError as e:
        if unprovided and isinstance(e.report, LinkFailure):
            for module, where in unprovided.items():
                e.report.unprovided(module, where, environment=environment)
            raise LinkError(e.report.text(), report=e.report) from None
        raise
    if unprovided:
        failure = LinkFailure(None, app)
        for module, where in unprovided.items():
            failure.unprovided(module, where, environment=environment)
        raise LinkError(failure.text(), report=failure)
    links = {}
    for name, candidate in sorted(resolution.chosen.items()):
        stored = candidate.stored
        links[name] = LinkedLib(
            name=name,
            version=stored.version,
            path=str(stored.path),
            dist_info=str(stored.dist_info or ""),
            top_level=tuple(stored.top_level),
            source=stored.source or "store",
            verdict=resolution.verdicts[name],
        )
        if _yanked(stored):
            warnings.append(f"{name} {stored.version} is yanked ({_yanked(stored)}), "
                            "linked because of --allow-yanked")
        if verify:
            _verify(links[name])
    considered = source.considered() if isinstance(source, StoreSource) else ()
    return LinkPlan(app, app, manifest.entry, policy, links, resolution.rejected,
                    (*warnings, *resolution.warnings),
                    considered=frozenset((*considered, *links)))


def _provided(
    source: LinkSource, manifest: Manifest
) -> tuple[dict[str, tuple[Import, ...]], dict[str, str]]:
    """The application's imports per distribution, with its uses of modules it was built
    without a provider for attributed to the library that provides them now; and the modules
    it requires that none provides (module -> where it is first imported)."""
    imports = dict(manifest.imports)
    missing: dict[str, str] = {}
    for module, items in sorted(manifest.unprovided.items()):
        names = source.providers(module)
        if names:
            imports[names[0]] = (*imports.get(names[0], ()), *items)
            continue
        required = [i.location or "" for i in items if not i.optional]
        if required:
            missing[module] = min(required, key=_location_key)
    return imports, missing


def _location_key(location: str) -> tuple[str, int]:
    file, _, line = location.rpartition(":")
    return (file, int(line) if line.isdigit() else 0)


def _verify(lib: LinkedLib) -> None:
    """A linked version's directory and metadata must exist: the import hook would otherwise
    fall through to whatever else provides the module."""
    for path in (lib.path, lib.dist_info):
        if path and not os.path.isdir(path):
            raise StoreError(f"store damaged: {path} is missing; reinstall "
                             f"{lib.name}=={lib.version} or remove it")


def _yanked(stored: StoredVersion) -> str | None:
    return stored.yanked or None



def plan_and_register(
    store: Store, manifest: Manifest, *, manifest_path: str, policy: Policy = "signature",
    pre: bool = False, allow_yanked: bool = False,
    on_unrecorded: Callable[[str], None] | None = None, source: LinkSource | None = None,
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
                       allow_yanked=allow_yanked, source=source)
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
    store: Store, app: str, links: Mapping[str, str | None], refused: str | None,
    on_unrecorded: Callable[[str], None] | None,
) -> None:
    try:
        store.register_app(app, manifest_path=app, links=links, refused=refused)
    except (OSError, StoreError) as e:
        if on_unrecorded is None:
            raise
        on_unrecorded(f"cannot record the application in {store.root}: {e}")


def relink(store: Store, app_ids: Iterable[str] | None = None) -> list[AppImpact]:
    """Link registered applications again after a change to the store (an install, a removal,
    a yank) and record each outcome in the store's registrations.

    ``app_ids`` defaults to every registered application. One application's failure (a refused
    link, a manifest gone or unreadable, a registration that cannot be written) never stops the
    others: it is recorded (when the store can record it) and reported as that application's
    ``stop`` (or ``stay`` when it did not link before either). Versions and manifests are read
    once for all applications.

    :returns: one :class:`~siglink.link.change.AppImpact` per application, in order:
        ``(app_id, before, after, status, reason)``, ``before`` the versions it was registered
        as linking (None when it was refused), ``after`` what it links now (None when refused),
        ``status`` ``move`` / ``stay`` / ``stop``.
    """
    from siglink.link.resolve import LinkFailure, StoreSource

    registered = {app.app_id: app for app in store.apps()}
    source = StoreSource(store)
    out: list[AppImpact] = []
    for app_id in (list(registered) if app_ids is None else app_ids):
        app = registered.get(app_id)
        before: dict[str, str] | None = None
        if app is not None and not app.refused:
            before = {n: v for n, v in app.links.items() if v is not None}
        notes: list[str] = []
        try:
            if app is None:
                raise BadInputError(f"{app_id} is not registered")
            manifest = read_app_manifest(app.manifest_path)
            plan = plan_and_register(store, manifest, manifest_path=app.manifest_path,
                        policy=effective_policy(app.manifest_path), on_unrecorded=notes.append,
                        source=source)
        except LinkError as e:
            why = e.report.summary if isinstance(e.report, LinkFailure) else ""
            out.append(describe(app_id, before, None, why or e.message.splitlines()[0]))
        except Exception as e:  # one application never stops the others
            why = e.message if isinstance(e, SiglinkError) else f"{type(e).__name__}: {e}"
            if app is not None:
                needed = dict.fromkeys(app.links)
                _record(store, app_id, needed, why, notes.append)
            out.append(describe(app_id, before, None, why))
        else:
            out.append(describe(app_id, before, plan.versions, ""))
        if notes:
            last = out[-1]
            out[-1] = AppImpact(last.app_id, last.before, last.after, last.status,
                                "; ".join(filter(None, (last.reason, *notes))))
    return out
