"""Linking libraries that ship no manifest: their imports, computed at install, are checked by
name and call shape, and their verdicts are unverified (docs/design.md §4, §6)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from linkfixtures import build_app, install, make_app, make_wheel, plan_json, siglink

from siglink.store import Store

B_1 = ('__version__ = "1.0"\n'
       "def f(x, y):\n    return x + y\n\ndef gone():\n    return 0\n\nclass Only: ...\n")
B_2 = '__version__ = "2.0"\ndef f(x):\n    return x\n'


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store"


def lib_a(tmp_path: Path, body: str, version: str = "1.0") -> Path:
    return make_wheel(tmp_path, "liba", version, {"liba/__init__.py": body}, ["libb>=1"])


def lib_b(tmp_path: Path, version: str, source: str) -> Path:
    return make_wheel(tmp_path, "libb", version, {"libb/__init__.py": source})


def app_using_a(tmp_path: Path) -> Path:
    return make_app(tmp_path, "import liba\nprint(liba.run())\n")


def test_a_library_call_shape_chooses_the_version(tmp_path: Path, store: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    install(capsys, store, lib_a(tmp_path, "import libb\n\ndef run():\n    return libb.f(1, 2)\n"),
            lib_b(tmp_path, "1.0", B_1), lib_b(tmp_path, "2.0", B_2))
    app = app_using_a(tmp_path)
    build_app(capsys, store, app)
    plan = plan_json(capsys, store, app)
    assert {n: link["version"] for n, link in plan["links"].items()} == {
        "liba": "1.0", "libb": "1.0"}
    verdict = plan["links"]["libb"]["verdict"]
    assert verdict["status"] == "compatible (unverified)"
    assert verdict["unverified"] == [
        "libb.f signature: not recorded by the consumer, only its calls checked"]
    [refused] = plan["rejected"]["libb"]
    assert refused["version"] == "2.0"
    [problem] = refused["problems"]
    assert (problem["rule"], problem["path"], problem["expected"], problem["found"]) == (
        "P6", "liba==1.0 libb.f param *args", "f(_, _)", "(x)")
    code, out, _ = siglink(capsys, "plan", str(app), "--store", str(store))
    assert code == 0
    assert "libb 2.0 refused: P6 liba==1.0 libb.f param *args: expected f(_, _)" in out
    # And the application runs on it: liba's call reaches libb 1.0's f.
    ran = subprocess.run([sys.executable, "-m", "siglink", "run", "--store", str(store),
                          str(app)], capture_output=True, text=True, timeout=60, check=False)
    assert (ran.returncode, ran.stdout) == (0, "3\n"), ran.stderr


@pytest.mark.parametrize("guard", [
    "try:\n    from libb import gone\nexcept ImportError:\n    gone = None\n"
    "def probe():\n    return gone() if gone else None\n",
    "def probe():\n    try:\n        return libb.gone()\n    except (KeyError, AttributeError):\n"
    "        return None\n",
    "def probe():\n    return getattr(libb, 'gone', None)\n",
    "def probe():\n    if libb.__version__ < '2':\n        return libb.gone()\n    return None\n",
    "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from libb import Only\n"
    "def typed(x: Only) -> None:\n    pass\n",
    "def typed(x: libb.Only) -> None:\n    pass\n",
    "def probe():\n    if hasattr(libb, 'gone'):\n        return libb.gone()\n",
])
def test_an_optional_use_refuses_no_version(tmp_path: Path, store: Path, guard: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    body = f"from __future__ import annotations\nimport libb\n{guard}\ndef run():\n" \
           "    return libb.f(1)\n"
    install(capsys, store, lib_a(tmp_path, body), lib_b(tmp_path, "1.0", B_1),
            lib_b(tmp_path, "2.0", B_2))
    app = app_using_a(tmp_path)
    build_app(capsys, store, app)
    plan = plan_json(capsys, store, app)
    assert plan["links"]["libb"]["version"] == "2.0"
    assert plan["rejected"] == {}
    # Recorded, as optional.
    recorded = Store(store).manifest("liba", "1.0").imports["libb"]
    assert {i.path for i in recorded if i.optional} in ({"libb.gone"}, {"libb.Only"})
    # The version test reads libb.__version__ itself: a use like any other.
    required = ["libb.__version__", "libb.f"] if "__version__" in guard else ["libb.f"]
    assert [i.path for i in recorded if not i.optional] == required


def test_a_missing_name_refuses_the_version(tmp_path: Path, store: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    body = "from libb import gone\n\ndef run():\n    return gone()\n"
    install(capsys, store, lib_a(tmp_path, body), lib_b(tmp_path, "2.0", B_2))
    app = app_using_a(tmp_path)
    build_app(capsys, store, app)
    code, out, err = siglink(capsys, "plan", str(app), "--store", str(store))
    assert (code, out) == (127, "")
    assert "    needed by liba==1.0 >=1: uses libb.gone\n" in err
    assert "      liba 1.0 uses libb.gone, which libb 2.0 does not export (P1)\n" in err
    assert err.endswith("  unsatisfied imports from libb:\n"
                        "    libb.gone: no version of libb exports it (versions tried: 2.0)\n")

    install(capsys, store, lib_b(tmp_path, "1.0", B_1))
    plan = plan_json(capsys, store, app)
    assert plan["links"]["libb"]["version"] == "1.0"
    [refused] = plan["rejected"]["libb"]
    assert [(p["rule"], p["path"]) for p in refused["problems"]] == [
        ("P1", "liba==1.0 libb.gone")]
    code, out, _ = siglink(capsys, "plan", str(app), "--store", str(store))
    assert code == 0
    assert "  libb 2.0 refused: liba 1.0 uses libb.gone, which libb 2.0 does not export (P1)\n" \
        in out
    assert "expected exported" not in out


@pytest.mark.parametrize(("source", "linked"), [
    # Outside __all__ (or behind a computed __all__) the export table has no gone: the
    # module's source has it, so nothing is refused.
    ("__all__ = ['f']\ndef f(x):\n    return x\ndef gone():\n    return 0\n", "2.0"),
    ("__all__ = ['f'] + list(X)\nX = []\ndef f(x):\n    return x\ngone = None\n", "2.0"),
    ("def f(x):\n    return x\ndef __getattr__(name):\n    if name == 'gone':\n"
     "        return 0\n    raise AttributeError(name)\n", "2.0"),
    ("def f(x):\n    return x\ndef __getattr__(name):\n    import other\n"
     "    return getattr(other, name)\n", "2.0"),
    # A __getattr__ serving other names, or a submodule that is not there: gone is missing.
    ("def f(x):\n    return x\ndef __getattr__(name):\n    if name == '__version__':\n"
     "        return '2'\n    raise AttributeError(name)\n", "1.0"),
])
def test_absence_is_confirmed_in_the_source(tmp_path: Path, store: Path, source: str,
                                            linked: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    body = "import libb\n\ndef run():\n    return libb.gone\n"
    install(capsys, store, lib_a(tmp_path, body), lib_b(tmp_path, "1.0", B_1),
            lib_b(tmp_path, "2.0", source))
    app = app_using_a(tmp_path)
    build_app(capsys, store, app)
    plan = plan_json(capsys, store, app)
    assert plan["links"]["libb"]["version"] == linked


def test_chains_resolve_against_each_version(tmp_path: Path, store: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    body = ("import libb.sub\nfrom libb import Thing\n\ndef run():\n"
            "    return libb.sub.g(1), Thing.make(2)\n")
    old = make_wheel(tmp_path, "libb", "1.0", {
        "libb/__init__.py": "class Thing:\n    @classmethod\n    def make(cls, x): ...\n",
        "libb/sub.py": "def g(x): ...\n"})
    new = make_wheel(tmp_path, "libb", "2.0", {
        "libb/__init__.py": "class Thing:\n    @classmethod\n    def make(cls, x): ...\n"})
    install(capsys, store, lib_a(tmp_path, body), old, new)
    app = app_using_a(tmp_path)
    build_app(capsys, store, app)
    plan = plan_json(capsys, store, app)
    assert plan["links"]["libb"]["version"] == "1.0"
    unverified = plan["links"]["libb"]["verdict"]["unverified"]
    # A class member's calls are bound to the member (here they fit)
    assert "libb.Thing.make signature: not recorded by the consumer, only its calls checked" in (
        unverified)
    [refused] = plan["rejected"]["libb"]
    assert [(p["rule"], p["path"]) for p in refused["problems"]] == [
        ("P1", "liba==1.0 libb.sub.g")]


def test_a_guessed_module_is_not_checked_where_it_is_not(tmp_path: Path, store: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    # Installed before its requirement, liba's ``import pyb`` is attributed to pyb by name;
    # the distribution pyb turns out to provide module ``realb``: nothing of pyb is refused.
    body = "import pyb\n\ndef run():\n    return pyb.f(1, 2, 3)\n"
    install(capsys, store, make_wheel(tmp_path, "liba", "1.0", {"liba/__init__.py": body},
                                      ["pyb"]))
    install(capsys, store, make_wheel(tmp_path, "pyb", "1.0",
                                      {"realb/__init__.py": "def f(x): ...\n"}))
    app = app_using_a(tmp_path)
    build_app(capsys, store, app)
    plan = plan_json(capsys, store, app)
    assert plan["links"]["pyb"]["version"] == "1.0"
    assert plan["links"]["pyb"]["verdict"]["unverified"] == [
        "pyb.f module pyb is not in pyb 1.0: attributed by its name, not checked"]


@pytest.mark.network
def test_werkzeug_links_markupsafe_without_a_false_refusal(
    tmp_path: Path, store: Path, pypi: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    install(capsys, store, pypi.fetch("werkzeug==3.0.1"), pypi.fetch("markupsafe==2.1.5"))
    app = make_app(tmp_path, "from werkzeug.wrappers import Response\n"
                             "print(Response('<a>').status)\n")
    build_app(capsys, store, app)
    plan = plan_json(capsys, store, app)
    assert {n: link["version"] for n, link in plan["links"].items()} == {
        "markupsafe": "2.1.5", "werkzeug": "3.0.1"}
    verdict = plan["links"]["markupsafe"]["verdict"]
    assert (verdict["ok"], verdict["status"]) == (True, "compatible (unverified)")
    assert {"markupsafe.escape signature: not recorded by the consumer, only its calls checked",
            "markupsafe.Markup signature: not recorded by the consumer, only its calls checked"
            } <= set(verdict["unverified"])


@pytest.mark.parametrize(("source", "linked"), [
    # An attribute of unknown type may hold a callable: calling it is not checked.
    ("import functools\ndef _g(x, y):\n    return x + y\nf = functools.partial(_g, 1)\n",
     "2.0"),
    # One typed as a plain value cannot be called.
    ("f: int = 3\n", "1.0"),
])
def test_calling_a_module_attribute(tmp_path: Path, store: Path, source: str, linked: str,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    body = "import libb\n\ndef run():\n    return libb.f(2)\n"
    install(capsys, store, lib_a(tmp_path, body), lib_b(tmp_path, "1.0", "def f(x): ...\n"),
            lib_b(tmp_path, "2.0", source))
    app = app_using_a(tmp_path)
    build_app(capsys, store, app)
    plan = plan_json(capsys, store, app)
    assert plan["links"]["libb"]["version"] == linked
    if linked == "1.0":
        [refused] = plan["rejected"]["libb"]
        assert [(p["rule"], p["path"]) for p in refused["problems"]] == [
            ("R6", "liba==1.0 libb.f")]
    else:
        assert plan["links"]["libb"]["verdict"]["unverified"] == [
            "libb.f signature: not recorded by the consumer, only its calls checked",
            "libb.f calls: attribute of type unknown, not checked"]
