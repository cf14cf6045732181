"""The running interpreter's standard library, and the distributions that backport it.

The store never serves a standard-library module name (``import argparse`` is the
interpreter's own). So a requirement on a distribution whose every top-level module is one of
them (``argparse``, ``typing``, ``enum34`` for ``enum``) is met by the interpreter: it is
ignored, with a note, instead of asking for a wheel that would never be used. Which modules a
distribution ships is known for certain only from its wheel (``top_level``); without one, a
small table of well-known backports decides. ``importlib-metadata`` is no backport in this
sense: its module is ``importlib_metadata``, not ``importlib.metadata``.

>>> backported("argparse")
('argparse',)
>>> backported("enum34"), backported("futures")
(('enum',), ('concurrent',))
>>> backported("importlib-metadata"), backported("textkit", ["textkit"])
((), ())
>>> backported("my-argparse-fork", ["argparse"])
('argparse',)
>>> note("argparse").startswith("argparse: provided by the standard library of Python 3.")
True
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from typing import Final

__all__ = ["BACKPORTS", "STDLIB", "backported", "note"]


def __dir__() -> list[str]:
    return list(__all__)


STDLIB: Final[frozenset[str]] = frozenset(sys.stdlib_module_names) | frozenset(
    sys.builtin_module_names)
"""This interpreter's standard library's top-level module names."""

BACKPORTS: Final[dict[str, tuple[str, ...]]] = {
    "argparse": ("argparse",),
    "asyncio": ("asyncio",),
    "contextvars": ("contextvars",),
    "dataclasses": ("dataclasses",),
    "enum34": ("enum",),
    "futures": ("concurrent",),
    "ipaddress": ("ipaddress",),
    "pathlib": ("pathlib",),
    "statistics": ("statistics",),
    "typing": ("typing",),
}
"""Well-known backports (normalized distribution name -> the modules they ship), for when no
wheel of theirs is at hand."""


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def backported(name: str, top_level: Iterable[str] | None = None) -> tuple[str, ...]:
    """The standard-library modules distribution ``name`` duplicates on this interpreter,
    when every top-level module it ships is one (``()`` otherwise): read from ``top_level``
    when its wheel is at hand, else from :data:`BACKPORTS`."""
    modules = tuple(sorted(set(top_level))) if top_level is not None else (
        BACKPORTS.get(_normalized(name), ()))
    if modules and all(module in STDLIB for module in modules):
        return modules
    return ()


def note(name: str) -> str:
    """What is said when a requirement on ``name`` is met by the standard library."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return (f"{name}: provided by the standard library of Python {version}; the requirement "
            "is ignored")
