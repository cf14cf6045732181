"""A requirement on a backport of the standard library is met by the interpreter: a library
that requires ``argparse`` installs, links and runs with no ``argparse`` wheel in the store, and
the 2015 backport from PyPI, installed anyway, is never what ``import argparse`` gives."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path

import pytest

from siglink.cli.main import main
from siglink.store import Store

WheelMaker = Callable[..., Path]

LIBRARY = """\
import argparse

def parser(prog: str) -> argparse.ArgumentParser:
    return argparse.ArgumentParser(prog=prog)
"""

APP = """\
import argparse
import cliparts
print(cliparts.parser("demo").prog, argparse.__file__)
"""

NOTE = ("argparse: provided by the standard library of Python "
        f"{sys.version_info.major}.{sys.version_info.minor}; the requirement is ignored")


def _stdlib_argparse() -> str:
    return str(Path(sysconfig.get_paths()["stdlib"]) / "argparse.py")


def _run(root: Path, app: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "siglink", "run", "--store", str(root),
                           str(app)], check=False, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("requires", ["argparse", "argparse>=1.4", "typing>=3.7",
                                      'enum34 ; python_version >= "3"'])
def test_a_library_requiring_a_backport_links_without_it(
        tmp_path: Path, make_wheel: WheelMaker, capsys: pytest.CaptureFixture[str],
        requires: str) -> None:
    root = tmp_path / "store"
    wheel = make_wheel("cliparts", "1.0", {"cliparts/__init__.py": LIBRARY},
                       requires=[requires])
    code = main(["install", str(wheel), "--store", str(root)])
    _, err = capsys.readouterr()
    assert code == 0, err
    assert "resolving" not in err  # the store meets it: pip was not asked
    store = Store(root)
    assert [name for name, _ in store.installed()] == ["cliparts"]
    app = tmp_path / "app.py"
    app.write_text(APP)
    assert main(["build", str(app), "--store", str(root)]) == 0, capsys.readouterr().err
    code = main(["plan", str(app), "--store", str(root)])
    out, err = capsys.readouterr()
    assert code == 0, err
    backport = requires.partition(";")[0].partition(">")[0].strip()
    assert (f"{backport}: provided by the standard library of Python "
            f"{sys.version_info.major}.{sys.version_info.minor}; the requirement is "
            "ignored") in out + err
    ran = _run(root, app)
    assert (ran.returncode, ran.stdout) == (0, f"demo {_stdlib_argparse()}\n"), ran.stderr


def test_the_backport_from_pypi_is_never_served(
        tmp_path: Path, make_wheel: WheelMaker, capsys: pytest.CaptureFixture[str],
        pypi: type) -> None:
    backport = pypi.fetch("argparse==1.4.0")
    root = tmp_path / "store"
    wheel = make_wheel("cliparts", "1.0", {"cliparts/__init__.py": LIBRARY},
                       requires=["argparse==1.4.0"])
    code = main(["install", str(backport), str(wheel), "--store", str(root)])
    _, err = capsys.readouterr()
    assert code == 0, err
    assert ("argparse==1.4.0: argparse is in the standard library of this Python; the store "
            "never serves it here (ignored)") in err
    assert sorted(name for name, _ in Store(root).installed()) == ["argparse", "cliparts"]
    app = tmp_path / "app.py"
    app.write_text(APP)
    assert main(["build", str(app), "--store", str(root)]) == 0, capsys.readouterr().err
    code = main(["plan", str(app), "--store", str(root)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert NOTE in out + err
    assert "argparse==1.4.0" not in out
    ran = _run(root, app)
    assert (ran.returncode, ran.stdout) == (0, f"demo {_stdlib_argparse()}\n"), ran.stderr


def test_a_dependency_closure_leaves_the_backport_out(
        tmp_path: Path, make_wheel: WheelMaker, capsys: pytest.CaptureFixture[str],
        pypi: type) -> None:
    """pip resolves the closure (the library also requires a distribution the store lacks):
    the backport it chose is not downloaded nor stored, and the install says why."""
    pypi.fetch("six==1.16.0")  # the index answers
    root = tmp_path / "store"
    wheel = make_wheel("cliparts", "1.0", {"cliparts/__init__.py": LIBRARY + "import six\n"},
                       requires=["argparse", "six==1.16.0"])
    code = main(["install", str(wheel), "--store", str(root)])
    _, err = capsys.readouterr()
    assert code == 0, err
    assert "with pip" in err
    assert sorted(name for name, _ in Store(root).installed()) == ["cliparts", "six"]
    assert NOTE in err
    app = tmp_path / "app.py"
    app.write_text(APP)
    ran = _run(root, app)
    assert (ran.returncode, ran.stdout) == (0, f"demo {_stdlib_argparse()}\n"), ran.stderr
