"""What ``siglink build`` records and how the link checks it: call shapes against the very
version built against, optional uses, modules no library provides, the library's own classes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from linkfixtures import build_app, install, make_app, make_wheel, plan_json, siglink

from siglink.link.app import app_manifest_path
from siglink.link.build import build_app as build_api
from siglink.store import Store

WRAP_1 = """
def wrap(text: str, width: int = 70) -> list[str]:
    return [text[i:i + width] for i in range(0, len(text), width)]

def escape(text: str) -> str:
    return text.replace("<", "&lt;")
"""
WRAP_2 = WRAP_1.replace("text: str, width", "text: str, *, width")

REPORT = """
import textkit
print(textkit.wrap("signature based linking", 40))
"""


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store"


def textkit(tmp_path: Path, version: str, source: str) -> Path:
    return make_wheel(tmp_path, "textkit", version, {"textkit/__init__.py": source})


def test_calls_not_fitting_the_version_built_against_are_a_build_error(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install(capsys, store, textkit(tmp_path, "1.0.0", WRAP_1), textkit(tmp_path, "2.0.0", WRAP_2))
    app = make_app(tmp_path, REPORT + 'textkit.escape("<", "extra")\n')
    code, out, err = siglink(capsys, "build", str(app), "--store", str(store),
                             "--against", "textkit==2.0.0")
    assert (code, out) == (1, "")
    assert err == (
        f"siglink: error: {app}: 2 calls not accepted by the version built against:\n"
        "  app.py:2: textkit.wrap(_, _): P6: the call passes 2 positional arguments, the "
        "signature takes 1; textkit 2.0.0 has wrap(text: str, *, width: int = ...) -> list[str]\n"
        "  app.py:3: textkit.escape(_, _): P6: the call passes 2 positional arguments, the "
        "signature takes 1; textkit 2.0.0 has escape(text: str) -> str\n")
    assert not Path(app_manifest_path(str(app))).exists()
    # By default no version fits escape("<", "extra") either: still an error, never a claim
    # that the version chosen serves every use.
    code, out, err = siglink(capsys, "build", str(app), "--store", str(store))
    assert (code, out) == (1, "")
    assert "app.py:3: textkit.escape(_, _): P6" in err
    assert "textkit.wrap" not in err  # 1.0.0 accepts wrap(_, _)


def test_recorded_calls_are_checked_even_when_the_digest_is_identical(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A manifest recorded against 2.0.0 (as ``siglink run`` does): the link moves to the
    version whose signature accepts the calls, or is refused; the app never dies of it."""
    install(capsys, store, textkit(tmp_path, "2.0.0", WRAP_2))
    app = make_app(tmp_path, REPORT)
    built = build_api(Store(store), str(app), misfits="record", register=False)
    assert built.misfits == ("app.py:2: textkit.wrap(_, _): P6: the call passes 2 positional "
                             "arguments, the signature takes 1; textkit 2.0.0 has wrap(text: "
                             "str, *, width: int = ...) -> list[str]",)
    code, out, err = siglink(capsys, "plan", str(app), "--store", str(store))
    assert (code, out) == (127, "")
    assert "P6 textkit.wrap param *args: expected f(_, _)" in err
    assert "textkit 2.0.0 identical" not in err
    run = subprocess.run([sys.executable, "-m", "siglink", "run", str(app)], capture_output=True,
                         text=True, env={**_env(), "SIGLINK_STORE": str(store)}, check=False)
    assert run.returncode == 127, run.stderr
    assert "TypeError" not in run.stderr
    install(capsys, store, textkit(tmp_path, "1.0.0", WRAP_1))
    plan = plan_json(capsys, store, app)
    assert plan["links"]["textkit"]["version"] == "1.0.0"
    [rejected] = plan["rejected"]["textkit"]
    assert (rejected["version"], rejected["problems"][0]["rule"]) == ("2.0.0", "P6")
    # Calls that fit keep the identical fast path.
    fits = make_app(tmp_path, 'import textkit\ntextkit.wrap("x", width=3)\n', "fits.py")
    build_app(capsys, store, fits, "--against", "textkit==2.0.0")
    assert plan_json(capsys, store, fits)["links"]["textkit"]["verdict"]["status"] == "identical"


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "SIGLINK_STORE"}


def test_optional_uses_are_recorded_and_never_refuse(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install(capsys, store, textkit(tmp_path, "1.0.0", WRAP_1))
    app = make_app(tmp_path, """
        from __future__ import annotations
        from typing import TYPE_CHECKING
        import textkit
        try:
            from textkit import fast_wrap
        except ImportError:
            fast_wrap = None
        try:
            import ujson_not_installed_zz
        except ImportError:
            ujson_not_installed_zz = None
        if TYPE_CHECKING:
            from textkit import Hint
        def show(hint: Hint) -> None:
            print(hint)
        if fast_wrap is not None:
            fast_wrap("x", 1, 2, 3)
        print(textkit.wrap("x", 1))
    """)
    code, out, err = siglink(capsys, "build", str(app), "--store", str(store), "--json")
    assert code == 0, err
    built = json.loads(out)
    imports = {i["path"]: i.get("optional", False) for i in built["imports"]["textkit"]}
    assert imports == {"textkit.fast_wrap": True, "textkit.Hint": True, "textkit.wrap": False}
    assert built["unserved"] == {}
    assert built["unprovided"] == {"ujson_not_installed_zz": [
        {"path": "ujson_not_installed_zz", "calls": [], "calls_complete": False,
         "location": "app.py:9", "optional": True}]}
    assert "not provided" not in err
    plan = plan_json(capsys, store, app)
    assert plan["links"]["textkit"]["version"] == "1.0.0"


def test_a_module_no_library_provides_refuses_the_link(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/design.md §5: the environment takes part only when asked. ``packaging`` is installed in
    the running environment (siglink needs it), and not in the store."""
    install(capsys, store, textkit(tmp_path, "1.0.0", WRAP_1))
    app = make_app(tmp_path, """
        import textkit
        import packaging.version
        print(packaging.version.Version("1.0"), textkit.escape("<"))
    """)
    code, _, err = siglink(capsys, "build", str(app), "--store", str(store))
    assert code == 0
    assert ("app.py:2: module packaging is not provided by any library in the store: its link "
            "is refused until one is") in err
    why = ("packaging: imported by app.py:2 but no library in the store provides it (siglink "
           "install packaging==VERSION, or run with --environment)")
    code, out, err = siglink(capsys, "plan", str(app), "--store", str(store))
    assert (code, out) == (127, "")
    assert err == f"siglink: error: cannot link {app_manifest_path(str(app))}:\n  {why}\n"
    run = subprocess.run([sys.executable, "-m", "siglink", "run", str(app)], capture_output=True,
                         text=True, env={**_env(), "SIGLINK_STORE": str(store)}, check=False)
    assert (run.returncode, run.stdout) == (127, "")
    assert why in run.stderr
    # Asked for, the environment provides it.
    plan = plan_json(capsys, store, app, "--environment")
    assert plan["links"]["packaging"]["source"] == "environment"
    assert plan["links"]["textkit"]["source"] == "store"
    # A library installed later provides it, with no rebuild.
    install(capsys, store, make_wheel(tmp_path, "packaging-fork", "9.0", {
        "packaging/__init__.py": "", "packaging/version.py": "class Version:\n"
        "    def __init__(self, text: str) -> None: ...\n"}))
    plan = plan_json(capsys, store, app)
    assert plan["links"]["packaging-fork"]["version"] == "9.0"


def test_relations_between_the_library_s_own_classes_are_known(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``make`` now returns a subclass of what it returned: narrowed, harmless (P12), which
    needs the provider's class graph (without it: widened, P13)."""
    classes = "class Animal:\n    pass\nclass Dog(Animal):\n    pass\n"
    install(capsys, store,
            make_wheel(tmp_path, "zoo", "1.0", {"zoo/__init__.py":
                                                classes + "def make() -> Animal: ...\n"}),
            make_wheel(tmp_path, "zoo", "1.1", {"zoo/__init__.py":
                                                classes + "def make() -> Dog: ...\n"}))
    app = make_app(tmp_path, "import zoo\npet = zoo.make()\n")
    build_app(capsys, store, app, "--against", "zoo==1.0")
    link = plan_json(capsys, store, app)["links"]["zoo"]
    assert link["version"] == "1.1"
    assert [(p["rule"], p["severity"]) for p in link["verdict"]["problems"]] == [
        ("P12", "harmless")]


def test_the_build_table_says_when_no_version_serves_every_use(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install(capsys, store, textkit(tmp_path, "1.0.0", WRAP_1), textkit(tmp_path, "2.0.0", WRAP_2))
    app = make_app(tmp_path, 'import textkit\ntextkit.escape("<")\ntextkit.shout("x")\n')
    code, out, err = siglink(capsys, "build", str(app), "--store", str(store))
    assert code == 0, err
    assert out.splitlines()[1:] == [
        "library  built against  names  chosen",
        "textkit  2.0.0          2      no version serves every use (lacks 1)"]
    assert ("no version of textkit serves every use; built against 2.0.0, which lacks "
            "textkit.shout") in err
    built = build_app(capsys, store, app)
    assert built["unserved"] == {"textkit": ["textkit.shout (missing)"]}
    fine = make_app(tmp_path, 'import textkit\ntextkit.escape("<")\n', "fine.py")
    code, out, _ = siglink(capsys, "build", str(fine), "--store", str(store))
    assert out.splitlines()[2] == "textkit  2.0.0          1      newest serving every use"
