"""``siglink demo`` tells the whole story, and says so by its exit code."""

from __future__ import annotations

from pathlib import Path

import pytest

from siglink.cli.main import main


def test_the_story_goes_as_told(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--keep", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    # the summary table: report stays on the fix and is refused after the yank; tagger moves on
    summary = out[out.index("What each application linked") :].splitlines()
    rows = {line.split("  ")[0]: line.split() for line in summary[2:] if line.strip()}
    assert rows["built on 1.0.0"][-2:] == ["1.0.0", "1.0.0"]
    assert rows["fix 1.0.1"][-2:] == ["1.0.1", "1.0.1"]
    assert rows["2.0.0 released"][-2:] == ["1.0.1", "2.0.0"]
    assert rows["1.0.1 yanked"][-2:] == ["refused", "2.0.0"]
    assert "P18" in out  # the diff and the refusal name the rule
    assert "demo: pretend 1.0.1 leaks secrets" in out  # the refusal names the yank reason


def test_keep_needs_a_new_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "file").write_text("x")
    assert main(["demo", "--keep", str(tmp_path / "used")]) == 2
    err = capsys.readouterr().err
    assert err == f"siglink: error: {tmp_path / 'used'}: the demo needs a new or empty directory\n"
