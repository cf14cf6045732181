"""Removing one version: the index forgets it and names its directory garbage in one commit;
then, lock still held, the directory moves into ``.staging/`` (which nobody holds, so recovery
deletes it if this process dies) and is deleted after the lock is released, so that deleting
it can never touch a concurrent reinstall of the same version. The garbage entry is dropped
only once the directory is gone: one that cannot be moved nor deleted (an immutable or
read-only directory) keeps its entry, so the next change to the store tries again, and the
caller is told which path was left.

>>> remove(StoreCore("/nonexistent/store"), "textkit", "1.0")
Traceback (most recent call last):
siglink.store._records.NotInStoreError: textkit==1.0 is not in the store (no store at ...)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from packaging.utils import canonicalize_name

from siglink.errors import StoreError
from siglink.store import _queries, _registry
from siglink.store._core import StoreCore, _warn
from siglink.store._records import NotInStoreError, app_display

__all__ = ["remove"]


def __dir__() -> list[str]:
    return list(__all__)


def remove(core: StoreCore, name: str, version: str, *, force: bool = False,
           on_left: Callable[[str], None] | None = None) -> list[str]:
    """Remove one version; refused while a registered application links it, unless forced.

    Returns the ids of the applications that linked it (forced): their registrations now
    say the version was removed, until they are linked again. ``on_left`` is told, in one
    line naming the path, when the removal committed but its files could not be deleted
    (default: a warning on stderr).
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
        trash, left = _trash(core, core.root / row.path)
        if left is None:
            with index.transaction():
                index.drop_garbage(row.path)
    if left is not None:
        (on_left or _warn)(f"removed {row.name}=={row.version} from the index, but {left}; "
                           "the next change to the store tries to delete it again")
    if trash is not None:
        shutil.rmtree(trash, ignore_errors=True)
    return unlinked


def _trash(core: StoreCore, path: Path) -> tuple[Path | None, str | None]:
    """Move ``path`` into a fresh staging directory (lock held), else delete it in place:
    that directory (None when deleted in place), and why ``path`` is still there (None when
    it is gone)."""
    trash: Path | None = None
    with contextlib.suppress(OSError):
        trash = Path(tempfile.mkdtemp(prefix="removed-", dir=core.staging))
    if trash is not None:
        try:
            os.replace(path, trash / path.name)
        except OSError:
            with contextlib.suppress(OSError):
                trash.rmdir()
            trash = None
    left = None if trash is not None else _delete(path)
    with contextlib.suppress(OSError):
        path.parent.rmdir()  # only if that was its last version
    return trash, left


def _delete(path: Path) -> str | None:
    """Delete the directory ``path``; why it is still there (naming it), or None."""
    errors: list[BaseException] = []
    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=lambda _f, _p, e: errors.append(e))
    else:
        shutil.rmtree(path, onerror=lambda _f, _p, info: errors.append(info[1]))
    if not os.path.lexists(path):
        return None
    first = errors[0] if errors else None
    why = getattr(first, "strerror", None) or "it could not be deleted"
    where = getattr(first, "filename", None) or path
    return f"{path} is still there ({where}: {why})"
