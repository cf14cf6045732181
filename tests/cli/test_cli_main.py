"""``siglink.cli.main``: errors as JSON under ``--json``, Ctrl-C, the ``--store`` path, and the
width of tables."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import siglink.cli.main as cli_main
from siglink._entry import entry
from siglink.cli import _output
from siglink.cli.main import main
from siglink.demo.wheels import make_wheel
from siglink.store import Store

V1 = "def greet(who):\n    return who\n"


def build_wheel(folder: Path, name: str, version: str) -> Path:
    return make_wheel(folder, name, version, {f"{name}/__init__.py": V1})


def snapshot(root: Path) -> tuple[dict[str, str], list[str]]:
    """Every file under ``root`` (hashed; the generation file aside) and the index as SQL."""
    tree = {str(p.relative_to(root)): "dir" if p.is_dir() else
            hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.name != "generation"}
    return tree, Store(root).dump()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def store(tmp_path: Path) -> Path:
    root = tmp_path / "store"
    Store(root).install([str(build_wheel(tmp_path / "wheels", "textkit", "1.0.0"))])
    return root


@pytest.fixture
def app(tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """``report.py``, built against ``store``."""
    path = tmp_path / "report.py"
    path.write_text("import textkit\nprint(textkit.greet('x'))\n")
    code, _, err = run(capsys, "build", str(path), "--store", str(store))
    assert code == 0, err
    return path


# -- errors under --json ---------------------------------------------------------------------


@pytest.mark.parametrize("case", [
    (["show", "nosuch"], 2, "NotInStoreError", "nosuch is not in the store"),
    (["remove", "textkit==9.9"], 2, "NotInStoreError",
     "textkit==9.9 is not in the store (it has 1.0.0)"),
    (["who-uses", "nosuchlib"], 2, "NotInStoreError", "nosuchlib is not in the store"),
    (["install", "{tmp}/nope-1.0-py3-none-any.whl"], 2, "BadInputError",
     "{tmp}/nope-1.0-py3-none-any.whl: no such file or directory"),
    (["plan", "{tmp}/never_built.py"], 2, "BadInputError",
     "{tmp}/never_built.py: no such file or directory"),
    (["yank", "textkit==1.0.0", "--reason", " "], 2, "BadInputError",
     "a yank needs a reason (--reason TEXT)"),
])
def test_errors_under_json(store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                           case: tuple[list[str], int, str, str]) -> None:
    """The error as JSON on stdout, the same one line on stderr, the documented exit code."""
    argv = [a.format(tmp=tmp_path) for a in case[0]]
    code, kind, message = case[1], case[2], case[3].format(tmp=tmp_path)
    result = run(capsys, *argv, "--json", "--store", str(store))
    assert result[0] == code
    assert json.loads(result[1]) == {"error": {"message": message, "exit_code": code,
                                               "kind": kind}}
    assert result[2] == f"siglink: error: {message}\n"
    # Without --json: only the line on stderr.
    assert run(capsys, *argv, "--store", str(store)) == (code, "", f"siglink: error: {message}\n")


# -- Ctrl-C ----------------------------------------------------------------------------------


def test_interrupt_while_setting_up(monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Ctrl-C anywhere in main (here while the parser is built) or while siglink imports
    itself: one line, exit 130, no traceback."""
    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_main, "build_parser", interrupted)
    assert run(capsys, "list") == (130, "", "siglink: interrupted\n")
    monkeypatch.setattr(cli_main, "main", interrupted)  # what entry() imports and calls
    monkeypatch.setattr(sys, "argv", ["siglink", "list"])
    with pytest.raises(SystemExit) as info:
        entry()
    assert info.value.code == 130
    assert capsys.readouterr() == ("", "siglink: interrupted\n")


def _siglink(root: Path, *argv: str, **env: str) -> subprocess.Popen[str]:
    """``siglink ARGV`` with the pause point the ``SIGLINK_TEST_PAUSE_*`` variables name."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SIGLINK_TEST_")}
    driver = Path(__file__).parent.parent / "store" / "pause_driver.py"
    return subprocess.Popen(
        [sys.executable, str(driver), *argv, "--store", str(root)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**environ, **env},
    )


@pytest.mark.parametrize("point", ["staged", "generation"])
def test_interrupted_install(store: Path, tmp_path: Path, point: str) -> None:
    """SIGINT while staging, or inside the commit: nothing is installed, and it says so.
    (Interrupted inside the commit, the generation file may be one ahead: cached plans are
    recomputed, nothing else moved.)"""
    before = snapshot(store)
    wheel = build_wheel(tmp_path / "wheels", "textkit", "1.0.1")
    proc = _siglink(store, "install", str(wheel), SIGLINK_TEST_PAUSE_AT=point,
                    SIGLINK_TEST_PAUSE_UNTIL=str(tmp_path / "never"),
                    SIGLINK_TEST_PAUSE_SECONDS="600")
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert line == f"siglink: paused at {point}\n", line + proc.stderr.read()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert (proc.returncode, out, err) == (130, "", "siglink: interrupted; nothing was installed\n")
    assert snapshot(store) == before
    assert [v.version for v in Store(store).versions("textkit")] == ["1.0.0"]


# -- the --store path ------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["--store", "", "list"], ["list", "--store="],
                                  ["install", "x==1.0", "--store", ""]])
def test_empty_store_path(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, *argv) == (2, "", "siglink: error: --store: empty path\n")


def test_store_path_that_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "passwd"
    file.write_text("root:x:0:0\n")
    wheel = str(build_wheel(tmp_path / "wheels", "textkit", "1.0.0"))
    message = f"siglink: error: {file}: not a directory (a store is a directory)\n"
    assert run(capsys, "list", "--store", str(file)) == (2, "", message)
    assert run(capsys, "install", wheel, "--store", str(file)) == (2, "", message)
    assert run(capsys, "install", wheel, "--store", str(file / "store")) == (
        2, "", f"siglink: error: {file / 'store'}: cannot create the store: a parent of it is "
        "not a directory\n")
    assert file.read_text() == "root:x:0:0\n"


def test_a_mistyped_store_is_never_created(tmp_path: Path, app: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """Reading commands, plan and run on a store that does not exist say so and create
    nothing."""
    typo = tmp_path / "stroe"
    assert run(capsys, "list", "--store", str(typo)) == (0, f"no store at {typo}\n", "")
    assert run(capsys, "list", "--json", "--store", str(typo)) == (0, "[]\n", "")
    for argv in (["show", "textkit"], ["who-uses", "textkit"]):
        assert run(capsys, *argv, "--store", str(typo)) == (
            2, "", f"siglink: error: textkit is not in the store (no store at {typo})\n")
    assert run(capsys, "yank", "textkit==1.0.0", "--reason", "x", "--store", str(typo)) == (
        2, "", f"siglink: error: textkit==1.0.0 is not in the store (no store at {typo})\n")
    hint = (f"(no store at {typo}: nothing is installed there; check --store or "
            "$SIGLINK_STORE)")
    code, _, err = run(capsys, "plan", str(app), "--store", str(typo))
    assert code == 127
    assert err.startswith("siglink: error: cannot link ") and err.endswith(hint + "\n"), err
    code, _, err = run(capsys, "--store", str(typo), "run", str(app))
    assert code == 127
    assert err.endswith(hint + "\n"), err
    assert not typo.exists()


# -- table width -----------------------------------------------------------------------------


def test_width_of_forced_colour_output(monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Piped with FORCE_COLOR, a table is not wrapped at 80 columns: $COLUMNS, else a
    terminal's width, else 120."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert _output.width(io.StringIO()) == 120
    path = "/a/long/path/to/an/application/" + "x" * 60 + ".py"
    _output.table(None, ("APP", "VERSION"), [(path, "1.0.1")])
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in capsys.readouterr().out.splitlines()]
    assert any(path in line and "1.0.1" in line for line in lines), lines
    monkeypatch.setenv("COLUMNS", "150")
    assert _output.width(io.StringIO()) == 150
    assert _output.console().width == 150


# -- OSError and a store that does not exist yet -----------------------------------------------


def test_plan_cache_that_cannot_be_written(store: Path, app: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    plans = store / "plans"
    if plans.exists():
        import shutil

        shutil.rmtree(plans)
    plans.write_text("not a directory\n")
    code, _, err = run(capsys, "plan", str(app), "--store", str(store))
    assert code == 3
    assert err.startswith("siglink: error: ") and "cannot cache the link plan" in err, err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_stray_oserror_is_one_line(store: Path, app: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    import siglink.link.plan as plan_module

    def unreadable(*args: object, **kwargs: object) -> object:
        raise PermissionError(13, "Permission denied", "/nowhere/report.siglink.json")

    monkeypatch.setattr(plan_module, "load_app_manifest", unreadable)
    assert run(capsys, "plan", str(app), "--store", str(store)) == (
        3, "", "siglink: error: /nowhere/report.siglink.json: Permission denied\n")


def test_plan_with_environment_and_no_store_yet(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """Like run: nothing installed, every module from the environment."""
    missing = tmp_path / "nostore"
    pytest.importorskip("rich", reason="rich (a dependency of siglink) is not installed")
    path = tmp_path / "uses_rich.py"
    path.write_text("import rich\nprint(rich.print)\n")
    assert run(capsys, "build", str(path), "--store", str(missing))[0] == 0
    code, out, err = run(capsys, "plan", str(path), "--environment", "--store", str(missing))
    assert code == 0, err
    assert "rich" in out and "environment" in out
