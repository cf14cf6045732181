"""Native shared libraries linked by C signature (docs/design.md §8).

``link(NAME_OR_PATH, DECLARATIONS)`` checks a ``.so`` against the C declarations a consumer
was built against (rules C1 to C17, :mod:`siglink.native.compat`) and binds it with ctypes.
The library's side comes from its manifest (embedded or beside it) or from ``header=``; with
neither, the link is refused (:class:`UnverifiedLinkError`) unless the consumer passes
``allow_unverified=True``: then only symbol presence is checked and
:class:`UnverifiedLinkWarning` says so.
:func:`siglink.native.manifest.build` records a library's declarations, which
:func:`siglink.native.manifest.embed` puts into its ``.siglink`` ELF section.

A refused link names every problem and the functions it concerns:

>>> from siglink.native import NativeLinkError
>>> from siglink.contracts.verdict import Problem, Severity, Verdict
>>> missing = Problem("C1", "crc32", "a defined function", "missing", Severity.INCOMPATIBLE)
>>> error = NativeLinkError("libz.so.1", "/lib/libz.so.1", Verdict((missing,)))
>>> print(error.message)
cannot link libz.so.1 (/lib/libz.so.1)
  C1 crc32: expected a defined function, found missing (incompatible)
>>> error.symbols
('crc32',)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "Library",
    "NativeLinkError",
    "UnverifiedLinkError",
    "UnverifiedLinkWarning",
    "find_library",
    "link",
]

if TYPE_CHECKING:
    from siglink.native.bind import (
        Library,
        NativeLinkError,
        UnverifiedLinkError,
        UnverifiedLinkWarning,
        find_library,
        link,
    )


def __getattr__(name: str) -> Any:
    if name in __all__:
        from siglink.native import bind

        return getattr(bind, name)
    raise AttributeError(f"module 'siglink.native' has no attribute {name!r}")


def __dir__() -> list[str]:
    return list(__all__)
