"""Yanks: a yanked version is never linked again. Every yank and unyank also rewrites
``ROOT/yanks.json`` (``{name: {version: reason}}``, before the index commits) so that
``siglink store repair`` can restore them when the index is lost.

>>> read_journal("/nonexistent/yanks.json")
{}
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from packaging.utils import canonicalize_name

from siglink._files import write_atomic
from siglink._json import JSONTextError, loads
from siglink._layout import YANK_MARKER
from siglink.errors import BadInputError
from siglink.store import _queries
from siglink.store._core import StoreCore
from siglink.store._records import NotInStoreError
from siglink.store.index import Index

__all__ = ["read_journal", "set_yank", "write_journal"]


def __dir__() -> list[str]:
    return list(__all__)


def set_yank(core: StoreCore, name: str, version: str, reason: str | None) -> str | None:
    """Yank ``name==version`` for ``reason`` (``None``: unyank). Returns the reason it was
    yanked for before (``None``: not yanked); the same state changes nothing."""
    if reason is not None and not reason.strip():
        raise BadInputError("a yank needs a reason (--reason TEXT)")
    name = canonicalize_name(name)
    if core.reader() is None:
        raise NotInStoreError(name, version, hint=core.where)
    with core.change() as (index, changes):
        row = index.get(name, version)
        if row is None:
            _queries.get(core, name, version)  # raises with the versions present
            raise NotInStoreError(name, version)
        if row.yanked != reason:
            index.set_yanked(row.name, row.version, reason)
            changes.touch([row.name])
            write_journal(core, index)
        return row.yanked


def write_journal(core: StoreCore, index: Index) -> None:
    """Rewrite ``yanks.json`` with the yanks ``index`` holds (inside its transaction), and put
    a ``.yanked`` marker in each yanked version's directory (the warm path's view of yanks)."""
    yanks: dict[str, dict[str, str]] = {}
    for row in index.all_versions():
        if row.yanked is not None:
            yanks.setdefault(row.name, {})[row.version] = row.yanked
        marker = core.root / row.path / YANK_MARKER
        if row.yanked is not None and not marker.exists():
            write_atomic(marker, (row.yanked + "\n").encode(), mode=0o644)
        elif row.yanked is None and marker.exists():
            marker.unlink()
    text = json.dumps(yanks, indent=1, sort_keys=True) + "\n"
    write_atomic(core.layout.yanks, text.encode(), mode=0o644)


def read_journal(path: str) -> Mapping[str, Mapping[str, str]]:
    """The yanks ``yanks.json`` records; empty when absent or unreadable."""
    try:
        with open(path, "rb") as f:
            data = loads(f.read(1 << 24))
    except (OSError, JSONTextError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        str(name): {str(v): str(r) for v, r in versions.items() if isinstance(r, str)}
        for name, versions in data.items() if isinstance(versions, dict)
    }
