"""pluggy, for real: pytest's hookspecs against its built-in plugins and real third-party
plugins installed from the package index into a temporary directory, read statically."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from siglink.cli.main import main
from siglink.plugins.pluggy_check import PluggyReport, pluggy_check

pytestmark = [pytest.mark.slow, pytest.mark.network]

REAL = ("pytest-xdist==3.8.0", "pytest-benchmark==5.3.1", "execnet==2.1.2",
        "hypothesis==6.170.17")

BROKEN = '''
from collections.abc import Generator

import pytest


def pytest_collection_modifyitems(session, config, items, extra):
    pass


def pytest_configure(config: int) -> None:
    pass


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    return None


def pytest_no_such_hook(config):
    pass


@pytest.hookimpl(optionalhook=True)
def pytest_maybe_later(config):
    pass


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call) -> Generator[None, int, int]:
    return (yield)


@pytest.hookimpl(hookwrapper=True)
def pytest_addoption(parser):
    yield
'''


def _site(root: Path, wheels: list[Path]) -> Path:
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
           "--disable-pip-version-check", "--no-index", "--target", str(root),
           *map(str, wheels)]
    subprocess.run(cmd, check=True, capture_output=True)
    return root


def _broken(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "brokenplug.py").write_text(textwrap.dedent(BROKEN).lstrip())
    info = root / "brokenplug-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: brokenplug\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[pytest11]\nbroken = brokenplug\n")
    (info / "RECORD").write_text("brokenplug.py,,\n")
    return root


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory, pypi: Any) -> tuple[Path, Path]:
    wheels = [pypi.fetch(r) for r in REAL]  # skips, saying why, only if the index is unreachable
    root = tmp_path_factory.mktemp("pluggy")
    return _site(root / "site", wheels), _broken(root / "broken")


@pytest.fixture(scope="module")
def report(sites: tuple[Path, Path]) -> PluggyReport:
    return pluggy_check("pytest", paths=[str(p) for p in sites])


def test_real_third_party_plugins_are_compatible(report: PluggyReport) -> None:
    assert report.group == "pytest11" and report.specs > 60
    third = {(p.name, p.source): p for p in report.plugins if p.source != "builtin"}
    names = {name for name, _ in third}
    assert {"pytest-xdist", "pytest-benchmark", "hypothesis", "brokenplug"} <= names
    hypothesis = next(p for (name, _), p in third.items() if name == "hypothesis")
    assert hypothesis.module == "_hypothesis_pytestplugin" and len(hypothesis.hooks) >= 5
    for (name, _), plugin in third.items():
        if name == "brokenplug":
            continue
        assert plugin.ok, (name, [h.verdict.explain() for h in plugin.hooks if not h.verdict.ok])
        assert plugin.hooks
    xdist = third[("pytest-xdist", "entry point xdist = xdist.plugin")]
    hooks = {h.hook for h in xdist.hooks}
    # its own hookspecs (newhooks) are read too: DSession implements pytest_xdist_make_scheduler
    assert {"pytest_configure", "pytest_xdist_make_scheduler", "pytest_addoption"} <= hooks


def test_pytest_builtin_plugins_are_read_and_checked(report: PluggyReport) -> None:
    builtins = {p.name: p for p in report.plugins if p.source == "builtin"}
    assert {"_pytest.terminal", "_pytest.python", "_pytest.logging"} <= set(builtins)
    assert builtins["_pytest.terminal"].ok


def test_a_broken_plugin_is_reported_with_the_exact_problems(report: PluggyReport) -> None:
    broken = next(p for p in report.plugins if p.name == "brokenplug")
    assert not broken.ok
    found = {h.hook: (h.location, [p.explain() for p in h.verdict.incompatible])
             for h in broken.hooks}
    assert found["pytest_collection_modifyitems"] == ("brokenplug.py:6", [
        "P3 param extra: expected a subset of (session, config, items), found "
        "(session, config, items, extra); declared in the hookimpl but not in the hookspec: "
        "pluggy cannot pass it (incompatible)"])
    assert found["pytest_configure"] == ("brokenplug.py:10", [
        "P11 param config: expected pytest.Config, found int; parameter type narrowed "
        "(incompatible)"])
    assert found["pytest_runtest_call"][1] == [
        "R6: expected a generator function, found a plain function; a wrapper must yield "
        "once (incompatible)"]
    assert found["pytest_no_such_hook"][1] == [
        "P1: expected a hookspec named pytest_no_such_hook, found none; unknown hook: "
        "pluggy refuses it when the plugin registers (incompatible)"]
    assert found["pytest_maybe_later"][1] == []  # optionalhook: no spec, not an error
    # firstresult: the wrapper receives the first TestReport (not a list), and returns it
    assert found["pytest_runtest_makereport"][1] == [
        "P11 param hook_result: expected pytest.TestReport, found int; parameter type "
        "narrowed (incompatible)",
        "P13 return: expected pytest.TestReport, found int; widened (incompatible)"]
    assert found["pytest_addoption"][1] == [
        "R6: expected a plain implementation, found a wrapper; a historic hook cannot be "
        "wrapped (incompatible)"]


def test_cli_exit_codes(sites: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    good, broken = sites
    assert main(["pluggy-check", "pytest", "--no-builtins", "--path", str(good),
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["group"] == "pytest11"
    assert main(["pluggy-check", "pytest", "--no-builtins", "--path", str(good),
                 "--path", str(broken)]) == 1
    out = capsys.readouterr().out
    assert "INCOMPATIBLE brokenplug 0.1 (entry point broken = brokenplug): 7 hookimpls" in out
    assert "brokenplug.py:10: brokenplug.pytest_configure" in out
    assert main(["pluggy-check", "no-such-project-xyz"]) == 2
    assert "no-such-project-xyz: no such distribution installed" in capsys.readouterr().err


def test_no_plugin_code_is_imported(sites: tuple[Path, Path]) -> None:
    """Run in a fresh interpreter: afterwards neither plugin's modules are loaded."""
    good, broken = sites
    code = ("import sys; from siglink.plugins.pluggy_check import pluggy_check; "
            f"pluggy_check('pytest', paths=[{str(good)!r}, {str(broken)!r}], builtins=False); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('xdist', 'pytest_benchmark', 'brokenplug', '_pytest', 'pytest')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
