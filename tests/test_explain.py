"""``siglink explain``: a rule id from a verdict, explained with its example."""

from __future__ import annotations

import json

import pytest

from siglink.cli.main import main
from siglink.contracts.rules import Rule


def test_one_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "P11"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "P11  parameter type narrowed  (incompatible)",
        "Some arguments the consumer may pass are no longer accepted.",
        "",
        "example:",
        "  old:     (a: float) -> None",
        "  new:     (a: int) -> None",
        "  verdict: incompatible",
        "",
        "see docs/design.md §3.3 (Python rules)",
    ]


def test_ids_are_read_as_printed_in_any_case(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "c15"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("C15  struct behind a pointer changed  (incompatible)\n")
    assert out.endswith("see docs/design.md §3.4 (C rules)\n")


def test_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "R6", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "rule": "R6",
        "language": "python",
        "severity": "incompatible",
        "summary": "kind changed",
        "explanation": Rule.R6.explanation,
        "example": {"old": "def f() -> int: ...", "new": "async def f() -> int: ...",
                    "verdict": "incompatible"},
        "see": "docs/design.md §3.3",
    }


def test_unknown_rule_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "P99"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "siglink: error: unknown rule 'P99': rules are P1-P24, R6, R7 and C1-C18 (siglink explain "
        "lists them)\n")


def test_no_rule_lists_every_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["rule", "severity", "change"]
    assert [line.split()[0] for line in lines[1:]] == [rule.value for rule in Rule]
    assert lines[11].split(None, 2) == ["P11", "incompatible", "parameter type narrowed"]
    assert main(["explain", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["rules"]
    assert [r["rule"] for r in listed] == [rule.value for rule in Rule] and len(listed) == 44
