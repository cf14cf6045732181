"""A Go library built with ``go build -buildmode=c-shared``, linked through its cgo header."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

GOLIB = Path(__file__).parent / "golib" / "godemo.go"


@pytest.fixture(scope="module")
def golib(tmp_path_factory: pytest.TempPathFactory) -> Path:
    go = shutil.which("go")
    if go is None:
        print("no Go toolchain on this machine (apt-get install golang-go)")
        pytest.skip("no Go toolchain on this machine (apt-get install golang-go)")
    root = tmp_path_factory.mktemp("golib")
    env = {**os.environ, "GOCACHE": str(root / "gocache"), "GOPATH": str(root / "gopath"),
           "GO111MODULE": "off", "GOFLAGS": ""}
    lib = root / "libgodemo.so"
    subprocess.run([go, "build", "-buildmode=c-shared", "-o", str(lib), str(GOLIB)],
                   check=True, env=env, cwd=root)
    return lib


def test_go_library_links_through_the_cgo_header(golib: Path) -> None:
    from siglink.cli.main import main

    generated = golib.with_suffix(".h")
    assert generated.is_file()
    assert main(["native", "manifest", str(golib), "--header", str(generated)]) == 0
    # One Go runtime per process: load it in a child.
    script = textwrap.dedent(f"""
        import json
        from siglink.native import link
        g = link({str(golib)!r}, {str(generated)!r})
        print(json.dumps({{
            "source": g.source,
            "identical": g.verdict.identical,
            "add": g.GoAdd(40, 2),
            "scale": g.GoScale(3, 1.5),
            # cgo declares a non-const unsigned char *: writable buffers only
            "count": [g.GoCount(b, 6, ord("a")) for b in
                      (bytearray(b"banana"), memoryview(bytearray(b"banana")))],
        }}))
    """)
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True)
    assert json.loads(ran.stdout) == {"source": "embedded", "identical": True, "add": 42,
                                      "scale": 4.5, "count": [3, 3]}
    refused = subprocess.run(
        [sys.executable, "-c", "from siglink.native import link; "
         f"link({str(golib)!r}, 'int GoAdd(int a, long long b);')"],
        capture_output=True, text=True, check=False,
    )
    assert refused.returncode == 1
    assert "C4 GoAdd param 2 (b): expected long long, found int" in refused.stderr
