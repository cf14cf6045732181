"""Namespace packages (PEP 420) are shared: two distributions each shipping a portion of one
(``nsp/a/`` and ``nsp/b/``, no ``nsp/__init__.py``) install side by side and link together;
the same portion twice, or a regular package ``nsp`` against a portion of it, is a conflict."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from siglink.cli.main import main
from siglink.store import Store

WheelMaker = Callable[..., Path]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def portion(make_wheel: WheelMaker, dist: str, sub: str, version: str = "1.0") -> Path:
    return make_wheel(dist, version, {
        f"nsp/{sub}/__init__.py": f"def hello() -> str:\n    return {sub!r}\n",
        f"nsp/{sub}/util.py": "X = 1\n"})


def _run_app(root: Path, app: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "siglink", "run", "--store", str(root),
                           str(app)], check=False, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("together", [False, True])
def test_two_portions_of_a_namespace_install_and_link_together(
        tmp_path: Path, make_wheel: WheelMaker, capsys: pytest.CaptureFixture[str],
        together: bool) -> None:
    root = tmp_path / "store"
    first, second = portion(make_wheel, "nsp-a", "a"), portion(make_wheel, "nsp-b", "b")
    if together:
        code, _, err = run(capsys, "install", str(first), str(second), "--store", str(root))
        assert code == 0, err
    else:
        for wheel in (first, second):
            code, _, err = run(capsys, "install", str(wheel), "--store", str(root))
            assert code == 0, err
    store = Store(root)
    assert store.providers("nsp") == ["nsp-a", "nsp-b"]
    assert store.providers("nsp.a") == ["nsp-a"]
    assert store.providers("nsp.b.util") == ["nsp-b"]
    assert store.namespace("nsp")
    app = tmp_path / "app.py"
    app.write_text("import nsp.a\nimport nsp.b\nfrom nsp.b import util\n"
                   "print(nsp.a.hello(), nsp.b.hello(), util.X)\n")
    code, out, err = run(capsys, "build", str(app), "--store", str(root))
    assert code == 0, err
    assert "allow-module-conflict" not in out + err
    ran = _run_app(root, app)
    assert (ran.returncode, ran.stdout) == (0, "a b 1\n"), ran.stderr
    # a new version of a portion's owner is no conflict either
    code, _, err = run(capsys, "install", str(portion(make_wheel, "nsp-a", "a", "2.0")),
                       "--store", str(root))
    assert code == 0, err


def test_the_same_portion_twice_is_a_conflict(
        tmp_path: Path, make_wheel: WheelMaker, capsys: pytest.CaptureFixture[str],
        snapshot: Callable[[Path], object]) -> None:
    root = tmp_path / "store"
    assert run(capsys, "install", str(portion(make_wheel, "nsp-a", "a")), "--store",
               str(root))[0] == 0
    before = snapshot(root)
    assert run(capsys, "install", str(portion(make_wheel, "nsp-a-fork", "a")), "--store",
               str(root)) == (
        3, "", "siglink: error: nsp-a-fork==1.0: module 'nsp.a' is provided by nsp-a already; "
        "nothing was installed (--allow-module-conflict installs both)\n")
    assert snapshot(root) == before
    # within one install too
    code, _, err = run(capsys, "install", str(portion(make_wheel, "nsp-c", "c")),
                       str(portion(make_wheel, "nsp-c-fork", "c")), "--store", str(root))
    assert code == 3 and "module 'nsp.c' is provided by nsp-c already" in err


@pytest.mark.parametrize("real_first", [False, True])
def test_a_regular_package_against_a_portion_of_it_is_a_conflict(
        tmp_path: Path, make_wheel: WheelMaker, capsys: pytest.CaptureFixture[str],
        real_first: bool) -> None:
    root = tmp_path / "store"
    real = make_wheel("nsp-real", "1.0", {"nsp/__init__.py": "", "nsp/z.py": ""})
    part = portion(make_wheel, "nsp-a", "a")
    first, second = (real, part) if real_first else (part, real)
    assert run(capsys, "install", str(first), "--store", str(root))[0] == 0
    code, _, err = run(capsys, "install", str(second), "--store", str(root))
    owner = "nsp-real" if real_first else "nsp-a"
    newcomer = "nsp-a" if real_first else "nsp-real"
    assert (code, err) == (
        3, f"siglink: error: {newcomer}==1.0: top-level module 'nsp' is provided by {owner} "
        "already; nothing was installed (--allow-module-conflict installs both)\n")


def test_two_real_jaraco_portions_link_and_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], pypi: type) -> None:
    """jaraco.functools and jaraco.classes each ship a portion of the PEP 420 namespace
    ``jaraco`` (their wheels have no ``jaraco/__init__.py``)."""
    wheels = [pypi.fetch("jaraco.functools==4.4.0"), pypi.fetch("jaraco.classes==3.4.0"),
              pypi.fetch("more-itertools==10.8.0")]
    root = tmp_path / "store"
    code, _, err = run(capsys, "install", *map(str, wheels), "--store", str(root))
    assert code == 0, err
    app = tmp_path / "app.py"
    app.write_text(
        "import jaraco.classes.properties\n"
        "import jaraco.functools\n"
        "class K:\n"
        "    @jaraco.classes.properties.classproperty\n"
        "    def name(cls):\n"
        "        return cls.__name__\n"
        "print(K.name, jaraco.functools.compose(str.upper, str.strip)(' ok '))\n")
    code, out, err = run(capsys, "build", str(app), "--store", str(root))
    assert code == 0, err
    assert "allow-module-conflict" not in out + err
    ran = _run_app(root, app)
    assert (ran.returncode, ran.stdout) == (0, "K OK\n"), ran.stderr


@pytest.mark.parametrize("together", [False, True])
def test_a_library_using_two_portions_records_its_uses_of_each(
        tmp_path: Path, make_wheel: WheelMaker, capsys: pytest.CaptureFixture[str],
        together: bool) -> None:
    """What a library uses of the distributions it requires is computed at install, per
    owner: each portion of the namespace is its own distribution's."""
    root = tmp_path / "store"
    portions = [portion(make_wheel, "nsp-a", "a"), portion(make_wheel, "nsp-b", "b")]
    user = make_wheel("nsuser", "1.0", {"nsuser/__init__.py": (
        "import nsp.a\nfrom nsp.b import util\n\n"
        "def both() -> str:\n    return nsp.a.hello() + str(util.X)\n")},
        requires=["nsp-a", "nsp-b"])
    if together:
        code, _, err = run(capsys, "install", *map(str, portions), str(user), "--store",
                           str(root))
    else:
        code, _, err = run(capsys, "install", *map(str, portions), "--store", str(root))
        assert code == 0, err
        code, _, err = run(capsys, "install", str(user), "--store", str(root))
    assert code == 0, err
    imports = Store(root).manifest("nsuser", "1.0").imports
    assert {dist: [i.path for i in items] for dist, items in imports.items()} == {
        "nsp-a": ["nsp.a.hello"], "nsp-b": ["nsp.b.util.X"]}
