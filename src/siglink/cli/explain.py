"""``siglink explain [RULE]``: what a rule id in a verdict means, with its example.

>>> from siglink.contracts.rules import Rule
>>> print(_text(Rule.P16))
P16  keyword-callable parameter renamed  (incompatible)
Calls passing it by keyword fail; in usage mode a review when no recorded call does.
<BLANKLINE>
example:
  old:     (a: int) -> None
  new:     (b: int) -> None
  verdict: incompatible
<BLANKLINE>
see docs/design.md §3.3 (Python rules)
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported by the command itself: ``siglink --help`` stays fast
    from siglink.contracts.rules import Rule

__all__ = ["register", "run_explain"]


def __dir__() -> list[str]:
    return list(__all__)


_EPILOG = """\
RULE is a rule id as verdicts, `siglink diff` and refused links print it: P1-P24, R6 and R7
(Python), C1-C18 (C). Without RULE, every rule is listed.

examples:
  siglink explain P11          what P11 means, with an example
  siglink explain              every rule, one line each
  siglink explain C15 --json

exit codes: 0 ok, 2 unknown rule
"""

_LANGUAGES = {"python": "Python rules", "c": "C rules"}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``explain`` to the ``siglink`` command."""
    parser = sub.add_parser(
        "explain",
        help="explain a rule id (P11, R6, C4): what it means, with an example",
        description="Explain a compatibility rule (docs/design.md §3.3, §3.4).",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("rule", metavar="RULE", nargs="?", help="a rule id, e.g. P11")
    parser.add_argument("--json", action="store_true", help="print the rule(s) as JSON")
    parser.set_defaults(func=run_explain)


def run_explain(args: argparse.Namespace) -> int:
    """``siglink explain [RULE] [--json]``."""
    from siglink.cli._output import print_json, say, table
    from siglink.contracts.rules import Rule

    if args.rule is None:
        if args.json:
            print_json({"rules": [_json(rule) for rule in Rule]})
        else:
            table(None, ["rule", "severity", "change"],
                  [[rule.value, rule.severity.value, rule.summary] for rule in Rule])
        return 0
    rule = _rule(args.rule)
    if args.json:
        print_json(_json(rule))
    else:
        for line in _text(rule).split("\n"):  # the rule's own text: its lines are its own
            say(line)
    return 0


def _rule(text: str) -> Rule:
    from siglink.contracts.rules import Rule
    from siglink.errors import BadInputError

    try:
        return Rule(text.strip().upper())
    except ValueError:
        raise BadInputError(
            f"unknown rule {text!r}: rules are P1-P24, R6, R7 and C1-C18 (siglink explain lists "
            "them)") from None


def _where(rule: Rule) -> str:
    return f"docs/design.md §{rule.section}"


def _text(rule: Rule) -> str:
    example = rule.example
    return "\n".join([
        f"{rule.value}  {rule.summary}  ({rule.severity.value})",
        rule.explanation,
        "",
        "example:",
        f"  old:     {example.old}",
        f"  new:     {example.new}",
        f"  verdict: {example.verdict}",
        "",
        f"see {_where(rule)} ({_LANGUAGES[rule.language]})",
    ])


def _json(rule: Rule) -> dict[str, Any]:
    example = rule.example
    return {
        "rule": rule.value,
        "language": rule.language,
        "severity": rule.severity.value,
        "summary": rule.summary,
        "explanation": rule.explanation,
        "example": {"old": example.old, "new": example.new, "verdict": example.verdict},
        "see": _where(rule),
    }
