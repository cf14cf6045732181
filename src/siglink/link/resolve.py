"""Choosing one version per library: resolvelib over the store, with signatures as constraints.

A *requirement* is what one consumer (the application, or a library version) needs of one
distribution: a version specifier (from ``Requires-Dist``, or the ``semver`` policy) and the
imports to check. A *candidate* is a stored version. A candidate satisfies a requirement when
the specifier admits it and every import's verdict is ok (DESIGN §6). Candidates are offered
newest first; yanked ones, pre-releases and ones whose ``Requires-Python`` excludes the running
interpreter are filtered out before the resolver sees them (and remembered, to explain a
failure). Verdicts are memoized per (import digest, export digest): identical exports are ok
without any structural work.

A library's own imports take part exactly as an application's do. A third-party wheel's
imports, computed at install (:mod:`siglink.store._imports`), record no expected export and
no version built against: each names the chain the library uses (``markupsafe.escape``,
``markupsafe.Markup.escape``, ``werkzeug.urls``) and its direct call shapes. Against each
candidate, such a chain is resolved to the longest prefix the candidate exports (its calls
checked when that is the whole chain; a deeper attribute is not checked) or to a module of the
candidate; a chain it lacks is P1 ("werkzeug 2.3.8 uses markupsafe.soft_unicode, which
markupsafe 2.1.5 does not export"). Their verdicts are unverified; optional uses are recorded
but never checked; and a chain whose top-level module the candidate does not provide at all
was attributed to it by a guess (:func:`siglink.store._imports.module_guess`), so it is not
checked there.
"""

from __future__ import annotations

import gc
import json
import platform
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from packaging.markers import InvalidMarker, default_environment
from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as PkgRequirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from resolvelib import AbstractProvider, BaseReporter, ResolutionImpossible, Resolver
from resolvelib.resolvers import ResolutionTooDeep

from siglink.contracts.manifest import Export, ExportKind, Import, Manifest
from siglink.contracts.verdict import Problem, Severity, Verdict
from siglink.errors import LinkError

if TYPE_CHECKING:
    from siglink.contracts.types import ClassGraph
    from siglink.store import Store, StoredVersion

__all__ = [
    "POLICIES",
    "Candidate",
    "LinkFailure",
    "LinkSource",
    "ManifestView",
    "Rejections",
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

    def providers(self, module: str) -> list[str]:
        """The distributions providing top-level module ``module`` (normalized names)."""
        ...


class ManifestView:
    """A library version's exports and imports, parsed one export at a time from JSON.

    Parsing a whole manifest (every signature of every export) costs far more than a link
    needs: a consumer imports a few names, and most of them are identical by digest.
    """

    __slots__ = ("_classes", "_exports", "_imports", "_modules", "_parsed", "_raw")

    def __init__(
        self, raw: Mapping[str, Any] | None = None, manifest: Manifest | None = None
    ) -> None:
        self._raw: Mapping[str, Any] = (raw or {}).get("exports", {})
        self._imports: Mapping[str, Any] = (raw or {}).get("imports", {})
        self._parsed: dict[str, Export | None] = dict(manifest.exports) if manifest else {}
        self._exports: Mapping[str, Export] | None = manifest.exports if manifest else None
        self._modules: frozenset[str] | None = None
        self._classes: ClassGraph | None = None
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

    def modules(self) -> frozenset[str]:
        """The modules this version has, as far as its exports tell: every export's defining
        module and every dotted prefix of an export path, with their parents (computed once)."""
        if self._modules is None:
            found: set[str] = set()
            for path in self.paths():
                parts = path.split(".")
                found.update(".".join(parts[:i]) for i in range(1, len(parts)))
                module = self.export_module(path)
                if module:
                    mparts = module.split(".")
                    found.update(".".join(mparts[:i]) for i in range(1, len(mparts) + 1))
            self._modules = frozenset(found)
        return self._modules

    def class_graph(self) -> ClassGraph:
        """Every class's recorded bases (:func:`siglink.contracts.compat.class_graph`), so that
        relations between the library's own classes are known; read from the JSON without
        parsing any signature, once."""
        if self._classes is None:
            from siglink.contracts.types import ClassGraph

            if self._exports is not None:
                from siglink.contracts.compat import class_graph

                self._classes = class_graph(self._exports.values())
            else:
                bases: dict[str, tuple[str, ...]] = {}

                def visit(path: str, data: Mapping[str, Any]) -> None:
                    if data.get("kind") != "class":
                        return
                    found = tuple(data.get("bases", ()))
                    bases[path] = found
                    module = data.get("module")
                    if module:
                        bases.setdefault(f"{module}.{path.rpartition('.')[2]}", found)
                    for name, member in data.get("members", {}).items():
                        visit(f"{path}.{name}", member)

                for path, data in self._raw.items():
                    visit(path, data)
                self._classes = ClassGraph(bases)
        return self._classes

    def imports(self) -> dict[str, tuple[Import, ...]]:
        """The library's own recorded imports (siglink-built, or computed at install)."""
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

    def providers(self, module: str) -> list[str]:
        """The distributions providing top-level module ``module`` (normalized names)."""
        return [canonicalize_name(n) for n in self.store.providers(module)]

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
    """Dynamic uses that recorded no expected export cannot be checked (only warned about);
    optional uses are not required."""
    return not (imp.optional or (imp.dynamic and imp.expected is None))


def _third_party(imp: Import) -> bool:
    """An import computed at install from a library's code: a name and its calls, no contract."""
    return imp.expected is None and imp.built_against is None


_USED: str = "exported (the consumer uses it)"
"""``expected`` of the P1 problem of an import that recorded no expected export."""


def _compiled(base: Path) -> bool:
    """An extension module ``base.*.so`` (or ``.pyd``) beside ``base``."""
    parent = base.parent
    if not parent.is_dir():
        return False
    return any(parent.glob(f"{base.name}.*.so")) or any(parent.glob(f"{base.name}.*.pyd"))


def _unexported() -> Verdict:
    return Verdict((Problem("P1", "", _USED, "absent", Severity.INCOMPATIBLE),))


_NOT_CALLABLE = frozenset({"int", "float", "complex", "bool", "str", "bytes", "None", "list",
                           "dict", "set", "frozenset", "tuple"})


def _lenient(verdict: Verdict, provided: Export) -> Verdict:
    """A third-party library calling a module attribute: unless its type says it is a plain
    value (``int``, ``str``, ``list[...]``), the attribute may well hold a callable (a
    ``functools.partial``, a compiled function), so R6 ("calls it") is only unverified."""
    if provided.kind is not ExportKind.ATTRIBUTE or verdict.ok:
        return verdict
    if provided.type is not None and str(provided.type).split("[", 1)[0] in _NOT_CALLABLE:
        return verdict
    kept = tuple(p for p in verdict.problems if p.rule != "R6")
    if len(kept) == len(verdict.problems):
        return verdict
    note = f"calls: {provided.kind.value} of type {provided.type or 'unknown'}, not checked"
    return Verdict(kept, (*verdict.unverified, note), verdict.usage_compatible)


_NO_CONSUMER_SIG = "signature: not recorded by the consumer, only its calls checked"
_NO_PROVIDER_SIG = "signature: not recorded by the provider"


def _one_unverified_note(verdict: Verdict) -> Verdict:
    """A call-shape check of an export whose signature neither side recorded says so once."""
    notes = verdict.unverified
    if _NO_PROVIDER_SIG not in notes or _NO_CONSUMER_SIG not in notes:
        return verdict
    kept = tuple(n for n in notes if n != _NO_CONSUMER_SIG)
    kept = tuple("signature: recorded by neither the consumer nor the provider, not checked"
                 if n == _NO_PROVIDER_SIG else n for n in kept)
    return Verdict(verdict.problems, kept, verdict.usage_compatible, verdict.identical)


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
        self.sources: dict[tuple[str, str], frozenset[str] | None] = {}
        self.graphs: dict[ClassGraph, ClassGraph] = {}
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
            # The export is the one built against, but the consumer's calls may never have
            # fitted it (built against it anyway): they are checked all the same.
            return self.check_calls(imp) if imp.calls else _IDENTICAL
        if digest is None and _third_party(imp):
            return self.check_chain(imp, candidate)
        if digest is None and imp.expected is None:
            return _unexported()  # a name the consumer used that its version lacked too
        # Keyed by digests, not paths: equal digests are equal exports, so a verdict found
        # once serves every import of the same shape (and needs no parsing).
        classes = None if digest is None or imp.expected is None else self.classes(candidate)
        key = (*_import_key(imp, self.policy), digest, classes)
        found = self.memo.get(key)
        if found is None:
            provided = None if digest is None else view.export(imp.path)
            found = self.check_export(
                imp.expected, provided, policy=self.policy, calls=imp.calls or None,
                calls_complete=imp.calls_complete, classes=classes,
            )
            if provided is not None and _third_party(imp):
                found = _one_unverified_note(_lenient(found, provided))
            self.memo[key] = found
        return found

    def check_calls(self, imp: Import) -> Verdict:
        """The consumer's recorded calls against the export it was built against, which the
        candidate provides unchanged (equal digests: the recorded export serves, unparsed
        from the candidate), memoized per export digest and call shapes: identical when they
        all bind."""
        provided = imp.expected
        assert provided is not None
        key = ("calls", provided.digest, imp.calls)
        found = self.memo.get(key)
        if found is None:
            bound = _lenient(self.check_export(None, provided, calls=imp.calls), provided)
            found = Verdict(bound.problems) if bound.problems else _IDENTICAL
            self.memo[key] = found
        return found

    def classes(self, candidate: Candidate) -> ClassGraph:
        """The candidate's class graph; equal graphs are one object, so that the contract
        checker's memo (per graph) serves every version with the same classes."""
        graph = candidate.view.class_graph()
        return self.graphs.setdefault(graph, graph)

    def check_chain(self, imp: Import, candidate: Candidate) -> Verdict:
        """A third-party import whose path the candidate does not export: a deeper attribute
        of an export, a module, a module attributed by a guess, or missing (P1)."""
        key = ("chain", imp.path, candidate.name, candidate.stored.version)
        found = self.memo.get(key)
        if found is None:
            found = self.memo[key] = self._chain_verdict(imp, candidate)
        return found

    def _chain_verdict(self, imp: Import, candidate: Candidate) -> Verdict:
        view = candidate.view
        top = imp.path.split(".", 1)[0]
        if candidate.stored.top_level and top not in candidate.stored.top_level:
            return Verdict(unverified=(
                f"module {top} is not in {candidate.name} {candidate.stored.version}: "
                "attributed by its name, not checked",))
        parts = imp.path.split(".")
        for i in range(len(parts) - 1, 0, -1):
            prefix = ".".join(parts[:i])
            if view.export_digest(prefix) is not None:
                rest = ".".join(parts[i:])
                return Verdict(unverified=(f"attribute {rest} of {prefix}: not checked",))
        if imp.path in view.modules() or imp.path in candidate.stored.top_level:
            return Verdict(unverified=("a module: only its presence checked",))
        # The export table leaves out what it cannot read (a computed __all__, names outside
        # __all__): absence is confirmed in the module's source before it refuses anything.
        present = self.in_source(candidate, parts)
        if present is None:
            return Verdict(unverified=(
                "not in the export table, and its module's source cannot tell: not checked",))
        if present:
            return Verdict(unverified=(
                "not in the export table, bound in its module's source: not checked",))
        return _unexported()

    def in_source(self, candidate: Candidate, parts: Sequence[str]) -> bool | None:
        """Does the candidate's source have the chain ``parts``, missing from its export
        table? The deepest module of the chain on disk must have the next name as a
        submodule or bind it at its top level (:func:`siglink.python.usage.bound_names`).
        None when that cannot be told: no source, a compiled module, a module that may bind
        any name."""
        root = Path(candidate.stored.path)
        for i in range(len(parts) - 1, 0, -1):
            base = root.joinpath(*parts[:i])
            file = next((f for f in (base.with_suffix(".py"), base / "__init__.py")
                         if f.is_file()), None)
            sub = base / parts[i]
            if sub.is_dir() or sub.with_suffix(".py").is_file() or _compiled(sub):
                return True
            if file is not None:
                names = self._bound(file)
                return None if names is None else parts[i] in names
            if _compiled(base):
                return None
        return None

    def _bound(self, file: Path) -> frozenset[str] | None:
        key = ("bound", str(file))
        if key not in self.sources:
            from siglink.python.usage import bound_names

            try:
                self.sources[key] = bound_names(file.read_bytes())
            except OSError:
                self.sources[key] = None
        return self.sources[key]

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
        # Imports computed at install follow Requires-Dist (as evaluated then): a distribution
        # they name that is not required here (a marker false on this interpreter) is not.
        names = dict.fromkeys([*specs, *(
            name for name, items in candidate.imports.items()
            if name in specs or not all(_third_party(i) for i in items))])
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


Rejections = Mapping[str, list[tuple[str, "Verdict | str"]]]


class _Rejected(Mapping[str, list[tuple[str, "Verdict | str"]]]):
    """The newer versions refused for each linked library, and why: worked out on first
    access. Explaining a refusal checks every import against the refused version (a run never
    asks; ``siglink plan`` does), which costs as much as the link itself."""

    __slots__ = ("_explain", "_found")

    def __init__(self, explain: Callable[[], dict[str, list[tuple[str, Verdict | str]]]]) -> None:
        self._explain: Callable[[], dict[str, list[tuple[str, Verdict | str]]]] | None = explain
        self._found: dict[str, list[tuple[str, Verdict | str]]] = {}

    def _data(self) -> dict[str, list[tuple[str, Verdict | str]]]:
        if self._explain is not None:
            with _gc_paused():
                self._found = self._explain()
            self._explain = None
        return self._found

    def __getitem__(self, name: str) -> list[tuple[str, Verdict | str]]:
        return self._data()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data())

    def __len__(self) -> int:
        return len(self._data())

    def __repr__(self) -> str:
        return "<rejections, not yet explained>" if self._explain else repr(self._found)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Run a burst of allocation with the cyclic garbage collector paused.

    Linking allocates many small long-lived objects (parsed exports, verdicts) and no cycles
    worth collecting; with the collector running, its full collections rescan all of them
    again and again, and a plan for 10,000 names took a third longer than ten plans of 1,000.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(frozen=True)
class Resolution:
    """A successful resolution: the chosen candidate of each name, its merged verdict, the
    newer candidates refused and why (explained lazily), and warnings."""

    chosen: dict[str, Candidate]
    verdicts: dict[str, Verdict]
    rejected: Rejections
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
    with _gc_paused():
        try:
            result = resolver.resolve(requirements, max_rounds=2000)
        except ResolutionImpossible as e:
            causes = [(c.requirement, c.parent) for c in e.causes]
            failure = LinkFailure(provider, app, causes)
            raise LinkError(failure.text(), report=failure) from None
        except ResolutionTooDeep as e:
            raise LinkError(f"cannot link {app}: no solution found within {e.round_count} "
                            "rounds of backtracking") from None
        chosen: dict[str, Candidate] = dict(result.mapping)
        verdicts: dict[str, Verdict] = {}
        needs: dict[str, list[Requirement]] = {}
        for name, candidate in chosen.items():
            reqs = needs[name] = [info.requirement for info in result.criteria[name].information]
            verdicts[name] = Verdict.merge(provider.verdict(r, candidate) for r in reqs)

    def explain() -> dict[str, list[tuple[str, Verdict | str]]]:
        rejected: dict[str, list[tuple[str, Verdict | str]]] = {}
        for name, candidate in chosen.items():
            refused = []
            for stored in source.versions(name):
                version = _version(stored.version)
                if version is None or version <= candidate.version:
                    continue
                refused.append((stored.version,
                                _why_refused(provider, stored, needs[name], chosen)))
            if refused:
                rejected[name] = refused
        return rejected

    return Resolution(chosen, verdicts, _Rejected(explain), tuple(provider.warnings))


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


def _problem_text(problem: Problem, who: str, name: str, version: str) -> str:
    """One refusal line: ``werkzeug 2.3.8 uses markupsafe.soft_unicode, which markupsafe 2.1.5
    does not export (P1)`` for a name used without a recorded contract, else the problem's own
    explanation and who needs it."""
    if problem.rule == "P1" and problem.expected == _USED:
        return (f"{who.replace('==', ' ')} uses {problem.path}, which {name} {version} does "
                "not export (P1)")
    return f"{problem.explain()} [needed by {who}]"


def refusal_lines(name: str, version: str, why: Verdict | str) -> list[str]:
    """Why version ``version`` of ``name`` was refused, one line per problem, as
    :attr:`Resolution.rejected` holds it: a name a consumer uses and this version lacks reads
    ``liba 1.0 uses libb.gone, which libb 2.0 does not export (P1)``."""
    if isinstance(why, str):
        return [why]
    lines = []
    for problem in why.incompatible or why.problems:
        if problem.rule == "P1" and problem.expected == _USED:
            first, _, rest = problem.path.partition(" ")
            who, path = (first, rest) if "==" in first and rest else ("the application",
                                                                       problem.path)
            lines.append(_problem_text(Problem(problem.rule, path, problem.expected,
                                               problem.found, problem.severity), who, name,
                                       version))
        else:
            lines.append(problem.explain())
    return lines or [why.explain()]


def _some(items: Sequence[str], limit: int = 8) -> str:
    """``a, b, c`` -- at most ``limit`` of them, then ``and 22 more``."""
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f" and {len(items) - limit} more"


def _excluded_kind(intrinsic: str) -> str:
    """``yanked: CVE...`` -> ``yanked``; the kind of reason a version is never offered."""
    if intrinsic.startswith("yanked"):
        return "yanked"
    if intrinsic.startswith("pre-release"):
        return "a pre-release (--pre)"
    if intrinsic.startswith("Requires-Python"):
        return "excluded by Requires-Python"
    return "invalid"


def _versions_text(versions: Sequence[str]) -> str:
    return versions[0] if len(versions) == 1 else ", ".join(versions[:-1]) + " and " + versions[-1]


class LinkFailure:
    """Why a link was refused: the text of :class:`~siglink.errors.LinkError` (a linker's
    undefined-reference list) and a one-line :attr:`summary`, for people and for the store's
    registration of the application. Plain data, so the error stays picklable.

    ``unsatisfied`` maps each library with no acceptable version to the imports no eligible
    version satisfies, each with the versions that refused it; ``rejected`` maps it to every
    version and why it was refused (as :attr:`Resolution.rejected`, for ``plan --json``).
    """

    def __init__(
        self, provider: _Provider | None, app: str,
        causes: Sequence[tuple[Requirement, Candidate | None]] = (),
    ) -> None:
        self.app = app
        self.lines: list[str] = [f"cannot link {app}:"]
        self.unsatisfied: dict[str, dict[str, list[str]]] = {}
        self.rejected: dict[str, list[tuple[str, Verdict | str]]] = {}
        self.summaries: list[str] = []
        by_name: dict[str, list[Requirement]] = {}
        for req, _parent in causes:
            group = by_name.setdefault(req.name, [])
            if req not in group:
                group.append(req)
        for name, reqs in by_name.items():
            assert provider is not None
            self._explain(provider, name, reqs)

    def unprovided(self, module: str, where: str, *, environment: bool) -> None:
        """Add a module the application imports (at ``where``) that no library provides."""
        hint = f"siglink install {module}==VERSION"
        if not environment:
            hint += ", or run with --environment"
        store = "the store or the environment" if environment else "the store"
        text = (f"{module}: imported by {where} but no library in {store} provides it "
                f"({hint})")
        self.lines.append(f"  {text}")
        self.summaries.append(text)

    @property
    def names(self) -> tuple[str, ...]:
        """The libraries for which no version is acceptable."""
        return tuple(self.unsatisfied)

    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def summary(self) -> str:
        """One line: ``textkit: textkit.wrap incompatible in 2.0.0; 1.0.1 yanked``."""
        return "; ".join(self.summaries)

    def _explain(self, provider: _Provider, name: str, reqs: Sequence[Requirement]) -> None:
        app, lines = self.app, self.lines
        undefined = self.unsatisfied.setdefault(name, {})
        rejected = self.rejected.setdefault(name, [])
        versions = list(provider.source.versions(name))
        lines.append(f"  {name}: no version satisfies every consumer")
        for req in reqs:
            who = _consumer_label(req.consumer, app)
            spec = f" {req.specifier}" if req.specifier else ""
            used = [i.path for i in req.imports if _checked(i)]
            lines.append(f"    needed by {who}{spec}" + (f": uses {_some(used)}" if used else ""))
        if not versions:
            lines.append(f"    {name} is not in the store (siglink install {name})")
            self.summaries.append(f"{name} is not in the store")
            return
        considered: list[str] = []
        # kind of exclusion -> versions; and the excluded versions that would otherwise serve
        excluded: dict[str, list[str]] = {}
        would_serve: dict[str, list[str]] = {}
        # "flask 3.0.0 requires werkzeug>=3.0.0" -> the versions that requirement refuses
        conflicts: dict[str, list[str]] = {}
        missing: dict[str, list[str]] = {}  # a used name -> the versions that lack it
        for stored in versions:
            candidate = provider.candidate(stored)
            problems: list[str] = []
            refusals = [(req, provider.refusal(req, candidate)) for req in reqs]
            intrinsic = provider.intrinsic_refusal(stored)
            if intrinsic is not None:
                kind = _excluded_kind(intrinsic)
                excluded.setdefault(kind, []).append(stored.version)
                if all(refusal is None for _, refusal in refusals):
                    would_serve.setdefault(kind, []).append(stored.version)
                    hint = " (--allow-yanked)" if kind == "yanked" else ""
                    intrinsic += f"; otherwise compatible{hint}"
                lines.append(f"    {name} {stored.version}: {intrinsic}")
                rejected.append((stored.version, intrinsic))
                continue
            considered.append(stored.version)
            verdicts: list[Verdict] = []
            for req, refusal in refusals:
                if refusal is None:
                    continue
                who = _consumer_label(req.consumer, app)
                if refusal.verdict is None:
                    why = f" ({req.why})" if req.why and req.why != "policy semver" else ""
                    policy = " (policy semver)" if req.why == "policy semver" else ""
                    text = f"{who.replace('==', ' ')} requires {name}{req.specifier}"
                    conflicts.setdefault(text + policy, []).append(stored.version)
                    problems.append(text + (why or policy))
                    continue
                verdicts.append(refusal.verdict.prefixed(
                    "" if req.consumer == app else req.consumer))
                for problem in refusal.verdict.incompatible:
                    problems.append(_problem_text(problem, who, name, stored.version))
                    path = problem.path.split(" ", 1)[0]
                    refused_by = undefined.setdefault(path, [])
                    if stored.version not in refused_by:
                        refused_by.append(stored.version)
                    if problem.rule == "P1" and problem.expected == _USED:
                        missing.setdefault(path, []).append(stored.version)
            if not problems:
                problems.append("acceptable to these consumers, but conflicts with another "
                                "library's requirements")
            by_spec = any(r is not None and r.verdict is None for _, r in refusals)
            rejected.append((stored.version, Verdict.merge(verdicts) if verdicts and not by_spec
                             else "; ".join(problems)))
            lines.append(f"    {name} {stored.version}: refused")
            shown = problems if len(problems) <= 12 else problems[:10]
            lines.extend(f"      {p}" for p in shown)
            if len(shown) < len(problems):
                lines.append(f"      and {len(problems) - len(shown)} more problems")
        tail = ""
        for kind, vs in excluded.items():
            serving = would_serve.get(kind, [])
            tail += f"; {_versions_text(vs)} {'is' if len(vs) == 1 else 'are'} {kind}"
            if serving == vs:
                tail += " (otherwise compatible)"
            elif serving:
                tail += f" ({_versions_text(serving)} otherwise compatible)"
        conflict = "; ".join(f"{text} (refuses {_versions_text(vs)})"
                             for text, vs in conflicts.items())
        if undefined:
            def where(path: str, refused_in: list[str]) -> str:
                if missing.get(path) == refused_in and len(refused_in) == len(considered):
                    return (f"no version of {name} exports it (versions tried: "
                            f"{', '.join(refused_in)})")
                if len(refused_in) == len(versions):
                    return "in every version"
                if len(refused_in) == len(considered):
                    only = "the only version" if len(considered) == 1 else "every version"
                    return f"incompatible in {_versions_text(refused_in)}, {only} not " + (
                        "excluded" if len(excluded) != 1 else next(iter(excluded)))
                return f"incompatible in {_versions_text(refused_in)}"

            ordered = sorted(undefined.items(), key=lambda i: (-len(i[1]), i[0]))
            lines.append(f"  unsatisfied imports from {name}:")
            shown_items = ordered if len(ordered) <= 12 else ordered[:10]
            lines.extend(f"    {path}: {where(path, vs)}" for path, vs in shown_items)
            if len(shown_items) < len(ordered):
                lines.append(f"    and {len(ordered) - len(shown_items)} more")
            if conflict:
                lines.append(f"  also: {conflict}")
            if tail:
                lines.append(f"  {tail[2:]}")
            listed = [f"{path} ({where(path, vs)})" for path, vs in ordered]
            self.summaries.append(f"{name}: {_some(listed, 4)}"
                                  + (f"; {conflict}" if conflict else "") + tail)
        elif not considered:
            lines.append(f"  no eligible version of {name}: {tail[2:]}")
            self.summaries.append(f"{name}: no eligible version: {tail[2:]}")
        else:
            text = conflict or "conflicting requirements"
            lines.append(f"  {name}: {text}{tail}")
            self.summaries.append(f"{name}: {text}{tail}")
