"""What a change to the store did (or would do) to every registered application.

Each application is linked again (recorded in its registration, unless asked not to) and
compared with what it was registered as linking: it ``move`` s, ``stay`` s, ``stop`` s linking,
or stays ``refused``. An application that stays below the newest stored version of a library
it links says why, in one line (:class:`Held`): ``flask stays on 3.0.3: flask 3.1.0: no stored
version of werkzeug satisfies >=3.1 (the store has 3.0.6)``.

>>> Held("flask", "3.0.3", "3.1.0", "yanked: GHSA-x").line()
'flask stays on 3.0.3: flask 3.1.0 is yanked: GHSA-x'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from packaging.utils import canonicalize_name

from siglink.errors import LinkError, SiglinkError
from siglink.store import version_key

if TYPE_CHECKING:
    from siglink.contracts.manifest import Manifest
    from siglink.link.plan import LinkPlan
    from siglink.link.resolve import LinkSource, ManifestView
    from siglink.store import RegisteredApp, Store, StoredVersion

__all__ = ["AppOutcome", "Held", "Overlay", "outcomes"]

Status = Literal["move", "stay", "stop", "refused"]


def __dir__() -> list[str]:
    return list(__all__)



@dataclass(frozen=True)
class Held:
    """An application kept on ``linked`` while the store has ``newest``, and why."""

    name: str
    linked: str
    newest: str
    why: str

    def line(self) -> str:
        why = self.why
        if why.startswith(("yanked", "excluded by")):
            return f"{self.name} stays on {self.linked}: {self.name} {self.newest} is {why}"
        return f"{self.name} stays on {self.linked}: {self.name} {self.newest}: {why}"


@dataclass(frozen=True)
class AppOutcome:
    """One application after the change: its versions before and after (None: refused), the
    status, why it is refused (``reason``), and the libraries held below their newest."""

    app: RegisteredApp
    before: dict[str, str] | None
    after: dict[str, str] | None
    status: Status
    reason: str = ""
    held: tuple[Held, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "app": self.app.application, "manifest": self.app.manifest_path,
            "status": self.status, "before": self.before, "after": self.after,
            "reason": self.reason or None,
            "held": [dataclasses.asdict(h) | {"line": h.line()} for h in self.held],
        }


class Overlay:
    """A store with hypothetical versions added and versions yanked (for dry runs)."""

    def __init__(
        self, base: LinkSource, add: Sequence[tuple[StoredVersion, Manifest]] = (),
        yank: Sequence[tuple[str, str, str]] = (),
    ) -> None:
        self.base = base
        self.added = {(canonicalize_name(v.name), v.version): (v, m) for v, m in add}
        self.yanked = {(canonicalize_name(n), v): reason for n, v, reason in yank}
        self._views: dict[tuple[str, str], ManifestView] = {}

    def versions(self, name: str) -> Sequence[StoredVersion]:
        name = canonicalize_name(name)
        found = {v.version: v for v in self.base.versions(name)}
        for (added, version), (stored, _) in self.added.items():
            if added == name and version not in found:
                found[version] = stored
        out = []
        for version, stored in found.items():
            reason = self.yanked.get((name, version))
            out.append(dataclasses.replace(stored, yanked=reason)
                       if reason is not None and not stored.yanked else stored)
        return sorted(out, key=lambda v: version_key(v.version), reverse=True)

    def providers(self, module: str) -> list[str]:
        found = list(self.base.providers(module))
        for (name, _), (stored, _) in self.added.items():
            if module.split(".", 1)[0] in stored.top_level and name not in found:
                found.append(name)
        return found

    def view(self, name: str, version: str) -> ManifestView:
        from siglink.link.resolve import ManifestView

        key = (canonicalize_name(name), version)
        if key in self.added and not any(
            v.version == version for v in self.base.versions(key[0])
        ):
            found = self._views.get(key)
            if found is None:
                found = self._views[key] = ManifestView(manifest=self.added[key][1])
            return found
        return self.base.view(name, version)


def _held(source: LinkSource, plan: LinkPlan) -> tuple[Held, ...]:
    """Each linked library with a newer stored version, and the one-line reason it is not
    linked (the newest such version's refusal)."""
    from siglink.link.resolve import refusal_lines

    out = []
    for name, lib in sorted(plan.links.items()):
        newer = [v for v in source.versions(name)
                 if version_key(v.version) > version_key(lib.version)]
        if not newer:
            continue
        newest = newer[0].version
        why: Any = next((w for v, w in plan.rejected.get(name, ()) if v == newest), None)
        if why is None:
            text = "not chosen"
        else:
            lines = refusal_lines(name, newest, why)
            text = lines[0] + (f" (and {len(lines) - 1} more)" if len(lines) > 1 else "")
        out.append(Held(name, lib.version, newest, text))
    return tuple(out)


def _yank_notes(source: LinkSource, names: Sequence[str], why: str) -> str:
    """`` [jinja2 3.1.3 yanked: GHSA-...]`` for each yanked version a refusal mentions, so
    that the refusal names the advisory it was yanked for."""
    if "yanked" not in why:
        return ""
    notes = []
    for name in dict.fromkeys(names):
        for v in source.versions(name):
            if v.yanked and v.version in why:
                notes.append(f"{v.name} {v.version} yanked: {v.yanked}")
    return f" [{'; '.join(notes)}]" if notes else ""


def outcomes(
    store: Store, *, source: LinkSource | None = None, record: bool = True,
    apps: Sequence[RegisteredApp] | None = None,
) -> list[AppOutcome]:
    """Link every registered application (or ``apps``) against ``source`` (default: the
    store), recording each outcome in its registration when ``record``; one outcome each.
    One application's failure never stops the others."""
    from siglink.link.plan import compute, effective_policy, plan_and_register, read_app_manifest
    from siglink.link.resolve import LinkFailure, StoreSource

    source = source if source is not None else StoreSource(store)
    out = []
    for app in (store.apps() if apps is None else apps):
        before = None if app.refused else {n: v for n, v in app.links.items() if v is not None}
        notes: list[str] = []
        try:
            manifest = read_app_manifest(app.manifest_path)
            policy = effective_policy(app.manifest_path)
            if record:
                plan = plan_and_register(store, manifest, manifest_path=app.manifest_path,
                                         policy=policy, source=source,
                                         on_unrecorded=notes.append)
            else:
                plan = compute(store, manifest, manifest_path=app.manifest_path,
                               policy=policy, source=source, verify=False)
        except LinkError as e:
            why = e.report.summary if isinstance(e.report, LinkFailure) else ""
            why = why or e.message.splitlines()[0]
            names = [*app.links, *(e.report.names if isinstance(e.report, LinkFailure) else ())]
            why += _yank_notes(source, names, why)
            out.append(AppOutcome(app, before, None, "refused" if before is None else "stop",
                                  "; ".join([why, *notes])))
            continue
        except SiglinkError as e:
            out.append(AppOutcome(app, before, None, "refused" if before is None else "stop",
                                  f"cannot be relinked: {e.message}"))
            continue
        after = plan.versions
        status: Status = "stay" if before == after else "move"
        out.append(AppOutcome(app, before, after, status, "; ".join(notes),
                              _held(source, plan)))
    return out
