"""Removing one version: the index forgets it and names its directory garbage in one commit;
then, lock still held, the directory moves into ``.staging/`` (which nobody holds, so recovery
deletes it if this process dies) and is deleted after the lock is released, so that deleting
it can never touch a concurrent reinstall of the same version.

>>> remove(StoreCore("/nonexistent/store"), "textkit", "1.0")
Traceback (most recent call last):
siglink.store._records.NotInStoreError: textkit==1.0 is not in the store (no store at ...)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from packaging.utils import canonicalize_name

from siglink.errors import StoreError
from siglink.store import _queries, _registry
from siglink.store._core import StoreCore
from siglink.store._records import NotInStoreError, app_display

__all__ = ["remove"]


def __dir__() -> list[str]:
    return list(__all__)


def remove(core: StoreCore, name: str, version: str, *, force: bool = False) -> list[str]:
    """Remove one version; refused while a registered application links it, unless forced.

    Returns the ids of the applications that linked it (forced): their registrations now
    say the version was removed, until they are linked again.
    """
    name = canonicalize_name(name)
    if core.reader() is None:
        raise NotInStoreError(name, version, hint=core.where)
    trash: Path | None = None
    with core.locked():
        with core.change() as (index, changes):
            row = index.get(name, version)
            if row is None:
                _queries.get(core, name, version)  # raises with the versions present
                raise NotInStoreError(name, version)
            users = [(a.app_id, a.manifest_path) for a, _ in
                     _registry.users(core, row.name, row.version)]
            if users and not force:
                ids = ", ".join(app_display(u[1]) for u in users)
                raise StoreError(
                    f"{row.name}=={row.version} is linked by {len(users)} registered "
                    f"application{'s' if len(users) > 1 else ''} ({ids}); use --force to "
                    "remove it anyway"
                )
            index.remove_version(row.name, row.version)
            unlinked = index.unlink_version(
                row.name, row.version,
                f"{row.name} {row.version} was removed; relinked at its next start")
            index.add_garbage(row.path)
            changes.touch([row.name])
        core.pause("removed")
        trash = _trash(core, core.root / row.path)
        with index.transaction():
            index.drop_garbage(row.path)
    if trash is not None:
        shutil.rmtree(trash, ignore_errors=True)
    return unlinked


def _trash(core: StoreCore, path: Path) -> Path | None:
    """Move ``path`` into a fresh staging directory (lock held); that directory."""
    trash: Path | None
    try:
        trash = Path(tempfile.mkdtemp(prefix="removed-", dir=core.staging))
        os.replace(path, trash / path.name)
    except OSError:
        shutil.rmtree(path, ignore_errors=True)
        trash = None
    with contextlib.suppress(OSError):
        path.parent.rmdir()  # only if that was its last version
    return trash
