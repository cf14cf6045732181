"""Choosing one version per library: resolvelib over the store, with signatures as constraints.

A *requirement* is what one consumer (the application, or a library version) needs of one
distribution: a version specifier (from ``Requires-Dist``, or the ``semver`` policy) and the
imports to check. A *candidate* is a stored version. A candidate satisfies a requirement when
the specifier admits it and every import's verdict is ok (DESIGN §6). Candidates are offered
newest first; yanked ones, pre-releases and ones whose ``Requires-Python`` excludes the running
interpreter are filtered out before the resolver sees them (and remembered, to explain a
failure). Verdicts are memoized per (import digest, export digest): identical exports are ok
without any structural work.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from packaging.markers import InvalidMarker, default_environment
from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as PkgRequirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from resolvelib import AbstractProvider, BaseReporter, ResolutionImpossible, Resolver
from resolvelib.resolvers import ResolutionTooDeep

from siglink.contracts.manifest import Export, Import, Manifest
from siglink.contracts.verdict import Verdict
from siglink.errors import LinkError

if TYPE_CHECKING:
    from siglink.store import Store, StoredVersion

__all__ = [
    "POLICIES",
    "Candidate",
    "LinkSource",
    "ManifestView",
    "Requirement",
    "Resolution",
    "StoreSource",
    "resolve",
]

POLICIES = ("signature", "semver", "strict")


def __dir__() -> list[str]:
    return list(__all__)


class LinkSource(Protocol):
    """What the resolver reads: a store, or a store with hypothetical changes (impact)."""

    def versions(self, name: str) -> Sequence[StoredVersion]:
        """Every stored version of ``name``, yanked ones included, newest first."""
        ...

    def view(self, name: str, version: str) -> ManifestView:
        """One version's manifest, read lazily."""
        ...


class ManifestView:
    """A library version's exports and imports, parsed one export at a time from JSON.

    Parsing a whole manifest (every signature of every export) costs far more than a link
    needs: a consumer imports a few names, and most of them are identical by digest.
    """

    __slots__ = ("_exports", "_imports", "_parsed", "_raw")

    def __init__(
        self, raw: Mapping[str, Any] | None = None, manifest: Manifest | None = None
    ) -> None:
        self._raw: Mapping[str, Any] = (raw or {}).get("exports", {})
        self._imports: Mapping[str, Any] = (raw or {}).get("imports", {})
        self._parsed: dict[str, Export | None] = dict(manifest.exports) if manifest else {}
        self._exports: Mapping[str, Export] | None = manifest.exports if manifest else None
        if manifest is not None:
            self._imports = dict(manifest.imports)

    def export_digest(self, path: str) -> str | None:
        """The digest of export ``path`` without parsing it (None when absent)."""
        if self._exports is not None:
            export = self._exports.get(path)
            return None if export is None else export.digest
        data = self._raw.get(path)
        if data is None:
            return None
        digest = data.get("digest")
        if digest:
            return str(digest)
        parsed = self.export(path)
        return None if parsed is None else parsed.digest

    def export(self, path: str) -> Export | None:
        """Export ``path``, parsed on first use (None when absent)."""
        if path not in self._parsed:
            data = self._raw.get(path)
            self._parsed[path] = None if data is None else Export.from_json(path, data)
        return self._parsed[path]

    def paths(self) -> Iterable[str]:
        """Every export path."""
        return self._exports.keys() if self._exports is not None else self._raw.keys()

    def export_module(self, path: str) -> str:
        """The module that defines export ``path`` ("" when unknown)."""
        if self._exports is not None:
            export = self._exports.get(path)
            return export.module if export is not None else ""
        return str(self._raw.get(path, {}).get("module", ""))

    def imports(self) -> dict[str, tuple[Import, ...]]:
        """The library's own recorded imports (when it was built with siglink)."""
        out: dict[str, tuple[Import, ...]] = {}
        for lib, items in self._imports.items():
            out[canonicalize_name(lib)] = tuple(
                i if isinstance(i, Import) else Import.from_json(i) for i in items
            )
        return out


class StoreSource:
    """A :class:`LinkSource` reading a :class:`~siglink.store.Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._versions: dict[str, list[StoredVersion]] = {}
        self._views: dict[tuple[str, str], ManifestView] = {}

    def versions(self, name: str) -> Sequence[StoredVersion]:
        found = self._versions.get(name)
        if found is None:
            found = self._versions[name] = list(self.store.versions(name, include_yanked=True))
        return found

    def view(self, name: str, version: str) -> ManifestView:
        key = (name, version)
        found = self._views.get(key)
        if found is None:
            found = self._views[key] = self._load(name, version)
        return found

    def _load(self, name: str, version: str) -> ManifestView:
        text = self._raw_text(name, version)
        if text is not None:
            return ManifestView(raw=json.loads(text))
        return ManifestView(manifest=self.store.manifest(name, version))

    def _raw_text(self, name: str, version: str) -> str | None:
        # The store keeps each manifest's JSON text in its index: parse only what is used.
        return self.store.manifest_json(name, version)


def _yank_reason(stored: StoredVersion) -> str | None:
    yanked: object = stored.yanked
    if not yanked:
        return None
    return yanked if isinstance(yanked, str) else "yanked"


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


class Candidate:
    """One stored version; its manifest is read on first need, one export at a time."""

    __slots__ = ("_imports", "_view", "extras", "name", "source", "stored", "version")

    def __init__(self, source: LinkSource, stored: StoredVersion, extras: frozenset[str]) -> None:
        self.source = source
        self.stored = stored
        self.name = canonicalize_name(stored.name)
        self.version = _version(stored.version) or Version("0")
        self.extras = extras
        self._view: ManifestView | None = None
        self._imports: dict[str, tuple[Import, ...]] | None = None

    def __repr__(self) -> str:
        return f"<Candidate {self.name}=={self.stored.version}>"

    @property
    def view(self) -> ManifestView:
        if self._view is None:
            self._view = self.source.view(self.stored.name, self.stored.version)
        return self._view

    @property
    def imports(self) -> dict[str, tuple[Import, ...]]:
        if self._imports is None:
            self._imports = self.view.imports()
        return self._imports


@dataclass(frozen=True, eq=False)
class Requirement:
    """What ``consumer`` needs of distribution ``name``."""

    consumer: str
    name: str
    specifier: SpecifierSet = field(default_factory=SpecifierSet)
    imports: tuple[Import, ...] = ()
    extras: frozenset[str] = frozenset()
    why: str = ""  # the Requires-Dist text or the policy that set the specifier

    def __repr__(self) -> str:
        return f"<Requirement {self.consumer} -> {self.name}{self.specifier}>"


def _import_key(imp: Import, policy: str) -> tuple[object, ...]:
    if imp.expected is None:  # P1 names what is missing: keep the path in the key
        return (imp.path, imp.calls, imp.calls_complete, policy)
    return (imp.expected.digest, imp.calls, imp.calls_complete, policy)


def _checked(imp: Import) -> bool:
    """Dynamic uses that recorded no expected export cannot be checked (only warned about)."""
    return not (imp.dynamic and imp.expected is None)


@dataclass
class Refusal:
    """Why one candidate cannot serve one requirement."""

    reason: str
    verdict: Verdict | None = None


class _Provider(AbstractProvider):  # type: ignore[type-arg]
    def __init__(
        self, source: LinkSource, *, policy: str, pre: bool, allow_yanked: bool,
        python_version: Version,
    ) -> None:
        self.source = source
        self.policy = policy
        self.pre = pre
        self.allow_yanked = allow_yanked
        self.python_version = python_version
        self.memo: dict[tuple[object, ...], Verdict] = {}
        self.accepted: dict[tuple[Requirement, str, str], bool] = {}
        self.candidates: dict[tuple[str, str], Candidate] = {}
        self.deps: dict[tuple[str, str], list[Requirement]] = {}
        self.warnings: list[str] = []
        from siglink.contracts.compat import check_export

        self.check_export = check_export

    # -- resolvelib interface --------------------------------------------------------------
    def identify(self, requirement_or_candidate: Requirement | Candidate) -> str:
        return requirement_or_candidate.name

    def get_preference(
        self, identifier: str, resolutions: Mapping[str, Candidate],
        candidates: Mapping[str, Iterator[Candidate]], information: Mapping[str, Any],
        backtrack_causes: Sequence[Any],
    ) -> tuple[bool, str]:
        causes = {c.requirement.name for c in backtrack_causes}
        return (identifier not in causes, identifier)

    def find_matches(
        self, identifier: str, requirements: Mapping[str, Iterator[Requirement]],
        incompatibilities: Mapping[str, Iterator[Candidate]],
    ) -> Callable[[], Iterator[Candidate]]:
        reqs = list(requirements[identifier])
        bad = {c.stored.version for c in incompatibilities[identifier]}
        extras = frozenset().union(*(r.extras for r in reqs))
        versions = self.source.versions(identifier)

        # Lazy: newer candidates are checked only when the resolver asks for them, and most
        # links take the first (newest) one.
        def matches() -> Iterator[Candidate]:
            for stored in versions:
                if stored.version in bad or self.intrinsic_refusal(stored) is not None:
                    continue
                candidate = self.candidate(stored, extras)
                if all(self.accepts(r, candidate) for r in reqs):
                    yield candidate

        return matches

    def is_satisfied_by(self, requirement: Requirement, candidate: Candidate) -> bool:
        return self.accepts(requirement, candidate)

    def get_dependencies(self, candidate: Candidate) -> list[Requirement]:
        key = (candidate.name, candidate.stored.version)
        found = self.deps.get(key)
        if found is None:
            found = self.deps[key] = self._dependencies(candidate)
        return found

    # -- checks ----------------------------------------------------------------------------
    def candidate(self, stored: StoredVersion, extras: frozenset[str] = frozenset()) -> Candidate:
        key = (canonicalize_name(stored.name), stored.version)
        found = self.candidates.get(key)
        if found is None or not extras <= found.extras:
            found = Candidate(self.source, stored, extras | (found.extras if found else extras))
            self.candidates[key] = found
        return found

    def intrinsic_refusal(self, stored: StoredVersion) -> str | None:
        """Why a version is never offered: yanked, pre-release, Requires-Python."""
        reason = _yank_reason(stored)
        if reason is not None and not self.allow_yanked:
            return f"yanked: {reason}"
        version = _version(stored.version)
        if version is None:
            return f"invalid version {stored.version!r}"
        if version.is_prerelease and not self.pre:
            return "pre-release (use --pre)"
        if stored.requires_python:
            try:
                spec = SpecifierSet(stored.requires_python)
            except InvalidSpecifier:
                return f"invalid Requires-Python {stored.requires_python!r}"
            if not spec.contains(self.python_version, prereleases=True):
                return (f"Requires-Python {stored.requires_python} excludes this interpreter "
                        f"({self.python_version})")
        return None

    def accepts(self, requirement: Requirement, candidate: Candidate) -> bool:
        """Does ``candidate`` satisfy ``requirement``? (Memoized; stops at the first
        incompatible import: :meth:`refusal` collects every problem for the messages.)"""
        key = (requirement, candidate.name, candidate.stored.version)
        found = self.accepted.get(key)
        if found is None:
            found = (not requirement.specifier or requirement.specifier.contains(
                candidate.version, prereleases=True)) and all(
                self.check_raw(imp, candidate).ok for imp in requirement.imports
                if _checked(imp))
            self.accepted[key] = found
        return found

    def refusal(self, requirement: Requirement, candidate: Candidate) -> Refusal | None:
        if requirement.specifier and not requirement.specifier.contains(
            candidate.version, prereleases=True
        ):
            why = f" ({requirement.why})" if requirement.why else ""
            return Refusal(f"{requirement.consumer} requires {requirement.name}"
                           f"{requirement.specifier}{why}")
        verdict = self.verdict(requirement, candidate)
        if not verdict.ok:
            return Refusal(f"incompatible with {requirement.consumer}", verdict)
        return None

    def verdict(self, requirement: Requirement, candidate: Candidate) -> Verdict:
        verdicts = [self.check(imp, candidate) for imp in requirement.imports if _checked(imp)]
        if len(verdicts) == 1:
            return verdicts[0]
        return Verdict.merge(verdicts)

    def check(self, imp: Import, candidate: Candidate) -> Verdict:
        """The verdict on one import, paths placed under the import's path."""
        verdict = self.check_raw(imp, candidate)
        return verdict if verdict.identical else verdict.prefixed(imp.path)

    def check_raw(self, imp: Import, candidate: Candidate) -> Verdict:
        view = candidate.view
        digest = view.export_digest(imp.path)
        if imp.expected is not None and digest == imp.expected.digest:
            return _IDENTICAL
        # Keyed by digests, not paths: equal digests are equal exports, so a verdict found
        # once serves every import of the same shape (and needs no parsing).
        key = (*_import_key(imp, self.policy), digest)
        found = self.memo.get(key)
        if found is None:
            provided = None if digest is None else view.export(imp.path)
            found = self.check_export(
                imp.expected, provided, policy=self.policy, calls=imp.calls or None,
                calls_complete=imp.calls_complete,
            )
            self.memo[key] = found
        return found

    # -- dependencies ----------------------------------------------------------------------
    def _dependencies(self, candidate: Candidate) -> list[Requirement]:
        consumer = f"{candidate.name}=={candidate.stored.version}"
        specs: dict[str, list[tuple[SpecifierSet, str, frozenset[str]]]] = {}
        for text in candidate.stored.requires:
            try:
                req = PkgRequirement(text)
            except InvalidRequirement:
                self.warnings.append(f"{consumer}: ignoring unreadable Requires-Dist {text!r}")
                continue
            if req.marker is not None and not self._marker_ok(req, candidate):
                continue
            specs.setdefault(canonicalize_name(req.name), []).append(
                (req.specifier, text, frozenset(req.extras))
            )
        names = dict.fromkeys([*specs, *candidate.imports])
        out = []
        for name in names:
            spec = SpecifierSet()
            whys = []
            extras: frozenset[str] = frozenset()
            for s, text, ex in specs.get(name, ()):
                spec &= s
                whys.append(f"Requires-Dist: {text}")
                extras |= ex
            imports = candidate.imports.get(name, ())
            spec &= _semver_spec(imports, self.policy)
            out.append(Requirement(consumer, name, spec, imports, extras, "; ".join(whys)))
        return out

    def _marker_ok(self, req: PkgRequirement, candidate: Candidate) -> bool:
        env = default_environment()
        assert req.marker is not None
        try:
            for extra in ("", *sorted(candidate.extras)):
                if req.marker.evaluate({**env, "extra": extra}):  # type: ignore[dict-item]
                    return True
        except InvalidMarker:
            return False
        return False


_IDENTICAL = Verdict(identical=True)


def _semver_spec(imports: Iterable[Import], policy: str) -> SpecifierSet:
    if policy != "semver":
        return SpecifierSet()
    for imp in imports:
        if imp.built_against:
            version = _version(imp.built_against)
            if version is not None:
                return SpecifierSet(f"=={version.major}.*")
    return SpecifierSet()


def app_requirements(
    app: str, imports: Mapping[str, tuple[Import, ...]], policy: str,
    built_against: Mapping[str, str] | None = None,
) -> list[Requirement]:
    """The application's root requirements: one per distribution it imports."""
    out = []
    for name, items in imports.items():
        spec = _semver_spec(items, policy)
        if not spec and policy == "semver" and built_against and name in built_against:
            spec = _semver_spec((Import(name, built_against=built_against[name]),), policy)
        why = "policy semver" if spec else ""
        out.append(Requirement(app, canonicalize_name(name), spec, items, frozenset(), why))
    return out


@dataclass(frozen=True)
class Resolution:
    """A successful resolution: the chosen candidate of each name, its merged verdict, the
    newer candidates refused and why, and warnings."""

    chosen: dict[str, Candidate]
    verdicts: dict[str, Verdict]
    rejected: dict[str, list[tuple[str, Verdict | str]]]
    warnings: tuple[str, ...]


class _Reporter(BaseReporter):  # type: ignore[type-arg]
    pass


def _python_version() -> Version:
    return Version(platform.python_version())


def resolve(
    source: LinkSource, requirements: Sequence[Requirement], *, app: str,
    policy: str = "signature", pre: bool = False, allow_yanked: bool = False,
) -> Resolution:
    """Resolve ``requirements``; :class:`LinkError` (exit 127) lists every unsatisfied
    import and why each candidate was refused."""
    provider = _Provider(source, policy=policy, pre=pre, allow_yanked=allow_yanked,
                         python_version=_python_version())
    resolver = Resolver(provider, _Reporter())
    try:
        result = resolver.resolve(requirements, max_rounds=2000)
    except ResolutionImpossible as e:
        causes = [(c.requirement, c.parent) for c in e.causes]
        raise LinkError(_failure_text(provider, app, causes), report=causes) from None
    except ResolutionTooDeep as e:
        raise LinkError(f"cannot link {app}: no solution found within {e.round_count} rounds "
                        "of backtracking") from None
    chosen: dict[str, Candidate] = dict(result.mapping)
    verdicts: dict[str, Verdict] = {}
    rejected: dict[str, list[tuple[str, Verdict | str]]] = {}
    for name, candidate in chosen.items():
        reqs = [info.requirement for info in result.criteria[name].information]
        verdicts[name] = Verdict.merge(provider.verdict(r, candidate) for r in reqs)
        refused = []
        for stored in source.versions(name):
            version = _version(stored.version)
            if version is None or version <= candidate.version:
                continue
            refused.append((stored.version, _why_refused(provider, stored, reqs, chosen)))
        if refused:
            rejected[name] = refused
    return Resolution(chosen, verdicts, rejected, tuple(provider.warnings))


def _why_refused(
    provider: _Provider, stored: StoredVersion, reqs: Sequence[Requirement],
    chosen: Mapping[str, Candidate],
) -> Verdict | str:
    intrinsic = provider.intrinsic_refusal(stored)
    if intrinsic is not None:
        return intrinsic
    candidate = provider.candidate(stored)
    reasons: list[str] = []
    verdicts = []
    for req in reqs:
        refusal = provider.refusal(req, candidate)
        if refusal is None:
            continue
        if refusal.verdict is not None:
            verdicts.append(refusal.verdict.prefixed("" if req.consumer.startswith("/")
                                                     else req.consumer))
        else:
            reasons.append(refusal.reason)
    if verdicts and not reasons:
        return Verdict.merge(verdicts)
    for dep in provider.get_dependencies(candidate):
        other = chosen.get(dep.name)
        if other is not None and provider.refusal(dep, other) is not None:
            reasons.append(f"it requires {dep.name}{dep.specifier}, which conflicts with "
                           f"{dep.name} {other.stored.version} needed by the others")
    for verdict in verdicts:
        reasons.extend(p.explain() for p in verdict.incompatible)
    return "; ".join(reasons) or "conflicts with another library's requirements"


def _consumer_label(consumer: str, app: str) -> str:
    return "the application" if consumer == app else consumer


def _failure_text(
    provider: _Provider, app: str, causes: Sequence[tuple[Requirement, Candidate | None]],
) -> str:
    lines = [f"cannot link {app}:"]
    by_name: dict[str, list[Requirement]] = {}
    for req, _parent in causes:
        group = by_name.setdefault(req.name, [])
        if req not in group:
            group.append(req)
    for name, reqs in by_name.items():
        versions = list(provider.source.versions(name))
        lines.append(f"  {name}: no version satisfies every consumer")
        for req in reqs:
            who = _consumer_label(req.consumer, app)
            spec = f" {req.specifier}" if req.specifier else ""
            used = ", ".join(i.path for i in req.imports if _checked(i))
            lines.append(f"    needed by {who}{spec}" + (f": uses {used}" if used else ""))
        if not versions:
            lines.append(f"    {name} is not in the store (siglink install {name})")
            continue
        undefined: dict[str, list[str]] = {}
        considered = 0
        for stored in versions:
            intrinsic = provider.intrinsic_refusal(stored)
            if intrinsic is not None:
                lines.append(f"    {name} {stored.version}: {intrinsic}")
                continue
            candidate = provider.candidate(stored)
            considered += 1
            problems: list[str] = []
            for req in reqs:
                refusal = provider.refusal(req, candidate)
                if refusal is None:
                    continue
                if refusal.verdict is None:
                    problems.append(refusal.reason)
                    continue
                who = _consumer_label(req.consumer, app)
                for problem in refusal.verdict.incompatible:
                    problems.append(f"{problem.explain()} [needed by {who}]")
                    versions_of = undefined.setdefault(problem.path.split(" ", 1)[0], [])
                    if stored.version not in versions_of:
                        versions_of.append(stored.version)
            if not problems:
                problems.append("acceptable to these consumers, but conflicts with another "
                                "library's requirements")
            lines.append(f"    {name} {stored.version}: refused")
            lines.extend(f"      {p}" for p in problems)
        if undefined:
            listed = ", ".join(
                f"{path} (in {'every version' if len(vs) == considered else ', '.join(vs)})"
                for path, vs in sorted(undefined.items(), key=lambda i: -len(i[1]))
            )
            lines.append(f"  unsatisfied imports from {name}: {listed}")
    return "\n".join(lines)
