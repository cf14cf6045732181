"""Why a link was refused: :class:`LinkFailure` (the text of
:class:`~siglink.errors.LinkError`) and the reasons given for each refused version."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING

from siglink._text import inert
from siglink.contracts.rules import Rule
from siglink.contracts.verdict import Problem, Verdict
from siglink.link._model import Candidate, Requirement
from siglink.link._provider import _USED, _checked, _Provider

if TYPE_CHECKING:
    from siglink.store import StoredVersion


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
            reasons.append(_dependency_conflict(provider, dep, other))
    for verdict in verdicts:
        reasons.extend(p.explain() for p in verdict.incompatible)
    return "; ".join(reasons) or "conflicts with another library's requirements"


def _dependency_conflict(provider: _Provider, dep: Requirement, other: Candidate) -> str:
    """Why ``dep`` cannot be met: no stored version satisfies it at all, or the version the
    others need does not."""
    stored = list(provider.source.versions(dep.name))
    if not any(provider.refusal(dep, provider.candidate(v)) is None for v in stored):
        have = ", ".join(v.version for v in stored) or "none"
        return (f"no stored version of {dep.name} satisfies {dep.specifier} "
                f"(the store has {have})")
    return (f"it requires {dep.name}{dep.specifier}, which conflicts with "
            f"{dep.name} {other.stored.version} needed by the others")


def _consumer_label(consumer: str, app: str) -> str:
    return "the application" if consumer == app else consumer


def _problem_text(problem: Problem, who: str, name: str, version: str) -> str:
    """One refusal line: ``werkzeug 2.3.8 uses markupsafe.soft_unicode, which markupsafe 2.1.5
    does not export (P1)`` for a name used without a recorded contract, else the problem's own
    explanation and who needs it."""
    if problem.rule is Rule.P1 and problem.expected == _USED:
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
        if problem.rule is Rule.P1 and problem.expected == _USED:
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
    if intrinsic.startswith("excluded by the application"):
        return "excluded by the application's constraints"
    return "invalid"


def _versions_text(versions: Sequence[str]) -> str:
    return versions[0] if len(versions) == 1 else ", ".join(versions[:-1]) + " and " + versions[-1]


class _Tally:
    """What the versions of one package tell about each other while they are judged."""

    def __init__(self) -> None:
        self.considered: list[str] = []
        # kind of exclusion -> versions; and the excluded versions that would otherwise serve
        self.excluded: dict[str, list[str]] = {}
        self.would_serve: dict[str, list[str]] = {}
        # "flask 3.0.0 requires werkzeug>=3.0.0" -> the versions that requirement refuses
        self.conflicts: dict[str, list[str]] = {}
        self.missing: dict[str, list[str]] = {}  # a used name -> the versions that lack it


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
        hint = install_hint(module)
        if not environment:
            hint += ", or run with --environment"
        store = "the store or the environment" if environment else "the store"
        text = (f"{module}: imported by {where} but no library in {store} provides it "
                f"({hint})")
        self.lines.append(f"  {text}")
        self.summaries.append(text)

    def absent(self, name: str, needed_by: str) -> None:
        """Add a required distribution the store has no version of (unless already told)."""
        if name in self.unsatisfied:
            return
        self.unsatisfied[name] = {}
        self.rejected[name] = []
        self.lines.append(f"  {name}: needed by {needed_by}")
        self.lines.append(f"    {name} is not in the store (siglink install {name})")
        self.summaries.append(f"{name} is not in the store")

    @property
    def names(self) -> tuple[str, ...]:
        """The libraries for which no version is acceptable."""
        return tuple(self.unsatisfied)

    def text(self) -> str:
        """The lines, each made inert (a name, version, path or yank reason quoted in one
        cannot start a line of its own)."""
        return "\n".join(inert(line) for line in self.lines)

    @property
    def summary(self) -> str:
        """One line: ``textkit: textkit.wrap incompatible in 2.0.0; 1.0.1 yanked``."""
        return "; ".join(self.summaries)

    def _explain(self, provider: _Provider, name: str, reqs: Sequence[Requirement]) -> None:
        """One package no version of which serves every consumer: the lines and summary."""
        versions = list(provider.source.versions(name))
        self._list_consumers(name, reqs)
        if not versions:
            self.lines.append(f"    {name} is not in the store (siglink install {name})")
            self.summaries.append(f"{name} is not in the store")
            return
        tally = _Tally()
        for stored in versions:
            self._judge(provider, name, reqs, stored, tally)
        self._conclude(name, versions, tally)

    def _list_consumers(self, name: str, reqs: Sequence[Requirement]) -> None:
        """The heading for ``name`` and one line per consumer that needs it."""
        self.unsatisfied.setdefault(name, {})
        self.rejected.setdefault(name, [])
        self.lines.append(f"  {name}: no version satisfies every consumer")
        for req in reqs:
            who = _consumer_label(req.consumer, self.app)
            spec = f" {req.specifier}" if req.specifier else ""
            used = [i.path for i in req.imports if _checked(i)]
            uses = f": uses {_some(used)}" if used else ""
            self.lines.append(f"    needed by {who}{spec}{uses}")

    def _judge(
        self, provider: _Provider, name: str, reqs: Sequence[Requirement],
        stored: StoredVersion, tally: _Tally,
    ) -> None:
        """Why one stored version of ``name`` was refused, recorded in ``tally`` and the lines."""
        app, lines = self.app, self.lines
        undefined = self.unsatisfied[name]
        rejected = self.rejected[name]
        candidate = provider.candidate(stored)
        problems: list[str] = []
        refusals = [(req, provider.refusal(req, candidate)) for req in reqs]
        intrinsic = provider.intrinsic_refusal(stored)
        if intrinsic is not None:
            kind = _excluded_kind(intrinsic)
            tally.excluded.setdefault(kind, []).append(stored.version)
            if all(refusal is None for _, refusal in refusals):
                tally.would_serve.setdefault(kind, []).append(stored.version)
                hint = " (--allow-yanked)" if kind == "yanked" else ""
                intrinsic += f"; otherwise compatible{hint}"
            lines.append(f"    {name} {stored.version}: {intrinsic}")
            rejected.append((stored.version, intrinsic))
            return
        tally.considered.append(stored.version)
        verdicts: list[Verdict] = []
        for req, refusal in refusals:
            if refusal is None:
                continue
            who = _consumer_label(req.consumer, app)
            if refusal.verdict is None:
                why = f" ({req.why})" if req.why and req.why != "policy semver" else ""
                policy = " (policy semver)" if req.why == "policy semver" else ""
                text = f"{who.replace('==', ' ')} requires {name}{req.specifier}"
                tally.conflicts.setdefault(text + policy, []).append(stored.version)
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
                if problem.rule is Rule.P1 and problem.expected == _USED:
                    tally.missing.setdefault(path, []).append(stored.version)
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

    def _conclude(self, name: str, versions: Sequence[StoredVersion], tally: _Tally) -> None:
        """The closing lines and the summary for ``name`` once every version was judged."""
        lines = self.lines
        undefined = self.unsatisfied[name]
        considered, excluded, missing = tally.considered, tally.excluded, tally.missing
        tail = ""
        for kind, vs in excluded.items():
            serving = tally.would_serve.get(kind, [])
            tail += f"; {_versions_text(vs)} {'is' if len(vs) == 1 else 'are'} {kind}"
            if serving == vs:
                tail += " (otherwise compatible)"
            elif serving:
                tail += f" ({_versions_text(serving)} otherwise compatible)"
        conflict = "; ".join(f"{text} (refuses {_versions_text(vs)})"
                             for text, vs in tally.conflicts.items())
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


def install_hint(module: str) -> str:
    """``siglink install PyYAML==VERSION`` for module ``yaml`` when the running environment
    knows its distribution (``importlib.metadata.packages_distributions``), else a hint naming
    no distribution.

    >>> install_hint("packaging.version")
    'siglink install packaging==VERSION'
    >>> install_hint("no_such_module")
    'siglink install NAME==VERSION of the distribution that provides no_such_module'
    """
    names = sorted(set(_providers().get(module.split(".", 1)[0], ())))
    if len(names) == 1:
        return f"siglink install {names[0]}==VERSION"
    return f"siglink install NAME==VERSION of the distribution that provides {module}"


@cache
def _providers() -> dict[str, list[str]]:
    from importlib.metadata import packages_distributions

    try:
        return dict(packages_distributions())
    except Exception:  # a broken installed distribution must not hide the hint
        return {}
