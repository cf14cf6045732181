"""Where a store is and where everything lives inside it: the one place that knows the layout.

Standard library only and cheap to import: the warm bootstrap resolves the store and its plan
through this module before anything else of siglink is loaded.

Layout (docs/design.md §5)::

    ROOT/
      index.sqlite         units, versions, modules, exports, imports, yanks, applications
      generation           the generation counter as text, bumped by every change; the warm
                           path reads this file, never SQLite
      libs/NAME/VERSION/   one unpacked, byte-compiled wheel and its NAME-VERSION.dist-info/
      plans/               cached link plans
      bootstrap/           the generated sitecustomize.py that makes child interpreters
                           inherit a link
      cache/native/        measured C declarations, keyed by their preprocessed text
      .staging/            installs in progress (and removed versions awaiting deletion)
      .lock                the file lock serializing every index change

>>> layout = StoreLayout("/srv/siglink")
>>> layout.index, layout.lib("textkit", "1.0.1")
('/srv/siglink/index.sqlite', '/srv/siglink/libs/textkit/1.0.1')
>>> StoreLayout("/srv/siglink") == layout
True
"""

from __future__ import annotations

import os

__all__ = ["StoreLayout", "store_root"]


def __dir__() -> list[str]:
    return list(__all__)


def store_root(explicit: str | os.PathLike[str] | None = None) -> str:
    """The store directory, absolute: ``--store`` > ``$SIGLINK_STORE`` >
    ``$XDG_DATA_HOME/siglink`` > ``~/.local/share/siglink``."""
    root = os.fspath(explicit) if explicit else os.environ.get("SIGLINK_STORE")
    if not root:
        data = os.environ.get("XDG_DATA_HOME") or os.path.join("~", ".local", "share")
        root = os.path.join(data, "siglink")
    return os.path.abspath(os.path.expanduser(root))


class StoreLayout:
    """The paths of one store, as ``str`` (the warm path works with plain strings)."""

    __slots__ = ("root",)

    root: str

    def __init__(self, root: str | os.PathLike[str]) -> None:
        object.__setattr__(self, "root", os.path.abspath(os.fspath(root)))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("StoreLayout is immutable")

    def __repr__(self) -> str:
        return f"StoreLayout({self.root!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StoreLayout) and other.root == self.root

    def __hash__(self) -> int:
        return hash(self.root)

    def _join(self, *parts: str) -> str:
        return os.path.join(self.root, *parts)

    @property
    def index(self) -> str:
        return self._join("index.sqlite")

    @property
    def generation(self) -> str:
        return self._join("generation")

    @property
    def libs(self) -> str:
        return self._join("libs")

    def lib(self, name: str, version: str) -> str:
        """``libs/NAME/VERSION``: one stored version."""
        return self._join("libs", name, version)

    @property
    def plans(self) -> str:
        return self._join("plans")

    @property
    def bootstrap(self) -> str:
        return self._join("bootstrap")

    @property
    def native_cache(self) -> str:
        return self._join("cache", "native")

    @property
    def staging(self) -> str:
        return self._join(".staging")

    @property
    def lock(self) -> str:
        return self._join(".lock")
