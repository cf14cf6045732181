"""The store never keeps the bytecode a wheel ships: it runs its own, compiled from the
source it read, at every optimization level, and refuses a module shipped as bytecode alone
(real installs, runs under ``PYTHONOPTIMIZE``, ``verify`` and ``store repair``)."""

from __future__ import annotations

import importlib.util
import os
import py_compile
import subprocess
import sys
from pathlib import Path

import pytest

from siglink.cli.main import main
from siglink.demo.wheels import make_wheel


def _pyc(tmp_path: Path, source: str, level: int) -> bytes:
    """Unchecked-hash bytecode of ``source`` at optimization ``level``: loaded whatever the
    source beside it says."""
    src = tmp_path / "shipped.py"
    src.write_text(source)
    out = tmp_path / "shipped.pyc"
    py_compile.compile(str(src), cfile=str(out), doraise=True, optimize=level,
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    return out.read_bytes()


def _run(store: Path, app: Path, level: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONOPTIMIZE": level}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return subprocess.run([sys.executable, "-m", "siglink", "run", "--store", str(store),
                           str(app)], capture_output=True, text=True, timeout=300,
                          check=False, env=env)


def test_shipped_bytecode_never_runs(tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    tag = sys.implementation.cache_tag
    shipped = {f"optx/__pycache__/__init__.{tag}{suffix}.pyc": _pyc(
        tmp_path, "WHO = 'shipped'\n", level)
        for level, suffix in ((0, ""), (1, ".opt-1"), (2, ".opt-2"))}
    wheel = make_wheel(tmp_path / "wheels", "optx", "1.0", {
        "optx/__init__.py": "WHO = 'source'\n", **shipped})
    store = tmp_path / "store"
    assert main(["install", "--no-deps", "--store", str(store), str(wheel)]) == 0
    pycache = store / "libs/optx/1.0/optx/__pycache__"
    names = sorted(p.name for p in pycache.iterdir())
    assert names == sorted(Path(name).name for name in shipped)  # every level, siglink's own
    assert all((pycache / Path(n).name).read_bytes() != data for n, data in shipped.items())
    app = tmp_path / "app.py"
    app.write_text("import optx\nprint(optx.WHO)\n")
    for level in ("", "1", "2"):
        result = _run(store, app, level)
        assert (result.returncode, result.stdout) == (0, "source\n"), result.stderr
    capsys.readouterr()
    assert main(["verify", "--store", str(store)]) == 0  # nothing written by the -O runs

    # repair proves the version against RECORD, which lists the wheel's bytecode: siglink's
    # is compiled again, never taken as the wheel's
    (store / "index.sqlite").unlink()
    (store / "index.public.sqlite").unlink(missing_ok=True)
    assert main(["store", "repair", "--store", str(store)]) == 0, capsys.readouterr()
    assert "optx==1.0" in capsys.readouterr().out
    assert sorted(p.name for p in pycache.iterdir()) == names
    assert all((pycache / Path(n).name).read_bytes() != data for n, data in shipped.items())
    for level in ("", "1"):
        result = _run(store, app, level)
        assert (result.returncode, result.stdout) == (0, "source\n"), result.stderr
    assert main(["verify", "--store", str(store)]) == 0


def test_repair_compiles_again_bytecode_of_every_level(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wheel = make_wheel(tmp_path / "wheels", "optx", "1.0", {"optx/__init__.py": "WHO = 1\n"})
    store = tmp_path / "store"
    assert main(["install", "--no-deps", "--store", str(store), str(wheel)]) == 0
    source = store / "libs/optx/1.0/optx/__init__.py"
    opt2 = Path(importlib.util.cache_from_source(str(source), optimization=2))
    data = opt2.read_bytes()
    opt2.write_bytes(data[:-8] + b"\0" * 8)
    (store / "index.sqlite").unlink()
    capsys.readouterr()
    assert main(["store", "repair", "--store", str(store)]) == 0
    assert f"compiled again from its proven source: {opt2}" in capsys.readouterr().out
    assert opt2.read_bytes() == data


def test_a_module_shipped_as_bytecode_alone_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wheel = make_wheel(tmp_path / "wheels", "sless", "1.0", {
        "sless/__init__.py": "", "sless/core.pyc": _pyc(tmp_path, "X = 1\n", 0)})
    store = tmp_path / "store"
    capsys.readouterr()
    assert main(["install", "--no-deps", "--store", str(store), str(wheel)]) == 2
    assert capsys.readouterr().err == (
        f"siglink: error: {wheel.name}: member 'sless/core.pyc' is bytecode without its "
        "source: siglink links only code it can read; refused\n")
    assert not (store / "libs" / "sless").exists()
