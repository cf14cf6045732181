"""The demo's plugin chapter: three plugins, one per spec version, loaded or refused as told."""

from __future__ import annotations

from pathlib import Path

import pytest

from siglink.cli.main import main
from siglink.demo.chat import ChatChapter
from siglink.demo.story import Narrator


def test_the_chat_chapter_goes_as_told(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shown: list[str] = []
    narrator = Narrator(command=main, heading=shown.append, prompt=shown.append,
                        table=lambda header, rows: None)
    assert ChatChapter(tmp_path, tmp_path / "store", narrator).tell() == 0
    out = capsys.readouterr().out
    assert "siglink plugins chat --plugin-dir chat/plugins --no-entry-points" in shown
    assert "  chat.commands: echo:echo (spec chat.command; built against chat 1.0)" in out
    assert "  REJECTED  whisper 1.0.0 (directory)  whisper:whisper" in out
    assert "  chat 2.0 would break:\n    whisper 1.0.0\n" in out
    assert "    bot> @ann in #general: HELLO!" in out
    assert "    bot> is anyone there?" in out
