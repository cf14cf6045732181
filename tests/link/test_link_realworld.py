"""Linking against real releases from PyPI that removed a name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from linkfixtures import build_app, install, make_app, plan_json, siglink


@pytest.fixture
def markupsafe_store(tmp_path: Path, pypi: Any, capsys: pytest.CaptureFixture[str]) -> Path:
    root = tmp_path / "store"
    # 2.0.1 has no wheel for this interpreter: the store builds the sdist into one.
    install(capsys, root, pypi.fetch("markupsafe==2.0.1", kind="sdist"),
            pypi.fetch("markupsafe==2.1.5"))
    return root


@pytest.mark.network
def test_markupsafe_soft_unicode(tmp_path: Path, markupsafe_store: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    uses_it = make_app(tmp_path, "from markupsafe import soft_unicode, escape\n"
                       "print(soft_unicode(escape('<a>')))\n", "old.py")
    plain = make_app(tmp_path, "import markupsafe\nprint(markupsafe.escape('<a>'))\n", "new.py")
    built = build_app(capsys, markupsafe_store, uses_it)
    assert built["against"] == {"markupsafe": "2.0.1"}
    plan = plan_json(capsys, markupsafe_store, uses_it)
    assert plan["links"]["markupsafe"]["version"] == "2.0.1"
    [refused] = plan["rejected"]["markupsafe"]
    assert refused["version"] == "2.1.5"
    assert [(p["rule"], p["path"]) for p in refused["problems"]] == [
        ("P1", "markupsafe.soft_unicode")]
    code, out, _ = siglink(capsys, "plan", str(uses_it), "--store", str(markupsafe_store))
    assert code == 0
    assert "markupsafe 2.1.5 refused: P1 markupsafe.soft_unicode" in out

    build_app(capsys, markupsafe_store, plain)
    plan = plan_json(capsys, markupsafe_store, plain)
    assert plan["links"]["markupsafe"]["version"] == "2.1.5"


@pytest.mark.network
def test_werkzeug_url_quote(tmp_path: Path, markupsafe_store: Path, pypi: Any,
                            capsys: pytest.CaptureFixture[str]) -> None:
    install(capsys, markupsafe_store, pypi.fetch("werkzeug==2.3.8"),
            pypi.fetch("werkzeug==3.0.1"))
    old = make_app(tmp_path, "import werkzeug.urls\nprint(werkzeug.urls.url_quote('a b'))\n",
                   "old.py")
    new = make_app(tmp_path, "from werkzeug.utils import secure_filename\n"
                   "print(secure_filename('a b'))\n", "new.py")
    assert build_app(capsys, markupsafe_store, old)["against"]["werkzeug"] == "2.3.8"
    plan = plan_json(capsys, markupsafe_store, old)
    versions = {n: link["version"] for n, link in plan["links"].items()}
    # Werkzeug requires MarkupSafe>=2.1.1: linked too, though the app never imports it.
    assert versions == {"werkzeug": "2.3.8", "markupsafe": "2.1.5"}
    [refused] = plan["rejected"]["werkzeug"]
    assert refused["version"] == "3.0.1"
    assert [(p["rule"], p["path"]) for p in refused["problems"]] == [
        ("P1", "werkzeug.urls.url_quote")]

    build_app(capsys, markupsafe_store, new)
    plan = plan_json(capsys, markupsafe_store, new)
    assert {n: link["version"] for n, link in plan["links"].items()} == {
        "werkzeug": "3.0.1", "markupsafe": "2.1.5"}
