"""The Python signature rules P2-P20 and P24 (docs/design.md §3.3), each change and its reverse.

Expected findings are written as rule ids with a severity mark: ``P16!`` incompatible,
``P2?`` review, ``P7`` harmless.
"""

from __future__ import annotations

import pytest

from siglink.contracts import compat
from siglink.contracts.compat import check, check_export
from siglink.contracts.manifest import CallShape, Export, ExportKind
from siglink.contracts.signature import Signature
from siglink.contracts.types import ClassGraph
from siglink.contracts.verdict import Severity, Verdict
from siglink.errors import BadInputError

MARK = {Severity.INCOMPATIBLE: "!", Severity.REVIEW: "?", Severity.HARMLESS: ""}


def findings(verdict: Verdict) -> list[str]:
    return sorted(p.rule + MARK[p.severity] for p in verdict.problems)


# (rule, old, new, findings for old -> new, findings for new -> old)
RULES = [
    ("P2", "(a)", "(a, b=1)", ["P2"], ["P6!"]),
    ("P2", "(a)", "(a, *, b=1)", ["P2"], ["P6!"]),
    ("P2 with *args", "(a, *args)", "(a, b=1, *args)", ["P2?"], ["P6!"]),
    ("P2 with *args, keyword-only", "(a, *args)", "(a, *args, b=1)", ["P2"], ["P6!"]),
    ("P2 with *args and **kwargs", "(a, *args, **kw)", "(a, b=1, *args, **kw)", ["P2!"], ["P6"]),
    ("P3", "(a)", "(a, b)", ["P3!"], ["P6!"]),
    ("P3 keyword-only", "(a)", "(a, *, b)", ["P3!"], ["P6!"]),
    ("P3 behind **kwargs", "(a, **kw)", "(a, *, b, **kw)", ["P3!"], ["P6"]),
    ("P4 reordered", "(a, b)", "(b, a)", ["P4!", "P4!"], ["P4!", "P4!"]),
    ("P4 inserted", "(a, b=1)", "(a, x=0, b=1)", ["P4!"], ["P4!", "P4!"]),
    ("P4 positional-only reordered", "(a, b, /)", "(b, a, /)", ["P4!", "P4!"], ["P4!", "P4!"]),
    ("P5", "(*, a, b=1)", "(*, b=1, a)", [], []),
    ("P6", "(a, b=1)", "(a)", ["P6!"], ["P2"]),
    ("P6 keyword-only", "(a, *, b=1)", "(a)", ["P6!"], ["P2"]),
    ("P6 absorbed by *args", "(a, b=1, /)", "(a, /, *args)", ["P19", "P6"], ["P2?", "P20!"]),
    ("P6 absorbed by *args, **kwargs", "(a, b=1)", "(a, *args, **kw)",
     ["P19", "P19", "P6"], ["P2!", "P20!", "P20!"]),
    ("P6 absorbed by **kwargs", "(a, *, b=1)", "(a, **kw)", ["P19", "P6"], ["P2", "P20!"]),
    ("P6 not absorbed: keyword path", "(a, b=1)", "(a, *args)", ["P19", "P6!"], ["P2?", "P20!"]),
    ("P6 absorbed, wrong type", "(a, *, b: str = '')", "(a, **kw: int)",
     ["P19", "P6", "P6!"], ["P11!", "P2", "P20!"]),
    ("P7", "(a, b)", "(a, b=1)", ["P7"], ["P8!"]),
    ("P7 keyword-only", "(*, a)", "(*, a=1)", ["P7"], ["P8!"]),
    ("P9", "(a=1)", "(a=2)", ["P9?"], ["P9?"]),
    ("P9 value not recorded", "(a=...)", "(a=2)", [], []),
    ("P10", "(a: int)", "(a: float)", ["P10"], ["P11!"]),
    ("P10 union", "(a: int)", "(a: int | str)", ["P10"], ["P11!"]),
    ("P10 *args", "(*args: int)", "(*args: float)", ["P10"], ["P20!"]),
    ("P10 container", "(a: list[int])", "(a: Sequence[int])", ["P10"], ["P11!"]),
    ("P11 unrelated", "(a: int)", "(a: str)", ["P11!"], ["P11!"]),
    ("P11 mutable container", "(a: list[int])", "(a: list[float])", ["P11!"], ["P11!"]),
    ("P12", "() -> float", "() -> int", ["P12"], ["P13!"]),
    ("P12 optional", "() -> int | None", "() -> int", ["P12"], ["P13!"]),
    ("P13 None", "() -> int", "() -> None", ["P13!"], ["P14"]),
    ("P15", "(a, /)", "(b, /)", ["P15"], ["P15"]),
    ("P15 with a new name that was free", "(a, b=1, /)", "(x, b=1, /)", ["P15"], ["P15"]),
    ("P16", "(a)", "(b)", ["P16!"], ["P16!"]),
    ("P16 keyword-only", "(*, a)", "(*, b)", ["P3!", "P6!"], ["P3!", "P6!"]),
    ("P17 positional-only", "(a, /)", "(a)", ["P17"], ["P18!"]),
    ("P17 keyword-only", "(*, a)", "(a)", ["P17"], ["P18!"]),
    ("P17 except with **kwargs", "(a, /, **kw)", "(a, **kw)", ["P17!"], ["P18!"]),
    ("P17 except with *args", "(*args, b)", "(b, *args)", ["P17!"], ["P18!"]),
    ("P18 only-kinds swap", "(a, /)", "(*, a)", ["P18!"], ["P18!"]),
    ("P18 to positional-only", "(a, b)", "(a, b, /)", ["P18!", "P18!"], ["P17", "P17"]),
    ("P19 *args", "(a)", "(a, *args)", ["P19"], ["P20!"]),
    ("P19 **kwargs", "(a)", "(a, **kw)", ["P19"], ["P20!"]),
    ("P20 narrowed *args", "(*args: int | str)", "(*args: int)", ["P20!"], ["P10"]),
    ("P20 narrowed **kwargs", "(**kw: float)", "(**kw: int)", ["P20!"], ["P10"]),
    ("P24 Any", "(a: int) -> int", "(a: Any) -> Any", [], []),
    ("P24 missing", "(a: int) -> int", "(a) -> int", [], []),
]


class TestRules:
    """docs/design.md §3.3: "S_new is compatible when every call valid under S_old is valid
    under S_new, binds each argument to the same parameter, and the result is usable as S_old
    promised"."""

    @pytest.mark.parametrize(("rule", "old", "new", "forward", "backward"), RULES,
                             ids=[r[0] for r in RULES])
    def test_change(self, rule: str, old: str, new: str, forward: list[str],
                    backward: list[str]) -> None:
        verdict = check(old, new)
        assert findings(verdict) == sorted(forward)
        assert verdict.ok is not any(f.endswith("!") for f in forward)

    @pytest.mark.parametrize(("rule", "old", "new", "forward", "backward"), RULES,
                             ids=[r[0] for r in RULES])
    def test_reverse(self, rule: str, old: str, new: str, forward: list[str],
                     backward: list[str]) -> None:
        verdict = check(new, old)
        assert findings(verdict) == sorted(backward)
        assert verdict.ok is not any(f.endswith("!") for f in backward)

    def test_problem_details(self) -> None:
        verdict = check("(a: int, b: str = 'x', *args: int) -> list[int]",
                        "(a: bool, c: str = 'x', *args: int) -> Sequence[int]")
        assert verdict.explain() == "\n".join([
            "P11 param a: expected int, found bool; parameter type narrowed (incompatible)",
            "P16 param b: expected b, found c; a keyword-callable parameter was renamed "
            "(incompatible)",
            "P13 return: expected list[int], found collections.abc.Sequence[int]; widened "
            "(incompatible)",
        ])

    def test_p9_breaks_under_strict(self) -> None:
        assert findings(check("(a=1)", "(a=2)", policy="strict")) == ["P9!"]
        assert findings(check("(a=1)", "(a=2)", policy="semver")) == ["P9?"]

    def test_unverified_parts(self) -> None:
        """P24: "missing annotation or Any: consistent, marked unverified"."""
        verdict = check("(a: int, b, *, c: list[int]) -> int", "(a: Any, b, *, c: list) -> int")
        assert verdict.ok and not verdict.problems
        assert verdict.unverified == ("param a: int vs typing.Any", "param b: no annotation",
                                      "param c: list[int] vs list")

    def test_user_classes_by_recorded_bases(self) -> None:
        graph = ClassGraph({"pkg.Dog": ["pkg.Animal"]})
        assert findings(check("(a: pkg.Dog)", "(a: pkg.Animal)", classes=graph)) == ["P10"]
        assert findings(check("(a: pkg.Animal)", "(a: pkg.Dog)", classes=graph)) == ["P11!"]
        assert findings(check("() -> pkg.Animal", "() -> pkg.Dog", classes=graph)) == ["P12"]
        assert findings(check("(a: pkg.Dog)", "(a: pkg.Animal)")) == ["P11!"]

    def test_identical_fast_path(self) -> None:
        sig = Signature.parse("(a: int, *, b: str = 'x') -> None")
        verdict = check(sig, "(a: int, *, b: str = 'x') -> None")
        assert verdict.identical and verdict.ok and verdict.explain() == "identical"

    def test_memo_returns_the_same_verdict(self) -> None:
        compat.clear_cache()
        first = check("(a)", "(a, b=1)")
        assert check("(a)", "(a, b=1)") is first
        compat.clear_cache()
        assert check("(a)", "(a, b=1)") == first

    @pytest.mark.parametrize("provided", ["(b)", "(a)"])
    def test_bad_policy(self, provided: str) -> None:
        """Refused on the structural path and on the digest fast path alike."""
        with pytest.raises(BadInputError) as info:
            check("(a)", provided, policy="loose")
        assert str(info.value) == (
            "unknown policy 'loose': expected one of signature, semver, strict")

    def test_bad_signature_text(self) -> None:
        with pytest.raises(BadInputError, match="invalid signature"):
            check("(a", "(a)")


_FORWARDED = ("usage-compatible, unverified: only the arguments the consumer forwards from "
              "its own callers (*args, **kwargs) could reach it")

# (name, old, new, calls, findings with calls_complete, findings without)
USAGE = [
    ("P16 never passed by keyword", "(a, b)", "(a, c)", [CallShape(2)], ["P16?"], ["P16!"]),
    ("P16 passed by keyword", "(a, b)", "(a, c)", [CallShape(1, ("b",))], ["P16!"], ["P16!"]),
    ("P16 through **kwargs", "(a, b)", "(a, c)", [CallShape(1, star_kwargs=True)], ["P16?"],
     ["P16!"]),
    ("P6 optional never passed", "(a, b=1)", "(a)", [CallShape(1)], ["P6?"], ["P6!"]),
    ("P6 passed", "(a, b=1)", "(a)", [CallShape(2)], ["P6!"], ["P6!"]),
    ("P6 passed by unpacking", "(a, b=1)", "(a)", [CallShape(1, star_args=True)], ["P6?"],
     ["P6!"]),
    ("P8 every call passes it", "(a, b=1)", "(a, b)", [CallShape(2), CallShape(1, ("b",))],
     ["P8?"], ["P8!"]),
    ("P8 a call omits it", "(a, b=1)", "(a, b)", [CallShape(2), CallShape(1)], ["P8!"], ["P8!"]),
    ("P9 never omitted", "(a=1)", "(a=2)", [CallShape(1)], ["P9?"], ["P9?"]),
    ("P11 never passed", "(a: int, b: int = ...)", "(a: int, b: str = ...)", [CallShape(1)],
     ["P11?"], ["P11!"]),
    ("P18 positional only", "(a, /, b)", "(a, b, /)", [CallShape(2)], ["P18?"], ["P18!"]),
    ("P18 by keyword", "(a, /, b)", "(a, b, /)", [CallShape(1, ("b",))], ["P18!"], ["P18!"]),
    ("P20 *args never used", "(a, *args)", "(a)", [CallShape(1)], ["P20?"], ["P20!"]),
    ("P20 *args used", "(a, *args)", "(a)", [CallShape(3)], ["P20!"], ["P20!"]),
    ("P20 **kwargs never used", "(a, **kw)", "(a)", [CallShape(0, ("a",))], ["P20?"], ["P20!"]),
    ("P20 **kwargs used", "(a, **kw)", "(a)", [CallShape(1, ("x",))], ["P20!"], ["P20!"]),
    ("P4 keyword calls only", "(a, b)", "(b, a)", [CallShape(0, ("a", "b"))],
     ["P4?", "P4?"], ["P4!", "P4!"]),
    ("P13 always exercised", "() -> int", "() -> None", [], ["P13!"], ["P13!"]),
    ("no calls at all", "(a, b=1)", "(a)", [], ["P6?"], ["P6!"]),
    ("a recorded call that no longer binds", "(a, b=1)", "(a, b=2)", [CallShape(3)],
     ["P6!", "P9?"], ["P6!", "P9?"]),
]


class TestUsageMode:
    """docs/design.md §3.5: "a problem on an aspect that no call exercises ... is downgraded to
    review; the verdict says usage-compatible. Where calls are not complete, the contract check
    decides"."""

    @pytest.mark.parametrize(("name", "old", "new", "calls", "complete", "incomplete"), USAGE,
                             ids=[u[0] for u in USAGE])
    def test_downgrade(self, name: str, old: str, new: str, calls: list[CallShape],  # noqa: PLR0917
                       complete: list[str], incomplete: list[str]) -> None:
        verdict = check(old, new, calls=calls, calls_complete=True)
        assert findings(verdict) == sorted(complete)
        downgraded = any(p.note.endswith(("no recorded call exercises it", _FORWARDED))
                         for p in verdict.problems)
        assert verdict.usage_compatible is downgraded
        assert findings(check(old, new, calls=calls)) == sorted(incomplete)
        assert not check(old, new, calls=calls).usage_compatible

    @pytest.mark.parametrize(
        ("old", "new", "call", "strict_finding", "default_finding"),
        [
            # EnvironBuilder(path, base_url, *args, **kwargs): a parameter reordered beyond
            # the explicit positionals only the forwarded tail can reach
            ("(path, base_url, query, method)", "(path, base_url, method, query)",
             CallShape(2, star_args=True, star_kwargs=True), ["P4!", "P4!"], ["P4?", "P4?"]),
            # a keyword removed (renamed): only a forwarded **kwargs could pass it
            ("(a, *, b=1)", "(a, *, c=1)", CallShape(1, star_kwargs=True), ["P2", "P6!"],
             ["P2", "P6?"]),
            # a default removed: the forwarded tail may or may not supply the argument
            ("(a, b=1)", "(a, b)", CallShape(1, star_args=True), ["P8!"], ["P8?"]),
        ],
    )
    def test_forwarded_tail_is_unverified(self, old: str, new: str, call: CallShape,
                                          strict_finding: list[str],
                                          default_finding: list[str]) -> None:
        """A finding only the forwarded ``*args``/``**kwargs`` of a call could hit is
        unverified (review; a break under ``strict``): those arguments come from the
        consumer's own callers."""
        verdict = check(old, new, calls=[call], calls_complete=True)
        assert findings(verdict) == default_finding
        assert verdict.ok and verdict.usage_compatible
        assert any("forwarded" in u for u in verdict.unverified)
        assert any(p.note.endswith(_FORWARDED) for p in verdict.problems)
        assert findings(check(old, new, calls=[call], calls_complete=True,
                              policy="strict")) == strict_finding

    @pytest.mark.parametrize(
        ("old", "new", "call"),
        [
            # the explicit part breaks: argument 2 now lands in method
            ("(path, base_url, method)", "(path, method, base_url)",
             CallShape(2, star_args=True, star_kwargs=True)),
            # a keyword the consumer writes itself was renamed
            ("(a, *, b=1)", "(a, *, c=1)", CallShape(1, ("b",), star_kwargs=True)),
            # a required parameter added: the old signature took one positional argument, so
            # the forwarded tail was empty
            ("(a)", "(a, b)", CallShape(1, star_args=True)),
        ],
    )
    def test_explicit_part_still_breaks(self, old: str, new: str, call: CallShape) -> None:
        verdict = check(old, new, calls=[call], calls_complete=True)
        assert not verdict.ok

    def test_downgraded_problem_says_why(self) -> None:
        verdict = check("(a, b)", "(a, c)", calls=[CallShape(2)], calls_complete=True)
        assert verdict.ok and verdict.usage_compatible
        assert verdict.problems[0].explain() == (
            "P16 param b: expected b, found c; a keyword-callable parameter was renamed; "
            "usage-compatible: no recorded call exercises it (review)")

    @pytest.mark.parametrize(
        ("provided", "call", "expected"),
        [
            ("(a, b=1)", CallShape(2), []),
            ("(a, b=1)", CallShape(3), ["P6!"]),
            ("(a, *, b)", CallShape(1), ["P3!"]),
            ("(a, *, b)", CallShape(1, ("b",)), []),
            ("(a, /)", CallShape(0, ("a",)), ["P18!", "P3!"]),
            ("(a)", CallShape(1, ("a",)), ["P4!"]),
            ("(a)", CallShape(1, ("z",)), ["P16!"]),
            ("(a, **kw)", CallShape(1, ("z",)), []),
            ("(a, b)", CallShape(1, star_args=True), []),
        ],
    )
    def test_third_party_calls_only(self, provided: str, call: CallShape,
                                    expected: list[str]) -> None:
        """A consumer that recorded no signature: its call shapes alone are checked."""
        export = Export("lib.f", ExportKind.FUNCTION, signature=Signature.parse(provided))
        verdict = check_export(None, export, calls=[call])
        assert findings(verdict) == sorted(expected)
        assert not verdict.verified
        assert verdict.unverified[0] == (
            "signature: not recorded by the consumer, only its calls checked")
