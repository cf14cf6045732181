"""A detached process does not outlive its creator in the sandbox, nor stall the program.

A daemon (forked twice, its own session) that keeps a pipe open would leave the program
reading that pipe until the wall-clock limit: ``pip`` reads its build backend's output until
end of file. The sandbox's launcher adopts every orphan and kills it, and whatever it starts,
as soon as it sees it, so the pipe closes and the program goes on; when the program exits the
launcher kills what is left and exits with the program's status."""

from __future__ import annotations

import os
import sys
import time
import uuid
from pathlib import Path

import pytest

from siglink import _sandbox

needs_bwrap = pytest.mark.skipif(_sandbox.bwrap() is None,
                                 reason="bubblewrap (bwrap) is not installed")

# Forks twice, the middle process in a new session exiting at once: the grandchild, an
# orphan holding this process's stdout and stderr, sleeps; argv[1] marks it for the test.
DAEMON = ("import os, sys, time\n"
          "if os.fork() == 0:\n"
          "    os.setsid()\n"
          "    if os.fork() == 0:\n"
          "        time.sleep(600)\n"
          "    os._exit(0)\n"
          "os.wait()\n"
          "print('daemon started', flush=True)\n")

# The same without a session of its own: the orphan is in the program's process group, which
# must not be killed with it.
GROUPED = DAEMON.replace("    os.setsid()\n", "")

# Forks and exits, again and again: each child an orphan that at once makes another.
RESPAWNING = ("import os, sys, time\n"
              "os.setsid()\n"
              "for _ in range(100_000):\n"
              "    if os.fork():\n"
              "        os._exit(0)\n"
              "time.sleep(600)\n")


def processes_with(token: str) -> list[str]:
    """The command lines of the host's processes that carry ``token``."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes() if proc.name.isdigit() else b""
        except OSError:
            continue
        if token.encode() in cmdline:
            found.append(proc.name + ": " + cmdline.replace(b"\0", b" ").decode())
    return found


def reading_until_eof(child: str, token: str) -> str:
    """A program that runs ``child`` and reads its output until end of file, as pip runs a
    build backend, then prints what it read."""
    return ("import subprocess, sys\n"
            f"done = subprocess.run([sys.executable, '-c', {child!r}, {token!r}],\n"
            "                      capture_output=True, text=True)\n"
            "print('read', repr(done.stdout), flush=True)\n")


@pytest.fixture
def token() -> str:
    return f"siglink-orphan-{uuid.uuid4().hex}"


@needs_bwrap
@pytest.mark.parametrize("child", [DAEMON, GROUPED, RESPAWNING],
                         ids=["daemon", "in-the-programs-group", "respawning"])
def test_an_orphan_holding_the_pipe_is_killed_and_the_program_goes_on(
        child: str, token: str) -> None:
    start = time.monotonic()
    try:
        outcome = _sandbox.run([sys.executable, "-I", "-c", reading_until_eof(child, token)],
                               limits=_sandbox.Limits(wall_seconds=30.0))
        elapsed = time.monotonic() - start
        assert not outcome.timed_out
        assert outcome.returncode == 0, outcome.stderr
        expected = b"read ''\n" if child == RESPAWNING else b"read 'daemon started\\n'\n"
        assert outcome.stdout == expected
        assert elapsed < 10
        assert processes_with(token) == []
    finally:
        for line in processes_with(token):  # only if an assertion above failed
            os.kill(int(line.split(":")[0]), 9)


@needs_bwrap
def test_what_the_program_leaves_behind_is_killed_when_it_exits(token: str) -> None:
    """A program that starts a daemon and a plain background child, then exits: its status
    is the sandbox's, and neither outlives it."""
    code = ("import subprocess, sys\n"
            f"subprocess.Popen([sys.executable, '-c', {DAEMON!r}, {token!r}]).wait()\n"
            f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', "
            f"{token!r}])\n"
            "sys.exit(3)\n")
    outcome = _sandbox.run([sys.executable, "-I", "-c", code])
    assert (outcome.returncode, outcome.stdout, outcome.timed_out) == (
        3, b"daemon started\n", False)
    assert processes_with(token) == []


@needs_bwrap
@pytest.mark.parametrize("signal", [9, 15])
def test_a_program_killed_by_a_signal_exits_as_a_shell_reports_it(signal: int) -> None:
    outcome = _sandbox.run([sys.executable, "-I", "-c",
                            f"import os; os.kill(os.getpid(), {signal})"])
    assert (outcome.returncode, outcome.timed_out) == (128 + signal, False)


@needs_bwrap
def test_a_program_that_kills_the_launcher_ends_the_sandbox(token: str) -> None:
    """The launcher runs as the program's user, which may kill it: the sandbox then ends, and
    everything in it with it."""
    code = ("import os, subprocess, sys, time\n"
            f"subprocess.Popen([sys.executable, '-c', {DAEMON!r}, {token!r}]).wait()\n"
            "os.kill(os.getppid(), 9)\n"
            "time.sleep(600)\n")
    start = time.monotonic()
    outcome = _sandbox.run([sys.executable, "-I", "-c", code],
                           limits=_sandbox.Limits(wall_seconds=30.0))
    assert (outcome.returncode, outcome.timed_out) == (128 + 9, False)
    assert time.monotonic() - start < 10
    assert processes_with(token) == []


@needs_bwrap
def test_the_program_starts_with_default_signals_and_an_empty_mask() -> None:
    """The launcher blocks ``SIGCHLD`` for itself, and the interpreter it runs in ignores
    ``SIGPIPE`` and ``SIGXFSZ``: none of that reaches the program, so a write past the
    file-size limit kills it, as it would outside."""
    outcome = _sandbox.run(["/bin/cat", "/proc/self/status"])
    fields = dict(line.split(":", 1) for line in outcome.stdout.decode().splitlines())
    assert (int(fields["SigBlk"], 16), int(fields["SigIgn"], 16)) == (0, 0)
    shell = ["/bin/sh", "-c", "head -c 100000 /dev/zero > /tmp/big"]
    limits = _sandbox.Limits(output_bytes=4096)
    assert _sandbox.run(shell, limits=limits).returncode == 128 + 25  # SIGXFSZ


@needs_bwrap
def test_a_program_cannot_pass_itself_off_as_a_sandbox_that_failed() -> None:
    """bubblewrap's own failures are ``bwrap: ...`` with status 1; a program writing that is
    still the program (the launcher said the sandbox was set up), and a real setup failure
    is still one."""
    fake = "import sys; sys.stderr.write('bwrap: Creating new namespace failed\\n'); sys.exit(1)"
    outcome = _sandbox.run([sys.executable, "-I", "-c", fake])
    assert (outcome.returncode, outcome.stderr) == (1, b"bwrap: Creating new namespace failed\n")
    with pytest.raises(_sandbox.SandboxUnavailableError, match=r"^no sandbox: "):
        _sandbox.run([sys.executable, "-c", "pass"],
                     binds=[(Path("/nonexistent/siglink"), "/siglink/x")])
