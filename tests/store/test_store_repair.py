"""The index is never trusted to delete: a missing, empty or corrupt index stops every command
(exit 3, one line naming ``siglink store repair``) with ``libs/`` intact, and ``store repair``
rebuilds a store that runs the same applications."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from siglink.cli.main import main
from siglink.store import Store

WheelMaker = Callable[..., Path]

V1 = "def greet(who):\n    return 'hello ' + who\n"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _libs(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): "dir" if p.is_dir() else
            hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((root / "libs").rglob("*"))}


def _run_module(root: Path, app: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "siglink", "run", "--store", str(root), "-m",
                           app.stem], check=False, capture_output=True, text=True, timeout=300,
                          cwd=app.parent)


def _run_app(root: Path, app: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "siglink", "run", "--store", str(root),
                           str(app)], check=False, capture_output=True, text=True, timeout=300)


@pytest.fixture
def shop(tmp_path: Path, make_wheel: WheelMaker,
         capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    root = tmp_path / "store"
    for version in ("1.0.0", "1.0.1"):
        wheel = make_wheel("textkit", version, {"textkit/__init__.py": V1})
        assert run(capsys, "install", str(wheel), "--store", str(root))[0] == 0
    assert run(capsys, "yank", "textkit==1.0.1", "--reason", "CVE-1", "--store",
               str(root))[0] == 0
    app = tmp_path / "hello.py"
    app.write_text("import textkit\nprint(textkit.greet('x'))\n")
    code, _, err = run(capsys, "build", str(app), "--store", str(root))
    assert code == 0, err
    ran = _run_app(root, app)
    assert (ran.returncode, ran.stdout) == (0, "hello x\n"), ran.stderr
    return root, app


def _corrupt_middle(index: Path) -> None:
    """Overwrite the middle of every page but the first (the header and schema stay
    readable, so the file opens; every table's pages are damaged)."""
    data = bytearray(index.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    for start in range(page, len(data), page):
        data[start + page // 4: start + 3 * page // 4] = b"\xa5" * (page // 2)
    index.write_bytes(bytes(data))


DAMAGE: dict[str, Callable[[Path], object]] = {
    "truncated": lambda index: index.write_bytes(b""),
    "deleted": lambda index: index.unlink(),
    "garbage": lambda index: index.write_bytes(os.urandom(64) + b"garbage" * 500),
    "half": lambda index: index.write_bytes(index.read_bytes()[:2048]),
    "mid-file": _corrupt_middle,
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_every_command_refuses_and_repair_restores(
        shop: tuple[Path, Path], damage: str, make_wheel: WheelMaker, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    root, app = shop
    libs = _libs(root)
    DAMAGE[damage](root / "index.sqlite")
    other = make_wheel("otherlib", "1.0", {"otherlib/__init__.py": V1})
    advisory = tmp_path / "advisory.json"
    advisory.write_text(json.dumps({
        "id": "PYSEC-0000-1", "modified": "2024-01-01T00:00:00Z",
        "affected": [{"package": {"ecosystem": "PyPI", "name": "textkit"},
                      "versions": ["1.0.0"]}]}))
    commands = [
        ["list"], ["list", "--json"], ["show", "textkit"], ["show", "textkit==1.0.0"],
        ["install", str(other)], ["remove", "textkit==1.0.0"], ["remove", "textkit==1.0.0",
                                                                 "--force"],
        ["yank", "textkit==1.0.0", "--reason", "x"], ["unyank", "textkit==1.0.1"],
        ["who-uses", "textkit"], ["build", str(app)], ["plan", str(app)],
        ["verify"], ["verify", "textkit==1.0.0"], ["gc"], ["gc", "--dry-run"],
        ["audit", "--no-index", "--advisories", str(advisory)], ["apps"], ["forget", str(app)],
        ["sbom", str(app)], ["bundle", str(app), "-o", str(tmp_path / "hello.pyz")],
    ]
    for argv in commands:
        code, out, err = run(capsys, *argv, "--store", str(root))
        assert code == 3, (argv, out, err)
        assert err.count("\n") == 1 and "siglink store repair" in err, (argv, err)
        assert _libs(root) == libs, argv
    # run, cold (no cached plan to start from): refused the same way
    for plan in (root / "plans").rglob("*"):
        if plan.is_file():
            plan.unlink()
    ran = _run_app(root, app)
    assert ran.returncode == 3 and "siglink store repair" in ran.stderr, ran
    assert _libs(root) == libs
    ran = _run_module(root, app)  # run -m, cold
    assert ran.returncode == 3 and "siglink store repair" in ran.stderr, ran
    assert ran.stderr.count("\n") == 1, ran.stderr
    assert _libs(root) == libs

    code, out, err = run(capsys, "store", "repair", "--store", str(root))
    assert code == 0, (out, err)
    assert "adopted 2 versions: textkit==1.0.0, textkit==1.0.1" in out
    assert "restored 1 yank: textkit==1.0.1" in out
    assert _libs(root) == libs
    listing = run(capsys, "list", "--json", "--store", str(root))
    assert json.loads(listing[1]) == [{"name": "textkit", "versions": [
        {"version": "1.0.1", "yanked": "CVE-1", "source": "store"},
        {"version": "1.0.0", "yanked": None, "source": "store"}]}]
    ran = _run_app(root, app)
    assert (ran.returncode, ran.stdout) == (0, "hello x\n"), ran.stderr
    ran = _run_module(root, app)
    assert (ran.returncode, ran.stdout) == (0, "hello x\n"), ran.stderr
    # the repaired store takes changes again
    assert run(capsys, "install", str(other), "--store", str(root))[0] == 0


def test_repair_keeps_registrations_it_can_read(
        shop: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    root, _ = shop
    before = [(a.app_id, a.links) for a in Store(root).apps()]
    assert before
    code, out, _ = run(capsys, "store", "repair", "--store", str(root))
    assert code == 0, out
    assert "restored 1 registered application" in out
    assert [(a.app_id, a.links) for a in Store(root).apps()] == before


def test_repair_reports_what_it_cannot_adopt(
        shop: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    root, _ = shop
    (root / "index.sqlite").unlink()
    broken = root / "libs" / "textkit" / "1.0.0"
    next(broken.glob("*.dist-info/siglink.json")).unlink()
    code, out, _ = run(capsys, "store", "repair", "--store", str(root))
    assert code == 1
    assert f"not restored: {broken}: not adopted (no siglink.json manifest); left in place" in out
    assert broken.is_dir()
    assert Store(root).installed() == {("textkit", "1.0.1")}
    assert Store(root).get("textkit", "1.0.1").yanked == "CVE-1"  # from yanks.json


def test_an_unknown_directory_is_never_deleted(
        shop: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """A version directory the index does not know (copied in by hand) is not the index's to
    delete: it stays."""
    import shutil

    root, _ = shop
    shutil.copytree(root / "libs/textkit/1.0.0", root / "libs/textkit/9.0")
    assert run(capsys, "list", "--store", str(root))[0] == 0
    assert (root / "libs/textkit/9.0").is_dir()
    assert Store(root).installed() == {("textkit", "1.0.0"), ("textkit", "1.0.1")}
