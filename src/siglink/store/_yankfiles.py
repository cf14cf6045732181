"""The yank state outside the index: ``ROOT/yanks.json`` and the ``.yanked`` markers.

``yanks.json`` (``{name: {version: reason}}``) lets ``siglink store repair`` restore yanks when
the index is lost; a ``libs/NAME/VERSION/.yanked`` marker lets the warm path, which never reads
the index, refuse a yanked version. Both are written only **after** the index commits (a yank
that never committed leaves no trace), markers first and ``yanks.json`` last: a journal that
says what the committed index says proves the markers were written too. A writer killed
between its commit and :func:`publish` leaves them behind the index (a yank not marked yet is
still refused by every plan, whose generation the commit advanced); the next store to open the
index finds :func:`in_step` false and publishes again (:mod:`~siglink.store._recovery`).

>>> read_journal("/nonexistent/yanks.json")
{}
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from siglink._files import write_atomic
from siglink._json import JSONTextError, loads
from siglink._layout import YANK_MARKER, StoreLayout
from siglink.store.index import Index

__all__ = ["in_step", "publish", "read_journal"]

Yanks = Mapping[str, Mapping[str, str]]


def __dir__() -> list[str]:
    return list(__all__)


def read_journal(path: str) -> dict[str, dict[str, str]]:
    """The yanks ``yanks.json`` records; empty when absent or unreadable."""
    try:
        with open(path, "rb") as f:
            data = loads(f.read(1 << 24))
    except (OSError, JSONTextError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        str(name): {str(v): r for v, r in versions.items() if isinstance(r, str)}
        for name, versions in data.items() if isinstance(versions, dict)
    }


def in_step(layout: StoreLayout, index: Index) -> bool:
    """True when ``yanks.json`` says what the committed index says (so markers do too)."""
    return read_journal(layout.yanks) == _without_empty(index.yanks())


def _without_empty(yanks: Yanks) -> dict[str, dict[str, str]]:
    return {n: dict(v) for n, v in yanks.items() if v}


def publish(layout: StoreLayout, index: Index, *, force: bool = False) -> list[str]:
    """Bring the markers and then ``yanks.json`` in step with the committed ``index`` (lock
    held); with ``force``, write ``yanks.json`` even when it already agrees. Returns what could
    not be written (then ``yanks.json`` is left as it was, for the next store to retry)."""
    yanks = _without_empty(index.yanks())
    if not force and read_journal(layout.yanks) == yanks:
        return []
    problems: list[str] = []
    for row in index.all_versions():
        folder = os.path.join(layout.root, row.path)
        marker = os.path.join(folder, YANK_MARKER)
        reason = yanks.get(row.name, {}).get(row.version)
        try:
            if reason is not None and not os.path.isfile(marker):
                if os.path.isdir(folder):
                    write_atomic(marker, (reason + "\n").encode(), mode=0o644)
            elif reason is None and os.path.lexists(marker):
                os.unlink(marker)
        except OSError as e:
            problems.append(f"{marker}: {e.strerror or e}")
    if problems:
        return problems
    text = json.dumps(yanks, indent=1, sort_keys=True) + "\n"
    try:
        write_atomic(layout.yanks, text.encode(), mode=0o644)
    except OSError as e:
        return [f"{layout.yanks}: {e.strerror or e}"]
    return []
