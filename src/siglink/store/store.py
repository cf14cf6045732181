"""The store: many versions of many libraries side by side, one SQLite index, generations.

Where it is: ``--store DIR`` > ``$SIGLINK_STORE`` > ``$XDG_DATA_HOME/siglink`` >
``~/.local/share/siglink`` (:func:`siglink._layout.store_root`). Reading never creates it; the
first change does (an install; a registration only at the default place, so that a mistyped
``--store`` is never created by ``plan``). A path that exists and is not a directory is refused
at once. The layout is :class:`siglink._layout.StoreLayout`'s.

:class:`Store` is one object over the store's concepts, each in its own module: the core
(root, index, lock, change transaction: :mod:`~siglink.store._core`), recovery
(:mod:`~siglink.store._recovery`), generations (:mod:`~siglink.store._generation`), queries
(:mod:`~siglink.store._queries`), the install transaction (:mod:`~siglink.store._install`),
removal (:mod:`~siglink.store._removal`), yanks (:mod:`~siglink.store._yanks`), registered
applications (:mod:`~siglink.store._registry`), repair (:mod:`~siglink.store._repair`) and
progress (:mod:`~siglink.store._progress`).

Tests stop a change at a named point through the ``pause`` callable (:data:`Pause`), never an
environment variable.

>>> str(NotInStoreError("textkit", "9.9"))
'textkit==9.9 is not in the store'
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from siglink._layout import store_root
from siglink.store import _queries, _registry, _removal, _yanks
from siglink.store._core import DamagedIndexError, Pause, StoreCore, StoreLockedError
from siglink.store._progress import Progress
from siglink.store._records import (
    InstallResult,
    NotInStoreError,
    RegisteredApp,
    StoredVersion,
    app_display,
)

if TYPE_CHECKING:
    from siglink.contracts.manifest import Manifest
    from siglink.store._repair import RepairReport
    from siglink.store._verify import Finding

__all__ = [
    "DamagedIndexError",
    "InstallResult",
    "NotInStoreError",
    "Pause",
    "Progress",
    "RegisteredApp",
    "Store",
    "StoreLockedError",
    "StoredVersion",
    "app_display",
    "default_root",
]


def __dir__() -> list[str]:
    return list(__all__)


def default_root() -> Path:
    """The store used when none is given (:func:`siglink._layout.store_root`)."""
    return Path(store_root())


class Store(StoreCore):
    """A store of libraries. ``Store()`` uses :func:`default_root`; nothing is created on read.

    With ``environment=True`` the running interpreter's installed distributions also take part,
    read-only, as versions with ``source="environment"``. ``pause`` is a test seam
    (:data:`Pause`).
    """

    # -- generations ------------------------------------------------------------------------
    @property
    def generation(self) -> int:
        """The global generation, as the warm path reads it (``ROOT/generation``)."""
        return _queries.generation(self)

    def generations(self) -> tuple[int, dict[str, int]]:
        """The committed index's generations (inside :meth:`snapshot`, that snapshot's): the
        global one and ``{distribution or "*": generation of its last change}``."""
        return _queries.generations(self)

    def snapshot(self) -> contextlib.AbstractContextManager[int]:
        """A consistent read of the index; yields its generation (what a plan computed inside
        is valid for)."""
        return _queries.snapshot(self)

    def bump(self) -> int:
        """Advance the generation for everything (invalidating every cached plan); the new
        global generation."""
        with self.change() as (_, changes):
            changes.all = True
        return self.generations()[0]

    # -- reading ----------------------------------------------------------------------------
    def versions(self, name: str, *, include_yanked: bool = True) -> list[StoredVersion]:
        """Every version of ``name``, newest first (store before environment on a tie)."""
        return _queries.versions(self, name, include_yanked=include_yanked)

    def installed(self) -> set[tuple[str, str]]:
        """``(name, version)`` of every version in the store itself."""
        return _queries.installed(self)

    def names(self) -> list[str]:
        """Every library name (normalized), sorted."""
        return _queries.names(self)

    def get(self, name: str, version: str) -> StoredVersion:
        """One version; :class:`NotInStoreError` naming ``NAME==VERSION`` if absent."""
        return _queries.get(self, name, version)

    def manifest(self, name: str, version: str) -> Manifest:
        """The library's manifest (from the index, else its ``siglink.json``), cached."""
        return _queries.manifest(self, name, version)

    def manifest_json(self, name: str, version: str) -> str | None:
        """A store version's manifest as the JSON text kept in the index (no parsing)."""
        return _queries.manifest_json(self, name, version)

    def providers(self, module: str) -> list[str]:
        """Names of the libraries providing the top-level package of ``module``."""
        return _queries.providers(self, module)

    def namespace(self, module: str) -> bool:
        """True when ``module``'s top-level name is a namespace package (PEP 420) in every
        distribution that ships it (each provides its own portions)."""
        return _queries.namespace(self, module)

    def shadowing(self, module: str) -> list[str]:
        """Distributions shipping ``module``'s top-level name, a standard-library module here,
        which the store never serves."""
        return _queries.shadowing(self, module)

    def export_counts(self, name: str, version: str) -> dict[str, int]:
        """``{kind: count}`` of one version's exports."""
        return _queries.export_counts(self, name, version)

    def dump(self) -> list[str]:
        """The index as SQL statements (empty when there is no index)."""
        return _queries.dump(self)

    # -- applications -----------------------------------------------------------------------
    def apps(self) -> list[RegisteredApp]:
        """Applications registered by the linker, with what each links now."""
        return _registry.apps(self)

    def users(self, name: str,
              version: str | None = None) -> list[tuple[RegisteredApp, str | None]]:
        """Registered applications linking ``name`` (``==version``), with the version linked."""
        return _registry.users(self, name, version)

    def register_app(self, app_id: str, *, manifest_path: str,
                     links: Mapping[str, str | None], refused: str | None = None) -> None:
        """Record what application ``app_id`` links now (see :func:`_registry.register_app`)."""
        _registry.register_app(self, app_id, manifest_path=manifest_path, links=links,
                               refused=refused)

    def registrations(self) -> list[tuple[RegisteredApp, str]]:
        """Every registration in every registry this user can read, with where it is
        (``index`` or the registry file; see :func:`_registry.registrations`)."""
        return _registry.registrations(self)

    def forget_app(self, app_id: str) -> _registry.Forgotten:
        """Remove application ``app_id``'s registration (``siglink forget``) from every
        registry this user may change; what was removed, and what stays where this user may
        not change it (see :func:`_registry.forget_app`)."""
        return _registry.forget_app(self, app_id)

    # -- changing ---------------------------------------------------------------------------
    def install(self, specs: Sequence[str], *, index_url: str | None = None,
                progress: Progress | None = None, allow_module_conflict: bool = False,
                more: Callable[[], Sequence[str]] | None = None) -> list[InstallResult]:
        """Install wheels, sdists, project directories or requirements; all or nothing;
        ``more`` gives further wheels, read after ``specs`` are being read
        (:func:`siglink.store._install.install`)."""
        from siglink.store import _install  # wheels, sdists, pip: not needed to plan or run

        return _install.install(self, specs, index_url=index_url, progress=progress,
                                allow_module_conflict=allow_module_conflict, more=more)

    def preview(self, specs: Sequence[str], *,
                index_url: str | None = None) -> list[tuple[StoredVersion, Manifest]]:
        """What :meth:`install` would add; writes nothing."""
        from siglink.store import _install

        return _install.preview(self, specs, index_url=index_url)

    def remove(self, name: str, version: str, *, force: bool = False,
               on_left: Callable[[str], None] | None = None) -> list[str]:
        """Remove one version; refused while a registered application links it, unless
        forced. Returns the ids of the applications that linked it. ``on_left`` hears (one
        line) of a committed removal whose files could not be deleted (default: a warning)."""
        return _removal.remove(self, name, version, force=force, on_left=on_left)

    def yank(self, name: str, version: str, reason: str) -> str | None:
        """Mark a version yanked: the linker never links it again. Returns the reason it was
        yanked for before (``None`` when it was not yanked); the same reason changes nothing."""
        if reason is None or not reason.strip():
            from siglink.errors import BadInputError

            raise BadInputError("a yank needs a reason (--reason TEXT)")
        from siglink._text import check_text

        check_text(reason, "--reason")  # kept in the store's files, shown to every user
        return _yanks.set_yank(self, name, version, reason)

    def unyank(self, name: str, version: str) -> str | None:
        """Make a yanked version linkable again. Returns the reason it was yanked for
        (``None``: it was not yanked, and nothing changed)."""
        return _yanks.set_yank(self, name, version, None)

    def verify(self, targets: Sequence[tuple[str, str | None]] = ()) -> list[Finding]:
        """Every stored file changed, missing or extra since install, for ``targets``
        (``(name, version or None)``; every version when empty)."""
        from siglink.store._verify import verify

        return verify(self, targets)

    def repair(self) -> RepairReport:
        """Rebuild the index from ``libs/`` (:func:`siglink.store._repair.repair`)."""
        from siglink.store._repair import repair

        return repair(self)


