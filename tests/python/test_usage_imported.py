"""A name imported and never used is still a use: the version linked must provide it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from siglink.python.usage import analyze_source

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "link"))
from linkfixtures import build_app, install, make_app, make_wheel, plan_json


def test_imported_but_unused_names_are_uses() -> None:
    usage = analyze_source("from zlib0 import f, g as h\nfrom zlib0 import k\nk(1)\n", "a.py")
    assert sorted(usage.uses) == ["zlib0.f", "zlib0.g", "zlib0.k"]
    assert (usage.uses["zlib0.f"].calls, usage.uses["zlib0.f"].other) == ([], False)
    assert usage.uses["zlib0.f"].location == "a.py:1"
    assert usage.uses["zlib0.k"].location == "a.py:3"  # the call, as before
    assert len(usage.uses["zlib0.k"].calls) == 1


def test_a_chain_through_the_name_is_its_use() -> None:
    usage = analyze_source("from zlib0 import sub\nprint(sub.x)\n", "a.py")
    assert sorted(usage.uses) == ["zlib0.sub.x"]


def test_optional_import_stays_optional() -> None:
    usage = analyze_source("try:\n    from zlib0 import f\nexcept ImportError:\n    f = None\n",
                           "a.py")
    assert usage.uses["zlib0.f"].optional


def test_plan_refuses_a_version_without_the_imported_name(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store"
    install(capsys, store,
            make_wheel(tmp_path, "zlib0", "1.0.0",
                       {"zlib0/__init__.py": "def f():\n    pass\ndef g():\n    pass\n"}),
            make_wheel(tmp_path, "zlib0", "1.1.0", {"zlib0/__init__.py": "def g():\n    pass\n"}))
    app = make_app(tmp_path, "from zlib0 import f\nprint('ok')\n")
    built = build_app(capsys, store, app)
    assert built["against"] == {"zlib0": "1.0.0"}
    [imported] = built["imports"]["zlib0"]
    assert (imported["path"], imported["built_against"]) == ("zlib0.f", "1.0.0")
    plan = plan_json(capsys, store, app)
    assert plan["links"]["zlib0"]["version"] == "1.0.0"
    assert "1.1.0" in json.dumps(plan["rejected"]["zlib0"])
