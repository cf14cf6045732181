"""The sandbox is unprivileged on the host, and bounded in processes.

A user namespace maps its users to the uid of the process that made it: bubblewrap started by
root runs the program as uid 65534 inside and root outside. So root starts it as nobody, and
what the kernel sees from outside (``/proc/PID/status``) is checked here, not what the program
believes. ``RLIMIT_NPROC`` is set inside the sandbox, where the kernel counts it per user
namespace: a package whose ``__init__`` starts 500 sleepers is stopped at the limit, siglink
says so in one line, and none of them survives."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import threading
import time
import uuid
from pathlib import Path

import pytest
from packaging.tags import sys_tags

from siglink import _sandbox
from siglink.demo import wheels

needs_bwrap = pytest.mark.skipif(_sandbox.bwrap() is None,
                                 reason="bubblewrap (bwrap) is not installed")


def _processes_with(token: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if token.encode() in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def _host_uids(pid: int) -> list[int]:
    """The real, effective, saved and filesystem uids of ``pid``, as the host sees them."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return [int(n) for n in line.split()[1:]]
    raise AssertionError(f"no Uid line for {pid}")


@needs_bwrap
def test_the_program_runs_as_an_unprivileged_uid_on_the_host(tmp_path: Path) -> None:
    token = f"siglink-uid-{uuid.uuid4().hex}"
    code = ("import json, os, sys, time\n"
            "print(json.dumps({'uid': os.getuid(), 'groups': os.getgroups(),"
            " 'map': open('/proc/self/uid_map').read().split()}), flush=True)\n"
            "time.sleep(4)\n")
    found: list[_sandbox.Outcome] = []
    runner = threading.Thread(target=lambda: found.append(
        _sandbox.run([sys.executable, "-I", "-c", code, token])))
    runner.start()
    seen: dict[int, list[int]] = {}
    maps: dict[int, list[str]] = {}
    bwraps: set[int] = set()
    own = Path("/proc/self/uid_map").read_text().split()
    deadline = time.monotonic() + 20
    # until the sandboxed program itself (in its own user namespace) is seen, not only bwrap
    while (not any(found != own for pid, found in maps.items() if pid not in bwraps)
           and time.monotonic() < deadline):
        for pid in _processes_with(token):
            try:
                seen[pid] = _host_uids(pid)
                # read from outside: "ID-inside ID-outside count", outside as the host sees it
                maps[pid] = Path(f"/proc/{pid}/uid_map").read_text().split()
                if os.path.basename(os.readlink(f"/proc/{pid}/exe")) == "bwrap":
                    bwraps.add(pid)
            except (OSError, AssertionError):
                continue
        time.sleep(0.05)
    runner.join()
    inside = json.loads(found[0].stdout)
    assert inside["uid"] == _sandbox.NOBODY
    assert seen, "the sandboxed program was never seen from outside"
    expected = _sandbox.NOBODY if os.geteuid() == 0 else os.getuid()
    for pid, uids in seen.items():
        assert uids == [expected] * 4, f"process {pid} runs as host uids {uids}"
        assert 0 not in uids
    # bubblewrap itself (its arguments name the token too) is still in this user namespace
    inner = {pid: found for pid, found in maps.items() if found != own and pid not in bwraps}
    assert inner, maps
    for pid, found in inner.items():
        assert found == [str(_sandbox.NOBODY), str(expected), "1"], (pid, found)
    # bubblewrap's own process inside (the namespace's init) is root only in the namespace it
    # made, which maps to the same unprivileged uid outside
    for pid in bwraps:
        if maps[pid] != own:
            assert maps[pid][1:] == [str(expected), "1"], (pid, maps[pid])
    assert inside["groups"] in ([], [_sandbox.NOBODY])


@needs_bwrap
def test_a_private_temporary_directory_is_usable_and_closed_again() -> None:
    """A caller's private copy (a 0700 directory, files as umask 077 leaves them) is readable
    inside, and a writable one writable; afterwards every mode and group is as it was."""
    import tempfile

    private = Path(tempfile.mkdtemp(prefix="siglink-test-private-"))
    out = Path(tempfile.mkdtemp(prefix="siglink-test-out-"))
    old = os.umask(0o077)
    try:
        (private / "pkg").mkdir()
        (private / "pkg" / "data.txt").write_text("payload")
    finally:
        os.umask(old)
    try:
        paths = [private, private / "pkg", private / "pkg" / "data.txt"]
        before = [(p.stat().st_mode, p.stat().st_gid) for p in paths]
        code = ("import pathlib\n"
                "text = pathlib.Path('/siglink/in/pkg/data.txt').read_text()\n"
                "pathlib.Path('/siglink/out/result.txt').write_text(text.upper())\n")
        outcome = _sandbox.run([sys.executable, "-I", "-c", code],
                               binds=[(private, "/siglink/in")], writable=[(out, "/siglink/out")])
        assert outcome.returncode == 0, outcome.stderr
        assert (out / "result.txt").read_text() == "PAYLOAD"
        assert [(p.stat().st_mode, p.stat().st_gid) for p in paths] == before
    finally:
        shutil.rmtree(private)
        shutil.rmtree(out)


@needs_bwrap
def test_the_process_limit_stops_a_fork_bomb_and_nothing_survives() -> None:
    token = f"297.{uuid.uuid4().int % 10**9:09d}"
    code = ("import subprocess, sys\n"
            "started = 0\n"
            "try:\n"
            "    for _ in range(500):\n"
            f"        subprocess.Popen(['sleep', {token!r}])\n"
            "        started += 1\n"
            "except OSError as e:\n"
            "    print(started, e.errno, flush=True)\n"
            "else:\n"
            "    print(started, 0, flush=True)\n")
    limits = _sandbox.Limits(processes=24)
    outcome = _sandbox.run([sys.executable, "-I", "-c", code], limits=limits)
    started, errno = (int(n) for n in outcome.stdout.split())
    assert errno == 11  # EAGAIN: the limit, counted in the sandbox's own user namespace
    assert 0 < started < limits.processes
    assert _processes_with(token) == []


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

FORK_BOMB_INIT = """\
import subprocess
for _ in range(500):
    subprocess.Popen(["sleep", {sleep!r}], start_new_session=True)
from ._speed import add
"""


@needs_bwrap
def test_a_compiled_module_whose_package_fork_bombs_is_stopped(tmp_path: Path) -> None:
    compiler = shutil.which("gcc") or shutil.which("cc")
    include = sysconfig.get_paths()["include"]
    if compiler is None or not (Path(include) / "Python.h").is_file():
        pytest.skip(f"needs a C compiler and Python headers (compiler={compiler}, {include})")
    sleep = f"296.{uuid.uuid4().int % 10**9:09d}"
    (tmp_path / "speed.c").write_text(C_SOURCE)
    built = tmp_path / f"_speed{sysconfig.get_config_var('EXT_SUFFIX')}"
    subprocess.run([compiler, "-shared", "-fPIC", f"-I{include}", str(tmp_path / "speed.c"),
                    "-o", str(built)], check=True)
    tag = str(next(t for t in sys_tags() if t.platform != "any" and t.abi != "none"))
    wheel = wheels.make_wheel(tmp_path / "dist", "bombpkg", "1.0", {
        "bombpkg/__init__.py": FORK_BOMB_INIT.format(sleep=sleep),
        f"bombpkg/{built.name}": built.read_bytes(),
    }, tag=tag)
    env = {**os.environ, "NO_COLOR": "1"}
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "siglink", "exports", str(wheel), "--json"],
                            capture_output=True, text=True, env=env, timeout=120, check=False)
    elapsed = time.monotonic() - start
    assert result.returncode == 0, result.stderr
    refused = [line for line in result.stderr.splitlines() if "bombpkg._speed" in line
               and "could not be imported" in line]
    assert len(refused) == 1, result.stderr
    assert "Resource temporarily unavailable" in refused[0]
    assert "bombpkg.add" not in json.loads(result.stdout)["exports"]
    assert elapsed < 60
    assert _processes_with(sleep) == []
    installed = subprocess.run(
        [sys.executable, "-m", "siglink", "install", str(wheel), "--store",
         str(tmp_path / "store")], capture_output=True, text=True, env=env, timeout=120,
        check=False)
    assert installed.returncode == 0, installed.stderr
    assert [line for line in installed.stderr.splitlines()
            if "bombpkg._speed could not be imported" in line] == [
        "siglink: warning: bombpkg==1.0: compiled module bombpkg._speed could not be imported: "
        "BlockingIOError: [Errno 11] Resource temporarily unavailable"]
    assert _processes_with(sleep) == []
