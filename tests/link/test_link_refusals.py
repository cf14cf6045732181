"""How a refused or impossible link is told: ``plan --json``, long lists, conflicting
requirements, third-party notes, a damaged store, and relinking after a store change."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from linkfixtures import build_app, install, make_app, make_wheel, plan_json, siglink

from siglink.link.app import app_manifest_path
from siglink.link.impact import AppImpact, predict
from siglink.link.plan import relink
from siglink.store import Store

GREET = "def greet(who: str) -> str:\n    return who\n"


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store"


def test_plan_json_on_a_refused_link(tmp_path: Path, store: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    install(capsys, store, make_wheel(tmp_path, "textkit", "1.0", {"textkit/__init__.py": GREET}))
    app = make_app(tmp_path, "import textkit\ntextkit.greet('x')\n")
    build_app(capsys, store, app)
    siglink(capsys, "yank", "textkit==1.0", "--reason", "CVE-9", "--store", str(store))
    code, out, err = siglink(capsys, "plan", str(app), "--store", str(store), "--json")
    assert code == 127
    data = json.loads(out)
    manifest = app_manifest_path(str(app))
    assert data == {
        "app": manifest, "policy": "signature", "links": {},
        "rejected": {"textkit": [{"version": "1.0", "problems": [
            {"rule": "", "note": "yanked: CVE-9; otherwise compatible (--allow-yanked)",
             "severity": "incompatible"}]}]},
        "warnings": [], "error": data["error"]}
    assert data["error"].startswith(f"cannot link {manifest}:\n")
    assert "textkit 1.0: yanked: CVE-9" in data["error"]
    assert err.startswith(f"siglink: error: cannot link {manifest}:")


def test_a_long_list_of_names_is_limited(tmp_path: Path, store: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    names = [f"n{i:02}" for i in range(30)]
    body = "".join(f"def {n}() -> int: ...\n" for n in names)
    install(capsys, store, make_wheel(tmp_path, "many", "1.0", {"many/__init__.py": body}))
    app = make_app(tmp_path, "import many\n" + "".join(f"many.{n}()\n" for n in names))
    build_app(capsys, store, app)
    install(capsys, store, make_wheel(tmp_path, "many", "2.0", {"many/__init__.py": "X = 1\n"}))
    siglink(capsys, "yank", "many==1.0", "--reason", "gone", "--store", str(store))
    code, _, err = siglink(capsys, "plan", str(app), "--store", str(store))
    assert code == 127
    assert ("    needed by the application: uses many.n00, many.n01, many.n02, many.n03, "
            "many.n04, many.n05, many.n06, many.n07 and 22 more\n") in err
    assert "      and 20 more problems\n" in err
    assert "    and 20 more\n" in err
    assert max(len(line) for line in err.splitlines()) < 200
    code, out, _ = siglink(capsys, "plan", str(app), "--store", str(store), "--json")
    refused = {r["version"]: r["problems"] for r in json.loads(out)["rejected"]["many"]}
    assert sorted(p["path"] for p in refused["2.0"]) == [f"many.{n}" for n in names]


def test_conflicting_requirements_are_named(tmp_path: Path, store: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    install(capsys, store,
            make_wheel(tmp_path, "liba", "1.0", {"liba/__init__.py": "def fa() -> int: ...\n"},
                       ["libb>=2"]),
            make_wheel(tmp_path, "libb", "1.0", {"libb/__init__.py": GREET}),
            make_wheel(tmp_path, "libb", "2.0", {"libb/__init__.py": GREET}))
    app = make_app(tmp_path, "import liba, libb\nliba.fa()\nlibb.greet('x')\n")
    build_app(capsys, store, app)
    [impact] = predict(Store(store), yank=[("libb", "2.0")], reason="CVE-7")
    assert (impact.status, impact.before, impact.after) == (
        "stop", {"liba": "1.0", "libb": "2.0"}, None)
    assert impact.reason == ("libb: liba 1.0 requires libb>=2 (refuses 1.0); 2.0 is yanked "
                             "(otherwise compatible)")
    code, out, _ = siglink(capsys, "yank", "libb==2.0", "--reason", "CVE-7", "--dry-run",
                           "--store", str(store))
    assert code == 0
    assert "liba 1.0 requires libb>=2" in out
    assert "conflicting requirements" not in out


def test_unverified_notes_are_not_repeated(tmp_path: Path, store: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """A third-party library calling a class whose constructor neither side recorded."""
    install(capsys, store,
            make_wheel(tmp_path, "base", "1.0", {"base/__init__.py": "class Box(dict):\n"
                                                 "    pass\n"}),
            make_wheel(tmp_path, "user", "1.0", {"user/__init__.py": "import base\n"
                                                 "def run() -> None:\n    base.Box(a=1)\n"},
                       ["base"]))
    app = make_app(tmp_path, "import user\nuser.run()\n")
    build_app(capsys, store, app)
    unverified = plan_json(capsys, store, app)["links"]["base"]["verdict"]["unverified"]
    assert unverified == ["base.Box signature: recorded by neither the consumer nor the "
                          "provider, not checked"]


def test_a_damaged_store_is_an_error_not_the_environment(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``packaging`` is installed in the running environment: with its store copy gone, the app
    must not silently import the environment's."""
    install(capsys, store, make_wheel(tmp_path, "packaging", "99.0", {
        "packaging/__init__.py": "__version__ = '99.0'\ndef where() -> str:\n"
                                 "    return __file__\n"}))
    app = make_app(tmp_path, "import packaging\nprint(packaging.where())\n")
    build_app(capsys, store, app)
    env = {**_env(), "SIGLINK_STORE": str(store)}
    command = [sys.executable, "-m", "siglink", "run", str(app)]
    first = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert first.stdout.startswith(str(store)), first.stderr  # warm plan cached now
    lib = store / "libs" / "packaging" / "99.0"
    shutil.rmtree(lib / "packaging-99.0.dist-info")
    why = (f"siglink: error: store damaged: {lib}/packaging-99.0.dist-info is missing; "
           "reinstall packaging==99.0 or remove it\n")
    again = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert (again.returncode, again.stdout, again.stderr) == (3, "", why)
    shutil.rmtree(lib)
    code, out, err = siglink(capsys, "plan", str(app), "--store", str(store))
    assert (code, out) == (3, "")
    assert err == (f"siglink: error: store damaged: {lib} is missing; reinstall "
                   "packaging==99.0 or remove it\n")


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "SIGLINK_STORE"}


def test_relink_records_every_application_and_never_stops(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install(capsys, store,
            make_wheel(tmp_path, "textkit", "1.0", {"textkit/__init__.py": GREET}),
            make_wheel(tmp_path, "textkit", "1.1", {"textkit/__init__.py": GREET}))
    first = make_app(tmp_path, "import textkit\ntextkit.greet('x')\n", "first.py")
    gone = make_app(tmp_path, "import textkit\ntextkit.greet('y')\n", "gone.py")
    shout = make_app(tmp_path, "import textkit\ntextkit.greet('z')\n", "shout.py")
    for app in (first, gone, shout):
        build_app(capsys, store, app)
    Path(app_manifest_path(str(gone))).unlink()
    lib = Store(store)
    lib.yank("textkit", "1.1", "CVE-1")
    ids = [app_manifest_path(str(a)) for a in (first, gone, shout)]
    outcomes = relink(lib, ids)
    assert [(o.app_id, o.before, o.after, o.status) for o in outcomes] == [
        (ids[0], {"textkit": "1.1"}, {"textkit": "1.0"}, "move"),
        (ids[1], None, None, "stay"),  # its manifest is gone: pruned from the store
        (ids[2], {"textkit": "1.1"}, {"textkit": "1.0"}, "move"),
    ]
    assert all(isinstance(o, AppImpact) for o in outcomes)
    assert outcomes[0].reason == "textkit 1.1 -> 1.0"
    assert outcomes[1].reason == f"still cannot link: {ids[1]} is not registered"
    registered = {a.app_id: a for a in Store(store).apps()}
    assert registered[ids[0]].links == {"textkit": "1.0"}
    assert ids[1] not in registered
    # Every registered application by default; an unknown id is reported, not raised.
    lib.yank("textkit", "1.0", "CVE-2")
    outcomes = relink(lib)
    assert {o.app_id: o.status for o in outcomes} == {ids[0]: "stop", ids[2]: "stop"}
    assert outcomes[0].reason == ("textkit: no eligible version: 1.1 and 1.0 are yanked "
                                  "(otherwise compatible)")
    [unknown] = relink(lib, ["/nowhere/x.siglink.json"])
    assert (unknown.status, unknown.reason) == ("stay", "still cannot link: "
                                                "/nowhere/x.siglink.json is not registered")
