"""Text from files (a registration's manifest path, a yank reason) is printed inert: its
control characters (C0, DEL, C1, the newline) escaped on the plain and the rich path, never
read as rich markup; JSON stays exact."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from siglink.cli._output import printable
from siglink.cli.main import main
from siglink.store import Store

WheelMaker = Callable[..., Path]
HOSTILE = "ev\x1b[2J\x07il\nsiglink: fake line\x9b[bold]x[red]\x7f"


@pytest.fixture
def store(tmp_path: Path, make_wheel: WheelMaker) -> tuple[Path, Path]:
    root = tmp_path / "store"
    s = Store(root)
    s.install([str(make_wheel("textkit", "1.0.0"))])
    folder = tmp_path / HOSTILE
    folder.mkdir()
    manifest = folder / "app.siglink.json"
    manifest.write_text("{}")
    s.register_app(str(folder / "app.py"), manifest_path=str(manifest),
                   links={"textkit": "1.0.0"})
    s.close()
    return root, manifest


def test_printable_escapes_every_control_character() -> None:
    controls = "".join(map(chr, (*range(0x20), *range(0x7f, 0xa0))))
    shown = printable(f"a{controls}b")
    assert shown.isprintable() and shown.startswith("a\\x00") and shown.endswith("\\x9fb")
    assert "\\n" in shown and "\\x1b" in shown and "\n" not in shown
    assert printable("café [x] \udcff") == "café [x] \udcff"  # a path's bytes, as they are


@pytest.mark.parametrize("colour", [False, True])
@pytest.mark.parametrize("command", ["apps", "who-uses"])
def test_a_hostile_manifest_path_prints_inert(
        store: tuple[Path, Path], command: str, colour: bool,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    root, _ = store
    monkeypatch.setenv("COLUMNS", "400")
    if colour:
        monkeypatch.delenv("NO_COLOR", raising=False)
        monkeypatch.setenv("FORCE_COLOR", "1")
    else:
        monkeypatch.setenv("NO_COLOR", "1")
    argv = [command, "--store", str(root)] + (["textkit"] if command == "who-uses" else [])
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0, (out, err)
    if colour:  # rich's own styling is escapes: none of the hostile text's
        assert "\x1b[2J" not in out and "\x07" not in out and "\x9b" not in out
    else:
        assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out
    assert "\x7f" not in out
    assert "\\x1b[2J\\x07il\\nsiglink: fake line\\x9b[bold]x[red]\\x7f" in out
    assert not any(line.startswith("siglink: fake line") for line in out.splitlines())


def test_json_output_stays_exact(store: tuple[Path, Path],
                                 capsys: pytest.CaptureFixture[str]) -> None:
    root, manifest = store
    assert main(["apps", "--json", "--store", str(root)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["manifest"] for r in rows] == [str(manifest)]
