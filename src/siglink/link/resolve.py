"""Choosing one version per library: resolvelib over the store, with signatures as constraints.

A *requirement* is what one consumer (the application, or a library version) needs of one
distribution: a version specifier (from ``Requires-Dist``, or the ``semver`` policy) and the
imports to check. A *candidate* is a stored version. A candidate satisfies a requirement when
the specifier admits it and every import's verdict is ok (docs/design.md §6). Candidates are offered
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

A refused candidate is explained one line per problem (:func:`refusal_lines`):

>>> from siglink.contracts.verdict import Problem, Severity, Verdict
>>> gone = Problem("P1", "werkzeug==2.3.8 markupsafe.soft_unicode",
...                "exported (the consumer uses it)", "absent", Severity.INCOMPATIBLE)
>>> refusal_lines("markupsafe", "2.1.5", Verdict((gone,)))
['werkzeug 2.3.8 uses markupsafe.soft_unicode, which markupsafe 2.1.5 does not export (P1)']
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from packaging.specifiers import SpecifierSet
from packaging.version import Version
from resolvelib import BaseReporter, ResolutionImpossible, Resolver
from resolvelib.resolvers import ResolutionTooDeep

from siglink._gc import fewer_collections
from siglink._stdlib import backported
from siglink._text import inert
from siglink.contracts.policy import POLICIES
from siglink.contracts.verdict import Verdict
from siglink.errors import LinkError
from siglink.link._failure import LinkFailure, _why_refused
from siglink.link._failure import refusal_lines as refusal_lines  # noqa: PLC0414
from siglink.link._model import (
    Candidate,
    LinkSource,
    ManifestView,
    Requirement,
    StoreSource,
    _version,
)
from siglink.link._model import app_requirements as app_requirements  # noqa: PLC0414
from siglink.link._provider import _Provider

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



def __dir__() -> list[str]:
    return list(__all__)


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
            with fewer_collections():
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


@dataclass(frozen=True)
class Resolution:
    """A successful resolution: the chosen candidate of each name, its merged verdict, the
    newer candidates refused and why (explained lazily), and warnings."""

    chosen: dict[str, Candidate]
    verdicts: dict[str, Verdict]
    rejected: Rejections
    warnings: tuple[str, ...]


class _Reporter(BaseReporter[Requirement, Candidate, str]):
    pass


def _python_version() -> Version:
    return Version(platform.python_version())


def _absent(source: LinkSource, requirements: Sequence[Requirement]) -> dict[str, str]:
    """Every distribution required (transitively, through the newest usable stored version of
    each known one) that the source has no version of: name -> who needs it first."""
    from packaging.requirements import InvalidRequirement
    from packaging.requirements import Requirement as PkgRequirement
    from packaging.utils import canonicalize_name

    absent: dict[str, str] = {}
    seen: set[str] = set()
    queue = [(r.name, r.consumer) for r in requirements]
    while queue:
        name, consumer = queue.pop(0)
        if name in seen:
            continue
        seen.add(name)
        versions = source.versions(name)  # newest first
        if not versions:
            absent[name] = consumer
            continue
        newest = next((v for v in versions if not v.yanked), versions[0])
        for text in newest.requires:
            try:
                req = PkgRequirement(text)
            except InvalidRequirement:
                continue
            try:
                if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                    continue
            except Exception:  # an undefined marker variable: not required here
                continue
            if backported(req.name):  # met by the interpreter (see _provider)
                continue
            queue.append((str(canonicalize_name(req.name)), f"{newest.name}=={newest.version}"))
    return absent


def resolve(
    source: LinkSource, requirements: Sequence[Requirement], *, app: str,
    policy: str = "signature", pre: bool = False, allow_yanked: bool = False,
    constraints: Mapping[str, tuple[SpecifierSet, str]] | None = None,
    warnings_error: str | None = None,
) -> Resolution:
    """Resolve ``requirements``; :class:`LinkError` (exit 127) lists every unsatisfied
    import and why each candidate was refused. ``constraints``: the versions the application
    admits of each library; ``warnings_error``: where it makes deprecation warnings errors
    (:mod:`siglink.link.constraints`)."""
    provider = _Provider(source, policy=policy, pre=pre, allow_yanked=allow_yanked,
                         python_version=_python_version(), constraints=constraints,
                         warnings_error=warnings_error)
    resolver = Resolver(provider, _Reporter())
    with fewer_collections():
        try:
            result = resolver.resolve(requirements, max_rounds=2000)
        except ResolutionImpossible as e:
            causes = [(c.requirement, c.parent) for c in e.causes]
            failure = LinkFailure(provider, app, causes)
            for name, needed_by in _absent(source, requirements).items():
                failure.absent(name, needed_by)
            raise LinkError(failure.text(), report=failure) from None
        except ResolutionTooDeep as e:
            raise LinkError(f"cannot link {inert(app)}: no solution found within "
                            f"{e.round_count} "
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

