"""The compatibility rules as a type: each :class:`Rule` carries its id, default severity, a
one-line summary, an explanation and one example (docs/design.md §3.3, §3.4).

A rule *is* its id: ``Rule.P11 == "P11"``, and it prints, formats and serializes as the id,
so manifests, plans, JSON and messages read as they always did.

>>> Rule.P11, Rule("P11") is Rule.P11, f"{Rule.P11}"
(<Rule.P11: 'P11'>, True, 'P11')
>>> Rule.P11.severity, Rule.P11.summary
(<Severity.INCOMPATIBLE: 'incompatible'>, 'parameter type narrowed')
>>> print(Rule.P11.example)
old: (a: float) -> None
new: (a: int) -> None
verdict: incompatible
>>> Rule.C4.section, Rule.P11.language
('3.4', 'python')
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Literal

from siglink.contracts.severity import Severity

__all__ = ["Example", "Rule"]


def __dir__() -> list[str]:
    return list(__all__)


@dataclass(frozen=True, slots=True)
class Example:
    """One concrete change the rule decides: what the consumer recorded (``old``), what the
    provider now offers (``new``) and the verdict the checker gives."""

    old: str
    new: str
    verdict: str

    def __str__(self) -> str:
        return f"old: {self.old}\nnew: {self.new}\nverdict: {self.verdict}"


class Rule(StrEnum):
    """A rule of docs/design.md §3.3 (Python: P1-P24, R6, R7) or §3.4 (C: C1-C18)."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"
    P5 = "P5"
    P6 = "P6"
    P7 = "P7"
    P8 = "P8"
    P9 = "P9"
    P10 = "P10"
    P11 = "P11"
    P12 = "P12"
    P13 = "P13"
    P14 = "P14"
    P15 = "P15"
    P16 = "P16"
    P17 = "P17"
    P18 = "P18"
    P19 = "P19"
    P20 = "P20"
    P21 = "P21"
    P22 = "P22"
    P23 = "P23"
    P24 = "P24"
    R6 = "R6"
    R7 = "R7"
    C1 = "C1"
    C2 = "C2"
    C3 = "C3"
    C4 = "C4"
    C5 = "C5"
    C6 = "C6"
    C7 = "C7"
    C8 = "C8"
    C9 = "C9"
    C10 = "C10"
    C11 = "C11"
    C12 = "C12"
    C13 = "C13"
    C14 = "C14"
    C15 = "C15"
    C16 = "C16"
    C17 = "C17"
    C18 = "C18"

    @property
    def severity(self) -> Severity:
        """The severity of a problem under this rule in the usual case (some rules give
        another in special cases, which the explanation names)."""
        return _INFO[self].severity

    @property
    def summary(self) -> str:
        """The change the rule is about, in a few words (its title)."""
        return _INFO[self].summary

    @property
    def explanation(self) -> str:
        """What the rule decides, and why."""
        return _INFO[self].explanation

    @property
    def example(self) -> Example:
        return _INFO[self].example

    @property
    def language(self) -> Literal["python", "c"]:
        return "c" if self.value.startswith("C") else "python"

    @property
    def section(self) -> str:
        """The section of docs/design.md that states the rule."""
        return "3.4" if self.language == "c" else "3.3"


@dataclass(frozen=True, slots=True)
class _Info:
    severity: Severity
    summary: str
    explanation: str
    example: Example


_B, _R, _H = Severity.INCOMPATIBLE, Severity.REVIEW, Severity.HARMLESS


def _info(  # noqa: PLR0917 -- one row of the table below
    severity: Severity, summary: str, explanation: str, old: str, new: str, verdict: str,
) -> _Info:
    return _Info(severity, summary, explanation, Example(old, new, verdict))


_INFO: Final[dict[Rule, _Info]] = {
    Rule.P1: _info(
        _B, "export removed, renamed or moved",
        "A name the consumer uses is no longer exported where it was: every use fails. A "
        "name still served but with a deprecation warning is P1 of severity review; it "
        "refuses under strict, and for an application that makes deprecation warnings "
        "errors (its pytest filterwarnings, [tool.siglink] warnings = \"error\"), where "
        "the use raises.",
        "def f(a: int) -> int: ...", "(f removed)", "incompatible"),
    Rule.P2: _info(
        _H, "parameter with a default added",
        "Every old call still binds. Review when the signature has *args: a positional "
        "argument that went to *args now lands in the new parameter.",
        "(a: int) -> None", "(a: int, b: int = 0) -> None", "harmless"),
    Rule.P3: _info(
        _B, "required parameter added",
        "Every old call now misses an argument.",
        "(a: int) -> None", "(a: int, b: int) -> None", "incompatible"),
    Rule.P4: _info(
        _B, "positional parameters inserted or reordered",
        "Old positional calls bind their arguments to other parameters.",
        "(a: int, b: str) -> None", "(b: str, a: int) -> None", "incompatible"),
    Rule.P5: _info(
        _H, "keyword-only parameters reordered",
        "Keyword arguments bind by name: the canonical form sorts keyword-only parameters, so "
        "the signatures are identical.",
        "(*, a: int = 0, b: int = 0) -> None", "(*, b: int = 0, a: int = 0) -> None",
        "identical"),
    Rule.P6: _info(
        _B, "parameter removed",
        "Calls passing it fail, unless *args or **kwargs of a compatible type absorb it.",
        "(a: int, b: int) -> None", "(a: int) -> None", "incompatible"),
    Rule.P7: _info(
        _H, "required parameter got a default",
        "Every old call passes it anyway.",
        "(a: int) -> None", "(a: int = 0) -> None", "harmless"),
    Rule.P8: _info(
        _B, "default removed",
        "Calls that left the parameter out now miss an argument.",
        "(a: int = 0) -> None", "(a: int) -> None", "incompatible"),
    Rule.P9: _info(
        _R, "default value changed",
        "Calls that leave the parameter out still bind but may mean something else; "
        "incompatible under the strict policy.",
        "(a: int = 0) -> None", "(a: int = 1) -> None", "review (incompatible under strict)"),
    Rule.P10: _info(
        _H, "parameter type widened",
        "Every argument the consumer passes is still accepted (parameters are contravariant).",
        "(a: int) -> None", "(a: float) -> None", "harmless"),
    Rule.P11: _info(
        _B, "parameter type narrowed",
        "Some arguments the consumer may pass are no longer accepted.",
        "(a: float) -> None", "(a: int) -> None", "incompatible"),
    Rule.P12: _info(
        _H, "return type narrowed",
        "Every value returned is still usable as the consumer expects (returns are "
        "covariant).",
        "() -> float", "() -> int", "harmless"),
    Rule.P13: _info(
        _B, "return type widened, or a value return became None",
        "The consumer may receive values it was not built to handle. A class that loses a "
        "base is P13 too: its instances are no longer usable as that base.",
        "() -> int", "() -> int | None", "incompatible"),
    Rule.P14: _info(
        _H, "a None return became a value",
        "A consumer built against None never used the result.",
        "() -> None", "() -> int", "harmless"),
    Rule.P15: _info(
        _H, "positional-only parameter renamed",
        "No call can pass it by name.",
        "(a: int, /) -> None", "(b: int, /) -> None", "harmless"),
    Rule.P16: _info(
        _B, "keyword-callable parameter renamed",
        "Calls passing it by keyword fail; in usage mode a review when no recorded call does.",
        "(a: int) -> None", "(b: int) -> None", "incompatible"),
    Rule.P17: _info(
        _H, "positional-only or keyword-only became positional-or-keyword",
        "Old calls still bind, except: positional-only to standard breaks when **kwargs "
        "exists, keyword-only to standard breaks when *args exists.",
        "(a: int, /) -> None", "(a: int) -> None", "harmless"),
    Rule.P18: _info(
        _B, "positional-or-keyword became positional-only or keyword-only",
        "Calls of the other style no longer reach the parameter; so do swaps between the "
        "only-kinds.",
        "(a: int) -> None", "(a: int, /) -> None", "incompatible"),
    Rule.P19: _info(
        _H, "*args or **kwargs added",
        "Every old call still binds.",
        "(a: int) -> None", "(a: int, *args: int) -> None", "harmless"),
    Rule.P20: _info(
        _B, "*args or **kwargs removed or narrowed",
        "Calls passing extra arguments fail.",
        "(a: int, *args: int) -> None", "(a: int) -> None", "incompatible"),
    Rule.P21: _info(
        _B, "an old overload not covered by a new one",
        "Each overload the consumer was built against must be assignable from a new one.",
        "f(a: int) -> int; f(a: str) -> str (two overloads)", "f(a: int) -> int (one)",
        "incompatible"),
    Rule.P22: _info(
        _B, "record changed (dataclass, NamedTuple, TypedDict)",
        "Constructors follow the function rules, fields read by the consumer the attribute "
        "rules; a NamedTuple's field order is fixed; TypedDicts follow the typing spec.",
        "class Movie(TypedDict): title: str",
        "class Movie(TypedDict): title: str; year: int", "incompatible"),
    Rule.P23: _info(
        _B, "enum member removed or renumbered",
        "Members added are harmless for inputs and a review for outputs (the consumer may "
        "receive a value it does not know).",
        "class Color(Enum): RED = 1; GREEN = 2", "class Color(Enum): RED = 1",
        "incompatible"),
    Rule.P24: _info(
        _H, "missing annotation or Any",
        "Consistent with every type both ways, so never a problem; the part is listed as "
        "unverified.",
        "(a) -> None", "(a: int) -> None", "ok, unverified (param a: no annotation)"),
    Rule.R6: _info(
        _B, "kind changed",
        "Function and class, instance, class and static method, property, sync and async "
        "are used differently; a change breaks the uses. A property that loses its setter "
        "or deleter breaks a consumer that assigns or deletes it.",
        "def f() -> int: ...", "async def f() -> int: ...", "incompatible"),
    Rule.R7: _info(
        _B, "class the consumer calls became a Protocol",
        "A Protocol cannot be instantiated: every call of the class raises TypeError. A "
        "consumer that only imports it still runs (R6, review); one whose calls are not all "
        "seen (it passes the class on) is judged by the contract (R6, incompatible).",
        "class Sized: ...", "class Sized(Protocol): ...", "incompatible"),
    Rule.C1: _info(
        _B, "symbol missing or soname major changed",
        "The dynamic loader would refuse the library, or a call would find nothing.",
        "int f(int a);", "(no symbol f)", "incompatible"),
    Rule.C2: _info(
        _B, "symbol version changed",
        "A consumer that recorded sym@VERSION is bound to that ELF symbol version.",
        "f@LIB_1.0", "f@LIB_2.0 only", "incompatible"),
    Rule.C3: _info(
        _B, "parameter count or variadic-ness changed",
        "C passes what the caller pushes: a different count reads garbage or drops "
        "arguments.",
        "int f(int a);", "int f(int a, int b);", "incompatible"),
    Rule.C4: _info(
        _B, "size, alignment, signedness, class or pointer level changed",
        "Any representation change of a parameter or return reinterprets the bits.",
        "int f(int a);", "int f(long a);", "incompatible"),
    Rule.C5: _info(
        _H, "typedef renamed to the identical type",
        "The representation is the same.",
        "ulong_t f(void);  /* typedef unsigned long ulong_t; */", "unsigned long f(void);",
        "harmless"),
    Rule.C6: _info(
        _H, "top-level const on a by-value parameter",
        "The callee's copy is const; the caller cannot tell.",
        "int f(int a);", "int f(const int a);", "harmless"),
    Rule.C7: _info(
        _H, "const added to a parameter's pointee",
        "The library promises not to write; removed, it is a review (it may now write).",
        "int f(char *s);", "int f(const char *s);", "harmless"),
    Rule.C8: _info(
        _R, "const added to a returned pointee",
        "The consumer may write where the library now says it must not; removed, harmless.",
        "char *f(void);", "const char *f(void);", "review"),
    Rule.C9: _info(
        _H, "restrict removed",
        "The library assumes less about aliasing; added, it is a review.",
        "void f(int *restrict p);", "void f(int *p);", "harmless"),
    Rule.C10: _info(
        _R, "void * parameter became T *",
        "The library now expects one type where it took any.",
        "void f(void *p);", "void f(int *p);", "review"),
    Rule.C11: _info(
        _H, "void return became a scalar",
        "A scalar comes back in a register the consumer ignores; an aggregate returned in "
        "memory, or a value that became void, breaks.",
        "void f(void);", "int f(void);", "harmless"),
    Rule.C12: _info(
        _H, "parameter renamed",
        "C passes arguments by position only.",
        "int f(int a);", "int f(int b);", "harmless"),
    Rule.C13: _info(
        _H, "enum members added, size unchanged",
        "Inputs are fine; outputs a review (the consumer may receive an unknown value); "
        "members removed or renumbered break.",
        "void f(enum mode m);  /* enum mode { A, B }; */",
        "void f(enum mode m);  /* enum mode { A, B, C }; */", "harmless"),
    Rule.C14: _info(
        _B, "struct passed by value not identical",
        "The bytes copied are laid out differently.",
        "int f(struct pt p);  /* struct pt { int x; int y; }; */",
        "int f(struct pt p);  /* struct pt { int x; long y; }; */", "incompatible"),
    Rule.C15: _info(
        _B, "struct behind a pointer changed",
        "A changed offset or a removed field reads the wrong bytes; growth breaks when the "
        "consumer allocates the struct.",
        "int f(struct g *p);  /* struct g { int a; int b; }; */",
        "int f(struct g *p);  /* struct g { int a; }; */", "incompatible"),
    Rule.C16: _info(
        _R, "a struct the consumer saw whole became opaque",
        "Any change behind a handle that was opaque to the consumer is safe (no problem); a "
        "struct whose fields the consumer knew, now opaque, deserves a look.",
        "void f(struct h *h);  /* struct h { int a; }; */",
        "void f(struct h *h);  /* struct h; */", "review"),
    Rule.C17: _info(
        _B, "calling convention changed",
        "Arguments travel in other registers.",
        "int f(int a);", "int __attribute__((ms_abi)) f(int a);", "incompatible"),
    Rule.C18: _info(
        _R, "integer constant changed",
        "The consumer compiled the old value in; the library may now expect, accept or "
        "return the new one.",
        "#define LIMIT 10", "#define LIMIT 20", "review"),
}
