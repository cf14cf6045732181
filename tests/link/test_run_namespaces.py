"""A PEP 420 namespace package the plan serves from the store keeps the portions the plan
names: a later change to ``sys.path`` never brings in a portion from elsewhere, and a module
of it that comes from outside the store anyway is checked like the store's (real runs)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from linkfixtures import install, make_app, make_wheel


def _start(store: Path, app: Path, outside: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(outside)}
    return subprocess.run([sys.executable, "-m", "siglink", "run", "--store", str(store),
                           str(app)], capture_output=True, text=True, timeout=300,
                          check=False, env=env)


def _outside(tmp_path: Path, files: dict[str, str]) -> Path:
    """A directory anyone may write, holding a copy of the namespace with other code."""
    folder = tmp_path / "outside"
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(0o777)
    for each in (folder, folder / "nsp"):
        each.chmod(0o777)
    return folder


def test_a_store_namespace_is_not_recomputed_when_sys_path_changes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store"
    install(capsys, store, make_wheel(tmp_path, "nsa", "1.0", {
        "nsp/a.py": "WHO = 'store'\n"}))
    outside = _outside(tmp_path, {"nsp/a.py": "WHO = 'outside'\n",
                                  "nsp/b.py": "WHO = 'outside'\n"})
    app = make_app(tmp_path, """
        import importlib.resources, sys
        import nsp
        sys.path.append("/nonexistent")
        import nsp.a
        print(nsp.a.WHO, [p.endswith("/nsp") and "/libs/" in p for p in nsp.__path__])
        print(importlib.resources.files(nsp).joinpath("a.py").is_file())
        try:
            import nsp.b
        except ImportError:
            print("no nsp.b")
        """)
    result = _start(store, app, outside)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "store [True]\nTrue\nno nsp.b\n"


def test_a_module_of_a_store_namespace_from_elsewhere_is_checked(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store"
    install(capsys, store, make_wheel(tmp_path, "nsa", "1.0", {
        "nsp/a.py": "WHO = 'store'\n"}))
    outside = _outside(tmp_path, {"nsp/b.py": "print('outside code ran')\n"})
    app = make_app(tmp_path, f"""
        import nsp
        nsp.__path__.append({str(outside / "nsp")!r})
        import nsp.b
        """)
    result = _start(store, app, outside)
    assert result.returncode == 127, result.stderr
    assert "outside code ran" not in result.stdout
    assert result.stderr == (f"siglink: error: {outside / 'nsp' / 'b.py'} is writable by group "
                             "and others; its code would run as this user (chmod go-w "
                             f"{outside / 'nsp' / 'b.py'}, or siglink store repair)\n")
