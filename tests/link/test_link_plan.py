"""``siglink build`` and ``siglink plan`` end to end, on real wheels in temporary stores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from linkfixtures import build_app, install, make_app, make_wheel, plan_json, siglink

from siglink.link import _cache
from siglink.link.app import Application, app_manifest_path

GREET_1_0 = """
def greet(who: str, *, loud: bool = False) -> str:
    return who.upper() if loud else who
"""
GREET_1_1 = """
def greet(who: str, *, loud: bool = False, end: str = "") -> str:
    return (who.upper() if loud else who) + end
"""
GREET_2_0 = """
def greet(who: str, times: int, *, loud: bool = False) -> str:
    return who * times
"""


def textkit(tmp_path: Path, version: str, source: str, **kwargs: object) -> Path:
    return make_wheel(tmp_path, "textkit", version, {"textkit/__init__.py": source},
                      **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store"


APP = """
import textkit
print(textkit.greet("x"))
"""


def test_newest_compatible_version_is_linked(tmp_path: Path, store: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    install(capsys, store, textkit(tmp_path, "1.0.0", GREET_1_0),
            textkit(tmp_path, "1.1.0", GREET_1_1))
    app = make_app(tmp_path, APP)
    built = build_app(capsys, store, app, "--against", "textkit==1.0.0")
    assert built["against"] == {"textkit": "1.0.0"}
    # Built against 1.0.0, registered with what it links now.
    _, out, _ = siglink(capsys, "who-uses", "textkit", "--json", "--store", str(store))
    assert [(u["manifest"], u["version"]) for u in json.loads(out)] == [
        (app_manifest_path(str(app)), "1.1.0")]
    plan = plan_json(capsys, store, app)
    link = plan["links"]["textkit"]
    assert link["version"] == "1.1.0"
    assert link["source"] == "store"
    assert link["path"] == str(store / "libs" / "textkit" / "1.1.0")
    assert link["verdict"]["ok"]
    assert [(p["rule"], p["severity"]) for p in link["verdict"]["problems"]] == [
        ("P2", "harmless")]
    assert plan["rejected"] == {}
    # The warm plan is written for 'run'.
    manifest_path = app_manifest_path(str(app))
    plan_file = _cache.plan_file(str(store), manifest_path, "", "")
    record = _cache.read_valid_plan(plan_file, str(store), Application.resolve(str(app)))
    assert record is not None
    assert record["links"]["textkit"]["version"] == "1.1.0"


def test_incompatible_newer_version_is_rejected_with_explanation(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install(capsys, store, textkit(tmp_path, "1.0.0", GREET_1_0),
            textkit(tmp_path, "2.0.0", GREET_2_0))
    app = make_app(tmp_path, APP)
    built = build_app(capsys, store, app)
    # The default build version serves every use: 2.0.0's greet needs ``times``.
    assert built["against"] == {"textkit": "1.0.0"}
    plan = plan_json(capsys, store, app)
    assert plan["links"]["textkit"]["version"] == "1.0.0"
    [rejected] = plan["rejected"]["textkit"]
    assert rejected["version"] == "2.0.0"
    [problem] = rejected["problems"]
    assert problem["rule"] == "P3"
    assert problem["path"] == "textkit.greet param times"
    assert problem["found"] == "times: int"
    code, out, _ = siglink(capsys, "plan", str(app), "--store", str(store))
    assert code == 0
    assert "textkit 2.0.0 refused: P3 textkit.greet param times" in out


def test_link_refused_lists_every_candidate(tmp_path: Path, store: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    install(capsys, store, textkit(tmp_path, "2.0.0", GREET_2_0))
    app = make_app(tmp_path, "import textkit\ntextkit.greet('x', 2)\ntextkit.shout('x')\n")
    build_app(capsys, store, app)
    install(capsys, store, textkit(tmp_path, "3.0.0", "def greet(who: bytes) -> str: ...\n"))
    code, out, err = siglink(capsys, "plan", str(app), "--store", str(store))
    assert code == 127
    assert out == ""
    assert "cannot link" in err
    assert "textkit 3.0.0: refused" in err
    assert "the application uses textkit.shout, which textkit 3.0.0 does not export (P1)" in err
    assert "textkit 2.0.0: refused" in err
    assert err.endswith(
        "  unsatisfied imports from textkit:\n"
        "    textkit.shout: no version of textkit exports it (versions tried: 3.0.0, 2.0.0)\n"
        "    textkit.greet: incompatible in 3.0.0\n")
    assert "expected absent, found absent" not in err


def test_transitive_requirements_are_linked(tmp_path: Path, store: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    install(
        capsys, store,
        make_wheel(tmp_path, "alpha", "1.0", {"alpha/__init__.py": "def fa() -> int: ...\n"},
                   ["beta>=1.5", "gamma; extra == 'extra'", "delta; python_version < '3'"]),
        make_wheel(tmp_path, "beta", "1.0", {"beta/__init__.py": "X = 1\n"}),
        make_wheel(tmp_path, "beta", "1.6", {"beta/__init__.py": "X = 1\n"}),
        make_wheel(tmp_path, "beta", "2.0", {"beta/__init__.py": "X = 1\n"},
                   requires_python=">=3.99"),
    )
    app = make_app(tmp_path, "from alpha import fa\nfa()\n")
    build_app(capsys, store, app)
    plan = plan_json(capsys, store, app)
    assert {n: link["version"] for n, link in plan["links"].items()} == {
        "alpha": "1.0", "beta": "1.6"}
    [rejected] = plan["rejected"]["beta"]
    assert "Requires-Python >=3.99" in rejected["problems"][0]["note"]


def test_missing_required_distribution_refuses_the_link(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install(capsys, store, make_wheel(tmp_path, "alpha", "1.0",
                                      {"alpha/__init__.py": "def fa() -> int: ...\n"}, ["beta"]))
    app = make_app(tmp_path, "import alpha\nalpha.fa()\n")
    build_app(capsys, store, app)
    code, _, err = siglink(capsys, "plan", str(app), "--store", str(store))
    assert code == 127
    assert "needed by alpha==1.0" in err
    assert "beta is not in the store" in err


def test_backtracking_picks_an_older_dependent(tmp_path: Path, store: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """A 2.0 requires B<2 while the app needs B 2.x's new function: A 1.0 is picked."""
    install(
        capsys, store,
        make_wheel(tmp_path, "liba", "1.0", {"liba/__init__.py": "def fa() -> int: ...\n"},
                   ["libb"]),
        make_wheel(tmp_path, "liba", "2.0", {"liba/__init__.py": "def fa() -> int: ...\n"},
                   ["libb<2"]),
        make_wheel(tmp_path, "libb", "1.0", {"libb/__init__.py": "def old() -> int: ...\n"}),
        make_wheel(tmp_path, "libb", "2.0", {"libb/__init__.py":
                                             "def old() -> int: ...\ndef new() -> int: ...\n"}),
    )
    app = make_app(tmp_path, "import liba, libb\nliba.fa()\nlibb.new()\n")
    build_app(capsys, store, app)
    plan = plan_json(capsys, store, app)
    assert plan["links"]["liba"]["version"] == "1.0"
    assert plan["links"]["libb"]["version"] == "2.0"
    [rejected] = plan["rejected"]["liba"]
    assert rejected["version"] == "2.0"
    assert "libb<2" in rejected["problems"][0]["note"]


def test_requires_python_and_pre_releases(tmp_path: Path, store: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    install(capsys, store, textkit(tmp_path, "1.0.0", GREET_1_0),
            textkit(tmp_path, "1.1.0", GREET_1_1, requires_python=">=4"),
            textkit(tmp_path, "1.2.0rc1", GREET_1_1))
    app = make_app(tmp_path, APP)
    build_app(capsys, store, app)
    plan = plan_json(capsys, store, app)
    assert plan["links"]["textkit"]["version"] == "1.0.0"
    notes = {r["version"]: r["problems"][0]["note"] for r in plan["rejected"]["textkit"]}
    assert notes == {
        "1.2.0rc1": "pre-release (use --pre)",
        "1.1.0": "Requires-Python >=4 excludes this interpreter "
                 f"({'.'.join(map(str, __import__('sys').version_info[:3]))})",
    }
    plan = plan_json(capsys, store, app, "--pre")
    assert plan["links"]["textkit"]["version"] == "1.2.0rc1"


def test_yanked_versions(tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    install(capsys, store, textkit(tmp_path, "1.0.0", GREET_1_0),
            textkit(tmp_path, "1.1.0", GREET_1_1))
    app = make_app(tmp_path, APP)
    build_app(capsys, store, app)
    code, _, _ = siglink(capsys, "yank", "textkit==1.1.0", "--reason", "CVE-1", "--store",
                         str(store))
    assert code == 0
    assert plan_json(capsys, store, app)["links"]["textkit"]["version"] == "1.0.0"
    plan = plan_json(capsys, store, app, "--allow-yanked")
    assert plan["links"]["textkit"]["version"] == "1.1.0"
    assert any("yanked (CVE-1)" in w for w in plan["warnings"])
    siglink(capsys, "yank", "textkit==1.0.0", "--reason", "broken build", "--store", str(store))
    code, _, err = siglink(capsys, "plan", str(app), "--store", str(store))
    assert code == 127
    assert "textkit 1.1.0: yanked: CVE-1" in err
    assert "textkit 1.0.0: yanked: broken build" in err


def test_semver_and_strict_policies(tmp_path: Path, store: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    install(capsys, store, textkit(tmp_path, "1.0.0", GREET_1_0),
            textkit(tmp_path, "2.0.0", GREET_1_1))
    app = make_app(tmp_path, APP)
    build_app(capsys, store, app, "--against", "textkit==1.0.0")
    assert plan_json(capsys, store, app)["links"]["textkit"]["version"] == "2.0.0"
    plan = plan_json(capsys, store, app, "--policy", "semver")
    assert plan["policy"] == "semver"
    assert plan["links"]["textkit"]["version"] == "1.0.0"
    assert "textkit==1.*" in plan["rejected"]["textkit"][0]["problems"][0]["note"]
    # The project's pyproject sets the policy when --policy is not given.
    (app.parent / "pyproject.toml").write_text('[tool.siglink]\npolicy = "semver"\n')
    assert plan_json(capsys, store, app)["links"]["textkit"]["version"] == "1.0.0"


def test_strict_policy_refuses_a_changed_default(tmp_path: Path, store: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    changed = GREET_1_0.replace("loud: bool = False", "loud: bool = True")
    install(capsys, store, textkit(tmp_path, "1.0.0", GREET_1_0),
            textkit(tmp_path, "1.0.1", changed))
    app = make_app(tmp_path, "import textkit\nprint(textkit.greet('x'))\nf = textkit.greet\n")
    build_app(capsys, store, app, "--against", "textkit==1.0.0")
    plan = plan_json(capsys, store, app)
    link = plan["links"]["textkit"]
    assert link["version"] == "1.0.1"
    assert [p["rule"] for p in link["verdict"]["problems"]] == ["P9"]
    assert link["verdict"]["problems"][0]["severity"] == "review"
    strict = plan_json(capsys, store, app, "--policy", "strict")
    assert strict["links"]["textkit"]["version"] == "1.0.0"
    assert strict["rejected"]["textkit"][0]["problems"][0]["rule"] == "P9"


def test_usage_mode_links_a_renamed_keyword_never_passed(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    renamed = "def greet(person: str, *, loud: bool = False) -> str:\n    return person\n"
    install(capsys, store, textkit(tmp_path, "1.0.0", GREET_1_0),
            textkit(tmp_path, "1.1.0", renamed))
    positional = make_app(tmp_path, APP, "positional.py")
    by_keyword = make_app(tmp_path, "import textkit\ntextkit.greet(who='x')\n", "keyword.py")
    passed_on = make_app(tmp_path, "import textkit\nlist(map(textkit.greet, 'ab'))\n",
                         "passed.py")
    for app in (positional, by_keyword, passed_on):
        build_app(capsys, store, app, "--against", "textkit==1.0.0")
    link = plan_json(capsys, store, positional)["links"]["textkit"]
    assert link["version"] == "1.1.0"
    assert link["verdict"]["status"].startswith("usage-compatible")
    assert link["verdict"]["usage_compatible"] is True
    for app in (by_keyword, passed_on):
        plan = plan_json(capsys, store, app)
        assert plan["links"]["textkit"]["version"] == "1.0.0"
        assert plan["rejected"]["textkit"][0]["problems"][0]["rule"] == "P16"


def test_dynamic_uses_are_reported(tmp_path: Path, store: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    install(capsys, store, make_wheel(tmp_path, "textkit", "1.0.0", {
        "textkit/__init__.py": GREET_1_0, "textkit/_internal.py": "def _helper() -> int: ...\n"}))
    app = make_app(tmp_path, """
        import sys
        import textkit
        from textkit._internal import _helper
        name = sys.argv[1]
        getattr(textkit, name)()
        getattr(textkit, "greet")("x")
    """)
    code, _, err = siglink(capsys, "build", str(app), "--store", str(store))
    assert code == 0
    assert "app.py:3: private name textkit._internal._helper" in err
    assert "app.py:5: getattr(textkit, ...) with a non-literal name: not checked" in err
    manifest = json.loads(Path(app_manifest_path(str(app))).read_text())
    imports = {i["path"]: i for i in manifest["imports"]["textkit"]}
    assert imports["textkit"]["dynamic"] == "getattr"
    assert imports["textkit._internal._helper"]["dynamic"] == "private"
    assert imports["textkit.greet"]["calls"] == [
        {"positional": 1, "keywords": [], "star_args": False, "star_kwargs": False}]
    plan = plan_json(capsys, store, app)
    assert plan["links"]["textkit"]["version"] == "1.0.0"
    assert any("dynamic use of textkit (getattr)" in w for w in plan["warnings"])


def test_third_party_consumer_with_call_shapes_only(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A library built with siglink records how it calls textkit, not the signatures."""
    shipped = {"format": 1, "unit": {"name": "fancy", "version": "1.0", "kind": "library"},
               "imports": {"textkit": [{"path": "textkit.greet", "calls": [
                   {"positional": 1, "keywords": ["loud"]}], "calls_complete": True}]}}
    install(capsys, store, textkit(tmp_path, "1.0.0", GREET_1_0),
            textkit(tmp_path, "2.0.0", GREET_2_0),
            textkit(tmp_path, "3.0.0", "def greet(who: str, times: int = 1) -> str: ...\n"),
            make_wheel(tmp_path, "fancy", "1.0", {"fancy/__init__.py": "def show() -> None: ...\n"},
                       ["textkit"], manifest=shipped))
    app = make_app(tmp_path, "import fancy\nfancy.show()\n")
    build_app(capsys, store, app)
    plan = plan_json(capsys, store, app)
    link = plan["links"]["textkit"]
    assert link["version"] == "1.0.0"
    assert link["verdict"]["unverified"]
    assert link["verdict"]["status"].endswith("(unverified)")
    refused = {r["version"]: r["problems"] for r in plan["rejected"]["textkit"]}
    assert set(refused) == {"2.0.0", "3.0.0"}
    assert all(p["path"].startswith("fancy==1.0 textkit.greet") for p in refused["3.0.0"])


def test_syntax_error_names_file_and_line(tmp_path: Path, store: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    app = make_app(tmp_path, "import os\ndef f(:\n    pass\n")
    code, _, err = siglink(capsys, "build", str(app), "--store", str(store))
    assert code == 2
    assert err.startswith(f"siglink: error: {app.name}:2: syntax error: ")
    assert err.count("\n") == 1


def test_plan_without_build_and_bad_against(tmp_path: Path, store: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    app = make_app(tmp_path, APP)
    code, _, err = siglink(capsys, "plan", str(app), "--store", str(store))
    assert code == 2
    assert f"run 'siglink build {app}' first" in err
    install(capsys, store, textkit(tmp_path, "1.0.0", GREET_1_0))
    code, _, err = siglink(capsys, "build", str(app), "--store", str(store),
                           "--against", "textkit==9.9")
    assert code == 2
    assert "textkit==9.9" in err
    code, _, err = siglink(capsys, "build", str(app), "--store", str(store), "--against", "x")
    assert (code, err) == (2, "siglink: error: --against 'x': expected NAME==VERSION\n")


def test_directory_and_project_applications(tmp_path: Path, store: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    install(capsys, store, textkit(tmp_path, "1.0.0", GREET_1_0))
    directory = tmp_path / "dirapp"
    (directory / "helpers").mkdir(parents=True)
    (directory / "__main__.py").write_text("from helpers import run\nrun()\n")
    (directory / "helpers" / "__init__.py").write_text(
        "import textkit\ndef run():\n    textkit.greet('x', loud=True)\n")
    built = build_app(capsys, store, directory)
    assert built["app"] == str(directory / "siglink.json")
    assert built["entry"] == "script:__main__.py"
    assert [i["path"] for i in built["imports"]["textkit"]] == ["textkit.greet"]
    project = tmp_path / "proj"
    (project / "src" / "tool").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[project]\nname = "tool"\n[project.scripts]\ntool = "tool.cli:main"\n')
    (project / "src" / "tool" / "__init__.py").write_text("")
    (project / "src" / "tool" / "cli.py").write_text(
        "from tool import __name__ as n\nfrom textkit import greet\ndef main():\n"
        "    greet(n)\n")
    built = build_app(capsys, store, project)
    assert built["entry"] == "func:tool.cli:main"
    assert set(built["imports"]) == {"textkit"}
    assert plan_json(capsys, store, project)["links"]["textkit"]["version"] == "1.0.0"
