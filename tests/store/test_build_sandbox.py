"""Building an sdist or a project runs its build backend, which is the project's own code: it
runs only inside the sandbox. A ``setup.py`` that writes markers into the invoking user's home
and directories and starts a detached sleeper leaves no marker and no process behind, and the
wheel it builds is installed; a ``setup.py`` that leaves a daemon holding pip's pipe does not
stall the build; without a sandbox the build is refused in one line."""

from __future__ import annotations

import os
import tarfile
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from siglink._sandbox import bwrap
from siglink.cli.main import main
from siglink.store import Store
from siglink.store.fetch import build_wheel

needs_bwrap = pytest.mark.skipif(bwrap() is None, reason="bubblewrap (bwrap) is not installed")


def _processes_with(token: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if token.encode() in cmdline:
                found.append(int(entry))
    return found


def hostile_sdist(folder: Path, markers: list[Path], token: str) -> Path:
    """``hostile-1.0.tar.gz``: a setuptools project whose ``setup.py`` tries to write each of
    ``markers`` and ``~/...``, starts a sleeper in its own session carrying ``token``, then
    builds normally."""
    project = folder / "hostile-1.0"
    (project / "hostile").mkdir(parents=True)
    (project / "hostile" / "__init__.py").write_text("def go(n: int) -> int:\n    return n\n")
    (project / "setup.py").write_text(textwrap.dedent(f"""\
        import os, subprocess, sys
        for path in {[str(m) for m in markers]!r} + [os.path.expanduser("~/{token}")]:
            try:
                with open(path, "w") as f:
                    f.write("ran with the user's rights")
            except OSError:
                pass
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "{token}"],
                         start_new_session=True, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
        from setuptools import setup
        setup(name="hostile", version="1.0", packages=["hostile"])
        """))
    (project / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: hostile\nVersion: 1.0\n")
    sdist = folder / "hostile-1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        archive.add(project, arcname="hostile-1.0")
    return sdist


@needs_bwrap
def test_a_hostile_setup_py_builds_in_the_sandbox_and_leaves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    token = f"siglink-hostile-{uuid.uuid4().hex}"
    markers = [Path.home() / token, tmp_path / "marker", Path("/tmp") / token]
    sdist = hostile_sdist(tmp_path / "src", markers, token)
    root = tmp_path / "store"
    try:
        code = main(["install", str(sdist), "--no-deps", "--store", str(root)])
        out, err = capsys.readouterr()
        assert code == 0, err
        assert "installed hostile==1.0" in out
        assert Store(root).get("hostile", "1.0").top_level == ("hostile",)
        assert [m for m in markers if m.exists()] == []
        assert _processes_with(token) == []
    finally:
        for pid in _processes_with(token):  # only if the assertion above failed
            os.kill(pid, 9)
        for marker in markers:
            marker.unlink(missing_ok=True)


@needs_bwrap
def test_a_daemon_holding_pips_pipe_does_not_stall_the_build(tmp_path: Path) -> None:
    """pip reads the build backend's output until end of file: a ``setup.py`` that forks
    twice, leaving a sleeper in its own session that holds that pipe, would keep it reading
    until the build's wall-clock limit (15 minutes) if the sleeper lived on."""
    token = f"siglink-daemon-{uuid.uuid4().hex}"
    project = tmp_path / "daemon-1.0"
    (project / "daemon").mkdir(parents=True)
    (project / "daemon" / "__init__.py").write_text("")
    (project / "setup.py").write_text(textwrap.dedent(f"""\
        import os, sys, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execv(sys.executable, [sys.executable, "-c",
                                          "import time; time.sleep(600)", "{token}"])
            os._exit(0)
        os.wait()
        from setuptools import setup
        setup(name="daemon", version="1.0", packages=["daemon"])
        """))
    (tmp_path / "out").mkdir()
    start = time.monotonic()
    try:
        wheel = build_wheel(project, tmp_path / "out")
        assert time.monotonic() - start < 60
        assert wheel.name == "daemon-1.0-py3-none-any.whl"
        assert _processes_with(token) == []
    finally:
        for pid in _processes_with(token):  # only if an assertion above failed
            os.kill(pid, 9)


@needs_bwrap
def test_a_project_directory_is_built_from_a_copy(tmp_path: Path) -> None:
    """The build writes ``build/`` and ``*.egg-info`` into the copy, never into the user's
    directory; the directory itself stays as it was."""
    token = f"siglink-hostile-{uuid.uuid4().hex}"
    sdist = hostile_sdist(tmp_path / "src", [tmp_path / "marker"], token)
    project = tmp_path / "src" / "hostile-1.0"
    before = sorted(p.name for p in project.iterdir())
    (tmp_path / "out").mkdir()
    try:
        wheel = build_wheel(project, tmp_path / "out")
    finally:
        for pid in _processes_with(token):
            os.kill(pid, 9)
    assert wheel == tmp_path / "out" / "hostile-1.0-py3-none-any.whl"
    assert sorted(p.name for p in project.iterdir()) == before
    assert not (tmp_path / "marker").exists()
    assert sdist.is_file()


@needs_bwrap
def test_a_failed_build_shows_the_compiler_error(tmp_path: Path) -> None:
    project = tmp_path / "broken"
    project.mkdir()
    (project / "broken.c").write_text("#include <no_such_header_here.h>\n")
    (project / "setup.py").write_text(
        "from setuptools import setup, Extension\n"
        "setup(name='broken', version='1.0', ext_modules=[Extension('broken', ['broken.c'])])\n")
    (tmp_path / "out").mkdir()
    with pytest.raises(Exception) as caught:
        build_wheel(project, tmp_path / "out")
    assert str(caught.value).startswith(
        f"{project}: cannot build a wheel: broken.c:1:10: fatal error: no_such_header_here.h: "
        "No such file or directory"), str(caught.value)


def test_without_a_sandbox_the_build_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = f"siglink-hostile-{uuid.uuid4().hex}"
    sdist = hostile_sdist(tmp_path / "src", [tmp_path / "marker"], token)
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no bwrap to be found
    root = tmp_path / "store"
    assert main(["install", str(sdist), "--no-deps", "--store", str(root)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == (
        f"siglink: error: {sdist}: not built: building runs the project's own code, which "
        "siglink runs only in a sandbox, and bubblewrap (bwrap) is not installed; install "
        "bubblewrap (apt-get install bubblewrap, dnf install bubblewrap) or set "
        "SIGLINK_ALLOW_UNSANDBOXED_BUILD=1 to build with your own rights")
    assert not (tmp_path / "marker").exists()
    assert _processes_with(token) == []


def test_the_explicit_opt_in_builds_with_the_users_rights(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the sandbox prevents, shown: with ``SIGLINK_ALLOW_UNSANDBOXED_BUILD=1`` and no
    sandbox, ``setup.py`` writes its marker and its sleeper outlives the build."""
    token = f"siglink-hostile-{uuid.uuid4().hex}"
    sdist = hostile_sdist(tmp_path / "src", [tmp_path / "marker"], token)
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setenv("SIGLINK_ALLOW_UNSANDBOXED_BUILD", "1")
    try:
        assert main(["install", str(sdist), "--no-deps", "--store", str(tmp_path / "s")]) == 0
        assert (tmp_path / "marker").exists()
        assert _processes_with(token) != []
    finally:
        for pid in _processes_with(token):
            os.kill(pid, 9)
