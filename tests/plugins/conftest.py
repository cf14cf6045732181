"""Fixtures of the plugin tests: a real store holding the host, isolated imports."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pluginfixtures import HOST_1, install_host

from siglink.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "store")


@pytest.fixture
def chat(tmp_path: Path, store: Store) -> Path:
    """``chat`` 1.0 in the store; its source importable (the running host)."""
    return install_host(tmp_path, store, "1.0", HOST_1)


@pytest.fixture(autouse=True)
def _isolated_imports() -> Iterator[None]:
    """Plugins and hosts imported by a test do not outlive it (they reuse module names)."""
    from siglink.plugins import spec

    modules = set(sys.modules)
    path = list(sys.path)
    points = dict(spec._POINTS)
    yield
    for name in set(sys.modules) - modules:
        del sys.modules[name]
    sys.path[:] = path
    spec._POINTS.clear()
    spec._POINTS.update(points)


@pytest.fixture
def running(chat: Path) -> object:
    """The host's module, imported as the running host would."""
    sys.path.insert(0, str(chat))
    import chat as module  # type: ignore[import-not-found]

    return module
