"""The public surface: every name in ``__all__`` exists, and ``dir()`` shows exactly it."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import siglink

PUBLIC_MODULES = [
    "siglink",
    "siglink.errors",
    "siglink.contracts.types",
    "siglink.contracts.signature",
    "siglink.contracts.compat",
    "siglink.contracts.diff",
    "siglink.contracts.verdict",
    "siglink.contracts.manifest",
    "siglink.link.api",
    "siglink.link.app",
]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_names_exist(name: str) -> None:
    module = importlib.import_module(name)
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert missing == []


def test_dir_is_all() -> None:
    assert sorted(dir(siglink)) == sorted(siglink.__all__)


@pytest.mark.parametrize("name", [
    "siglink.errors", "siglink.cli.native", "siglink.cli.demo", "siglink.cli.contracts",
    "siglink.native.cdecl", "siglink.native.elf", "siglink.native.bind", "siglink.native.compat",
    "siglink.native.manifest", "siglink.demo.wheels", "siglink.demo.story",
    "siglink.python.exports", "siglink.python.receivers",
])
def test_module_dir_is_its_all(name: str) -> None:
    module = importlib.import_module(name)
    assert sorted(dir(module)) == sorted(module.__all__)
    assert [n for n in module.__all__ if not hasattr(module, n)] == []


def test_import_is_cheap() -> None:
    """Importing siglink loads none of its dependencies (the warm path relies on it)."""
    code = "import sys, siglink; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(out.stdout.split())
    heavy = {"griffe", "rich", "resolvelib", "packaging", "sqlite3", "argparse", "pycparser"}
    assert loaded & heavy == set()
    assert not any(m.startswith("siglink.") for m in loaded)


def test_errors_share_one_base() -> None:
    from siglink import errors

    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.SiglinkError)


def test_the_linker_driven_from_code(tmp_path: Path) -> None:
    """``siglink.plan`` and ``siglink.run``: what ``siglink plan`` and ``siglink run`` do."""
    from siglink.demo.wheels import make_wheel

    store = tmp_path / "store"
    for version in ("1.0.0", "1.1.0"):
        wheel = make_wheel(tmp_path / "wheels", "textkit", version, {
            "textkit/__init__.py": f"VERSION = {version!r}\ndef shout(t):\n    return t.upper()\n"})
        siglink.Store(store).install([str(wheel)])
    app = tmp_path / "app.py"
    app.write_text("import sys, textkit\nprint(textkit.shout(sys.argv[1]), textkit.VERSION)\n")
    warnings: list[str] = []
    plan = siglink.plan(str(app), store=store, on_warning=warnings.append)
    assert isinstance(plan, siglink.LinkPlan)
    assert plan.versions == {"textkit": "1.1.0"}
    assert plan.app == str(tmp_path / "app.siglink.json") and warnings == []
    request = siglink.PlanRequest("semver", pre=True)
    assert siglink.plan(siglink.Application.resolve(str(app)), request, store=store,
                        build=False).policy == "semver"
    code = f"import siglink; siglink.run({str(app)!r}, ['hi'], store={str(store)!r})"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=False, env={**os.environ, "SIGLINK_DEBUG": "1"})
    assert out.returncode == 0, out.stderr
    assert out.stdout == "HI 1.1.0\n"
    with pytest.raises(siglink.LinkError) as refused:
        siglink.plan(str(app), siglink.PlanRequest("strict"), store=tmp_path / "empty")
    assert refused.value.exit_code == 127
