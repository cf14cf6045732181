"""The resolvelib provider: which candidates to offer, and whether a candidate's exports
satisfy a requirement's imports (verdicts memoized per import and export digest)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.markers import InvalidMarker, default_environment
from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as PkgRequirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version
from resolvelib import AbstractProvider

from siglink._stdlib import backported
from siglink._stdlib import note as stdlib_note
from siglink.contracts.manifest import RELIES_ON, CallShape, Export, ExportKind, Import
from siglink.contracts.policy import Policy, policy_of
from siglink.contracts.verdict import Problem, Severity, Verdict
from siglink.link._model import (
    Candidate,
    LinkSource,
    Requirement,
    _semver_spec,
    _version,
    _yank_reason,
)

if TYPE_CHECKING:
    from siglink.contracts.types import ClassGraph
    from siglink.store import StoredVersion


def _import_key(imp: Import, policy: str) -> tuple[object, ...]:
    if imp.expected is None:  # P1 names what is missing: keep the path in the key
        return (imp.path, imp.calls, imp.calls_complete, policy, imp.members, imp.arguments,
                imp.written, imp.called)
    return (imp.expected.digest, imp.calls, imp.calls_complete, policy, imp.members,
            imp.arguments, imp.written, imp.called)


def _checked(imp: Import) -> bool:
    """Dynamic uses that recorded no expected export cannot be checked (only warned about);
    optional uses are not required."""
    return not (imp.optional or (imp.dynamic and imp.expected is None))


def _third_party(imp: Import) -> bool:
    """An import computed at install from a library's code: a name and its calls, no contract."""
    return imp.expected is None and imp.built_against is None


_KNOWN_BASES = frozenset({"object", "builtins.object", "enum.Enum", "enum.IntEnum",
                          "enum.StrEnum", "enum.Flag", "enum.IntFlag"})
"""Bases whose members a class's recorded members already include (none beyond them)."""

_OBJECT_DUNDERS = frozenset(dir(object))
"""Members every class has: one a class stops overriding is still there (``object``'s)."""

_USED: str = "exported (the consumer uses it)"
"""``expected`` of the P1 problem of an import that recorded no expected export."""


def _compiled(base: Path) -> bool:
    """An extension module ``base.*.so`` (or ``.pyd``) beside ``base``."""
    parent = base.parent
    if not parent.is_dir():
        return False
    return any(parent.glob(f"{base.name}.*.so")) or any(parent.glob(f"{base.name}.*.pyd"))


def _has_source(candidate: Candidate, path: str) -> bool:
    """Might the module holding ``path`` serve it though its export table does not? Its
    Python source must be in the candidate's directory (without it, as for a store of
    shipped manifests, the export table is all there is) and mention the name or bind names
    dynamically (:func:`siglink.python.usage.may_bind`: a text search, no parse)."""
    from siglink.python.usage import may_bind

    module, _, name = path.rpartition(".")
    base = Path(candidate.stored.path).joinpath(*module.split("."))
    for file in (base.with_suffix(".py"), base / "__init__.py"):
        try:
            return may_bind(file.read_bytes(), name)
        except OSError:
            continue
    return False


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


def _kind_unknown(verdict: Verdict, expected: Export, provided: Export) -> Verdict:
    """R6 against an attribute of which nothing is known (no type, no value: a name a module
    ``__getattr__`` serves, ``X = make()``), for a consumer that reads or passes the name on
    without calling it, is no visible kind change: what it holds at run time may well be
    what the consumer was built against (blinker 1.8 serves the class ``WeakNamespace`` that
    way), so the verdict is unverified. A consumer that calls it keeps R6: its calls cannot
    be checked against a value of unknown kind (``WeakNamespace(d)`` fails on 1.8)."""
    if provided.kind is not ExportKind.ATTRIBUTE or expected.kind is ExportKind.ATTRIBUTE or (
        provided.type is not None or provided.value is not None or verdict.ok
    ):
        return verdict
    kept = tuple(p for p in verdict.problems if not (p.rule == "R6" and p.path == ""))
    if len(kept) == len(verdict.problems):
        return verdict
    note = f"kind: now an attribute of unknown type, was a {expected.kind.value}; not checked"
    return Verdict(kept, (*verdict.unverified, note), verdict.usage_compatible)


_NO_CONSUMER_SIG = "signature: not recorded by the consumer, only its calls checked"
_NO_PROVIDER_SIG = "signature: not recorded by the provider"


def _one_unverified_note(verdict: Verdict) -> Verdict:
    """A call-shape check of an export whose signature neither side recorded says so once.

    >>> both = Verdict((), (_NO_CONSUMER_SIG, _NO_PROVIDER_SIG))
    >>> _one_unverified_note(both).unverified
    ('signature: recorded by neither the consumer nor the provider, not checked',)
    """
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


class _Provider(AbstractProvider[Requirement, Candidate, str]):
    def __init__(
        self, source: LinkSource, *, policy: str, pre: bool, allow_yanked: bool,
        python_version: Version,
        constraints: Mapping[str, tuple[SpecifierSet, str]] | None = None,
        warnings_error: str | None = None,
    ) -> None:
        self.source = source
        self.warnings_error = warnings_error  # where the app makes deprecation warnings errors
        self.constraints = dict(constraints or {})
        self.policy: Policy = policy_of(policy)
        self.pre = pre
        self.allow_yanked = allow_yanked
        self.python_version = python_version
        self.memo: dict[tuple[object, ...], Verdict] = {}
        self.accepted: dict[tuple[Requirement, str, str], bool] = {}
        self.candidates: dict[tuple[str, str], Candidate] = {}
        self.deps: dict[tuple[str, str], list[Requirement]] = {}
        self.sources: dict[tuple[str, str], frozenset[str] | None] = {}
        self.graphs: dict[ClassGraph, ClassGraph] = {}
        self.protocol_tables: dict[tuple[str, str, str], Mapping[str, Mapping[str, str]]] = {}
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
        limit = self.constraints.get(canonicalize_name(stored.name))
        if limit is not None and not limit[0].contains(version, prereleases=True):
            return f"excluded by the application's constraint {limit[1]}"
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
        """The verdict on one import; a use of a name the candidate serves with a deprecation
        warning adds a P1 of severity review (a refusal under ``strict``, or where the
        application makes deprecation warnings errors: the use then fails at run time)."""
        verdict = self._check_raw(imp, candidate)
        if not verdict.ok or not candidate.view.deprecated(imp.path):
            return verdict
        found = "deprecated (served with a warning)"
        severity = Severity.INCOMPATIBLE if self.policy == "strict" else Severity.REVIEW
        if self.warnings_error is not None:
            found += f", an error under {self.warnings_error}"
            severity = Severity.INCOMPATIBLE
        problem = Problem("P1", "", "exported without a deprecation warning", found, severity)
        return Verdict((*verdict.problems, problem), verdict.unverified,
                       verdict.usage_compatible)

    def _check_raw(self, imp: Import, candidate: Candidate) -> Verdict:
        view = candidate.view
        digest = view.export_digest(imp.path)
        if imp.expected is not None and digest == imp.expected.digest:
            # The export is the one built against, but the consumer's calls may never have
            # fitted it (built against it anyway): they are checked all the same.
            same = self.check_calls(imp) if imp.calls else _IDENTICAL
            if any(m.startswith(RELIES_ON) for m in imp.members or ()):
                same = Verdict.merge([same, self.check_ancestry(imp, candidate)])
            return same
        if digest is None and _third_party(imp):
            return self.check_chain(imp, candidate)
        if digest is None and _has_source(candidate, imp.path) and (
            present := self.in_source(candidate, imp.path.split("."))
        ) in (None, True):  # not exported, yet served (a module __getattr__ not read
            # statically, a name bound outside __all__): the use may work, its contract is unknown
            return Verdict(unverified=(
                "not in the export table, bound in its module's source: not checked" if present
                else "not in the export table, and its module may serve any name: not checked",))
        if digest is None and imp.expected is None:
            return _unexported()  # a name the consumer used that its version lacked too
        # Keyed by digests, not paths: equal digests are equal exports, so a verdict found
        # once serves every import of the same shape (and needs no parsing).
        classes = None if digest is None or imp.expected is None else self.classes(candidate,
                                                                                    imp)
        key = (*_import_key(imp, self.policy), digest, classes)
        found = self.memo.get(key)
        if found is None:
            provided = None if digest is None else view.export(imp.path)
            found = self.check_export(
                imp.expected, provided, policy=self.policy,
                calls=imp.calls if imp.calls or imp.calls_complete else None,
                calls_complete=imp.calls_complete, classes=classes, members=imp.members,
                arguments=imp.arguments, written=imp.written, called=imp.called,
                consumer=True,
            )
            if provided is not None and _third_party(imp):
                found = _one_unverified_note(_lenient(found, provided))
                if imp.members is not None and provided.kind is ExportKind.CLASS:
                    found = Verdict.merge(
                        [found, self._members_verdict(imp, provided, candidate)])
            elif provided is not None and imp.expected is not None and not imp.calls:
                found = _kind_unknown(found, imp.expected, provided)
            self.memo[key] = found
        return found

    def check_ancestry(self, imp: Import, candidate: Candidate) -> Verdict:
        """An export unchanged from the one built against, a class: the ancestors the consumer
        relies on it deriving from, in the candidate's class graph (a base of it may have
        lost one)."""
        assert imp.expected is not None
        classes = self.classes(candidate)
        key = ("ancestry", imp.expected.digest, imp.members, classes)
        found = self.memo.get(key)
        if found is None:
            found = self.memo[key] = self.check_export(
                imp.expected, imp.expected, policy=self.policy, classes=classes,
                members=imp.members)
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
            bound = _lenient(self.check_export(None, provided, calls=imp.calls,
                                               policy=self.policy), provided)
            found = Verdict(bound.problems) if bound.problems else _IDENTICAL
            self.memo[key] = found
        return found

    def classes(self, candidate: Candidate, imp: Import | None = None) -> ClassGraph:
        """The candidate's class graph, knowing also the Protocols of the version ``imp``
        was built against (the types it recorded may name them: MarkupSafe 3.0's
        ``_HasHTML`` against 2.1's ``HasHTML``); equal graphs are one object, so that the
        contract checker's memo (per graph) serves every version with the same classes."""
        graph = candidate.view.class_graph()
        built = None if imp is None else imp.built_against
        if built is not None and built != candidate.stored.version:
            graph = graph.with_protocols(self._protocols(candidate.name, built))
        return self.graphs.setdefault(graph, graph)

    def _protocols(self, name: str, version: str) -> Mapping[str, Mapping[str, str]]:
        """The Protocols of ``name==version`` when the store holds it, else none."""
        key = ("protocols", name, version)
        found = self.protocol_tables.get(key)
        if found is None:
            held = any(v.version == version for v in self.source.versions(name))
            found = self.protocol_tables[key] = (
                self.source.view(name, version).protocols() if held else {})
        return found

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
                member = self._member_verdict(imp, view.export(prefix), rest, candidate)
                if member is not None:
                    return member
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

    def _member_verdict(self, imp: Import, owner: Export | None, name: str,
                        candidate: Candidate) -> Verdict | None:
        """A third-party use of a class attribute (``lib.Color.RED``, ``lib.K.make(x)``):
        its calls bind to the member, or a member every base of which is known is missing
        (P1); None when that cannot be told (an instance attribute, an unknown base...)."""
        name, _, deeper = name.partition(".")
        if owner is None or owner.kind is not ExportKind.CLASS or (
            name.startswith("_") or owner.flavor not in (None, "enum")
        ):
            return None
        member = owner.members.get(name)
        if member is not None:
            if deeper or not imp.calls or not member.kind.callable:
                return Verdict(unverified=(f"member {name}: present, not checked further",))
            return _lenient(self.check_export(None, member, calls=imp.calls), member)
        graph = self.classes(candidate)
        if all(b.partition("[")[0] in _KNOWN_BASES or b.partition("[")[0] in graph
               for b in owner.bases):
            return Verdict((Problem("P1", f"member {name}", _USED, "absent",
                                    Severity.INCOMPATIBLE),))
        return None

    def _members_verdict(self, imp: Import, owner: Export, candidate: Candidate) -> Verdict:
        """A third-party library's use of a class's members (recorded at install, through
        its instances and operators): each must exist (absent: P1, unless a base of the class
        cannot be read, then unverified; a dunder ``object`` provides is always there) and
        each recorded call of one must bind."""
        verdicts: list[Verdict] = []
        lacking: list[str] = []
        for name in imp.members or ():
            member = owner.members.get(name)
            if member is None:
                if name not in _OBJECT_DUNDERS:
                    lacking.append(name)
                continue
            calls = tuple(dict.fromkeys(
                CallShape(len(a.positional), tuple(k for k, _ in a.keywords))
                for a in imp.arguments if a.member == name))
            if calls and member.kind.callable:
                bound = _lenient(self.check_export(None, member, calls=calls), member)
                verdicts.append(Verdict(bound.problems, tuple(
                    u for u in bound.unverified if u != _NO_CONSUMER_SIG)).prefixed(
                        f"member {name}"))
        if lacking:
            graph = self.classes(candidate)
            known = all(b.partition("[")[0] in _KNOWN_BASES or b.partition("[")[0] in graph
                        for b in owner.bases)
            verdicts.append(Verdict(
                tuple(Problem("P1", f"member {name}", _USED, "absent", Severity.INCOMPATIBLE)
                      for name in lacking)) if known else Verdict(unverified=tuple(
                          f"member {name}: absent from the class, which has a base that "
                          "cannot be read: not checked" for name in lacking)))
        return Verdict.merge(verdicts) if verdicts else Verdict()

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

            self.sources[key] = None  # a cycle of star imports may bind anything

            def find(module: str, level: int) -> Path | None:
                origin = file.parent
                for _ in range(level - 1):
                    origin = origin.parent
                base = (origin if level else root).joinpath(*filter(None, module.split(".")))
                return next((f for f in (base.with_suffix(".py"), base / "__init__.py")
                             if f.is_file()), None)

            def star(module: str, level: int) -> frozenset[str] | None:
                found = find(module, level)
                return None if found is None else self._star(found)

            def source(module: str, level: int) -> bytes | None:
                found = find(module, level)
                try:
                    return None if found is None else found.read_bytes()
                except OSError:
                    return None

            root = Path(file.parts[0])
            for parent in file.parents:  # the directory holding the top-level package
                if not (parent / "__init__.py").is_file():
                    root = parent
                    break
            try:
                self.sources[key] = bound_names(file.read_bytes(), star, source)
            except OSError:
                self.sources[key] = None
        return self.sources[key]

    def _star(self, file: Path) -> frozenset[str] | None:
        """What ``from <file's module> import *`` binds: its ``__all__``, else its
        bound names not starting with ``_``; None when that cannot be told."""
        from siglink.python.usage import listed_names

        try:
            listed = listed_names(file.read_bytes())
        except OSError:
            return None
        if listed is not False:
            return listed
        names = self._bound(file)
        return None if names is None else frozenset(n for n in names if not n.startswith("_"))

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
            if backported(req.name):  # the interpreter's own module; never served from the store
                if (said := stdlib_note(canonicalize_name(req.name))) not in self.warnings:
                    self.warnings.append(said)
                continue
            specs.setdefault(canonicalize_name(req.name), []).append(
                (req.specifier, text, frozenset(req.extras))
            )
        # Imports computed at install follow Requires-Dist (as evaluated then): a distribution
        # they name that is not required here (a marker false on this interpreter) is not.
        names = dict.fromkeys([*specs, *(
            name for name, items in candidate.imports.items()
            if name in specs or (not all(_third_party(i) for i in items)
                                 and not backported(name)))])
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

