"""The store: versions of libraries side by side, an SQLite index, a generation counter."""

from __future__ import annotations

from siglink.store.store import (
    DamagedIndexError,
    InstallResult,
    NotInStoreError,
    RegisteredApp,
    Store,
    StoredVersion,
    app_display,
    default_root,
)

__all__ = [
    "DamagedIndexError",
    "InstallResult",
    "NotInStoreError",
    "RegisteredApp",
    "Store",
    "StoredVersion",
    "app_display",
    "default_root",
]


def __dir__() -> list[str]:
    return list(__all__)
