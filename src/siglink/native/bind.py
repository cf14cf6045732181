"""Link a C library by signature: find it, check it (docs/design.md §3.4), bind it with ctypes.

>>> z = link("z", "unsigned long crc32(unsigned long crc, const unsigned char *buf, "
...          "unsigned int len);")  # doctest: +SKIP
>>> z.crc32(0, b"hello", 5)  # doctest: +SKIP
907060870

What the consumer gets holds the ctypes function objects themselves (``argtypes`` and
``restype`` set), so a call costs what a hand-written ctypes call costs. A parameter that
points to bytes or to ``void`` accepts ``bytes``, ``bytearray``, ``memoryview`` and ctypes
buffers through ``from_param`` (``bytes`` and read-only buffers only where the
pointee is ``const``, or a plain ``char *``). Callbacks accept any Python callable, wrapped
once in a ``CFUNCTYPE`` and kept referenced for the life of the process.

The parts: finding the file (:mod:`._lookup`), checking it (:mod:`.compat`), buffer
parameters (:mod:`._buffers`), binding (:mod:`._binder`) and struct layouts (:mod:`._layout`).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from siglink._text import inert
from siglink.contracts.manifest import Manifest
from siglink.contracts.verdict import Problem, Verdict
from siglink.errors import LinkError, NativeError
from siglink.native import manifest as native_manifest
from siglink.native._binder import Binder
from siglink.native._lookup import find_library
from siglink.native.cdecl import describe
from siglink.native.compat import check_library, ordered
from siglink.native.elf import ElfFile, check_loadable

__all__ = [
    "Library",
    "NativeLinkError",
    "UnverifiedLinkError",
    "UnverifiedLinkWarning",
    "consumer_declarations",
    "find_library",
    "link",
]


def __dir__() -> list[str]:
    return list(__all__)

Json = dict[str, Any]


class NativeLinkError(LinkError, NativeError):
    """A library refused before any call: the message lists every problem, incompatible ones
    first, then those to review, then harmless ones.

    >>> print(NativeLinkError("libx.so.1", "/lib/libx.so.1", Verdict()).message)
    cannot link libx.so.1 (/lib/libx.so.1)
    """

    exit_code = 127

    def __init__(self, library: str, path: str, verdict: Verdict) -> None:
        lines = [f"cannot link {library} ({path})"]
        lines += [f"  {p.explain()}" for p in ordered(verdict.problems)]
        super().__init__("\n".join(inert(line) for line in lines), report=verdict)
        self.library = library
        self.path = path
        self.verdict = verdict
        self.symbols = tuple(dict.fromkeys(
            name for p in verdict.incompatible for name in _functions_of(p)))


class UnverifiedLinkError(NativeLinkError):
    """A link whose functions' signatures cannot be checked (the library has no manifest and
    no ``header=`` was given, or its declarations lack them), refused because the consumer
    did not pass ``allow_unverified=True``; ``symbols`` names each of them.

    >>> e = UnverifiedLinkError("libz.so.1", "/lib/libz.so.1", Verdict((), ("crc32", "adler32")),
    ...                         declared=False)
    >>> import textwrap
    >>> print(textwrap.fill(e.message, 88))
    cannot link libz.so.1 (/lib/libz.so.1): no siglink manifest and no header= to check
    crc32, adler32 against; embed one with 'siglink native manifest', pass the library's
    header=, or allow_unverified=True to check only that the symbols exist
    >>> e.symbols, e.exit_code
    (('crc32', 'adler32'), 127)
    """

    multiline = False

    def __init__(self, library: str, path: str, verdict: Verdict, *, declared: bool) -> None:
        names = ", ".join(verdict.unverified)
        if declared:
            why = f"the library's declarations do not declare {names}"
            hint = "pass allow_unverified=True to check only that the symbols exist"
        else:
            why = f"no siglink manifest and no header= to check {names} against"
            hint = ("embed one with 'siglink native manifest', pass the library's header=, or "
                    "allow_unverified=True to check only that the symbols exist")
        LinkError.__init__(self, f"cannot link {library} ({path}): {why}; {hint}",
                           report=verdict)
        self.library = library
        self.path = path
        self.verdict = verdict
        self.symbols = tuple(verdict.unverified)


def _functions_of(problem: Problem) -> list[str]:
    """The functions a problem is about: its path's first word, or for a struct's problem
    (``struct point ...; reached by f param 1 (p), g return``) the functions reaching it."""
    _, marker, reached = problem.note.partition("reached by ")
    if marker:
        return [where.split(" ")[0] for where in reached.split(", ")]
    return [problem.path.split(" ")[0]]


class Library:
    """A linked C library: its functions, Structure classes, constants and the verdict.

    Functions, structs (by tag and by typedef name, ``struct_TAG`` always), enum members and
    ``#define`` constants are attributes; ``verdict``, ``path`` and ``manifest`` (the
    provider's, or ``None``) describe the link; ``source`` says where the library's
    declarations came from (``embedded``, a sidecar path, ``header`` or ``none``).
    ``unbound`` maps each checked function that ctypes cannot call (an ``__int128`` or
    ``_Float128`` parameter, a by-value struct ctypes cannot align) to the reason, which
    reading that attribute raises as :class:`NativeError`.
    """

    verdict: Verdict
    path: str
    manifest: Manifest | None
    source: str
    unbound: dict[str, str]

    def __init__(self, path: str, verdict: Verdict, manifest: Manifest | None,
                 source: str) -> None:
        self.path = path
        self.verdict = verdict
        self.manifest = manifest
        self.source = source

    def __repr__(self) -> str:
        return f"<siglink.native.Library {self.path} ({self.source})>"

    def __getattr__(self, name: str) -> Any:
        reason = self.__dict__.get("unbound", {}).get(name)
        if reason is not None:
            raise NativeError(reason)
        raise AttributeError(f"{self.path}: no function, type or constant {name!r} was linked")


class UnverifiedLinkWarning(UserWarning):
    """A library linked by symbol presence only, as asked by ``allow_unverified=True``."""


def link(
    name_or_path: str | os.PathLike[str],
    declarations: str | os.PathLike[str],
    *,
    header: str | os.PathLike[str] | None = None,
    versions: Mapping[str, str] | None = None,
    include_dirs: Sequence[str] = (),
    defines: Sequence[str] = (),
    allow_unverified: bool = False,
) -> Library:
    """Link the library ``name_or_path`` against the consumer's ``declarations``.

    ``declarations`` is C declaration text or a header path (what the consumer was built
    against); ``header`` is the library's header, used when the library carries no manifest;
    ``versions`` maps a function to the ELF symbol version it must be bound to. A function
    whose signature the library's side does not declare is linked only with
    ``allow_unverified=True`` (checked by symbol presence, with an
    :class:`UnverifiedLinkWarning`).

    :raises NativeLinkError: (exit 127) listing every incompatible problem, before any call.
    :raises UnverifiedLinkError: (exit 127) unverifiable functions, without the opt-in.
    :raises NativeError: (exit 2) a library that is missing, not ELF or for another machine.
    """
    path, requested = find_library(name_or_path)
    check_loadable(path)
    elf = ElfFile.read(path)
    found = native_manifest.read(path)
    defined = [s.name for s in elf.symbols.values() if s.function and s.linkable]
    provider: Manifest | None = None
    provided: Mapping[str, Any] | None = None
    source = "none"
    if found is not None:
        provider, source = found
        provided = provider.native
    elif header is not None:
        provided = describe(header, text=False, include_dirs=include_dirs, defines=defines,
                            only=defined)
        source = "header"
    # The consumer's own declarations, and those of the headers it includes that this
    # library defines (``#include <zlib.h>`` means zlib's functions, not stdio's).
    expected = consumer_declarations(declarations, include_dirs=include_dirs, defines=defines,
                                     defined=defined)
    stray = sorted(set(versions or {}) - set(expected["functions"]))
    if stray:
        raise NativeError(f"versions= names {', '.join(stray)}, which the declarations do not "
                          "declare")
    verdict = check_library(expected, provided, elf, versions=versions, soname=requested)
    if not verdict.ok:
        raise NativeLinkError(requested or Path(path).name, path, verdict)
    if verdict.unverified and not allow_unverified:
        raise UnverifiedLinkError(requested or Path(path).name, path, verdict,
                                  declared=provided is not None)
    if provided is None:
        warnings.warn(
            f"{path} carries no siglink manifest and no header= was given: only the presence "
            "of each symbol was checked, not its signature (embed one with 'siglink native "
            "manifest', or pass the library's header)",
            UnverifiedLinkWarning,
            stacklevel=2,
        )
    elif verdict.unverified:
        warnings.warn(
            f"{path}: its declarations do not declare {', '.join(verdict.unverified)}: only "
            "the presence of each symbol was checked, not its signature",
            UnverifiedLinkWarning,
            stacklevel=2,
        )
    library = Library(path, verdict, provider, source)
    Binder(expected, path, versions or {}).bind(library.__dict__)
    return library


def consumer_declarations(
    declarations: str | os.PathLike[str],
    *,
    include_dirs: Sequence[str] = (),
    defines: Sequence[str] = (),
    defined: Sequence[str] = (),
) -> Json:
    """Describe a consumer's ``declarations``: its own, and those of the headers it includes
    whose functions the library ``defined`` (``#include <zlib.h>`` means zlib's functions,
    not stdio's).

    :raises NativeError: (exit 2) when no declarations are given, or they declare no function
        (nothing would be checked).
    """
    raw = os.fspath(declarations)
    if not isinstance(declarations, os.PathLike) and not raw.strip():
        raise NativeError("no declarations given: pass C declaration text or a header path")
    expected = describe(raw, include_dirs=include_dirs, defines=defines, own_only=True,
                        also=defined)
    if not expected["functions"]:
        is_file = os.path.isfile(raw)
        text = Path(raw).read_text(errors="replace") if is_file else raw
        hint = ("; an included header's functions count only where this library defines them"
                if "#include" in text else "")
        if is_file:
            raise NativeError(f"{raw}: declares no function (nothing to check){hint}")
        first = raw.strip().splitlines()[0]
        shown = first if len(first) <= 60 and first == raw.strip() else first[:57] + "..."
        raise NativeError(f"the declarations declare no function (nothing to check): "
                          f"{shown!r}{hint}")
    return expected


