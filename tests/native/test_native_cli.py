"""``siglink native manifest`` and ``siglink native check``: outputs and bad input."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest
from native_clib import build_sl_demo, header

from siglink.cli.main import main
from siglink.native import manifest
from siglink.native.elf import ElfFile


@pytest.fixture
def bare(tmp_path: Path) -> Path:
    return build_sl_demo("1.0", tmp_path / "bare")


def test_manifest_embeds_in_place(bare: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["native", "manifest", str(bare), "--header", str(header("1.0")),
                 "--name", "sl_demo", "--version", "1.0.3"])
    assert code == 0
    out = capsys.readouterr().out
    assert out.startswith("sl_demo 1.0.3: 17 functions, ")
    assert ".siglink" in ElfFile.read(bare).sections
    found = manifest.read(bare)
    assert found is not None and found[1] == "embedded"
    unit = found[0].unit
    assert (unit.name, unit.version, unit.kind, unit.language) == ("sl_demo", "1.0.3", "library",
                                                                   "c")
    native = found[0].native or {}
    assert native["soname"] == "libsl_demo.so.1" and native["machine"] == "x86_64"
    assert native["functions"]["sl_versioned"]["versions"] == ["SL_1", "SL_2"]
    assert native["functions"]["sl_sum"]["variadic"] is True
    # the embedded library still loads and runs; embedding again updates the section
    assert subprocess.run(["python3", "-c", f"import ctypes; print(ctypes.CDLL('{bare}')"
                           ".sl_add(2, 3))"], capture_output=True, text=True,
                          check=True).stdout == "5\n"
    assert main(["native", "manifest", str(bare), "--header", str(header("1.0")),
                 "--version", "1.0.4"]) == 0
    again = manifest.read(bare)
    assert again is not None and again[0].unit.version == "1.0.4"


def test_manifest_to_a_copy_and_as_a_sidecar(bare: Path, tmp_path: Path) -> None:
    out = tmp_path / "copy" / "libsl_demo.so"
    out.parent.mkdir()
    assert main(["native", "manifest", str(bare), "--header", str(header("1.0")),
                 "-o", str(out)]) == 0
    assert ".siglink" not in ElfFile.read(bare).sections
    assert ".siglink" in ElfFile.read(out).sections
    assert main(["native", "manifest", str(bare), "--header", str(header("1.0")),
                 "--sidecar"]) == 0
    sidecar = Path(str(bare) + ".siglink.json")
    assert json.loads(sidecar.read_text())["unit"]["language"] == "c"
    found = manifest.read(bare)
    assert found is not None and found[1] == str(sidecar)


def test_check_prints_the_verdict(sl_demo: dict[str, Path],
                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["native", "check", str(sl_demo["1.1"]), str(header("1.0"))]) == 0
    assert "C7 sl_checksum param 1 (data)" in capsys.readouterr().out
    assert main(["native", "check", str(sl_demo["2.0"]), str(header("1.0")), "--json"]) == 1
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["ok"] is False
    assert {p["rule"] for p in verdict["problems"]} >= {"C4", "C15"}


def _run_bad(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2, captured
    # one message; a parse error adds the source line and a caret under the column
    assert captured.err.startswith("siglink: error: ") and captured.err.count("siglink:") == 1
    return captured.err.rstrip("\n").removeprefix("siglink: error: ")


def test_bad_inputs_get_one_clear_message(tmp_path: Path, bare: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.so"
    assert _run_bad(["native", "manifest", str(missing), "--header", str(header("1.0"))],
                    capsys) == f"{missing}: no such file"
    text = tmp_path / "libtext.so"
    text.write_text("not a library\n")
    assert _run_bad(["native", "manifest", str(text), "--header", str(header("1.0"))],
                    capsys) == f"{text}: not an ELF file"
    arm32 = tmp_path / "libarm32.so"
    arm32.write_bytes(b"\x7fELF\x01\x01\x01" + b"\0" * 9 + (3).to_bytes(2, "little")
                      + (40).to_bytes(2, "little") + b"\0" * 32)
    assert _run_bad(["native", "manifest", str(arm32), "--header", str(header("1.0"))],
                    capsys) == (f"{arm32}: wrong architecture: the library is ELF32 arm "
                                "(little-endian), this process is ELF64 x86_64 (little-endian)")
    broken = tmp_path / "broken.h"
    broken.write_text("int ok(void);\n\nint broken(int x;\n")
    message = _run_bad(["native", "manifest", str(bare), "--header", str(broken)], capsys)
    assert message == ("broken.h:3: cannot parse C declarations: unexpected ';'\n"
                       "    int broken(int x;\n                    ^")
    assert _run_bad(["native", "manifest", str(bare), "--header", str(tmp_path / "none.h")],
                    capsys) == f"{tmp_path / 'none.h'}: no such header file"
    (tmp_path / "a_file").write_text("")  # a missing directory is made; a file is in the way
    assert _run_bad(["native", "manifest", str(bare), "--header", str(header("1.0")),
                     "-o", str(tmp_path / "a_file" / "lib.so")], capsys) == (
        f"{tmp_path / 'a_file' / 'lib.so'}: cannot write the library (File exists)")
    assert _run_bad(["native", "check", str(bare), "int f(unknown_t x);"], capsys) == (
        "<declarations>:1: cannot parse C declarations: unexpected 'x' (is a type name before "
        "it undeclared?)\n    int f(unknown_t x);\n                    ^")
    assert _run_bad(["native", "check", "no_such_library_anywhere", "int f(void);"], capsys) == (
        "library 'no_such_library_anywhere' not found on this system's library path")
    cpp_error = tmp_path / "include.h"
    cpp_error.write_text('#include "does_not_exist.h"\n')
    message = _run_bad(["native", "manifest", str(bare), "--header", str(cpp_error)], capsys)
    assert message.startswith("include.h:1:10: fatal error: does_not_exist.h"), message


def test_a_32_bit_object_from_gcc_is_refused(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "f.c"
    source.write_text("int f(void) { return 1; }\n")
    lib = tmp_path / "lib32.so"
    built = subprocess.run(["gcc", "-m32", "-shared", "-nostdlib", "-fPIC", "-o", str(lib),
                            str(source)], capture_output=True, text=True, check=False)
    if built.returncode != 0:
        pytest.skip(f"gcc cannot build 32-bit objects here: {built.stderr.strip()[:200]}")
    message = _run_bad(["native", "manifest", str(lib), "--header", str(header("1.0"))], capsys)
    assert message.endswith("the library is ELF32 i386 (little-endian), "
                            "this process is ELF64 x86_64 (little-endian)")
    assert shutil.which("gcc")


def test_check_against_the_providers_header(capsys: pytest.CaptureFixture[str]) -> None:
    """A system library carries no manifest: ``--header`` gives its declarations."""
    zlib_h = "/usr/include/zlib.h"
    if not Path(zlib_h).is_file():
        pytest.skip("zlib.h is not installed (apt-get install zlib1g-dev)")
    assert main(["native", "check", "z", "#include <zlib.h>", "--header", zlib_h]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("libz.so.1: ok") and out[1:] == ["identical"]
    assert main(["native", "check", "z", "int compressBound(unsigned long sourceLen);",
                 "--header", zlib_h]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("libz.so.1: refused")
    assert out[1:] == [  # incompatible first, though found after the harmless rename
        "C4 compressBound return: expected int, found uLong (= unsigned long); "
        "size 4 became 8; alignment 4 became 8; signed became unsigned (incompatible)",
        "C5 compressBound param 1 (sourceLen): expected unsigned long, found uLong "
        "(= unsigned long); renamed to an identical type (harmless)",
    ]


def test_manifest_in_place_follows_a_symlink(bare: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """``libz.so.1 -> libz.so.1.2.13``: the real file gets the section, the link stays."""
    real = bare.with_name("libsl_demo.so.1.0.3")
    bare.rename(real)
    real.chmod(0o751)
    link = bare.with_name("libsl_demo.so.1")
    link.symlink_to(real.name)
    before = set(bare.parent.iterdir())
    assert main(["native", "manifest", str(link), "--header", str(header("1.0"))]) == 0
    out = capsys.readouterr().out
    assert out.rstrip("\n").endswith(
        f"; embedded into {real} (the symlink {link} is kept)"), out
    assert link.is_symlink() and os.readlink(link) == real.name
    assert set(bare.parent.iterdir()) == before  # no temporary file left behind
    assert stat.S_IMODE(real.stat().st_mode) == 0o751
    assert ".siglink" in ElfFile.read(real).sections
    found = manifest.read(link)
    assert found is not None and found[1] == "embedded"
    # the API does the same, and says which file it wrote
    assert manifest.embed(link, found[0], output=None) == real
    assert link.is_symlink()


def _as_another_user(argv: list[str]) -> tuple[int, str]:
    """``main(argv)`` in a child process that is not root (root may write anything)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 99
        try:
            os.close(read_end)
            if os.geteuid() == 0:
                os.setgid(65534)
                os.setuid(65534)
            err = io.StringIO()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                code = main(argv)
            os.write(write_end, err.getvalue().encode())
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        err = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), err


def test_manifest_refuses_a_library_this_user_cannot_write(bare: Path) -> None:
    # a directory the unprivileged child can reach (pytest's tmp directories are private)
    root = Path(tempfile.mkdtemp(prefix="siglink-readonly-"))
    try:
        root.chmod(0o755)
        locked_dir, locked_file = root / "system", root / "shared"
        for directory in (locked_dir, locked_file):
            directory.mkdir()
            shutil.copy2(bare, directory / "libsl_demo.so.1")
            (directory / "libsl_demo.so.1").chmod(0o444 if directory is locked_file else 0o644)
        if os.geteuid() == 0:  # the child runs as nobody: give it the file, not the directory
            os.chown(locked_dir / "libsl_demo.so.1", 65534, 65534)
        locked_dir.chmod(0o555)  # the file is writable, its directory is not
        locked_file.chmod(0o777)  # the directory is writable, the file is not
        h = str(header("1.0"))

        code, err = _as_another_user(["native", "manifest", str(locked_dir / "libsl_demo.so.1"),
                                      "--header", h])
        lib = locked_dir / "libsl_demo.so.1"
        assert (code, err) == (2, f"siglink: error: {lib}: cannot modify the library in place "
                               f"({locked_dir} is not writable by this user); use -o OUT to "
                               "write a modified copy\n")
        code, err = _as_another_user(["native", "manifest", str(locked_file / "libsl_demo.so.1"),
                                      "--header", h])
        lib = locked_file / "libsl_demo.so.1"
        assert (code, err) == (2, f"siglink: error: {lib}: cannot modify the library in place "
                               f"({lib} is not writable by this user); use -o OUT to write a "
                               "modified copy or --sidecar to write the manifest beside it\n")
        for directory in (locked_dir, locked_file):
            assert ".siglink" not in ElfFile.read(directory / "libsl_demo.so.1").sections
            assert sorted(p.name for p in directory.iterdir()) == ["libsl_demo.so.1"]
    finally:
        for directory in (root, *root.iterdir()):
            directory.chmod(0o755)
        shutil.rmtree(root)


def test_check_refuses_no_declarations(bare: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    for empty in ("", "   ", "\n"):
        assert _run_bad(["native", "check", str(bare), empty], capsys) == (
            "no declarations given: pass C declaration text or a header path")
    assert _run_bad(["native", "check", str(bare), "struct s { int x; };"], capsys) == (
        "the declarations declare no function (nothing to check): 'struct s { int x; };'")
    includes = tmp_path / "includes.h"
    includes.write_text("#include <stdio.h>\n")
    assert _run_bad(["native", "check", str(bare), str(includes)], capsys) == (
        f"{includes}: declares no function (nothing to check); an included header's "
        "functions count only where this library defines them")


@pytest.mark.parametrize("command", ["manifest", "check"])
def test_subcommand_help_has_examples(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["native", command, "--help"]) == 0
    out = capsys.readouterr().out
    examples = out[out.index("\nexamples:\n"):].splitlines()
    # kept as written (RawDescriptionHelpFormatter), one example per line
    assert examples[2].startswith(f"  siglink native {command} "), examples


def test_group_help_is_plain_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["native", "--help"]) == 0
    out = capsys.readouterr().out
    assert "siglink native manifest LIB.so --header H" in out
    assert "``" not in out and ":func:" not in out


def test_a_header_declaring_none_of_the_librarys_functions_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from siglink.native.bind import find_library

    libz, _ = find_library("z")
    sqlite_h = Path("/usr/include/sqlite3.h")
    if not sqlite_h.is_file():
        pytest.skip("needs sqlite3.h (apt-get install libsqlite3-dev)")
    out = tmp_path / "libz.so.1"
    assert main(["native", "manifest", libz, "--header", str(sqlite_h), "-o", str(out)]) == 2
    exported = sum(1 for s in ElfFile.read(libz).symbols.values() if s.function and s.linkable)
    assert capsys.readouterr() == ("", (
        f"siglink: error: {sqlite_h}: declares none of the {exported} functions {libz} "
        "exports; refused (is it this library's header?)\n"))
    assert not out.exists()


def test_a_header_declaring_few_of_the_librarys_functions_is_a_warning(
    bare: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    few = tmp_path / "few.h"
    few.write_text("int sl_add(int a, int b);\n")
    assert main(["native", "manifest", str(bare), "--header", str(few), "--sidecar"]) == 0
    declared, exported = manifest.coverage(bare, manifest.read(bare)[0])  # type: ignore[index]
    assert declared == 1 and exported > 10
    assert capsys.readouterr().err == (
        f"siglink: warning: {few} declares only 1 of the {exported} functions {bare} exports; "
        "consumers of the others link unverified\n")
