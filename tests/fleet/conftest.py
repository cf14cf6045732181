"""Fixtures for the fleet tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fleetfixtures import Cli, snapshot_of


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path / "store", capsys)


@pytest.fixture
def snapshot() -> Callable[[Path], dict[str, object]]:
    return snapshot_of
