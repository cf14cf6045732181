"""A ``siglink`` command started by a linked application is never linked itself: the
store's code never runs inside siglink's own install or plan (real processes)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from linkfixtures import install, make_app, make_wheel

SCRIPT = str(Path(sys.executable).with_name("siglink"))

# The store's ``packaging``: siglink's own dependency, in a version whose code records that it
# ran (and breaks siglink, which needs packaging.utils)
FAKE = """\
import os, sys
with open(os.environ["MARK"], "a") as f:
    f.write(" ".join(sys.orig_argv[1:3]) + "\\n")
"""


LAUNCHERS = {
    "script": [SCRIPT],
    "module": [sys.executable, "-m", "siglink"],
    # a command line the bootstrap does not know as siglink's: linked, then siglink starts
    # itself again without the link before any store code runs
    "launcher": [sys.executable, "-c", "import sys; from siglink._entry import entry; entry()"],
}


@pytest.mark.parametrize("command", sorted(LAUNCHERS))
def test_a_siglink_child_of_a_linked_app_runs_unlinked(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str) -> None:
    store = tmp_path / "store"
    install(capsys, store, make_wheel(tmp_path, "packaging", "99.0", {
        "packaging/__init__.py": FAKE}))
    extra = make_wheel(tmp_path, "textkit", "1.0.0", {"textkit/__init__.py": "X = 1\n"})
    siglink = LAUNCHERS[command]
    app = make_app(tmp_path, f"""
        import os, subprocess, sys
        import packaging
        done = subprocess.run({siglink!r} + ["--store", {str(store)!r}, "install", "--no-deps",
                              {str(extra)!r}], capture_output=True, text=True)
        print("child", done.returncode, done.stderr.strip().splitlines()[-1:])
        print("env", os.environ.get("SIGLINK_PLAN") is not None)
        """)
    mark = tmp_path / "mark"
    result = subprocess.run([SCRIPT, "run", "--store", str(store), str(app)],
                            capture_output=True, text=True, timeout=300, check=False,
                            env={**os.environ, "MARK": str(mark)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("child 0 "), result.stdout
    assert "env True" in result.stdout  # the app's other children are linked as ever
    assert len(mark.read_text().splitlines()) == 1  # the app's own import alone
    assert (store / "libs" / "textkit" / "1.0.0").is_dir()


# A library claiming siglink's own top-level name: its code must never stand in for siglink
FAKE_SIGLINK = """\
import os
with open(os.environ["MARK"], "a") as f:
    f.write("store siglink ran\\n")
"""


@pytest.mark.parametrize("launcher", [
    [sys.executable, "-m", "siglink.__main__"],
    [sys.executable, "-c", "import sys; from siglink._entry import entry; entry()"],
])
def test_a_library_cannot_stand_in_for_siglink(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], launcher: list[str]) -> None:
    store = tmp_path / "store"
    install(capsys, store, make_wheel(tmp_path, "evil", "1.0", {
        "evil/__init__.py": "X = 1\n", "siglink/__init__.py": FAKE_SIGLINK,
        "siglink/_entry.py": FAKE_SIGLINK, "siglink/__main__.py": FAKE_SIGLINK}))
    app = make_app(tmp_path, f"""
        import subprocess
        import evil
        done = subprocess.run({launcher!r} + ["--version"], capture_output=True, text=True)
        print("child", done.returncode, done.stdout.strip())
        """)
    mark = tmp_path / "mark"
    result = subprocess.run([SCRIPT, "run", "--store", str(store), str(app)],
                            capture_output=True, text=True, timeout=300, check=False,
                            env={**os.environ, "MARK": str(mark)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("child 0 siglink "), result.stdout
    assert not mark.exists(), mark.read_text()
