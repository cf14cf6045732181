"""Problem.explain() keeps a message readable; JSON keeps every character."""

from __future__ import annotations

from siglink.contracts.verdict import Problem, Severity


def test_long_expected_and_found_are_cut_in_explain_but_not_in_json() -> None:
    long = "(" + ", ".join(f"p{i}: int = ..." for i in range(2000)) + ")"
    problem = Problem("P21", "overload 1", long, long + " -> int", Severity.INCOMPATIBLE)
    line = problem.explain()
    assert len(line) < 500 and line.count("\u2026") == 2
    assert line.startswith("P21 overload 1: expected (p0: int")
    assert problem.to_json()["expected"] == long
    assert Problem.from_json(problem.to_json()).explain(None).count(long) == 2
    assert Problem("P1", "", "int", "str", Severity.INCOMPATIBLE).explain() == (
        "P1: expected int, found str (incompatible)")
