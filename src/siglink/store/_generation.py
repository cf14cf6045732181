"""The store's generations: the index keeps them, ``ROOT/generation`` publishes them.

Every change to the store advances the global generation; the distributions it touched (and
``*`` when the set of distributions or top-level module names changed) get the new value
(:func:`siglink._layout.read_generations` states the format and how a plan uses it).

The file is written **before** the index transaction commits, with the values that the commit
will make true. A reader may therefore see the file one change ahead of the committed index,
never behind it: a plan is keyed by the generations it read from the committed index, so a
file ahead only makes plans recomputed, and a crash or a failed write at any point can never
leave a warm run on a version the index no longer offers (a yanked or removed one). A writer
killed after writing the file and before committing leaves the file ahead; the next store to
open the index brings the two together again (:func:`reconcile`).

>>> changes = Changes()
>>> bool(changes)
False
>>> changes.touch(["textkit"])
>>> bool(changes), sorted(changes.names)
(True, ['textkit'])
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field

from siglink._files import write_atomic
from siglink._layout import ALL, StoreLayout, format_generations, read_generations
from siglink.errors import StoreError
from siglink.store.index import Index

__all__ = ["Changes", "advance", "in_step", "published", "reconcile"]


def __dir__() -> list[str]:
    return list(__all__)


@dataclass
class Changes:
    """What one index transaction changed: distributions, or everything (``all``)."""

    names: set[str] = field(default_factory=set)
    all: bool = False

    def touch(self, names: Iterable[str]) -> None:
        self.names.update(names)

    def __bool__(self) -> bool:
        return self.all or bool(self.names)


def published(layout: StoreLayout) -> tuple[int, dict[str, int]]:
    """What ``ROOT/generation`` says now."""
    return read_generations(layout.generation)


def advance(layout: StoreLayout, index: Index, changes: Changes,
            owners_before: set[tuple[str, str]]) -> int:
    """Inside the writer's transaction, before COMMIT: the next generation for ``changes``,
    written to the index and then to the file. Returns it."""
    current, libraries = index.generations()
    on_file, _ = published(layout)
    new = max(current, on_file) + 1
    for name in changes.names:
        libraries[name] = new
    if changes.all or index.module_owners() != owners_before:
        libraries[ALL] = new
    if changes.all:
        libraries = dict.fromkeys(libraries, new)
    index.set_generations(new, libraries)
    _write(layout, format_generations(new, libraries))
    return new


def _write(layout: StoreLayout, data: bytes) -> None:
    """Write ``ROOT/generation`` (inside the transaction: a failure rolls it back), or say
    what is wrong with it in one line naming it, not the temporary file beside it."""
    try:
        write_atomic(layout.generation, data, mode=0o644)
    except OSError as e:
        why = ("it is a directory (remove it: the store writes the file again)"
               if isinstance(e, IsADirectoryError) or os.path.isdir(layout.generation)
               else e.strerror or str(e))
        raise StoreError(f"{layout.generation}: cannot write the store's generation file: "
                         f"{why}; nothing was changed") from e


def reconcile(layout: StoreLayout, index: Index) -> None:
    """Bring file and index together after a writer died between writing the file and
    committing (file ahead), or, with an older siglink, after committing and before writing
    the file (file behind). Call with the store's lock held.

    The new generation is past both; each library keeps the later of its two values, so every
    plan either read is recomputed for whatever the interrupted change touched.
    """
    on_file, file_libraries = published(layout)
    current, libraries = index.generations()
    if (on_file, file_libraries) == (current, libraries):
        return
    new = max(on_file, current) + 1
    merged = dict(libraries)
    for name, gen in file_libraries.items():
        merged[name] = max(gen, merged.get(name, 0))
    if on_file < 0:  # unreadable file: it named nothing, so everything is new
        merged = dict.fromkeys(merged, new)
    merged.setdefault(ALL, new)
    with index.transaction():
        index.set_generations(new, merged)
        _write(layout, format_generations(new, merged))


def in_step(layout: StoreLayout, index: Index) -> bool:
    """True when the file says what the committed index says."""
    return published(layout) == index.generations()
