"""Version constraints an application declares, on top of the signature checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fleetfixtures import Cli

from siglink.demo.wheels import make_wheel

CODE = "def greet(who):\n    return 'hi ' + who\n"
APP = "import textkit\nprint(textkit.greet('x'))\n"


@pytest.fixture
def textkits(cli: Cli, tmp_path: Path) -> None:
    wheels = [make_wheel(tmp_path / "wheels", "textkit", v, {"textkit/__init__.py": CODE})
              for v in ("1.0.0", "1.1.0", "2.0.0")]
    cli.ok("install", *map(str, wheels))


def _app(folder: Path, **files: str) -> Path:
    folder.mkdir()
    (folder / "app.py").write_text(APP)
    for name, text in files.items():
        (folder / name.replace("_", ".")).write_text(text)
    return folder / "app.py"


@pytest.mark.parametrize(("files", "expected"), [
    ({"pyproject_toml": '[project]\nname = "a"\nversion = "0"\n'
                        'dependencies = ["textkit>=1,<2", "other"]\n'}, "1.1.0"),
    ({"pyproject_toml": '[tool.siglink]\nconstraints = ["textkit<1.1"]\n'}, "1.0.0"),
    ({"requirements_txt": "# pinned by ops\ntextkit==1.1.0 \\\n    --hash=sha256:00\n"
                          "--index-url https://example.org/simple\n"}, "1.1.0"),
    ({"requirements_txt": "textkit<3 ; python_version < '3'\n"}, "2.0.0"),  # marker false
    ({}, "2.0.0"),
])
def test_declared_constraints_decide(cli: Cli, textkits: None, tmp_path: Path,
                                     files: dict[str, str], expected: str) -> None:
    app = _app(tmp_path / "app", **files)
    cli.ok("build", str(app))
    plan = json.loads(cli.ok("plan", str(app), "--json"))
    assert plan["links"]["textkit"]["version"] == expected
    if expected != "2.0.0":
        [problems] = [r["problems"] for r in
                      plan["rejected"]["textkit"] if r["version"] == "2.0.0"]
        assert problems[0]["note"].startswith("excluded by the application's constraint ")
    assert cli.run_app(app).stdout == "hi x\n"


def test_plan_shows_the_constraint_as_the_reason(cli: Cli, textkits: None,
                                                 tmp_path: Path) -> None:
    app = _app(tmp_path / "app", requirements_txt="textkit~=1.0.0\n")
    cli.ok("build", str(app))
    out = cli.ok("plan", str(app))
    assert "  textkit 2.0.0 refused: excluded by the application's constraint " \
           "textkit~=1.0.0" in out.splitlines()


def test_a_constraint_nothing_stored_meets_refuses_the_link(cli: Cli, textkits: None,
                                                            tmp_path: Path) -> None:
    app = _app(tmp_path / "app", requirements_txt="textkit>=3\n")
    cli.ok("build", str(app))  # built against the newest; the link is refused
    code, _, err = cli("plan", str(app))
    assert code == 127
    assert "excluded by the application's constraints" in err


def test_malformed_constraint_is_bad_input(cli: Cli, textkits: None, tmp_path: Path) -> None:
    app = _app(tmp_path / "app", requirements_txt="textkit>=1\ntextkit >= = 2\n")
    code, out, err = cli("build", str(app))
    assert (code, out) == (2, "")
    assert err.startswith(f"siglink: error: {tmp_path / 'app' / 'requirements.txt'}:2: "
                          "'textkit >= = 2' is not a requirement (")
    assert err.count("\n") == 1


@pytest.mark.network
def test_an_app_declaring_rich_below_13_8_stays_while_another_takes_the_newest(
    cli: Cli, tmp_path: Path
) -> None:
    source = "import rich\nfrom rich.text import Text\nprint(Text('hi').plain)\n"
    held = _app(tmp_path / "held", pyproject_toml='[project]\nname = "held"\nversion = "0"\n'
                                                  'dependencies = ["rich>=13,<13.8"]\n')
    free = _app(tmp_path / "free")
    for app in (held, free):
        app.write_text(source)
    cli.ok("install", "rich==13.7.1")
    for app in (held, free):
        cli.ok("build", str(app))
    out = cli.ok("install", "rich")
    newest = out.splitlines()[0].removeprefix("installed rich==")
    assert not newest.startswith("13.7")
    lines = out.splitlines()
    assert f"  {held}: rich stays on 13.7.1: rich {newest} is excluded by the " \
           "application's constraint rich<13.8,>=13" in lines
    assert f"  {free}: 13.7.1 -> {newest}" in lines
    for app, version in ((held, "13.7.1"), (free, newest)):
        plan = json.loads(cli.ok("plan", str(app), "--json"))
        assert plan["links"]["rich"]["version"] == version
        assert cli.run_app(app).stdout == "hi\n"
