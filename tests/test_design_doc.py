"""docs/design.md is the document the code cites: every cited section exists, and its rule
tables are the rules the checker knows."""

from __future__ import annotations

import re
from pathlib import Path

import siglink
from siglink.contracts.rules import Rule

REPO = Path(__file__).resolve().parents[1]
DESIGN = REPO / "docs" / "design.md"
SRC = Path(siglink.__path__[0])


def _sections() -> set[str]:
    text = DESIGN.read_text(encoding="utf-8")
    return set(re.findall(r"^#{2,4} (\d+(?:\.\d+)*)\.? ", text, flags=re.MULTILINE))


def _citations() -> dict[str, set[str]]:
    """``§N.N`` cited in src/, and where (module file names)."""
    cited: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"§\s?(\d+(?:\.\d+)*)", text):
            cited.setdefault(match.group(1), set()).add(path.name)
        # "DESIGN" (section) pointed at a document outside the repository
        assert not re.search(r"\bDESIGN\b", text), f"{path}: cite docs/design.md, not DESIGN"
    return cited


def test_every_cited_section_exists() -> None:
    sections = _sections()
    assert {"1", "3.3", "3.4", "5", "7"} <= sections  # the parser reads the headings
    cited = _citations()
    assert len(cited) >= 5  # the sources do cite it
    missing = {number: sorted(where) for number, where in cited.items() if number not in sections}
    assert not missing, f"cited but not in docs/design.md: {missing}"


def test_the_rule_tables_are_the_rules() -> None:
    text = DESIGN.read_text(encoding="utf-8")
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| ([PRC]\d+) \|.*$", text,
                                                          flags=re.MULTILINE)}
    assert set(rows) == {rule.value for rule in Rule}
    for rule in Rule:
        row = rows[rule.value]
        assert f"| {rule.summary} | {rule.severity.value} |" in row, rule
        for side in (rule.example.old, rule.example.new):
            assert side.replace("|", "\\|") in row, (rule, side)


def test_the_store_layout_names_every_directory_the_code_uses() -> None:
    layout = DESIGN.read_text(encoding="utf-8").split("## 5. The store", 1)[1]
    for name in ("index.sqlite", "generation", "libs/NAME/VERSION/", "plans/", "bootstrap/",
                 "cache/native/", ".staging/", ".lock"):
        assert name in layout, name
