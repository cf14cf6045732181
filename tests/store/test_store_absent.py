"""A ``--store`` path that holds no store (mistyped, or not made yet): commands that read say so
and create nothing; ``store repair`` refuses (exit 2) instead of making an empty store."""

from __future__ import annotations

from pathlib import Path

import pytest

from siglink.cli.main import main
from siglink.errors import BadInputError
from siglink.store import Store


@pytest.fixture(params=["missing", "empty directory"])
def nowhere(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    root = tmp_path / "no-store"
    if request.param == "empty directory":
        root.mkdir()
    return root


def _left(root: Path) -> list[str] | None:
    """What is at ``root`` (None: nothing at all)."""
    return sorted(p.name for p in root.iterdir()) if root.exists() else None


def test_store_repair_refuses_a_path_with_no_store(
        nowhere: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _left(nowhere)
    code = main(["store", "repair", "--store", str(nowhere)])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err == (f"siglink: error: {nowhere}: no siglink store here (nothing to repair; "
                   "check --store or $SIGLINK_STORE)\n")
    assert _left(nowhere) == before


def test_the_api_refuses_it_too(nowhere: Path) -> None:
    with pytest.raises(BadInputError) as info:
        Store(nowhere).repair()
    assert info.value.path == str(nowhere)
    assert _left(nowhere) in (None, [])


@pytest.mark.parametrize(("argv", "code", "said"), [
    (["list"], 0, "no store at {root}\n"),
    (["verify"], 0, "no store at {root}: nothing to verify\n"),
    (["gc"], 0, "no store at {root}\n"),
    (["gc", "--dry-run"], 0, "no store at {root}\n"),
    (["update", "--dry-run"], 0, "no store at {root}\n"),
    (["apps"], 0, "no registered applications in {root}\n"),
    (["verify", "textkit"], 2, "textkit is not in the store (no store at {root})"),
    (["show", "textkit"], 2, "textkit is not in the store (no store at {root})"),
    (["who-uses", "textkit"], 2, "textkit is not in the store (no store at {root})"),
    (["yank", "textkit==1.0", "--reason", "x"], 2,
     "textkit==1.0 is not in the store (no store at {root})"),
    (["unyank", "textkit==1.0"], 2, "textkit==1.0 is not in the store (no store at {root})"),
    (["remove", "textkit==1.0"], 2, "textkit==1.0 is not in the store (no store at {root})"),
])
def test_other_commands_say_there_is_no_store_and_create_nothing(
        nowhere: Path, argv: list[str], code: int, said: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    before = _left(nowhere)
    assert main([*argv, "--store", str(nowhere)]) == code
    out, err = capsys.readouterr()
    if code == 0:
        assert (out, err) == (said.format(root=nowhere), "")
    else:
        assert (out, err) == ("", f"siglink: error: {said.format(root=nowhere)}\n")
    assert _left(nowhere) == before
