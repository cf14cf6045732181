"""The store: versions of libraries side by side, an SQLite index, a generation counter.

Opening a store creates nothing; the first change does, and each change bumps the generation:

>>> import shutil, tempfile
>>> root = tempfile.mkdtemp()
>>> store = Store(root + "/store")
>>> store.exists, store.names(), store.generation
(False, [], 0)
>>> store.bump(), store.exists
(1, True)
>>> store.close()
>>> shutil.rmtree(root)
"""

from __future__ import annotations

from siglink.store._records import version_key
from siglink.store.store import (
    DamagedIndexError,
    InstallResult,
    NotInStoreError,
    RegisteredApp,
    Store,
    StoredVersion,
    StoreLockedError,
    app_display,
    default_root,
)

__all__ = [
    "DamagedIndexError",
    "InstallResult",
    "NotInStoreError",
    "RegisteredApp",
    "Store",
    "StoreLockedError",
    "StoredVersion",
    "app_display",
    "default_root",
    "version_key",
]


def __dir__() -> list[str]:
    return list(__all__)
