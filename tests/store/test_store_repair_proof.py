"""``store repair`` trusts nothing it cannot prove: a yank that never committed leaves no trace
for it to restore; a file changed after install is refused (against the hashes recorded at
install, or the wheel's own RECORD when the old index is gone), so the version is reported and
never served; what it writes gets the store's fixed modes whatever the umask."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from siglink.cli.main import main
from siglink.store import Store

WheelMaker = Callable[..., Path]
DRIVER = str(Path(__file__).with_name("pause_driver.py"))
V1 = "def greet(who):\n    return 'hello ' + who\n"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def root(tmp_path: Path, make_wheel: WheelMaker) -> Path:
    root = tmp_path / "store"
    store = Store(root)
    store.install([str(make_wheel("textkit", v, {"textkit/__init__.py": V1}))
                   for v in ("1.0.0", "1.0.1")])
    store.yank("textkit", "1.0.1", "CVE-1")
    store.close()
    return root


def _kill_at(root: Path, point: str, *argv: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGLINK_TEST_")}
    env.update(SIGLINK_TEST_PAUSE_AT=point, SIGLINK_TEST_PAUSE_SECONDS="600")
    proc = subprocess.Popen([sys.executable, DRIVER, *argv, "--store", str(root)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=env)
    assert proc.stderr is not None
    assert proc.stderr.readline() == f"siglink: paused at {point}\n"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stderr.close()


@pytest.mark.parametrize("point", ["generation", "committed"])
def test_repair_restores_only_a_yank_that_committed(
        root: Path, point: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Killed before COMMIT: no marker, nothing in yanks.json, repair restores no yank.
    Killed after COMMIT, before the markers: repair restores it (the index proves it)."""
    _kill_at(root, point, "yank", "textkit==1.0.0", "--reason", "CVE-2")
    marker = root / "libs/textkit/1.0.0/.yanked"
    journal = json.loads((root / "yanks.json").read_text())
    committed = point == "committed"
    if not committed:  # nothing written before the commit
        assert not marker.exists()
        assert journal == {"textkit": {"1.0.1": "CVE-1"}}
    code, out, err = run(capsys, "store", "repair", "--store", str(root))
    assert code == 0, (out, err)
    expected = {"1.0.1": "CVE-1", **({"1.0.0": "CVE-2"} if committed else {})}
    store = Store(root)
    assert {v.version: v.yanked for v in store.versions("textkit") if v.yanked} == expected
    assert marker.exists() == committed
    assert json.loads((root / "yanks.json").read_text()) == {"textkit": expected}


@pytest.mark.parametrize("journal", ["kept", "emptied", "deleted"])
@pytest.mark.parametrize("content", ["CVE-X\n", "", "\x1b[2J\n"])
def test_repair_without_the_index_keeps_a_marker_yanked(
        root: Path, journal: str, content: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A marker yanks.json does not confirm keeps its version yanked (fail closed: an unyank
    is never repair's), with the marker's reason, and is reported; yanks.json's yanks come
    back; a yanks.json emptied or lost unyanks nothing."""
    stray = root / "libs/textkit/1.0.0/.yanked"
    stray.write_text(content)
    (root / "index.sqlite").unlink()
    if journal == "emptied":
        (root / "yanks.json").write_text("{}")
    elif journal == "deleted":
        (root / "yanks.json").unlink()
    code, out, _ = run(capsys, "store", "repair", "--store", str(root))
    assert code == 1, out
    reason = "CVE-X" if content.startswith("CVE") else (
        "[2J" if content.startswith("\x1b") else
        "kept by repair: marker without a journal entry")
    assert f"{stray}: a yank marker no committed yank confirms; kept yanked ({reason})" in out
    assert "removed" not in out
    assert stray.exists()
    store = Store(root)
    assert {v.version: v.yanked for v in store.versions("textkit")} == {  # 1.0.1 by either
        "1.0.0": reason, "1.0.1": "CVE-1"}
    assert (root / "libs/textkit/1.0.1/.yanked").exists()
    store.close()
    assert json.loads((root / "yanks.json").read_text())["textkit"]["1.0.0"] == reason


def test_repair_with_the_index_keeps_a_marker_it_does_not_confirm(
        root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Even a readable old index that says "not yanked" does not unyank a marked version: the
    marker is kept, its version stays yanked, and that is reported."""
    stray = root / "libs/textkit/1.0.0/.yanked"
    stray.write_text("CVE-Y\n")
    code, out, _ = run(capsys, "store", "repair", "--store", str(root))
    assert code == 1, out
    assert f"{stray}: a yank marker no committed yank confirms; kept yanked (CVE-Y)" in out
    assert stray.exists()
    assert {v.version: v.yanked for v in Store(root).versions("textkit")} == {
        "1.0.0": "CVE-Y", "1.0.1": "CVE-1"}


@pytest.mark.parametrize("index", ["deleted", "kept"])
@pytest.mark.parametrize("tamper", ["changed", "extra", "bytecode", "foreign-bytecode"])
def test_repair_never_blesses_a_changed_file(
        root: Path, index: str, tamper: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Against RECORD (index deleted) or the hashes recorded at install (index kept): a
    changed or unlisted file is reported and its version not adopted, so never served; a
    changed bytecode file is compiled again from its proven source."""
    version = root / "libs/textkit/1.0.0"
    source = version / "textkit/__init__.py"
    if tamper == "changed":
        source.write_text(V1 + "import os; os.system('echo owned')\n")
        what = "changed: textkit/__init__.py"
    elif tamper == "extra":
        (version / "textkit/evil.py").write_text("import os\n")
        what = ("not in RECORD: textkit/evil.py" if index == "deleted"
                else "extra: textkit/evil.py")
    elif tamper == "foreign-bytecode":  # what another interpreter would load: no proof
        planted = version / "textkit/__pycache__/__init__.cpython-399.pyc"
        planted.write_bytes(b"\0" * 64)
    else:
        pyc = next((version / "textkit/__pycache__").glob("__init__.*.pyc"))
        data = pyc.read_bytes()
        pyc.write_bytes(data[:-8] + b"\0" * 8)
    if index == "deleted":
        (root / "index.sqlite").unlink()
    code, out, _ = run(capsys, "store", "repair", "--store", str(root))
    store = Store(root)
    if tamper == "foreign-bytecode":
        assert code == 0, out
        assert f"deleted bytecode that no proven source compiles to: {planted}" in out, out
        assert not planted.exists()
        assert store.installed() == {("textkit", "1.0.0"), ("textkit", "1.0.1")}
        assert store.verify() == []
        return
    if tamper == "bytecode":
        # the source is proven: the bytecode is compiled again from it, as installed
        assert code == 0, out
        assert f"compiled again from its proven source: {pyc}" in out, out
        assert store.installed() == {("textkit", "1.0.0"), ("textkit", "1.0.1")}
        assert store.verify() == []
        assert pyc.read_bytes() == data
        return
    assert code == 1, out
    proof = ("textkit-1.0.0.dist-info/RECORD" if index == "deleted"
             else "the hashes recorded at install")
    assert (f"not restored: {version}: not adopted (could not prove its files against {proof}: "
            f"{what}); left in place") in out, out
    assert version.is_dir()  # left in place, untouched
    assert store.installed() == {("textkit", "1.0.1")}  # never served
    code, out, _ = run(capsys, "show", "textkit==1.0.0", "--store", str(root))
    assert code != 0, out


@pytest.fixture
def umask() -> Iterator[Callable[[int], None]]:
    old = os.umask(0o022)
    os.umask(old)
    yield lambda mask: os.umask(mask) and None
    os.umask(old)


@pytest.mark.parametrize("mask", [0o077, 0o000])
def test_what_repair_writes_gets_fixed_modes(root: Path, mask: int,
                                             umask: Callable[[int], None],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    (root / "index.sqlite").unlink()
    (root / "yanks.json").unlink()
    umask(mask)
    code, out, _ = run(capsys, "store", "repair", "--store", str(root))
    assert code in (0, 1), out
    modes = {name: (root / name).stat().st_mode & 0o777
             for name in ("index.sqlite", "index.public.sqlite", "generation", "yanks.json",
                          "libs")}
    assert modes == {"index.sqlite": 0o600, "index.public.sqlite": 0o644, "generation": 0o644,
                     "yanks.json": 0o644, "libs": 0o755}, {k: oct(v) for k, v in modes.items()}
    for path in (root / "libs").rglob("*"):
        assert path.stat().st_mode & 0o777 in (0o644, 0o755), path
