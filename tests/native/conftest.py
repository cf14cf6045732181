"""Fixtures for the native tests: the sl_demo library compiled by gcc in three versions."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from native_clib import VERSIONS, build_sl_demo, header


@pytest.fixture(scope="session")
def sl_built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each version compiled once, manifest embedded; tests copy before changing them."""
    from siglink.native import manifest

    root = tmp_path_factory.mktemp("sl_demo")
    built: dict[str, Path] = {}
    for version in VERSIONS:
        lib = build_sl_demo(version, root / version)
        manifest.embed(lib, manifest.build(lib, header(version), cache=False), output=None)
        built[version] = lib
    return built


@pytest.fixture
def sl_demo(sl_built: dict[str, Path], tmp_path: Path) -> dict[str, Path]:
    """Fresh copies of the built libraries (with manifests) for one test."""
    copies: dict[str, Path] = {}
    for version, lib in sl_built.items():
        target = tmp_path / "libs" / version / lib.name
        target.parent.mkdir(parents=True)
        shutil.copy2(lib, target)
        copies[version] = target
    return copies
