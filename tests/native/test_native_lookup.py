"""Bare names: a header on the include path, a library file in the working directory."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from native_clib import build_sl_demo, header

from siglink.cli.main import main
from siglink.native import manifest
from siglink.native.bind import find_library


def test_a_bare_header_name_is_found_with_minus_i(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    lib = build_sl_demo("1.0", tmp_path / "lib")
    monkeypatch.chdir(tmp_path)
    inc = str(header("1.0").parent)
    assert main(["native", "manifest", str(lib), "--header", "sl_demo.h", "-I", inc,
                 "--sidecar"]) == 0
    assert "17 functions" in capsys.readouterr().out
    # Without -I the name is neither in cwd nor on the system path: one clear message.
    assert main(["native", "manifest", str(lib), "--header", "sl_demo.h", "--sidecar"]) == 2
    err = capsys.readouterr().err
    assert "sl_demo.h: no such header file" in err and "Traceback" not in err


def test_a_bare_header_name_is_found_on_the_system_include_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    if not Path("/usr/include/zlib.h").is_file():
        pytest.skip("zlib.h is not installed (apt-get install zlib1g-dev)")
    monkeypatch.chdir(tmp_path)
    libz, _ = find_library("z")
    shutil.copy2(libz, tmp_path / "libz.so.1")
    assert main(["native", "manifest", "libz.so.1", "--header", "zlib.h", "--sidecar",
                 "--print"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert "compressBound" in document["native"]["functions"]


def test_a_bare_library_name_in_cwd_is_that_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    lib = build_sl_demo("1.0", tmp_path)
    manifest.embed(lib, manifest.build(lib, header("1.0"), cache=False), output=None)
    monkeypatch.chdir(tmp_path)
    assert find_library("libsl_demo.so") == ("./libsl_demo.so", None)
    assert main(["native", "check", "libsl_demo.so", str(header("1.0"))]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "./libsl_demo.so: ok"
    from siglink.native import link

    linked = link("libsl_demo.so", str(header("1.0")))
    assert linked is not None


SHAPES = """#define SHAPES_MAX {max}
struct point {{ {fields} }};
typedef void (*visit_fn)(struct point *p);
int shape_area(struct point *a, struct point *b);
void shape_move(struct point *p, int dx);
void shape_each(visit_fn fn);
"""


def _shapes(tmp_path: Path) -> tuple[Path, Path]:
    """libshapes.so built from the new header (z inserted, SHAPES_MAX 32), the old header."""
    new = tmp_path / "new.h"
    new.write_text(SHAPES.format(max=32, fields="int x; long z; int y;"))
    old = tmp_path / "old.h"
    old.write_text(SHAPES.format(max=16, fields="int x; int y;"))
    source = tmp_path / "shapes.c"
    source.write_text('#include "new.h"\nint shape_area(struct point *a, struct point *b)'
                      "{return a->x*b->y;}\nvoid shape_move(struct point *p, int dx){p->x+=dx;}\n"
                      "void shape_each(visit_fn fn){(void)fn;}\n")
    lib = tmp_path / "libshapes.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(lib), str(source)], check=True)
    return lib, old


def test_a_struct_problem_is_reported_once_and_a_changed_constant_is_reviewed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    lib, old = _shapes(tmp_path)
    monkeypatch.chdir(tmp_path)
    # -o into a directory that does not exist yet: it is created.
    assert main(["native", "manifest", "libshapes.so", "--header", "new.h",
                 "-o", "out/sub/libshapes.so"]) == 0
    capsys.readouterr()
    assert main(["native", "check", "out/sub/libshapes.so", str(old)]) == 1
    assert capsys.readouterr().out.splitlines()[1:] == [
        "C15 struct point: expected 2 fields in 8 bytes, found 3 fields in 24 bytes; "
        "field z inserted at offset 8; y moved 4\u219216; size 8\u219224 while the consumer "
        "allocates it; reached by shape_area param 1 (a), shape_area param 2 (b), "
        "shape_move param 1 (p), shape_each param 1 (fn) callback param 1 (p) (incompatible)",
        "C18 SHAPES_MAX: expected 16, found 32; integer constant value changed: the consumer "
        "compiled the old value in (review)",
    ]
    assert lib.is_file()


def test_only_a_changed_constant_is_a_review(tmp_path: Path) -> None:
    from siglink.native.cdecl import describe
    from siglink.native.compat import check_library
    from siglink.native.elf import ElfFile

    lib, _ = _shapes(tmp_path)
    new = describe(tmp_path / "new.h", cache=False)
    same = SHAPES.format(max=32, fields="int x; long z; int y;")
    verdict = check_library(describe(same.replace("32", "8"), text=True, cache=False), new,
                            ElfFile.read(lib))
    assert verdict.ok and not verdict.identical
    assert [(p.rule, p.path, p.expected, p.found) for p in verdict.problems] == [
        ("C18", "SHAPES_MAX", "8", "32")]
    assert check_library(describe(same, text=True, cache=False), new,
                         ElfFile.read(lib)).identical
