"""JSON the store and the linker read that someone may have changed: the index's manifests and
row columns, an application's manifest. Wrong types and 100,000-deep nesting give one line and
a documented exit code (3 for the store's own copies, which ``store repair`` rebuilds; 2 for a
user's file), never a traceback or exit 70; a row cannot name a directory outside ``libs/``."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from siglink._json import JSONTextError, loads, loads_object
from siglink.cli.main import main
from siglink.store import Store

WheelMaker = Callable[..., Path]
DEEP = "[" * 100_000 + "]" * 100_000


@pytest.fixture
def store_and_app(tmp_path: Path, make_wheel: WheelMaker,
                  capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    root = tmp_path / "store"
    Store(root).install([str(make_wheel("textkit", "1.0.0"))])
    app = tmp_path / "app.py"
    app.write_text("import textkit\nprint(textkit.greet('x'))\n")
    assert main(["build", str(app), "--store", str(root)]) == 0
    capsys.readouterr()
    return root, app


def cli(capsys: pytest.CaptureFixture[str], root: Path, *argv: str) -> tuple[int, str, str]:
    """``siglink --store ROOT ARGV``: in a child for ``run`` (which becomes the application),
    else in this process."""
    if argv[0] == "run":
        done = subprocess.run([sys.executable, "-m", "siglink", "--store", str(root), *argv],
                              capture_output=True, text=True, check=False, timeout=120)
        return done.returncode, done.stdout, done.stderr
    code = main(["--store", str(root), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _manifest(root: Path) -> dict[str, object]:
    with sqlite3.connect(root / "index.sqlite") as db:
        blob = db.execute("SELECT manifest FROM versions").fetchone()[0]
    return dict(json.loads(zlib.decompress(blob)))


def _damage(root: Path, variant: str) -> None:
    manifest = _manifest(root)
    with sqlite3.connect(root / "index.sqlite") as db:
        if variant == "deep manifest":
            text = ('{"format": 1, "unit": {"name": "textkit", "version": "1.0.0"}, '
                    f'"exports": {DEEP}}}')
            db.execute("UPDATE versions SET manifest = ?", (zlib.compress(text.encode()),))
        elif variant == "exports an array":
            manifest["exports"] = [1]
            db.execute("UPDATE versions SET manifest = ?",
                       (zlib.compress(json.dumps(manifest).encode()),))
        elif variant == "deep top_level":
            db.execute("UPDATE versions SET top_level = ?", (DEEP,))
        elif variant == "requires an object":
            db.execute("UPDATE versions SET requires = ?", ('{"evil": 1}',))
        elif variant == "path outside libs":
            db.execute("UPDATE versions SET path = ?", ("libs/../../victim",))


@pytest.mark.parametrize("variant", ["deep manifest", "exports an array", "deep top_level",
                                     "requires an object", "path outside libs"])
@pytest.mark.parametrize("command", [["show", "textkit==1.0.0"], ["plan"], ["run"]])
def test_a_damaged_index_entry_is_exit_3_in_one_line(
    store_and_app: tuple[Path, Path], capsys: pytest.CaptureFixture[str], variant: str,
    command: list[str],
) -> None:
    root, app = store_and_app
    victim = root.parent / "victim"
    victim.mkdir()
    _damage(root, variant)
    argv = [*command, *([str(app)] if command[0] in ("plan", "run") else [])]
    code, out, err = cli(capsys, root, *argv)
    assert code == 3, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"siglink: error: {root}/index.sqlite: "), err
    assert "internal error" not in err
    assert victim.is_dir()
    assert (root / "libs/textkit/1.0.0/textkit/__init__.py").is_file()


def test_store_repair_rebuilds_past_a_damaged_row(
    store_and_app: tuple[Path, Path], capsys: pytest.CaptureFixture[str],
) -> None:
    root, app = store_and_app
    _damage(root, "deep top_level")
    assert main(["list", "--store", str(root)]) == 3
    assert main(["store", "repair", "--store", str(root)]) == 0
    capsys.readouterr()
    assert cli(capsys, root, "run", str(app))[:2] == (0, "hello x\n")


@pytest.mark.parametrize("variant", ["deep top_level", "path outside libs"])
def test_remove_and_gc_refuse_a_damaged_row(
    store_and_app: tuple[Path, Path], capsys: pytest.CaptureFixture[str], variant: str,
) -> None:
    root, _ = store_and_app
    victim = root.parent / "victim"
    victim.mkdir()
    _damage(root, variant)
    for argv in (["remove", "textkit==1.0.0", "--force"], ["gc"]):
        assert main(["--store", str(root), *argv]) == 3
        assert capsys.readouterr().err.count("\n") == 1
    assert victim.is_dir()
    assert (root / "libs/textkit/1.0.0/textkit/__init__.py").is_file()


@pytest.mark.parametrize("text", [
    '{"format": 1, "unit": {"name": "app", "version": "0"}, "imports": ' + DEEP + "}",
    DEEP,
    '{"format": 1, "unit": {"name": "app", "version": "0"}, "imports": "textkit"}',
    '{"format": 1, "unit": {"name": "app", "version": "0"}, "files": [1, 2]}',
    '{"format": "1"}',
    "\xff\xfe not json",
], ids=["deep-imports", "deep", "imports-a-string", "files-a-list", "format-a-string",
        "not-utf8"])  # short ids: pytest puts the id in the child's PYTEST_CURRENT_TEST
@pytest.mark.parametrize("command", ["run", "plan"])
def test_a_hostile_application_manifest_is_exit_2_in_one_line(
    store_and_app: tuple[Path, Path], capsys: pytest.CaptureFixture[str], text: str,
    command: str,
) -> None:
    root, app = store_and_app
    manifest = app.with_name("app.siglink.json")
    manifest.write_bytes(text.encode("latin-1") if text.startswith("\xff") else text.encode())
    code, _, err = cli(capsys, root, command, str(app))
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"siglink: error: {manifest}: "), err


def test_the_one_json_reader() -> None:
    assert loads_object('{"a": [1]}') == {"a": [1]}
    for text, reason in [(DEEP, "JSON nested too deeply"),
                         (b"\xff", "not UTF-8 (invalid start byte at byte 0)"),
                         ("{", "not valid JSON (Expecting property name enclosed in double "
                               "quotes: line 1 column 2 (char 1))")]:
        with pytest.raises(JSONTextError) as caught:
            loads(text)
        assert str(caught.value) == reason
    with pytest.raises(JSONTextError, match=r"^expected a JSON object, found a number$"):
        loads_object("5")
