"""A requirement that does not parse is refused in one line naming it, the parser's first
line as the reason (no caret lines), whatever bytes it holds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from siglink.cli.main import main


@pytest.mark.parametrize("spec", [os.fsdecode(b"textkit\xff==1.0"), "textkit==1.0 ;; bad",
                                  "textkit\x1b[2J==1.0"])
def test_a_bad_requirement_is_one_line(tmp_path: Path, spec: str,
                                       capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    code = main(["install", spec, "--store", str(tmp_path / "store")])
    err = capsys.readouterr().err
    assert code != 0
    assert err.count("\n") == 1, err
    assert err.startswith("siglink: error: textkit"), err
    assert "neither an existing file or directory nor a requirement (" in err
    assert "^" not in err and "\\n" not in err and "\x1b" not in err
