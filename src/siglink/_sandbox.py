"""Run an untrusted program inside an OS sandbox: bubblewrap (``bwrap``), never bare.

A library's code may run only here (inspecting a compiled module without stubs imports it;
building an sdist or a project runs its build backend). The program sees a read-only root: the
system's program directories, the interpreter's prefixes and the paths given as ``binds``; the
paths given as ``writable`` (a copy the caller made, an output directory) are its only writable
places besides a private ``/tmp`` and ``/dev/shm`` (size-limited tmpfs; the rest of ``/dev``
is read-only); no network, no other process, no
environment but ``PATH``, ``HOME``, ``LANG``, ``PWD`` and what ``env`` adds; it runs as
``nobody`` (65534) in new user, PID, IPC, UTS, cgroup and network namespaces, with CPU,
address-space, file-size, core and process-count limits, and a wall-clock timeout. Afterwards
the whole process group is killed; the PID namespace takes with it every process the program
started, ``setsid`` or not, so nothing it starts survives.

``nobody`` on the host too: a user namespace maps its users to the uid of the process that
made it, so bubblewrap started by root would run the program as root on the host (uid 65534
inside, 0 for every check the kernel makes outside the namespace). When this process's
effective uid is 0, bubblewrap is therefore started as uid and gid 65534 with no
supplementary groups (:data:`NOBODY`). The paths it binds are first bind-mounted by root onto
a tmpfs in a private mount namespace of bubblewrap's own (:class:`_Mounts`), so no directory
of root's on the way to them (``/root`` holding the interpreter) is opened to anyone; a
writable bind is given to uid 65534 (``chown``), and a private directory of the caller's in
the system's temporary directory bound read-only is opened to group 65534 for the run and
closed again after. Files inside must already be readable by others.

The process limit (``RLIMIT_NPROC``, threads included) is set inside the sandbox, by a
launcher that then runs the program: the kernel (5.14 and later) counts it per user namespace,
so it bounds the sandbox's own processes, not the user's others. The launcher adopts every
process orphaned in the sandbox and kills it at once, with what it started: a daemon cannot
hold the program's pipe open (``pip`` reads its build backend's output to its end) until the
wall-clock limit. With the address-space limit per process, the process limit bounds the
sandbox's memory (:attr:`Limits.aggregate_memory_bytes`, its ``/tmp`` and ``/dev/shm``
included); no cgroup does.

Use::

    outcome = run([sys.executable, "-I", "-c", code], binds=[(unpacked, "/siglink/unit")])
    outcome.stdout      # bytes, at most limits.output_bytes; treat as hostile

:class:`SandboxUnavailableError` says that no sandbox could be started (``bwrap`` is not
installed, or the kernel refuses its namespaces): the caller must then not run the program.

>>> Limits(wall_seconds=5).wall_seconds, Limits().memory_bytes, Limits().processes
(5, 2147483648, 64)
>>> Limits(memory_bytes=1 << 30, processes=8).aggregate_memory_bytes == (8 << 30) + (80 << 20)
True
>>> print(SandboxUnavailableError("bubblewrap (bwrap) is not installed"))
no sandbox: bubblewrap (bwrap) is not installed
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

from siglink.errors import SiglinkError

__all__ = [
    "INSTALL_HINT",
    "NOBODY",
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
"""The host uid and gid a sandbox started by root runs as (and its uid inside)."""

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
    shm_bytes: int = 16 << 20  # /dev/shm (POSIX shared memory, semaphores); /dev is read-only
    open_files: int = 256
    processes: int = 64  # processes and threads, counted in the sandbox's user namespace

    @property
    def aggregate_memory_bytes(self) -> int:
        """The most memory the sandbox can hold: the address space of as many processes as
        it may have (threads count as processes), and its two memory-backed file systems."""
        return self.memory_bytes * self.processes + self.tmp_bytes + self.shm_bytes


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a sandboxed run left: the program's exit status (128+N: signal N killed it;
    negative: the sandbox was killed, by that signal), output (truncated to the limit) and
    whether the wall-clock timeout killed it."""

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
    drop = os.geteuid() == 0
    guard = (_reachable_by_nobody([source for source, _ in binds],
                                  [source for source, _ in writable])
             if drop else contextlib.nullcontext())
    staging: contextlib.AbstractContextManager[str | None] = (
        tempfile.TemporaryDirectory(prefix="siglink-sandbox-") if drop
        else contextlib.nullcontext())
    with guard, staging as folder:
        mounts = _Mounts(Path(folder)) if folder is not None else None
        outcome = _run(program, argv, binds=binds, writable=writable, env=env or {},
                       limits=limits, mounts=mounts)
    return outcome


class _Mounts:
    """The paths bubblewrap binds, when it runs as :data:`NOBODY` for root: each is
    bind-mounted by root, in a private mount namespace of bubblewrap's own, onto a directory
    of ``staging`` (a tmpfs there), so that no directory of root's on the way to it (``/root``
    holding the interpreter) needs to be opened to anyone."""

    def __init__(self, staging: Path) -> None:
        self.staging = staging
        self.sources: list[tuple[str, bool]] = []

    def __call__(self, source: str) -> str:
        """Where bubblewrap finds ``source``."""
        self.sources.append((source, os.path.isdir(source)))
        return f"{self.staging}/{len(self.sources) - 1}"

    def enter(self) -> None:
        """In the child, between fork and exec, as root: mount everything, then become
        :data:`NOBODY` (uid, gid, no supplementary groups; root's capabilities go with
        its uid)."""
        libc = _libc()
        _check(libc.unshare(_CLONE_NEWNS))
        _check(libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None))
        staging = os.fsencode(self.staging)
        _check(libc.mount(b"tmpfs", staging, b"tmpfs", _MS_NOSUID | _MS_NODEV,
                          b"mode=0755,size=65536"))
        for number, (source, folder) in enumerate(self.sources):
            target = os.path.join(self.staging, str(number))
            if folder:
                os.mkdir(target)
            else:
                os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))
            _check(libc.mount(os.fsencode(source), os.fsencode(target), None,
                              _MS_BIND | _MS_REC, None))
        os.setgroups([])
        os.setresgid(NOBODY, NOBODY, NOBODY)
        os.setresuid(NOBODY, NOBODY, NOBODY)
        os.chdir("/")


_CLONE_NEWNS: Final = 0x00020000
_MS_NOSUID: Final = 2
_MS_NODEV: Final = 4
_MS_BIND: Final = 4096
_MS_REC: Final = 16384
_MS_PRIVATE: Final = 1 << 18


@functools.cache
def _libc() -> Any:
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def _check(result: int) -> None:
    if result != 0:
        import ctypes

        number = ctypes.get_errno()
        raise OSError(number, os.strerror(number))


def _run(program: str, argv: Sequence[str], *, binds: Sequence[tuple[Path, str]],
         writable: Sequence[tuple[Path, str]], env: Mapping[str, str], limits: Limits,
         mounts: _Mounts | None) -> Outcome:
    info_read, info_write = os.pipe()
    launched_read, launched_write = os.pipe()
    options = _options(binds, writable, env, limits, info_write, source=mounts or os.fspath)
    command = [program, *options, "--", *_launcher(limits, launched_write), *argv]
    if mounts is not None:
        _libc()  # loaded before the fork
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            try:
                process = subprocess.Popen(
                    command, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                    pass_fds=(info_write, launched_write), start_new_session=True,
                    close_fds=True,
                    preexec_fn=_limiter(limits, mounts),  # noqa: PLW1509 - no locks taken
                )
            except subprocess.SubprocessError as e:  # the mounts or the uid change failed
                raise SandboxUnavailableError(
                    f"the sandbox could not be prepared to run as uid {NOBODY} ({e})") from None
            finally:
                os.close(info_write)
                os.close(launched_write)
            timed_out = _wait(process, limits.wall_seconds)
            with os.fdopen(info_read, "rb") as info:
                child = _child_pid(info.read(4096))
            started = child is not None
            if child is not None:
                _await_namespace_end(child)
            os.set_blocking(launched_read, False)
            try:
                launched = os.read(launched_read, 1) == b"1"
            except BlockingIOError:
                launched = False
            finally:
                os.close(launched_read)
        except OSError as e:
            raise SandboxUnavailableError(f"{program} could not be started ({e})") from None
        stdout, stderr = _read(out, limits.output_bytes), _read(err, limits.output_bytes)
    # the launcher says the sandbox was set up: then nothing the program wrote (it can take
    # bubblewrap's stderr and write "bwrap: ..." there) reads as a setup failure
    if not started or (not launched and _setup_failed(process.returncode, stdout, stderr)):
        detail = stderr.decode("utf-8", "replace").strip().splitlines()[:1]
        raise SandboxUnavailableError(
            f"{program} could not set up the sandbox ({detail[0] if detail else 'no message'})")
    return Outcome(process.returncode, stdout, stderr, timed_out)


def _options(binds: Sequence[tuple[Path, str]], writable: Sequence[tuple[Path, str]],
             env: Mapping[str, str], limits: Limits, info: int, *,
             source: Callable[[str], str] = os.fspath) -> list[str]:
    options = [
        "--unshare-all", "--unshare-user",
        "--disable-userns", "--die-with-parent",
        "--new-session", "--cap-drop", "ALL", "--uid", str(NOBODY), "--gid", str(NOBODY),
        "--clearenv", "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", "/tmp",
        "--setenv", "LANG", "C.UTF-8", "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
        "--proc", "/proc", "--dev", "/dev",
        # /dev is a tmpfs bounded only by memory: read-only, its shared memory a small tmpfs
        "--size", str(limits.shm_bytes), "--tmpfs", "/dev/shm", "--remount-ro", "/dev",
        "--size", str(limits.tmp_bytes), "--tmpfs", "/tmp",
    ]
    for path in _SYSTEM:
        if os.path.islink(path):
            options += ["--symlink", os.readlink(path), path]
        else:
            options += ["--ro-bind-try", path, path]
    for prefix in dict.fromkeys((sys.base_prefix, sys.prefix, sys.exec_prefix)):
        # after the private /tmp: a virtual environment under /tmp is bound over it
        if not prefix.startswith("/usr/") and prefix != "/usr" and os.path.exists(prefix):
            options += ["--ro-bind", source(prefix), prefix]
    for bound, target in binds:
        options += ["--ro-bind", source(os.fspath(bound)), target]
    for bound, target in writable:
        options += ["--bind", source(os.fspath(bound)), target]
    for name, value in env.items():
        options += ["--setenv", name, value]
    return [*options, "--remount-ro", "/", "--chdir", "/tmp", "--info-fd", str(info)]


# Runs first inside the sandbox, as the sandbox's user; standard library only, its interpreter
# started with -I -S (8 ms more per run than exec'ing the program directly). It sets the
# process limit, then runs the program as its child in a process group of its own (signals
# the program sends its group miss the launcher) and, as a subreaper, adopts every process
# whose parent exits. Such an orphan is killed as soon as it is seen (on SIGCHLD, else by a
# look every 0.1 s), with all it started: a daemon holding the program's pipe would otherwise
# keep the program reading (pip reads a build backend's output to its end) until the
# wall-clock limit. Killed is every process outside the program's own tree: the orphan's
# process group and session with it, but never the program's own group, which a double fork
# without setsid shares; nothing inside the tree is touched while the program runs. When the
# program exits, kill(-1) kills everything left (it spares the namespace's init and the
# caller), the launcher reaps it and exits with the program's status, 128+N for signal N as a
# shell and bubblewrap report it. If the program kills the launcher, bubblewrap's init exits
# and the PID namespace ends with everything in it.
_LAUNCH: Final = r"""
import os, resource, sys
from _signal import (SIG_BLOCK, SIG_DFL, SIG_SETMASK, SIGCHLD, SIGKILL, SIGPIPE, SIGXFSZ,
                     pthread_sigmask, signal, sigtimedwait)
n, launched = int(sys.argv[1]), int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_NPROC, (n, n))
os.write(launched, b"1")  # the sandbox is set up: what follows is the program's own
os.close(launched)
try:  # prctl(PR_SET_CHILD_SUBREAPER, 1); _ctypes, not ctypes: 1.5 ms less to import
    import _ctypes
    class Function(_ctypes.CFuncPtr):
        _flags_, _restype_ = _ctypes.FUNCFLAG_CDECL, None
    Function(_ctypes.dlsym(_ctypes.dlopen(None), "prctl"))(36, 1, 0, 0, 0)
except (ImportError, AttributeError, OSError):  # orphans then go to bubblewrap's init
    pass
pthread_sigmask(SIG_BLOCK, {SIGCHLD})
me = os.getpid()
main = os.fork()
if main == 0:
    try:
        os.setpgid(0, 0)
        pthread_sigmask(SIG_SETMASK, ())
        signal(SIGPIPE, SIG_DFL)
        signal(SIGXFSZ, SIG_DFL)
        os.execv(sys.argv[3], sys.argv[3:])
    except OSError as e:
        os.write(2, f"siglink: {sys.argv[3]}: {e.strerror}\n".encode())
    os._exit(127)
children = f"/proc/{me}/task/{me}/children"

def strays():
    # every live process but the program's own tree, the launcher and the namespace's init
    parent = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as f:
                    fields = f.read().rpartition(b")")[2].split()
            except OSError:
                continue
            if fields[0] not in (b"Z", b"X"):
                parent[int(name)] = int(fields[1])
    kept, todo = {1, me}, [main]
    while todo:
        pid = todo.pop()
        kept.add(pid)
        todo += [p for p, q in parent.items() if q == pid and p not in kept]
    return [p for p in parent if p not in kept]

def orphaned():
    try:
        with open(children, "rb") as f:
            return any(int(pid) != main for pid in f.read().split())
    except OSError:
        return True

status = None
while status is None:
    while True:
        try:
            pid, code = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            pid = 0
        if pid == 0:
            break
        if pid == main:
            status = code
    if status is None and orphaned():
        for _ in range(100):  # one that forks as fast as it is killed: again next round
            found = strays()
            if not found:
                break
            for pid in found:
                try:
                    os.kill(pid, SIGKILL)
                except OSError:
                    pass
    if status is None:
        sigtimedwait({SIGCHLD}, 0.1)
try:
    os.kill(-1, SIGKILL)
except OSError:
    pass
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
code = os.waitstatus_to_exitcode(status)
os._exit(128 - code if code < 0 else code)
"""


def _launcher(limits: Limits, launched: int) -> list[str]:
    """What starts the program inside the sandbox (:data:`_LAUNCH`): ``RLIMIT_NPROC`` is
    counted per user namespace (kernel 5.14 and later) only from inside it; set on
    bubblewrap, it would count every process of the user outside too. It writes ``1`` to
    ``launched`` (closed before the program starts) once it runs, so the sandbox was set up."""
    return [sys.executable, "-I", "-S", "-c", _LAUNCH, str(limits.processes), str(launched)]


@contextlib.contextmanager
def _reachable_by_nobody(read: Sequence[Path], write: Sequence[Path]) -> Iterator[None]:
    """Make the paths bound usable by :data:`NOBODY` for the run (this process is root): each
    writable tree becomes its own; a private directory of this user's inside the system's
    temporary directory bound read-only (a caller's unpacked copy, 0700 as ``mkdtemp`` makes
    it, its files as the umask left them) is opened to group :data:`NOBODY` (read, and search
    for directories) where others cannot read, and every change is undone after the run."""
    temp = Path(tempfile.gettempdir()).resolve()
    opened: list[tuple[str, os.stat_result]] = []
    try:
        for source in read:
            folder = Path(os.path.abspath(source))
            try:
                info = os.lstat(folder)
            except OSError:
                continue  # bubblewrap names it
            if (temp in folder.parents and stat.S_ISDIR(info.st_mode)
                    and info.st_uid == os.geteuid() and info.st_mode & 0o005 != 0o005):
                try:
                    _open_tree(os.fspath(folder), opened)
                except OSError as e:
                    raise SandboxUnavailableError(
                        f"{source} cannot be opened to uid {NOBODY} ({e.strerror})") from None
        for source in write:
            try:
                _give(Path(source))
            except OSError as e:
                raise SandboxUnavailableError(
                    f"{source} cannot be given to uid {NOBODY} ({e.strerror})") from None
        yield
    finally:
        for path, info in reversed(opened):
            with contextlib.suppress(OSError):
                os.chown(path, -1, info.st_gid, follow_symlinks=False)
                os.chmod(path, stat.S_IMODE(info.st_mode))


def _open_tree(root: str, opened: list[tuple[str, os.stat_result]]) -> None:
    """Open ``root`` and what is below it to group :data:`NOBODY` where others cannot read
    (links not followed; only this user's entries), recording each change in ``opened``."""
    stack = [root]
    while stack:
        folder = stack.pop()
        for path in [folder, *_entries(folder, stack)]:
            info = os.lstat(path)
            if info.st_uid != os.geteuid() or stat.S_ISLNK(info.st_mode):
                continue
            searchable = stat.S_ISDIR(info.st_mode) or info.st_mode & 0o100
            need = 0o005 if searchable else 0o004
            if info.st_mode & need == need:
                continue
            opened.append((path, info))
            os.chown(path, -1, NOBODY, follow_symlinks=False)
            os.chmod(path, stat.S_IMODE(info.st_mode) | (need << 3))


def _entries(folder: str, stack: list[str]) -> list[str]:
    """The files of ``folder``; its subdirectories go on ``stack``."""
    files = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
            else:
                files.append(entry.path)
    return files


def _give(root: Path) -> None:
    """``chown -R nobody:nobody`` of a tree the caller made, links not followed."""
    os.chown(root, NOBODY, NOBODY, follow_symlinks=False)
    if not root.is_dir() or root.is_symlink():
        return
    stack = [root]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                os.chown(entry.path, NOBODY, NOBODY, follow_symlinks=False)
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))


def _limiter(limits: Limits, mounts: _Mounts | None = None) -> Callable[[], None]:
    def apply() -> None:  # in the child, between fork and exec
        if mounts is not None:
            mounts.enter()
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
