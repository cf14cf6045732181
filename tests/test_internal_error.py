"""A defect in siglink is reported as one, never as a verdict or as bad input (exit 70)."""

from __future__ import annotations

import json

import pytest

from siglink.cli import explain
from siglink.cli.main import INTERNAL_ERROR, main


def _broken(rule: object) -> str:
    return str(1 // 0)


def test_an_unexpected_exception_is_one_line_and_exit_70(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(explain, "_text", _broken)
    assert main(["explain", "P1"]) == INTERNAL_ERROR == 70
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "siglink: error: internal error: ZeroDivisionError: integer division or modulo by zero "
        "in _broken (test_internal_error.py:14); this is a bug in siglink, please report it with "
        "the command that caused it (SIGLINK_DEBUG=1 shows the traceback)\n")


def test_json_says_so_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(explain, "_json", _broken)
    assert main(["explain", "P1", "--json"]) == 70
    error = json.loads(capsys.readouterr().out)["error"]
    assert (error["exit_code"], error["kind"]) == (70, "InternalError")


def test_siglink_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(explain, "_text", _broken)
    monkeypatch.setenv("SIGLINK_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        main(["explain", "P1"])


def test_a_parser_defect_is_not_an_unknown_type(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the parser's own errors mean "cannot be read"; a bug propagates (docs/design.md
    §3.2), where it used to become ``unknown`` and so an unverified, passing verdict."""
    from siglink.contracts import _typeparse

    def bug(self: object, node: object) -> object:
        raise AttributeError("a defect")

    _typeparse._parse.cache_clear()
    monkeypatch.setattr(_typeparse._Parser, "expr", bug)
    try:
        with pytest.raises(AttributeError, match="a defect"):
            _typeparse.parse("list[int]")
        # what the parser cannot read is still unknown
        assert _typeparse.parse("list[").is_unknown
        assert _typeparse.parse("a\x00b").is_unknown
    finally:
        _typeparse._parse.cache_clear()
