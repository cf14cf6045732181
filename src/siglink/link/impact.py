"""Impact prediction: what an install or a yank would do to every registered application.

Each application is linked twice, against the store as it is and against the store with the
hypothetical change laid over it (versions added, versions yanked); nothing is written.

>>> AppImpact("/a.siglink.json", {"x": "1.0"}, {"x": "1.1"}, "move", "x 1.0 -> 1.1").status
'move'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from siglink.errors import SiglinkError
from siglink.link.change import AppImpact, describe
from siglink.link.plan import compute, effective_policy, read_app_manifest
from siglink.link.resolve import LinkSource, ManifestView, StoreSource
from siglink.store import version_key

if TYPE_CHECKING:
    from siglink.contracts.manifest import Manifest
    from siglink.contracts.policy import Policy
    from siglink.store import Store, StoredVersion

__all__ = ["AppImpact", "describe", "predict"]


def __dir__() -> list[str]:
    return list(__all__)



class _Overlay:
    """A store with hypothetical versions added and versions yanked."""

    def __init__(
        self, base: StoreSource, add: Sequence[tuple[StoredVersion, Manifest]],
        yank: Sequence[tuple[str, str]], reason: str = "dry run",
    ) -> None:
        self.base = base
        self.reason = reason or "dry run"
        self.added: dict[tuple[str, str], tuple[StoredVersion, Manifest]] = {
            (canonicalize_name(v.name), v.version): (v, m) for v, m in add
        }
        self.yanked = {(canonicalize_name(n), v) for n, v in yank}
        self._views: dict[tuple[str, str], ManifestView] = {}

    def versions(self, name: str) -> Sequence[StoredVersion]:
        name = canonicalize_name(name)
        found = {v.version: v for v in self.base.versions(name)}
        for (added_name, version), (stored, _) in self.added.items():
            if added_name == name:
                found[version] = stored
        out = []
        for version, stored in found.items():
            yanked = (name, version) in self.yanked and not stored.yanked
            out.append(dataclasses.replace(stored, yanked=self.reason) if yanked else stored)
        out.sort(key=lambda v: version_key(v.version), reverse=True)
        return out

    def providers(self, module: str) -> list[str]:
        found = self.base.providers(module)
        for (name, _), (stored, _) in self.added.items():
            if module in stored.top_level and name not in found:
                found.append(name)
        return found

    def view(self, name: str, version: str) -> ManifestView:
        key = (canonicalize_name(name), version)
        if key in self.added:
            found = self._views.get(key)
            if found is None:
                found = self._views[key] = ManifestView(manifest=self.added[key][1])
            return found
        return self.base.view(name, version)


def _link(store: Store, manifest: Manifest, path: str, policy: Policy,
          source: LinkSource) -> tuple[dict[str, str] | None, str]:
    try:
        plan = compute(store, manifest, manifest_path=path, policy=policy, source=source,
                       verify=False)
    except SiglinkError as e:
        summary = getattr(getattr(e, "report", None), "summary", "")
        return None, summary or " ".join(line.strip() for line in e.message.splitlines()[1:4])
    return plan.versions, ""


def predict(
    store: Store, *, add: Sequence[tuple[StoredVersion, Manifest]] = (),
    yank: Sequence[tuple[str, str]] = (), reason: str = "",
) -> list[AppImpact]:
    """For every application registered in ``store``: how its link would change if ``add``
    were installed and ``yank`` yanked (with ``reason``). Writes nothing."""
    base = StoreSource(store)
    overlay = _Overlay(base, add, yank, reason)
    out = []
    for app in store.apps():
        try:
            path = app.manifest_path
            manifest = read_app_manifest(path)
            policy = effective_policy(path)
        except SiglinkError as e:
            linked = {n: v for n, v in app.links.items() if v is not None}
            out.append(AppImpact(app.app_id, linked or None, None, "stop",
                                 f"cannot be relinked: {e.message}"))
            continue
        before, _ = _link(store, manifest, path, policy, base)
        after, error = _link(store, manifest, path, policy, overlay)
        out.append(describe(app.app_id, before, after, error))
    return out
