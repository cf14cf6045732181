"""Registered applications: what each links now, so that a change to the store can say whom
it moves and a removal can refuse a version in use."""

from __future__ import annotations

import os
from collections.abc import Mapping

from packaging.utils import canonicalize_name

from siglink.errors import SiglinkError, StoreError
from siglink.store._core import StoreCore
from siglink.store._records import RegisteredApp

__all__ = ["apps", "register_app", "users"]


def __dir__() -> list[str]:
    return list(__all__)


def register_app(core: StoreCore, app_id: str, *, manifest_path: str,
                 links: Mapping[str, str | None], refused: str | None = None) -> None:
    """Record what application ``app_id`` links now (``{library: version}``), or, with
    ``refused`` (why its link was refused), the libraries it needs (version ``None``).

    Does not advance the generation: a registration changes no application's link.
    A store that does not exist yet is not created for this when it was given by path (a
    mistyped ``--store``): :class:`StoreError` then, unless there is nothing to record (no
    library linked or needed).
    """
    normalized = {str(canonicalize_name(k)): v for k, v in links.items()}
    if core.explicit and not core.exists:
        if not normalized and refused is None:
            return
        raise StoreError(f"no store at {core.root}: {app_id} is not registered "
                         "(check --store or $SIGLINK_STORE)")
    index = core.reader()
    if index is not None and index.app(app_id) == (manifest_path, normalized, refused):
        return  # unchanged: written nothing (a refused removal leaves the store as it was)
    with core.locked():
        index = core.writer()
        with index.transaction():
            index.register_app(app_id, manifest_path, normalized, refused)


def apps(core: StoreCore) -> list[RegisteredApp]:
    """Applications registered by the linker, with what each links now.

    An application whose manifest file no longer exists (it was deleted) is left out, and
    forgotten when the store can be written.
    """
    index = core.reader()
    if index is None:
        return []
    found = [RegisteredApp(*row) for row in index.apps()]
    gone = [a.app_id for a in found if not os.path.exists(a.manifest_path)]
    if gone:
        try:
            with core.locked():
                writer = core.writer()
                with writer.transaction():
                    for app_id in gone:
                        writer.unregister_app(app_id)
        except (OSError, SiglinkError):
            pass  # a read-only store: left out, not forgotten
    return [a for a in found if a.app_id not in gone]


def users(core: StoreCore, name: str,
          version: str | None = None) -> list[tuple[RegisteredApp, str | None]]:
    """Registered applications linking ``name`` (``==version``), with the version linked;
    without ``version``, also those that need ``name`` but link no version of it now
    (``None``: see :attr:`RegisteredApp.refused`)."""
    index = core.reader()
    if index is None:
        return []
    known = {a.app_id: a for a in apps(core)}
    return [
        (known[app_id], linked)
        for app_id, _, linked in index.users(canonicalize_name(name), version)
        if app_id in known
    ]
