"""The public surface: every name in ``__all__`` exists, and ``dir()`` shows exactly it."""

from __future__ import annotations

import importlib
import subprocess
import sys

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
