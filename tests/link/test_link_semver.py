"""``--policy semver`` counts the major as ``siglink diff`` does (0.x: the leftmost non-zero
component)."""

from __future__ import annotations

from pathlib import Path

import pytest
from linkfixtures import build_app, install, make_app, make_wheel, plan_json

from siglink.cli.contracts import major_bump
from siglink.link._model import semver_major

GREET = "def greet(who):\n    return who\n"
APP = "import zlib0\nprint(zlib0.greet('x'))\n"


@pytest.mark.parametrize(("version", "major"), [
    ((0, 1, 0), "0.1"), ((0, 0, 3), "0.0.3"), ((2, 4, 1), "2"), ((0, 2), "0.2"), ((0,), "0.0.0"),
    ((1,), "1"),
])
def test_semver_major(version: tuple[int, ...], major: str) -> None:
    assert semver_major(version) == major


@pytest.mark.parametrize(("old", "new"), [
    ("0.1.0", "0.1.5"), ("0.1.0", "0.2.0"), ("0.0.3", "0.0.4"), ("0.0.3", "0.0.3.1"),
    ("1.2.0", "1.9.0"), ("1.2.0", "2.0.0"),
])
def test_same_rule_as_diff(old: str, new: str) -> None:
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

    within = Version(new) in SpecifierSet(f"=={semver_major(Version(old).release)}.*")
    assert within == (not major_bump(old, new))


@pytest.mark.parametrize(("built", "linked"), [("0.1.0", "0.1.5"), ("0.0.3", "0.0.3")])
def test_plan_stays_within_the_0x_major(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        built: str, linked: str) -> None:
    store = tmp_path / "store"
    install(capsys, store, *(make_wheel(tmp_path, "zlib0", v, {"zlib0/__init__.py": GREET})
                             for v in ("0.0.3", "0.0.4", "0.1.0", "0.1.5", "0.2.0")))
    app = make_app(tmp_path, APP)
    build_app(capsys, store, app, "--against", f"zlib0=={built}")
    assert plan_json(capsys, store, app)["links"]["zlib0"]["version"] == "0.2.0"
    plan = plan_json(capsys, store, app, "--policy", "semver")
    assert plan["links"]["zlib0"]["version"] == linked
