"""``siglink run`` end to end: what the warm path trusts, when it stays warm, one planner for
many starters, and links the application itself refuses at run time."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from linkfixtures import install, make_app, make_wheel

from siglink._layout import read_generations

LIB = {"textkit/__init__.py": "VERSION = {v!r}\ndef shout(text):\n    return text.upper()\n"}
APP = "import textkit\nprint(textkit.shout('hi'), textkit.VERSION)\n"
LAUNCHER = "import sys; sys.path.pop(0); from siglink._entry import entry; entry()"


def run(store: Path, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "SIGLINK_STORE": str(store), "SIGLINK_DEBUG": "1", **env}
    return subprocess.run([sys.executable, "-c", LAUNCHER, "run", *args], capture_output=True,
                          text=True, cwd=cwd, env=environ, timeout=300, check=False)


def textkit(tmp_path: Path, version: str) -> Path:
    return make_wheel(tmp_path, "textkit", version,
                      {k: v.format(v=version) for k, v in LIB.items()})


@pytest.fixture
def store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    root = tmp_path / "store"
    install(capsys, root, textkit(tmp_path, "1.0.0"))
    return root


def how(result: subprocess.CompletedProcess[str]) -> str:
    """``cold`` or ``warm``, from the ``SIGLINK_DEBUG`` line."""
    assert result.returncode == 0, result.stderr
    return "warm" if "siglink: warm plan" in result.stderr else "cold"


def test_an_unrelated_change_keeps_the_app_warm_a_used_one_moves_it(
        store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = make_app(tmp_path, APP)
    assert [how(run(store, str(app), cwd=tmp_path)) for _ in range(2)] == ["cold", "warm"]
    install(capsys, store, make_wheel(tmp_path, "unrelated", "1.0.0",
                                      {"unrelated/__init__.py": "X = 1\n"}))
    generation, libraries = read_generations(str(store / "generation"))
    assert libraries["unrelated"] == generation > libraries["textkit"]  # as the store writes
    result = run(store, str(app), cwd=tmp_path)
    assert how(result) == "warm" and result.stdout == "HI 1.0.0\n"
    install(capsys, store, textkit(tmp_path, "1.1.0"))
    result = run(store, str(app), cwd=tmp_path)
    assert how(result) == "cold" and result.stdout == "HI 1.1.0\n"
    assert how(run(store, str(app), cwd=tmp_path)) == "warm"


def test_a_tampered_plan_is_recomputed(store: Path, tmp_path: Path) -> None:
    app = make_app(tmp_path, APP)
    assert how(run(store, str(app), cwd=tmp_path)) == "cold"
    [warm] = (store / "plans").glob("*.warm")
    data = bytearray(warm.read_bytes())
    data[-5] ^= 0xFF
    warm.write_bytes(bytes(data))
    result = run(store, str(app), cwd=tmp_path)
    assert how(result) == "cold" and result.stdout == "HI 1.0.0\n"
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("where", ["plans", "bootstrap", "libs"])
def test_a_directory_writable_by_others_is_refused(store: Path, tmp_path: Path,
                                                   where: str) -> None:
    app = make_app(tmp_path, APP)
    assert how(run(store, str(app), cwd=tmp_path)) == "cold"
    (store / where).chmod(0o777)
    result = run(store, str(app), cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    path = store / where
    assert result.stderr == (f"siglink: error: {path}: writable by group and others; refused "
                             f"(chmod go-w {path})\n")
    assert result.stdout == ""


def test_concurrent_cold_starts_compute_the_plan_once(
        store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Starters of one application right after a change wait for one planner, then start
    warm from its plan."""
    app = make_app(tmp_path, APP)
    assert how(run(store, str(app), cwd=tmp_path)) == "cold"
    install(capsys, store, textkit(tmp_path, "1.1.0"))
    environ = {**os.environ, "SIGLINK_STORE": str(store), "SIGLINK_DEBUG": "1"}
    starters = [subprocess.Popen([sys.executable, "-c", LAUNCHER, "run", str(app)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 cwd=tmp_path, env=environ) for _ in range(6)]
    results = [p.communicate(timeout=300) for p in starters]
    assert [p.returncode for p in starters] == [0] * 6, results
    assert all(out == "HI 1.1.0\n" for out, _ in results)
    paths = sorted("warm" if "siglink: warm plan" in err else "cold" for _, err in results)
    assert paths == ["cold"] + ["warm"] * 5


def test_the_planner_hands_its_lock_to_the_app_s_interpreter_which_lets_go_before_the_app(
        store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The cold path keeps the plan's lock through its exec (the waiters go once the new
    interpreter has read the plan); the application neither holds nor inherits it."""
    app = make_app(tmp_path, f"""
        import fcntl, glob, os, sys
        import textkit
        held = []
        for lock in glob.glob({str(store / "plans" / "*.lock")!r}):  # none before a first plan
            held += [f for f in os.listdir("/proc/self/fd")
                     if os.path.realpath(f"/proc/self/fd/{{f}}") == lock]
            fd = os.open(lock, os.O_RDWR)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError if still held
        print(textkit.VERSION, held)
        """)
    assert how(run(store, str(app), cwd=tmp_path)) == "cold"
    assert how(run(store, str(app), cwd=tmp_path)) == "warm"  # now there is a lock file
    install(capsys, store, textkit(tmp_path, "1.1.0"))
    result = subprocess.run(
        ["strace", "-f", "-e", "trace=execve", "-o", str(tmp_path / "trace"),
         sys.executable, "-c", LAUNCHER, "run", str(app)] if shutil.which("strace") else
        [sys.executable, "-c", LAUNCHER, "run", str(app)],
        capture_output=True, text=True, cwd=tmp_path, timeout=300, check=False,
        env={**os.environ, "SIGLINK_STORE": str(store), "SIGLINK_DEBUG": "1"})
    assert how(result) == "cold" and result.stdout == "1.1.0 []\n", result.stderr
    if shutil.which("strace"):
        execs = [line for line in (tmp_path / "trace").read_text().splitlines()
                 if "execve(" in line and "= 0" in line]
        assert len(execs) == 2 and "--planner-lock=" in execs[1]


@pytest.mark.skipif(not os.path.exists("/usr/include/zlib.h") or shutil.which("cpp") is None,
                    reason="needs zlib's header and the C preprocessor")
def test_a_native_link_the_app_makes_and_is_refused_exits_127(store: Path,
                                                              tmp_path: Path) -> None:
    app = make_app(tmp_path, """
        import siglink.native
        print("starting", flush=True)
        siglink.native.link("z", "unsigned long compressBound(int a, int b);",
                            header="/usr/include/zlib.h")
        print("not reached")
        """)
    for warmth in ("cold", "warm"):  # siglink itself linked from the environment
        result = run(store, "--environment", str(app), cwd=tmp_path)
        assert result.returncode == 127, result.stderr
        assert result.stdout == "starting\n"
        assert f"siglink: {warmth} plan" in result.stderr
        lines = result.stderr.splitlines()
        at = next(i for i, line in enumerate(lines) if line.startswith("siglink: error: "))
        assert lines[at].startswith("siglink: error: cannot link libz.so.1 ("), lines
        assert lines[at + 1] == ("  C3 compressBound: expected 2 parameters, found 1 parameter "
                                 "(incompatible)")
        assert "Traceback" not in result.stderr


def test_a_removed_current_directory_is_one_line(store: Path, tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    script = f'cd "{gone}" && rmdir "{gone}" && exec "$0" -c "$1" run -m json.tool'
    result = subprocess.run(["sh", "-c", script, sys.executable, LAUNCHER], capture_output=True,
                            text=True, env={**os.environ, "SIGLINK_STORE": str(store)},
                            timeout=300, check=False)
    assert (result.returncode, result.stderr) == (
        3, "siglink: error: No such file or directory\n")


def test_a_yank_leaves_a_marker_the_warm_path_refuses_even_with_a_stale_generation(
        store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from linkfixtures import siglink

    install(capsys, store, textkit(tmp_path, "1.1.0"))
    app = make_app(tmp_path, APP)
    assert run(store, str(app), cwd=tmp_path).stdout == "HI 1.1.0\n"
    generation_file = store / "generation"
    before = generation_file.read_bytes()
    code, _, err = siglink(capsys, "yank", "--store", str(store), "textkit==1.1.0",
                           "--reason", "CVE-0000-1")
    assert code == 0, err
    marker = store / "libs" / "textkit" / "1.1.0" / ".yanked"
    assert marker.read_text() == "CVE-0000-1\n"
    # a crash that lost the generation file's update: the warm plan still looks current,
    # and the marker alone keeps the yanked version from running
    generation_file.write_bytes(before)
    result = run(store, str(app), cwd=tmp_path)
    assert result.stdout == "HI 1.0.0\n", result.stderr
    code, _, _ = siglink(capsys, "unyank", "--store", str(store), "textkit==1.1.0")
    assert code == 0 and not marker.exists()
    code, out, _ = siglink(capsys, "verify", "--store", str(store))
    assert code == 0, out
