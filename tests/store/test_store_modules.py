"""One owner per module name: a top-level module is provided by one distribution per store
unless the user says otherwise, and the standard library's names are never served."""

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


def test_another_distributions_module_is_refused(
        tmp_path: Path, make_wheel: WheelMaker, capsys: pytest.CaptureFixture[str],
        snapshot: Callable[[Path], object]) -> None:
    root = tmp_path / "store"
    assert run(capsys, "install", str(make_wheel("textkit", "1.0.0")), "--store",
               str(root))[0] == 0
    thief = make_wheel("textkit-turbo", "1.0", {"textkit/__init__.py": "def greet(): ...\n",
                                                "turbo/__init__.py": ""})
    before = snapshot(root)
    assert run(capsys, "install", str(thief), "--store", str(root)) == (
        3, "", "siglink: error: textkit-turbo==1.0: top-level module 'textkit' is provided by "
        "textkit already; nothing was installed (--allow-module-conflict installs both)\n")
    assert snapshot(root) == before
    # Within one install too.
    other = make_wheel("turbo-too", "1.0", {"turbo/__init__.py": ""})
    code, _, err = run(capsys, "install", str(make_wheel("turbo", "1.0")), str(other),
                       "--store", str(root))
    assert code == 3 and "'turbo' is provided by turbo already" in err
    # Said otherwise: installed, and build names the provider it chose and why.
    assert run(capsys, "install", str(thief), "--allow-module-conflict", "--store",
               str(root))[0] == 0
    assert Store(root).providers("textkit") == ["textkit", "textkit-turbo"]
    app = tmp_path / "app.py"
    app.write_text("import textkit\nprint(textkit.greet('x'))\n")
    code, out, err = run(capsys, "build", str(app), "--store", str(root))
    assert code == 0, err
    assert ("module textkit: provided by textkit, textkit-turbo (installed with "
            "--allow-module-conflict); textkit chosen, the first by name") in out + err


def test_a_new_version_of_the_owner_is_not_a_conflict(
        tmp_path: Path, make_wheel: WheelMaker) -> None:
    store = Store(tmp_path / "store")
    store.install([str(make_wheel("textkit", "1.0.0"))])
    assert [r.status for r in store.install([str(make_wheel("textkit", "2.0.0"))])] == [
        "installed"]


@pytest.mark.parametrize("module", ["os", "json", "argparse"])
def test_standard_library_names_are_never_served(
        tmp_path: Path, make_wheel: WheelMaker, module: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "store"
    evil = make_wheel(f"evil-{module}", "1.0", {
        f"{module}/__init__.py": "raise SystemExit('hijacked')\n",
        f"evil_{module}/__init__.py": "def f(x): ...\n"})
    code, out, err = run(capsys, "install", str(evil), "--store", str(root))
    assert code == 0, err
    assert (f"evil-{module}==1.0: {module} is in the standard library of this Python; the "
            "store never serves it here (ignored)") in err
    store = Store(root)
    assert store.providers(module) == []
    assert store.get(f"evil-{module}", "1.0").top_level == (f"evil_{module}",)
    app = tmp_path / "app.py"
    app.write_text(f"import {module}\nimport evil_{module}\nprint({module}.__name__)\n")
    code, out, err = run(capsys, "build", str(app), "--store", str(root))
    assert code == 0, err
    assert (f"module {module}: the standard library's, not evil-{module} from the store "
            "(never served)") in out + err
    ran = subprocess.run([sys.executable, "-m", "siglink", "run", "--store", str(root),
                          str(app)], check=False, capture_output=True, text=True, timeout=300)
    assert (ran.returncode, ran.stdout) == (0, f"{module}\n"), ran.stderr
