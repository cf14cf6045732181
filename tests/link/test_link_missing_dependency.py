"""A library requiring a version the store does not have says so, naming what it has."""

from __future__ import annotations

from pathlib import Path

import pytest
from linkfixtures import build_app, install, make_app, make_wheel, siglink

F = {"zlib0/__init__.py": "def f():\n    return 1\n"}


def test_no_stored_version_satisfies_a_dependency(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store"
    install(capsys, store, make_wheel(tmp_path, "zlib0", "0.1.0", F),
            make_wheel(tmp_path, "zlib0", "0.2.0", F))
    go = {"appkit/__init__.py": "def go():\n    return 2\n"}
    install(capsys, store, make_wheel(tmp_path, "appkit", "1.0.0", go),
            make_wheel(tmp_path, "appkit", "2.0.0", go, ["zlib0>=5"]))
    app = make_app(tmp_path, "import appkit\nimport zlib0\nappkit.go()\nzlib0.f()\n")
    build_app(capsys, store, app)
    code, out, err = siglink(capsys, "plan", str(app), "--store", str(store))
    assert code == 0, err
    assert ("appkit 2.0.0 refused: no stored version of zlib0 satisfies >=5 (the store has "
            "0.2.0, 0.1.0)") in out, out
    assert "needed by the others" not in out
