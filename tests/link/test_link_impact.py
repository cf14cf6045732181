"""``siglink.link.impact.predict``: how an install or a yank would move registered apps."""

from __future__ import annotations

from pathlib import Path

import pytest
from linkfixtures import build_app, install, make_app, make_wheel, plan_json

from siglink.link.app import app_manifest_path
from siglink.link.impact import AppImpact, predict
from siglink.store import Store

GREET_1_0 = "def greet(who: str, *, loud: bool = False) -> str: ...\n"
GREET_1_1 = "def greet(who: str, *, loud: bool = False, end: str = '') -> str: ...\n"
GREET_2_0 = "def greet(who: str, times: int) -> str: ...\n"


def wheel(tmp_path: Path, version: str, source: str) -> Path:
    return make_wheel(tmp_path, "textkit", version, {"textkit/__init__.py": source})


def test_predict_move_stay_stop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "store"
    install(capsys, root, wheel(tmp_path, "1.0.0", GREET_1_0))
    app = make_app(tmp_path, "import textkit\ntextkit.greet('x')\n")
    other = make_app(tmp_path, "import textkit\ntextkit.greet('x', loud=True)\n", "other.py")
    for a in (app, other):
        build_app(capsys, root, a)
        assert plan_json(capsys, root, a)["links"]["textkit"]["version"] == "1.0.0"
    app_id = app_manifest_path(str(app))
    store = Store(root)
    generation = store.generation

    compatible = store.preview([str(wheel(tmp_path, "1.1.0", GREET_1_1))])
    impacts = {i.app_id: i for i in predict(store, add=compatible)}
    assert impacts[app_id] == AppImpact(app_id, {"textkit": "1.0.0"}, {"textkit": "1.1.0"},
                                        "move", "textkit 1.0.0 -> 1.1.0")
    assert impacts[app_manifest_path(str(other))].status == "move"

    breaking = store.preview([str(wheel(tmp_path, "2.0.0", GREET_2_0))])
    impacts = {i.app_id: i for i in predict(store, add=breaking)}
    assert impacts[app_id] == AppImpact(app_id, {"textkit": "1.0.0"}, {"textkit": "1.0.0"},
                                        "stay", "no change")

    [impact, _] = sorted(predict(store, yank=[("textkit", "1.0.0")], reason="CVE-1"),
                         key=lambda i: i.app_id)
    assert impact == AppImpact(app_id, {"textkit": "1.0.0"}, None, "stop",
                               "textkit: no eligible version: 1.0.0 is yanked "
                               "(otherwise compatible)")

    # Yanking the old version while adding a compatible one moves instead of stopping.
    impacts = {i.app_id: i for i in predict(store, add=compatible,
                                            yank=[("textkit", "1.0.0")])}
    assert impacts[app_id].status == "move"
    # A prediction writes nothing.
    assert store.generation == generation
    assert [v.version for v in store.versions("textkit")] == ["1.0.0"]
