"""A path, name or member from outside (another user's directory, a wheel) may hold a newline,
a carriage return or an escape sequence. Every message quoting one shows it escaped: an error
has exactly its own lines, none started by the hostile text, and no raw ESC or CR reaches the
terminal, on the warm path and in the CLI alike."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from siglink._inert import escape_controls, inert
from siglink.bundle._boot import _inert as boot_inert
from siglink.cli.main import main
from siglink.demo.wheels import make_wheel
from siglink.errors import SignatureSyntaxError
from siglink.link.hook import inert as hook_inert

HOSTILE = "x\nsiglink: ok\r\x1b[31m"
SHOWN = "x\\nsiglink: ok\\r\\x1b[31m"
LAUNCHER = "import sys; sys.path.pop(0); from siglink._entry import entry; entry()"
SOURCE = "def greet(who):\n    return 'hello ' + who\n"


def _inert_text(text: str) -> bool:
    return "\x1b" not in text and "\r" not in text and "\x9b" not in text


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _wheel(folder: Path, files: dict[str, str] | None = None) -> Path:
    return make_wheel(folder, "textkit", "1.0.0", files or {"textkit/__init__.py": SOURCE})


def test_the_escape_is_one_and_the_same_everywhere() -> None:
    """The bootstrap and the hook carry their own copy (a bundle holds them alone)."""
    every = "".join(map(chr, range(0x100))) + HOSTILE
    assert hook_inert(every) == boot_inert(every) == escape_controls(every) == inert(every)
    assert inert(HOSTILE) == SHOWN and escape_controls("a\nb", lines=True) == "a\nb"


def test_a_warm_refusal_naming_a_hostile_store_path_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / f"store{HOSTILE}"
    assert _cli(capsys, "install", str(_wheel(tmp_path)), "--store", str(store))[0] == 0
    app = tmp_path / "app.py"
    app.write_text("import textkit\nprint(textkit.greet('x'))\n")
    env = {**os.environ, "SIGLINK_STORE": str(store)}

    def start() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", LAUNCHER, "run", str(app)], env=env,
                              capture_output=True, text=True, timeout=300, check=False)

    assert [start().stdout for _ in range(2)] == ["hello x\n"] * 2  # cold, then warm
    version = store / "libs" / "textkit" / "1.0.0"
    os.chmod(version, 0o777)
    shown = inert(str(version))
    for path in ("warm", "cold"):
        refused = start()
        assert (refused.returncode, refused.stdout) == (127, ""), (path, refused.stderr)
        assert refused.stderr.count("\n") == 1 and _inert_text(refused.stderr), refused.stderr
        assert shown in refused.stderr, refused.stderr
        for plan in (store / "plans").glob("*.warm"):
            plan.unlink()


def test_install_naming_a_hostile_member_or_path_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    member = "textkit/\x1b[31mred\x9b.py"
    wheel = _wheel(tmp_path, {"textkit/__init__.py": SOURCE, member: "x = 1\n"})
    import zipfile

    with zipfile.ZipFile(wheel) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    with zipfile.ZipFile(wheel, "w") as z:  # the member changed after RECORD was written
        for name, data in {**members, member: b"x = 2\n"}.items():
            z.writestr(name, data)
    store = str(tmp_path / "store")
    code, out, err = _cli(capsys, "install", str(wheel), "--store", store)
    assert (code, out) == (2, "") and err.count("\n") == 1 and _inert_text(err), err
    assert "textkit/\\x1b[31mred\\x9b.py" in err
    code, out, err = _cli(capsys, "install", str(tmp_path / f"{HOSTILE}.whl"), "--store", store)
    assert (code, out) == (2, ""), err
    assert err == f"siglink: error: {tmp_path}/{SHOWN}.whl: no such file or directory\n"


def test_list_of_a_damaged_store_at_a_hostile_path_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / f"store{HOSTILE}"
    assert _cli(capsys, "install", str(_wheel(tmp_path)), "--store", str(store))[0] == 0
    (store / "index.sqlite").unlink()
    code, out, err = _cli(capsys, "list", "--store", str(store))
    assert (code, out) == (3, "") and err.count("\n") == 1 and _inert_text(err), err
    assert err.startswith(f"siglink: error: {inert(str(store))}/index.sqlite: ")


def test_verify_naming_a_hostile_file_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store"
    assert _cli(capsys, "install", str(_wheel(tmp_path)), "--store", str(store))[0] == 0
    (store / "libs" / "textkit" / "1.0.0" / f"extra{HOSTILE}.py").write_text("x = 1\n")
    code, out, err = _cli(capsys, "verify", "--store", str(store))
    assert (code, err) == (1, ""), err
    assert out.count("\n") == 1 and _inert_text(out) and f"extra{SHOWN}.py" in out, out


def test_exports_of_a_hostile_path_or_member_keeps_its_lines(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _cli(capsys, "exports", str(tmp_path / f"{HOSTILE}.whl"))
    assert (code, out) == (2, "")
    assert err == f"siglink: error: {tmp_path}/{SHOWN}.whl: no such file or directory\n"
    wheel = _wheel(tmp_path, {"textkit/__init__.py": SOURCE,
                              f"textkit/{HOSTILE}.py": "x = 1\n"})
    code, out, err = _cli(capsys, "exports", str(wheel))  # such a member name is refused
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and _inert_text(err), err
    assert f"member 'textkit/{SHOWN}.py' contains a control character" in err, err


def test_a_refusal_spanning_lines_keeps_only_its_own(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = str(tmp_path / "store")
    assert _cli(capsys, "install", str(_wheel(tmp_path)), "--store", store)[0] == 0
    folder = tmp_path / HOSTILE
    folder.mkdir()
    app = folder / "app.py"
    app.write_text("import textkit, nosuchmodule\n")
    assert _cli(capsys, "build", str(app), "--store", store)[0] == 0
    code, out, err = _cli(capsys, "plan", str(app), "--store", store)
    assert (code, out) == (127, ""), err
    lines = err.splitlines()
    assert len(lines) == 2 and _inert_text(err), err
    assert lines[0] == f"siglink: error: cannot link {inert(str(folder))}/app.siglink.json:"
    assert lines[1].startswith("  nosuchmodule: imported by ")


def test_a_caret_stays_under_the_span_of_hostile_text() -> None:
    text = "(a\x1b[2J: int, b c)"
    error = SignatureSyntaxError(text, text.index("c"), "invalid\nsyntax")
    head, shown, caret = error.message.split("\n")
    assert head == "invalid signature: invalid\\nsyntax"
    assert shown == "    (a\\x1b[2J: int, b c)" and shown.index("c)") == caret.index("^")
    assert error.multiline


def test_the_commands_print_only_through_the_output_layer() -> None:
    """Every line the CLI prints goes through ``siglink.cli._output`` (which escapes it)."""
    cli = Path(sys.modules["siglink.cli.main"].__file__ or "").parent
    offenders = []
    for module in sorted(cli.glob("*.py")):
        if module.name in ("_output.py", "demo.py"):  # demo prints its own fixed story
            continue
        for node in ast.walk(ast.parse(module.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "print"):
                offenders.append(f"{module.name}:{node.lineno}")
    assert offenders == []


def test_a_native_refusal_at_run_time_keeps_only_its_own_lines(
        capsys: pytest.CaptureFixture[str]) -> None:
    """A link the application asks for while it runs, refused: said by the warm path."""
    from siglink.contracts.severity import Severity
    from siglink.contracts.verdict import Problem, Verdict
    from siglink.link.warm import _refused
    from siglink.native.bind import NativeLinkError, UnverifiedLinkError

    problem = Problem("C3", f"f{HOSTILE}", "int f(int)", "int f(int, int)",
                      Severity.INCOMPATIBLE)
    refusals = [(NativeLinkError(f"lib{HOSTILE}.so", f"/lib/{HOSTILE}.so", Verdict((problem,))),
                 2),
                (UnverifiedLinkError(f"lib{HOSTILE}.so", f"/lib/{HOSTILE}.so",
                                     Verdict((), (f"f{HOSTILE}",)), declared=False), 1)]
    for error, lines in refusals:
        with pytest.raises(SystemExit) as exited:
            _refused(error)
        err = capsys.readouterr().err
        assert exited.value.code == 127
        assert err.count("\n") == lines and _inert_text(err), err
        assert err.startswith(f"siglink: error: cannot link lib{SHOWN}.so (/lib/{SHOWN}.so)")
