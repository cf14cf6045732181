"""Verdicts: the result of checking what a provider offers against what a consumer expects.

Compatibility is data, not a boolean: a verdict lists every problem found (rule id, where,
expected, found, severity) and the parts that could not be verified (``Any``, ``unknown``,
TypeVars). The linker decides what is fatal; the CLI decides how to print it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from siglink._text import inert
from siglink.contracts.rules import Rule
from siglink.contracts.severity import Severity

__all__ = ["Problem", "Rule", "Severity", "Verdict"]


def __dir__() -> list[str]:
    return list(__all__)


def _cut(text: str, limit: int | None) -> str:
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "\u2026"


@dataclass(frozen=True, slots=True, init=False)
class Problem:
    """One difference between an expected and a provided export, found by one :class:`Rule`.

    >>> Problem(Rule.P11, "param b", "int | str", "int", Severity.INCOMPATIBLE).explain()
    'P11 param b: expected int | str, found int (incompatible)'

    A rule may be given by its id; an unknown id is refused:

    >>> Problem("P11", "param b", "int", "str", Severity.INCOMPATIBLE).rule
    <Rule.P11: 'P11'>
    >>> Problem("P99", "", "", "", Severity.HARMLESS)
    Traceback (most recent call last):
    ...
    ValueError: 'P99' is not a valid Rule
    """

    rule: Rule
    path: str
    expected: str
    found: str
    severity: Severity
    note: str

    def __init__(  # noqa: PLR0917 -- positional, as the dataclass it replaces
        self, rule: Rule | str, path: str, expected: str, found: str, severity: Severity,
        note: str = "",
    ) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "rule", rule if type(rule) is Rule else Rule(rule))
        setattr_(self, "path", path)
        setattr_(self, "expected", expected)
        setattr_(self, "found", found)
        setattr_(self, "severity", severity)
        setattr_(self, "note", note)

    def explain(self, limit: int | None = 200) -> str:
        """One line: rule, location, expected and found, each of those cut to ``limit``
        characters with an ellipsis (``None`` keeps them whole; JSON always does).

        The empty path is the export itself (paths are relative to what was checked):

        >>> Problem("P1", "", "function ()", "absent", Severity.INCOMPATIBLE).explain()
        'P1: expected function (), found absent (incompatible)'
        """
        where = f" {self.path}" if self.path else ""
        expected, found = _cut(self.expected, limit), _cut(self.found, limit)
        text = f"{self.rule}{where}: expected {expected}, found {found}"
        if self.note:
            text += f"; {self.note}"
        return f"{text} ({self.severity.value})"

    def to_json(self) -> dict[str, str]:
        data = {
            "rule": self.rule.value,
            "path": self.path,
            "expected": self.expected,
            "found": self.found,
            "severity": self.severity.value,
        }
        if self.note:
            data["note"] = self.note
        return data

    @classmethod
    def from_json(cls, data: dict[str, str]) -> Problem:
        return cls(
            data["rule"],
            data["path"],
            data["expected"],
            data["found"],
            Severity(data["severity"]),
            data.get("note", ""),
        )


@dataclass(frozen=True, slots=True)
class Verdict:
    """Every problem and every unverified part found by one check.

    ``ok`` is true when no problem is incompatible; ``bool(verdict)`` is the same.
    ``usage_compatible`` is true when problems were downgraded because no recorded call
    exercises them (docs/design.md §3.5).
    """

    problems: tuple[Problem, ...] = ()
    unverified: tuple[str, ...] = ()
    usage_compatible: bool = False
    identical: bool = field(default=False, compare=False)

    @property
    def ok(self) -> bool:
        return not any(p.severity is Severity.INCOMPATIBLE for p in self.problems)

    def __bool__(self) -> bool:
        return self.ok

    @property
    def verified(self) -> bool:
        return not self.unverified

    @property
    def incompatible(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.INCOMPATIBLE)

    @property
    def reviews(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.REVIEW)

    def prefixed(self, prefix: str) -> Verdict:
        """The same verdict with every path placed under ``prefix`` (a member, an export).

        >>> v = Verdict((Problem(Rule.P1, "", "function ()", "absent", Severity.INCOMPATIBLE),
        ...              Problem(Rule.P2, "param b", "absent", "b=1", Severity.HARMLESS)))
        >>> [p.path for p in v.prefixed("lib.f").problems]
        ['lib.f', 'lib.f param b']
        """
        if not prefix:
            return self
        return Verdict(
            tuple(
                Problem(p.rule, f"{prefix} {p.path}".strip() if p.path else prefix,
                        p.expected, p.found, p.severity, p.note)
                for p in self.problems
            ),
            tuple(f"{prefix} {u}".strip() for u in self.unverified),
            self.usage_compatible,
            self.identical,
        )

    @staticmethod
    def merge(verdicts: Iterable[Verdict]) -> Verdict:
        """One verdict holding the problems and unverified parts of many."""
        problems: list[Problem] = []
        unverified: list[str] = []
        usage = False
        identical = True
        for verdict in verdicts:
            problems.extend(verdict.problems)
            unverified.extend(u for u in verdict.unverified if u not in unverified)
            usage = usage or verdict.usage_compatible
            identical = identical and verdict.identical
        return Verdict(tuple(problems), tuple(unverified), usage, identical)

    def explain(self) -> str:
        """Every problem on its own line, then what was not verified; each line inert (a
        name or type quoted from a manifest cannot start a line of its own)."""
        lines = [p.explain() for p in self.problems]
        if self.unverified:
            lines.append("unverified: " + ", ".join(self.unverified))
        if not lines:
            return "identical" if self.identical else "ok"
        return "\n".join(inert(line) for line in lines)

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "usage_compatible": self.usage_compatible,
            "problems": [p.to_json() for p in self.problems],
            "unverified": list(self.unverified),
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Verdict:
        problems = data.get("problems", [])
        unverified = data.get("unverified", [])
        assert isinstance(problems, list) and isinstance(unverified, list)
        return cls(
            tuple(Problem.from_json(p) for p in problems),
            tuple(str(u) for u in unverified),
            bool(data.get("usage_compatible", False)),
        )
