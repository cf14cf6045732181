"""Integrity and trust: ``verify`` re-hashes what is stored; fixed modes whatever the umask;
a store writable by others is refused; root does not use another user's store unless told;
the lock is private, bounded in time, and names its holder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from siglink.cli.main import main
from siglink.store import Store

WheelMaker = Callable[..., Path]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def umask_000() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_verify_names_each_changed_missing_and_extra_file(
        tmp_path: Path, make_wheel: WheelMaker, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "store"
    for version in ("1.0.0", "1.0.1"):
        assert run(capsys, "install", str(make_wheel("textkit", version)), "--store",
                   str(root))[0] == 0
    assert run(capsys, "verify", "--store", str(root)) == (
        0, "intact: 2 versions as installed\n", "")
    lib = root / "libs/textkit/1.0.0"
    (lib / "textkit/__init__.py").write_text("print('evil')\n")
    pyc = next((lib / "textkit/__pycache__").glob("*.pyc"))
    pyc.unlink()
    (lib / "textkit/extra.py").write_text("")
    code, out, _ = run(capsys, "verify", "--store", str(root))
    assert code == 1
    assert out.splitlines() == [
        "textkit==1.0.0: changed: textkit/__init__.py",
        f"textkit==1.0.0: missing: textkit/__pycache__/{pyc.name}",
        "textkit==1.0.0: extra: textkit/extra.py",
    ]
    assert run(capsys, "verify", "textkit==1.0.1", "--store", str(root)) == (
        0, "intact: 1 version as installed\n", "")
    code, out, _ = run(capsys, "verify", "textkit", "--json", "--store", str(root))
    assert code == 1 and json.loads(out)["intact"] is False
    assert run(capsys, "verify", "nosuch==1", "--store", str(root))[0] == 2


def test_fixed_modes_whatever_the_umask(tmp_path: Path, make_wheel: WheelMaker,
                                        umask_000: None) -> None:
    root = tmp_path / "store"
    Store(root).install([str(make_wheel("textkit", "1.0.0"))])
    modes = {str(p.relative_to(root)): p.stat().st_mode & 0o777 for p in root.rglob("*")}
    assert modes[".lock"] == 0o600
    assert modes["index.sqlite"] == 0o600  # private: others read index.public.sqlite
    assert modes["index.public.sqlite"] == 0o644
    assert modes["generation"] == 0o644
    assert oct(root.stat().st_mode & 0o777) == oct(0o755)
    for path, mode in modes.items():
        if path.startswith("libs"):
            expected = 0o755 if (root / path).is_dir() else 0o644
            assert mode == expected, path
    assert Store(root).verify() == []


@pytest.mark.parametrize("what", ["", "index.sqlite", "libs"])
def test_writable_by_others_is_refused(tmp_path: Path, make_wheel: WheelMaker, what: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "store"
    Store(root).install([str(make_wheel("textkit", "1.0.0"))])
    target = root / what if what else root
    os.chmod(target, target.stat().st_mode | 0o002)
    code, out, err = run(capsys, "list", "--store", str(root))
    assert (code, out) == (3, "")
    assert err == (f"siglink: error: {target}: writable by others; refused "
                   f"(chmod go-w {target})\n")
    os.chmod(target, target.stat().st_mode & ~0o002)
    assert run(capsys, "list", "--store", str(root))[0] == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root: a store owned by another user")
def test_root_refuses_another_users_store(tmp_path: Path, make_wheel: WheelMaker,
                                          capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "store"
    Store(root).install([str(make_wheel("textkit", "1.0.0"))])
    os.chown(root, 65534, 65534)
    monkeypatch.delenv("SIGLINK_TRUST_STORE_OWNER", raising=False)
    code, _, err = run(capsys, "list", "--store", str(root))
    assert code == 3
    assert err == (f"siglink: error: {root}: owned by uid 65534, not root: root does not use "
                   "another user's store (--trust-owner or SIGLINK_TRUST_STORE_OWNER=1 "
                   "trusts it)\n")
    assert run(capsys, "list", "--trust-owner", "--store", str(root))[0] == 0


def test_the_lock_names_its_holder_and_times_out(tmp_path: Path, make_wheel: WheelMaker,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "store"
    Store(root).install([str(make_wheel("textkit", "1.0.0"))])
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys, time\n"
        f"fd = os.open({str(root / '.lock')!r}, os.O_RDWR)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "os.ftruncate(fd, 0); os.write(fd, f'{os.getpid()}\\n'.encode())\n"
        "print('held', flush=True); time.sleep(60)\n")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        env = {**os.environ, "SIGLINK_LOCK_TIMEOUT": "0.5"}
        start = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "siglink", "yank", "textkit==1.0.0",
                               "--reason", "x", "--store", str(root)], check=False,
                              capture_output=True, text=True, env=env, timeout=120)
        assert time.monotonic() - start < 30
        assert proc.returncode == 75
        assert proc.stderr.splitlines() == [
            f"siglink: warning: waiting for the store's lock, held by process {holder.pid}",
            f"siglink: error: {root}: the store is locked by process {holder.pid}; gave up "
            "after 0.5 s (SIGLINK_LOCK_TIMEOUT=SECONDS waits longer)",
        ]
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()  # type: ignore[union-attr]
    assert Store(root).get("textkit", "1.0.0").yanked is None
    assert (root / ".lock").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("command", [
    ["install", "{wheel}", "--no-deps"], ["yank", "textkit==1.0.0", "--reason", "x"],
    ["unyank", "textkit==1.0.0"], ["remove", "textkit==1.0.0", "--force"],
    ["store", "repair"], ["gc"], ["forget", "{app}"],
])
def test_every_writer_names_the_lock_holder_and_gives_up(
        tmp_path: Path, make_wheel: WheelMaker, command: list[str]) -> None:
    """Not only ``store`` subcommands: each command that changes the store waits for the lock,
    says after a moment who holds it, and gives up after ``$SIGLINK_LOCK_TIMEOUT`` (exit 75)."""
    root = tmp_path / "store"
    store = Store(root)
    store.install([str(make_wheel("textkit", "1.0.0")), str(make_wheel("textkit", "1.0.1"))])
    app = tmp_path / "app.py"
    app.write_text("import textkit\n")
    assert subprocess.run([sys.executable, "-m", "siglink", "--store", str(root), "build",
                           str(app)], check=False, capture_output=True).returncode == 0
    store.yank("textkit", "1.0.0", reason="old") if command[0] == "unyank" else None
    wheel = make_wheel("textkit", "1.0.2")
    argv = [a.format(wheel=wheel, app=app) for a in command]
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys, time\n"
        f"fd = os.open({str(root / '.lock')!r}, os.O_RDWR)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "os.ftruncate(fd, 0); os.write(fd, f'{os.getpid()}\\n'.encode())\n"
        "print('held', flush=True); time.sleep(60)\n")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        env = {**os.environ, "SIGLINK_LOCK_TIMEOUT": "1.5"}
        start = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "siglink", "--store", str(root), *argv],
                              check=False, capture_output=True, text=True, env=env,
                              timeout=120)
        assert time.monotonic() - start < 30
        assert proc.returncode == 75, proc.stderr
        lines = [ln for ln in proc.stderr.splitlines() if not ln.startswith("siglink: ")
                 or ln.startswith(("siglink: warning: waiting", "siglink: error:"))]
        assert lines == [
            f"siglink: warning: waiting for the store's lock, held by process {holder.pid}",
            f"siglink: error: {root}: the store is locked by process {holder.pid}; gave up "
            "after 1.5 s (SIGLINK_LOCK_TIMEOUT=SECONDS waits longer)",
        ], proc.stderr
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()  # type: ignore[union-attr]
    assert [v.version for v in Store(root).versions("textkit")] == ["1.0.1", "1.0.0"]


def test_a_lock_released_at_once_goes_unmentioned(tmp_path: Path) -> None:
    from siglink.store._lock import FileLock

    told: list[int] = []
    path = tmp_path / ".lock"
    with FileLock(path):
        other = FileLock(path, timeout=0.3, on_wait=told.append)
        with pytest.raises(OSError, match=r"held by process \d+ \(waited 0\.3 s\)"):
            other.acquire()
    assert told == [os.getpid()]
    told.clear()
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, time\n"
        f"fd = os.open({str(path)!r}, os.O_RDWR)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(0.1)\n")],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    with FileLock(path, timeout=5, on_wait=told.append):
        pass
    holder.wait()
    holder.stdout.close()
    assert told == []
