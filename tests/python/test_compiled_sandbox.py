"""A compiled module without stubs is inspected only inside the sandbox: a hostile package whose
``__init__`` writes marker files and starts a detached sleeper leaves no marker on the real
filesystem and no process behind, and its exports are still read. Without bubblewrap nothing
is imported: one warning says the module's names are unverified and how to get the sandbox."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.tags import sys_tags

from siglink import _sandbox
from siglink.demo import wheels

C_SOURCE = r"""
#include <Python.h>
static PyObject *add(PyObject *self, PyObject *args) {
    long a, b;
    if (!PyArg_ParseTuple(args, "ll", &a, &b)) return NULL;
    return PyLong_FromLong(a + b);
}
static PyMethodDef methods[] = {
    {"add", add, METH_VARARGS, "add($module, a, b, /)\n--\n\nSum."},
    {NULL, NULL, 0, NULL}
};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speed", NULL, -1, methods};
PyMODINIT_FUNC PyInit__speed(void) { return PyModule_Create(&module); }
"""

HOSTILE_INIT = """\
import os, subprocess
MARKERS = {markers!r}
for folder in MARKERS:
    try:
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "pwned"), "w") as f:
            f.write("library code ran here")
    except OSError:
        pass
try:
    sleeper = subprocess.Popen(["sleep", {sleep!r}], start_new_session=True)
    for folder in MARKERS:
        try:
            with open(os.path.join(folder, "sleeper.pid"), "w") as f:
                f.write(str(sleeper.pid))
        except OSError:
            pass
except OSError:
    pass
from ._speed import add
"""


class Hostile:
    """A wheel whose package runs code on import, and where that code leaves its traces."""

    def __init__(self, wheel: Path, markers: list[Path], sleep: str) -> None:
        self.wheel = wheel
        self.markers = markers
        self.sleep = sleep

    def traces(self) -> list[str]:
        found = [str(m) for m in self.markers if m.exists()]
        for proc in Path("/proc").iterdir():
            try:
                cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if self.sleep.encode() in cmdline:
                found.append(f"process {proc.name}: {b' '.join(cmdline).decode()}")
        return found


def compiled_wheel(folder: Path, package: str, init: str) -> Path:
    """``PACKAGE-1.0``, a wheel of ``package`` (its ``__init__`` is ``init``) with a compiled
    module ``_speed`` and no stubs; skips without a C compiler."""
    compiler = shutil.which("gcc") or shutil.which("cc")
    include = sysconfig.get_paths()["include"]
    if compiler is None or not (Path(include) / "Python.h").is_file():
        pytest.skip(f"needs a C compiler and Python headers (compiler={compiler}, {include})")
    (folder / "speed.c").write_text(C_SOURCE)
    built = folder / f"_speed{sysconfig.get_config_var('EXT_SUFFIX')}"
    subprocess.run([compiler, "-shared", "-fPIC", f"-I{include}", str(folder / "speed.c"),
                    "-o", str(built)], check=True)
    tag = str(next(t for t in sys_tags() if t.platform != "any" and t.abi != "none"))
    files: dict[str, str | bytes] = {f"{package}/__init__.py": init,
                                     f"{package}/{built.name}": built.read_bytes()}
    return wheels.make_wheel(folder / "dist", package, "1.0", files, tag=tag)


@pytest.fixture
def hostile(tmp_path: Path) -> Iterator[Hostile]:
    token = uuid.uuid4().hex[:12]
    markers = [tmp_path / "owned", Path.home() / f".siglink-test-marker-{token}"]
    # A duration nobody else uses, so the sleeper is found by its command line.
    sleep = f"299.{int(token, 16) % 10**9:09d}"
    init = HOSTILE_INIT.format(markers=[str(m) for m in markers], sleep=sleep)
    yield Hostile(compiled_wheel(tmp_path, "advpkg", init), markers, sleep)
    shutil.rmtree(markers[1], ignore_errors=True)


def siglink(*args: str, path: str | None = None) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {**os.environ, "NO_COLOR": "1"}
    if path is not None:
        env["PATH"] = path
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "siglink", *args], capture_output=True,
                            text=True, env=env, timeout=120, check=False)
    return result, time.monotonic() - start


needs_bwrap = pytest.mark.skipif(_sandbox.bwrap() is None,
                                 reason="bubblewrap (bwrap) is not installed")


@needs_bwrap
def test_exports_reads_a_hostile_compiled_module_inside_the_sandbox(hostile: Hostile) -> None:
    result, elapsed = siglink("exports", str(hostile.wheel), "--json")
    assert result.returncode == 0, result.stderr
    exports = json.loads(result.stdout)["exports"]
    assert exports["advpkg.add"]["compiled"] is True
    assert exports["advpkg.add"]["signature"]["text"] == "(a, b, /)"
    assert elapsed < 30
    assert hostile.traces() == []


@needs_bwrap
def test_install_reads_a_hostile_compiled_module_inside_the_sandbox(
    hostile: Hostile, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    result, elapsed = siglink("install", str(hostile.wheel), "--store", str(store))
    assert result.returncode == 0, result.stderr
    assert elapsed < 30
    assert hostile.traces() == []
    shown, _ = siglink("exports", "advpkg==1.0", "--store", str(store), "--json")
    assert json.loads(shown.stdout)["exports"]["advpkg.add"]["compiled"] is True


# Runs a helper and reads its output to the end, as a package that starts a server on import
# may; the helper leaves a daemon, in a session of its own, holding that output.
DAEMON_INIT = """\
import subprocess, sys
DAEMON = '''
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(600)
    os._exit(0)
os.wait()
'''
subprocess.run([sys.executable, "-c", DAEMON, {token!r}], capture_output=True)
from ._speed import add
"""


@needs_bwrap
def test_a_module_leaving_a_daemon_on_import_is_still_inspected(tmp_path: Path) -> None:
    """The daemon would keep the import waiting for its helper's output until the
    inspection's limit (20 s): it is killed as soon as its parent exits."""
    token = f"siglink-daemon-{uuid.uuid4().hex}"
    wheel = compiled_wheel(tmp_path, "daemonpkg", DAEMON_INIT.format(token=token))
    result, elapsed = siglink("exports", str(wheel), "--json")
    alive = [p.name for p in Path("/proc").iterdir()
             if p.name.isdigit() and token.encode() in _cmdline(p)]
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    exports = json.loads(result.stdout)["exports"]
    assert exports["daemonpkg.add"]["signature"]["text"] == "(a, b, /)"
    assert elapsed < 15
    assert alive == []


# What an import may not take: 3 GiB of address space (never touched, so nothing is used
# even where it is allowed), or 20 threads.
GREEDY_INIT = """\
import threading
{take}
from ._speed import add
"""
_GREEDY = {
    "memory": "reserved = bytearray(3 << 30)",
    "threads": "stop = threading.Event()\n"
               "threads = [threading.Thread(target=stop.wait, daemon=True) for _ in range(20)]\n"
               "try:\n"
               "    [t.start() for t in threads]\n"
               "finally:\n"
               "    stop.set()",
}


@needs_bwrap
@pytest.mark.parametrize(("what", "error"), [("memory", "MemoryError"),
                                             ("threads", "RuntimeError: can't start new thread")])
def test_an_inspection_is_bounded_tighter_than_a_build(
        tmp_path: Path, what: str, error: str) -> None:
    """Importing a module needs far less than building a project: 2 GiB of address space per
    process and 16 processes and threads (``docs/design.md`` section 5)."""
    wheel = compiled_wheel(tmp_path, "greedypkg", GREEDY_INIT.format(take=_GREEDY[what]))
    result, _ = siglink("exports", str(wheel), "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == (
        f"siglink: warning: compiled module greedypkg._speed could not be imported: {error}")
    assert "greedypkg.add" not in json.loads(result.stdout)["exports"]


def test_without_bwrap_nothing_is_imported_and_one_warning_says_so(
    hostile: Hostile, tmp_path: Path
) -> None:
    empty = tmp_path / "no-bwrap-here"
    empty.mkdir()
    result, elapsed = siglink("exports", str(hostile.wheel), "--json", path=str(empty))
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == (
        "siglink: warning: compiled module advpkg._speed not inspected (bubblewrap (bwrap) is "
        "not installed): its names are unverified; install bubblewrap to inspect it in a "
        "sandbox (apt-get install bubblewrap, dnf install bubblewrap)"
    )
    assert lines[1:] == ["siglink: warning: advpkg/__init__.py:20: advpkg.add: re-export of "
                         "advpkg._speed.add, which could not be read"]
    assert "advpkg.add" not in json.loads(result.stdout)["exports"]
    store = tmp_path / "store"
    installed, _ = siglink("install", str(hostile.wheel), "--store", str(store),
                           path=str(empty))
    assert installed.returncode == 0, installed.stderr
    assert installed.stderr.count("advpkg._speed not inspected") == 1
    assert elapsed < 30
    assert hostile.traces() == []


@needs_bwrap
def test_the_sandbox_sees_no_network_no_home_and_a_private_tmp(tmp_path: Path) -> None:
    secret = Path.home() / f".siglink-test-secret-{uuid.uuid4().hex[:8]}"
    secret.write_text("secret")
    try:
        probe = (
            "import os, socket, json\n"
            f"print(json.dumps({{'uid': os.getuid(), 'home': os.path.exists({str(secret)!r}),"
            " 'tmp': os.listdir('/tmp'), 'net': [n for _, n in socket.if_nameindex()],"
            " 'env': sorted(os.environ)}))"
        )
        outcome = _sandbox.run([sys.executable, "-I", "-c", probe])
    finally:
        secret.unlink()
    seen = json.loads(outcome.stdout)
    # nothing of the real /tmp, but the interpreter itself when it lives there (a venv)
    interpreter = sorted({p.split("/")[2] for p in (sys.prefix, sys.base_prefix)
                          if p.startswith("/tmp/")})
    assert seen == {"uid": 65534, "home": False, "tmp": interpreter, "net": ["lo"],
                    "env": ["HOME", "LANG", "PATH", "PWD", "PYTHONDONTWRITEBYTECODE"]}


@needs_bwrap
def test_the_wall_clock_limit_kills_every_process_of_the_sandbox() -> None:
    sleep = f"298.{uuid.uuid4().int % 10**9:09d}"
    code = ("import subprocess, time\n"
            f"subprocess.Popen(['sleep', {sleep!r}], start_new_session=True)\n"
            "time.sleep(100)")
    start = time.monotonic()
    outcome = _sandbox.run([sys.executable, "-I", "-c", code],
                           limits=_sandbox.Limits(wall_seconds=2.0))
    assert outcome.timed_out and outcome.returncode < 0
    assert time.monotonic() - start < 10
    alive = [p.name for p in Path("/proc").iterdir()
             if p.name.isdigit() and sleep.encode() in _cmdline(p)]
    assert alive == []


def _cmdline(proc: Path) -> bytes:
    try:
        return (proc / "cmdline").read_bytes()
    except OSError:
        return b""


def test_a_sandbox_that_cannot_start_is_reported_and_nothing_runs(
    hostile: Hostile, tmp_path: Path
) -> None:
    """A kernel that refuses user namespaces makes bwrap fail before running anything (as
    in an unprivileged container): here a bwrap on PATH that fails the way it does then."""
    # root starts bwrap as nobody: its directory must be one nobody can enter
    tools = Path(tempfile.mkdtemp(prefix="refusing-bwrap-"))
    tools.chmod(0o755)
    fake = tools / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to creating new namespace' >&2\n"
                    "exit 1\n")
    fake.chmod(0o755)
    try:
        result, _ = siglink("exports", str(hostile.wheel), "--json",
                            path=f"{tools}:/usr/bin:/bin")
    finally:
        shutil.rmtree(tools)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == (
        f"siglink: warning: compiled module advpkg._speed not inspected ({fake} could not set "
        "up the sandbox (bwrap: No permissions to creating new namespace)): its names are "
        "unverified; install bubblewrap to inspect it in a sandbox (apt-get install "
        "bubblewrap, dnf install bubblewrap)")
    assert hostile.traces() == []
