"""Yanks: a yanked version is never linked again. Once a yank or unyank has committed, the
store rewrites the ``.yanked`` markers and ``ROOT/yanks.json`` (``{name: {version: reason}}``)
so that the warm path sees it and ``siglink store repair`` can restore it when the index is
lost (:mod:`~siglink.store._yankfiles`; :meth:`StoreCore.change` does it after COMMIT).

>>> set_yank(StoreCore("/nonexistent/store"), "textkit", "1.0", "CVE-1")
Traceback (most recent call last):
siglink.store._records.NotInStoreError: textkit==1.0 is not in the store (no store at ...)
"""

from __future__ import annotations

from packaging.utils import canonicalize_name

from siglink.errors import BadInputError
from siglink.store import _queries
from siglink.store._core import StoreCore
from siglink.store._records import NotInStoreError

__all__ = ["set_yank"]


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
            changes.touch([row.name])  # markers and yanks.json follow the commit
        return row.yanked
