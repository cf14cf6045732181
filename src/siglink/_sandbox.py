"""Run an untrusted program inside an OS sandbox: bubblewrap (``bwrap``), never bare.

A library's code may run only here (inspecting a compiled module without stubs imports it;
building an sdist or a project runs its build backend). The program sees a read-only root: the
system's program directories, the interpreter's prefixes and the paths given as ``binds``; the
paths given as ``writable`` (a copy the caller made, an output directory) are its only writable
places besides a private ``/tmp`` (a size-limited tmpfs); no network, no other process, no
environment but ``PATH``, ``HOME``, ``LANG``, ``PWD`` and what ``env`` adds; it runs as
``nobody`` (65534) in new user, PID, IPC, UTS, cgroup and network namespaces, with CPU,
address-space, file-size and core limits, and a wall-clock timeout. Afterwards the whole
process group is killed; the PID namespace takes with it every process the program started,
``setsid`` or not, so nothing it starts survives.

Use::

    outcome = run([sys.executable, "-I", "-c", code], binds=[(unpacked, "/siglink/unit")])
    outcome.stdout      # bytes, at most limits.output_bytes; treat as hostile

:class:`SandboxUnavailableError` says that no sandbox could be started (``bwrap`` is not
installed, or the kernel refuses its namespaces): the caller must then not run the program.

>>> Limits(wall_seconds=5).wall_seconds, Limits().memory_bytes
(5, 2147483648)
>>> print(SandboxUnavailableError("bubblewrap (bwrap) is not installed"))
no sandbox: bubblewrap (bwrap) is not installed
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

from siglink.errors import SiglinkError

__all__ = [
    "INSTALL_HINT",
    "Limits",
    "Outcome",
    "SandboxUnavailableError",
    "bwrap",
    "run",
]


def __dir__() -> list[str]:
    return list(__all__)


INSTALL_HINT: Final = (
    "install bubblewrap to inspect it in a sandbox (apt-get install bubblewrap, "
    "dnf install bubblewrap)"
)
"""How to get the sandbox, for messages."""

NOBODY: Final = 65534

# What an interpreter needs from the system, bound read-only (a symlink, as merged-/usr
# systems make /bin and /lib, is recreated as the same symlink).
_SYSTEM: Final = (
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
    "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
)


class SandboxUnavailableError(SiglinkError):
    """No sandbox could be started; ``reason`` says why. The program was not run."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"no sandbox: {reason}")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Limits:
    """Resource limits of one sandboxed run (``RLIMIT_*`` and a wall-clock timeout)."""

    wall_seconds: float = 30.0
    cpu_seconds: int = 20
    memory_bytes: int = 2 << 30
    output_bytes: int = 16 << 20  # each of stdout and stderr; also the largest file written
    tmp_bytes: int = 64 << 20
    open_files: int = 256


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a sandboxed run left: exit status (negative: killed by that signal), output
    (truncated to the limit) and whether the wall-clock timeout killed it."""

    returncode: int
    stdout: bytes
    stderr: bytes
    timed_out: bool


def bwrap() -> str | None:
    """The ``bwrap`` executable on ``PATH``, or ``None``."""
    return shutil.which("bwrap")


def run(
    argv: Sequence[str],
    *,
    binds: Sequence[tuple[Path, str]] = (),
    writable: Sequence[tuple[Path, str]] = (),
    env: Mapping[str, str] | None = None,
    limits: Limits = Limits(),
) -> Outcome:
    """Run ``argv`` (an absolute program path) in the sandbox; ``binds`` maps a host path to
    where the program sees it, read-only; ``writable`` likewise, writable.

    :raises SandboxUnavailableError: ``bwrap`` is missing or could not set the sandbox up.
    """
    program = bwrap()
    if program is None:
        raise SandboxUnavailableError("bubblewrap (bwrap) is not installed")
    info_read, info_write = os.pipe()
    options = _options(binds, writable, env or {}, limits, info_write)
    command = [program, *options, "--", *argv]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            try:
                process = subprocess.Popen(
                    command, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                    pass_fds=(info_write,), start_new_session=True, close_fds=True,
                    preexec_fn=_limiter(limits),  # noqa: PLW1509 - only setrlimit, no locks
                )
            finally:
                os.close(info_write)
            timed_out = _wait(process, limits.wall_seconds)
            with os.fdopen(info_read, "rb") as info:
                child = _child_pid(info.read(4096))
            started = child is not None
            if child is not None:
                _await_namespace_end(child)
        except OSError as e:
            raise SandboxUnavailableError(f"{program} could not be started ({e})") from None
        stdout, stderr = _read(out, limits.output_bytes), _read(err, limits.output_bytes)
    if not started or _setup_failed(process.returncode, stdout, stderr):
        detail = stderr.decode("utf-8", "replace").strip().splitlines()[:1]
        raise SandboxUnavailableError(
            f"{program} could not set up the sandbox ({detail[0] if detail else 'no message'})")
    return Outcome(process.returncode, stdout, stderr, timed_out)


def _options(binds: Sequence[tuple[Path, str]], writable: Sequence[tuple[Path, str]],
             env: Mapping[str, str], limits: Limits, info: int) -> list[str]:
    options = [
        "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
        "--new-session", "--cap-drop", "ALL", "--uid", str(NOBODY), "--gid", str(NOBODY),
        "--clearenv", "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", "/tmp",
        "--setenv", "LANG", "C.UTF-8", "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
        "--proc", "/proc", "--dev", "/dev",
        "--size", str(limits.tmp_bytes), "--tmpfs", "/tmp",
    ]
    for path in _SYSTEM:
        if os.path.islink(path):
            options += ["--symlink", os.readlink(path), path]
        else:
            options += ["--ro-bind-try", path, path]
    for prefix in dict.fromkeys((sys.base_prefix, sys.prefix, sys.exec_prefix)):
        # after the private /tmp: a virtual environment under /tmp is bound over it
        if not prefix.startswith("/usr/") and prefix != "/usr":
            options += ["--ro-bind-try", prefix, prefix]
    for source, target in binds:
        options += ["--ro-bind", os.fspath(source), target]
    for source, target in writable:
        options += ["--bind", os.fspath(source), target]
    for name, value in env.items():
        options += ["--setenv", name, value]
    return [*options, "--remount-ro", "/", "--chdir", "/tmp", "--info-fd", str(info)]


def _limiter(limits: Limits) -> Callable[[], None]:
    def apply() -> None:  # in the child, between fork and exec
        for which, value in (
            (resource.RLIMIT_CPU, limits.cpu_seconds),
            (resource.RLIMIT_AS, limits.memory_bytes),
            (resource.RLIMIT_FSIZE, limits.output_bytes),
            (resource.RLIMIT_NOFILE, limits.open_files),
            (resource.RLIMIT_CORE, 0),
        ):
            resource.setrlimit(which, (value, value))

    return apply


def _wait(process: subprocess.Popen[bytes], timeout: float) -> bool:
    """Wait for the sandbox, killing its process group at ``timeout``; kill the group again
    once it exits, before it is reaped (so its ID cannot have been reused). True: timed out."""
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        _kill_group(process.pid)

    timer = threading.Timer(timeout, expire)
    timer.daemon = True
    timer.start()
    try:
        while True:
            try:
                os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)
                break
            except InterruptedError:
                continue
            except ChildProcessError:
                break
    finally:
        timer.cancel()
        _kill_group(process.pid)
        process.wait()
    return expired.is_set()


def _child_pid(info: bytes) -> int | None:
    """The sandbox's PID-namespace init as this side sees it (bwrap's ``--info-fd``)."""
    match = re.search(rb'"child-pid"\s*:\s*(\d+)', info)
    return int(match.group(1)) if match else None


def _await_namespace_end(init: int, timeout: float = 10.0) -> None:
    """Wait until the namespace's init is gone or a zombie: the kernel makes an init wait for
    every other process of its namespace to be reaped before it exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            stat = Path(f"/proc/{init}/stat").read_bytes()
        except OSError:
            return
        if stat.rpartition(b")")[2].split()[:1] in ([b"Z"], [b"X"]):
            return
        time.sleep(0.01)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _read(file: IO[bytes], limit: int) -> bytes:
    file.seek(0)
    return file.read(limit)


def _setup_failed(returncode: int, stdout: bytes, stderr: bytes) -> bool:
    # bwrap reports its own failures as "bwrap: ..." with status 1 before the program runs.
    return returncode == 1 and not stdout and stderr.startswith(b"bwrap: ")
