"""Every rule's documented example is what the checker decides (docs/design.md §3.3, §3.4).

The examples ``siglink explain`` prints and docs/design.md shows come from
:class:`~siglink.contracts.rules.Rule`; here each one goes through the real checker: the
signature rules through ``check``, the export rules through the Python frontend (griffe) and
``diff_manifests``, the C rules through the preprocessor, pycparser and the gcc layout probe.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from siglink.contracts.compat import check
from siglink.contracts.diff import diff_manifests
from siglink.contracts.manifest import Manifest
from siglink.contracts.rules import Rule
from siglink.contracts.severity import Severity

# Rules whose example needs more than a pair of declarations; each is covered elsewhere.
NOT_HERE = {
    Rule.P21: "two overloads do not fit one line: tests/contracts/test_compat_exports.py",
    Rule.R7: "needs a consumer's call of the class: tests/contracts/test_compat_truth.py",
    Rule.C1: "a missing symbol needs a built library: tests/native/test_native_lookup.py",
    Rule.C2: "symbol versions need a built library: tests/native/test_native_link.py",
    Rule.C18: "constants are checked against a built library: tests/native/test_native_lookup.py",
}
EXPORT_RULES = (Rule.P1, Rule.P22, Rule.P23, Rule.R6)
SIGNATURE_RULES = tuple(r for r in Rule if r.language == "python"
                        and r not in EXPORT_RULES and r not in NOT_HERE)
C_RULES = tuple(r for r in Rule if r.language == "c" and r not in NOT_HERE)


def _severity(verdict_text: str) -> Severity:
    return Severity(verdict_text.split(" ", 1)[0])


def test_every_rule_is_documented() -> None:
    for rule in Rule:
        assert rule.summary and rule.explanation.endswith("."), rule
        assert rule.example.old and rule.example.new and rule.example.verdict, rule
        assert str(rule) == rule.value and f"{rule}" == rule.value


@pytest.mark.parametrize("rule", SIGNATURE_RULES, ids=str)
def test_signature_examples(rule: Rule) -> None:
    example = rule.example
    verdict = check(example.old, example.new)
    if rule is Rule.P5:
        assert verdict.identical
        return
    if rule is Rule.P24:
        assert verdict.ok and not verdict.problems
        assert verdict.unverified == ("param a: no annotation",)
        return
    assert {(p.rule, p.severity) for p in verdict.problems} == {(rule, rule.severity)}
    assert rule.severity is _severity(example.verdict)
    if rule is Rule.P9:
        strict = check(example.old, example.new, policy="strict")
        assert [(p.rule, p.severity) for p in strict.problems] == [(rule, Severity.INCOMPATIBLE)]


@pytest.mark.parametrize("rule", EXPORT_RULES, ids=str)
def test_export_examples(rule: Rule, tmp_path: Path) -> None:
    from siglink.python.exports import extract_tree

    def manifest(version: str, source: str) -> Manifest:
        root = tmp_path / version
        (root / "lib").mkdir(parents=True)
        text = "from enum import Enum\nfrom typing import TypedDict\n"
        if not source.startswith("("):  # "(f removed)"
            text += source + "\n"
        (root / "lib" / "__init__.py").write_text(text)
        return extract_tree(root, ["lib"], name="lib", version=version)

    example = rule.example
    diff = diff_manifests(manifest("1.0", example.old), manifest("2.0", example.new))
    problems = [p for _, v in diff.removed + diff.incompatible + diff.compatible
                if v is not None for p in v.problems]
    assert {(p.rule, p.severity) for p in problems} == {(rule, rule.severity)}
    assert rule.severity is _severity(example.verdict)


def _c_side(text: str) -> str:
    """``int f(struct pt p);  /* struct pt { ... }; */``: the comment holds what the
    declaration needs, so it goes first."""
    m = re.fullmatch(r"(.*?;)\s*(?:/\*(.*)\*/)?", text.strip())
    assert m is not None, text
    decl, prelude = m.group(1), m.group(2) or ""
    if "typedef" not in prelude and "ulong_t" in decl:
        prelude = "typedef unsigned long ulong_t;"
    return prelude.replace("(contents changed)", "") + "\n" + decl


@pytest.mark.parametrize("rule", C_RULES, ids=str)
def test_c_examples(rule: Rule) -> None:
    from siglink.native.cdecl import describe
    from siglink.native.compat import check_function

    example = rule.example
    old = describe(_c_side(example.old), text=True, cache=False)
    new = describe(_c_side(example.new), text=True, cache=False)
    verdict = check_function(old, new, "f")
    assert {(p.rule, p.severity) for p in verdict.problems} == {(rule, rule.severity)}, (
        verdict.explain())
    assert rule.severity is _severity(example.verdict)
