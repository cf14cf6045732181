"""Many registrations naming one manifest: each command parses it once, and a manifest larger
than 8 MiB is skipped (one warning) without being read."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from siglink.cli.main import main
from siglink.contracts.manifest import Manifest
from siglink.link import plan
from siglink.store import Store

WheelMaker = Callable[..., Path]
CODE = "def greet(who):\n    return 'hi ' + who\n"


@pytest.fixture
def registered(tmp_path: Path, make_wheel: WheelMaker,
               capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    root = tmp_path / "store"
    store = Store(root)
    store.install([str(make_wheel("textkit", "1.0.0", {"textkit/__init__.py": CODE}))])
    app = tmp_path / "app" / "app.py"
    app.parent.mkdir()
    app.write_text("import textkit\nprint(textkit.greet('x'))\n")
    assert main(["build", str(app), "--store", str(root)]) == 0, capsys.readouterr()
    [manifest] = app.parent.glob("*.siglink.json")
    for i in range(30):
        store.register_app(f"{app}#{i}", manifest_path=str(manifest),
                           links={"textkit": "1.0.0"})
    store.close()
    capsys.readouterr()
    return root, manifest


def test_one_manifest_is_parsed_once_per_command(
        registered: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    root, manifest = registered
    parsed: list[str | None] = []
    loads = Manifest.loads

    def counting(text: Any, *args: Any, **kwargs: Any) -> Manifest:
        parsed.append(kwargs.get("source"))
        return loads(text, *args, **kwargs)

    monkeypatch.setattr(plan, "_PARSED", {}, raising=False)
    monkeypatch.setattr(Manifest, "loads", staticmethod(counting))
    assert main(["apps", "--store", str(root)]) == 0
    out = capsys.readouterr().out
    assert out.count("healthy") == 31, out  # the build registered one too
    assert parsed.count(str(manifest)) == 1


def test_a_manifest_over_8_mib_is_skipped_unread(
        registered: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    root, manifest = registered
    with open(manifest, "ab") as f:
        f.truncate(9 << 20)
    assert main(["apps", "--store", str(root)]) == 0
    captured = capsys.readouterr()
    assert "healthy" not in captured.out
    assert f"its manifest {manifest} is larger than 8 MiB" in captured.err
    assert os.path.getsize(manifest) == 9 << 20
