"""C declarations to data: preprocess, parse with pycparser, measure with the compiler.

:func:`describe` turns a header (or declaration text, like cffi's ``cdef``) into the
*declarations* document that :mod:`siglink.native.manifest` stores under ``Manifest.native``.
Schema (``"schema": 1``)::

    {
      "schema": 1,
      "header": "zlib.h",                      # file name, for messages
      "pointer": {"size": 8, "align": 8},
      "functions": {NAME: FUNCTION},           # in declaration order
      "types": {KEY: AGGREGATE | ENUM},        # KEY: "struct tag", "union tag", "enum tag",
                                               #      or "struct @typedef" when anonymous
      "typedefs": {NAME: TYPE},                # the header's own typedefs, resolved
      "constants": {NAME: int},                # integer #defines of the header's own files
                                               # and enumerators
    }
    FUNCTION  = {"return": TYPE, "params": [{"name": str | None, "type": TYPE}],
                 "variadic": bool, "location": "file:line",
                 optional "symbol": asm label, "callconv": "ms_abi" ...,
                 and, in a library's manifest, "version"/"versions" (ELF symbol versions)}
    TYPE      = {"kind": "void" | "int" | "float" | "bool" | "pointer" | "array" | "struct"
                         | "union" | "enum" | "function" | "va_list",
                 "name": "unsigned long" (scalars) or a types KEY (struct/union/enum),
                 "size", "align", "signed" (scalars and enums, from the compiler),
                 "to": TYPE (pointer), "of": TYPE and "length" (array),
                 "return", "params", "variadic" (function),
                 optional "const", "volatile", "restrict": true, "typedef": spelled name}
    AGGREGATE = {"kind": "struct" | "union", "complete": bool, "size", "align",
                 "fields": [{"name", "type", "offset", "size", and for bit-fields
                             "bits", "bit_offset" (from the struct's start)}]}
                # an anonymous struct/union member is a field named "@N" (N: its index
                # among the declarations) with "anonymous": true, whose type is
                # "struct @TAG.N" (offsets inside it from its own start); an unnamed
                # bit-field is {"name": "@N", "padding": true, "bits", "type"} (no offset)
    ENUM      = {"kind": "enum", "size", "align", "signed", "members": {NAME: int}}

Every size, alignment, offset, bit position and enumerator value comes from the compiler:
a generated probe program (``sizeof``, ``_Alignof``, ``offsetof``) is compiled with the same
``-I``/``-D`` flags and run. pycparser only sees the text after the system preprocessor and
after GNU extensions are removed (``__attribute__``, ``__asm__`` labels, ``__extension__``,
``__restrict``, ``__inline``) or typedef'd (``__builtin_va_list``, ``_Float128`` ...).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Final

from siglink._files import write_atomic
from siglink._text import problem
from siglink.native._builder import SCHEMA, Builder
from siglink.native._cpp import CPP_SHIMS, HeaderError, locate_header, run, tool
from siglink.native._macros import defines as header_defines

__all__ = ["SCHEMA", "HeaderError", "cache_dir", "describe", "type_text"]


def __dir__() -> list[str]:
    return list(__all__)

_CODE_VERSION: Final = "cdecl-7"  # bump when the output for the same input changes

Json = dict[str, Any]


def cache_dir() -> Path:
    """Where measured declarations are cached, keyed by their preprocessed text."""
    explicit = os.environ.get("SIGLINK_NATIVE_CACHE")
    if explicit:
        return Path(explicit)
    store = os.environ.get("SIGLINK_STORE")
    if store:
        return Path(store) / "cache" / "native"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "siglink" / "native"


def _trusted(st: os.stat_result) -> bool:
    """Whether a cache entry (or its directory) is this user's or root's, and nobody else's
    to write: a measured layout from anyone else could make a wrong call look verified."""
    return st.st_uid in (os.getuid(), 0) and not st.st_mode & 0o022


def _read_cached(path: Path) -> Json | None:
    """The cached description at ``path`` when it is a regular file that only this user or
    root can have written (its directory too), else None: it is measured again."""
    try:
        if not _trusted(os.stat(path.parent)):
            return None
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not (stat.S_ISREG(st.st_mode) and _trusted(st)):
            return None
        with os.fdopen(fd, "rb") as f:
            fd = -1
            loaded = json.loads(f.read())
    except (OSError, ValueError, RecursionError):
        return None
    finally:
        if fd >= 0:
            os.close(fd)
    return loaded if isinstance(loaded, dict) else None


def _make_dirs(path: Path) -> None:
    """Make ``path`` and its missing parents 0755 whatever the umask (under ``umask 000``
    ``mkdir(parents=True)`` leaves them writable by everyone)."""
    missing = []
    while not path.is_dir():
        missing.append(path)
        if path.parent == path:
            break
        path = path.parent
    for each in reversed(missing):
        try:
            os.mkdir(each, 0o700)
        except FileExistsError:
            continue
        os.chmod(each, 0o755)


def describe(
    source: str | os.PathLike[str],
    *,
    text: bool | None = None,
    include_dirs: Sequence[str] = (),
    defines: Sequence[str] = (),
    only: Iterable[str] | None = None,
    own_only: bool = False,
    also: Iterable[str] = (),
    cache: bool = True,
) -> Json:
    """Describe the functions, types and constants that ``source`` declares.

    ``source`` is a header path, or declaration text (``text=True``; by default anything
    that is not a file and does not look like a file name is text). ``only`` limits
    functions to those names (a library's defined symbols); ``own_only`` keeps only
    functions declared in ``source`` itself, and those of the files it includes whose
    symbol is in ``also`` (a consumer's ``#include <zlib.h>`` declares zlib's functions,
    not stdio's).

    :raises HeaderError: naming ``file:line`` when the text does not preprocess or parse.
    """
    raw = os.fspath(source)
    # Text unless it names a file or looks like a file name (then a missing one is reported).
    is_text = text if text is not None else (
        not os.path.isfile(raw) and re.fullmatch(r"[^\s;(){}#*]+", raw) is None)
    with tempfile.TemporaryDirectory(prefix="siglink-cdecl-") as tmp:
        if is_text:
            reason = problem(raw)
            if reason is not None:
                raise HeaderError(f"<declarations>: {reason}", path="<declarations>")
            header = Path(tmp, "declarations.h")
            header.write_text(raw if raw.endswith("\n") else raw + "\n")
            display = "<declarations>"
        else:
            header = locate_header(raw, include_dirs)
            display = header.name
        flags = [f"-I{d}" for d in include_dirs] + [f"-D{d}" for d in defines]
        cc = tool("cc")
        preprocessed = run(
            [cc, "-E", "-std=gnu11", "-x", "c", *flags, *CPP_SHIMS, str(header)],
            header,
            display,
        )
        key = hashlib.sha256(
            json.dumps(
                [_CODE_VERSION, preprocessed.replace(str(header), display), flags, cc,
                 display, sorted(only or []), own_only, sorted(also)]
            ).encode()
        ).hexdigest()
        cached = cache_dir() / f"{key}.json" if cache else None
        if cached is not None:
            loaded = _read_cached(cached)
            if loaded is not None:
                return loaded
        builder = Builder(header, display, tmp, cc, flags)
        try:
            result = builder.build(preprocessed, None if only is None else set(only), own_only,
                                   set(also))
        except RecursionError:  # pycparser and the type walk recurse once per nesting level
            raise HeaderError(f"{display}: declarations nested too deeply to read",
                              path=display) from None
        result["constants"] = {**header_defines(cc, flags, header, tmp, display),
                               **result["constants"]}
        if cached is not None:
            try:
                _make_dirs(cached.parent)
                write_atomic(cached, json.dumps(result).encode(), durable=False)
            except OSError:
                pass
        return result


def type_text(t: Json, expand: bool = False) -> str:
    """C spelling of a TYPE document: ``const unsigned char *``, ``struct point``.

    Typedef names are kept unless ``expand`` is true.

    >>> uchar = {"kind": "int", "name": "unsigned char", "const": True}
    >>> type_text({"kind": "pointer", "to": uchar})
    'const unsigned char *'
    >>> size = {"kind": "int", "name": "unsigned long", "typedef": "size_t"}
    >>> type_text(size), type_text(size, expand=True)
    ('size_t', 'unsigned long')
    """
    quals = " ".join(q for q in ("const", "volatile") if t.get(q))
    kind = t.get("kind")
    if t.get("typedef") and not expand:
        return f"{quals} {t['typedef']}".strip()
    if kind == "pointer":
        inner = t["to"]
        if inner.get("kind") == "function":
            params = ", ".join(type_text(p["type"], expand) for p in inner["params"]) or "void"
            if inner.get("variadic"):
                params += ", ..."
            return f"{type_text(inner['return'], expand)} (*)({params})"
        ptr = "*" + (" const" if t.get("const") else "")
        ptr += " restrict" if t.get("restrict") else ""
        base = type_text(inner, expand)
        return f"{base}{ptr}" if base.endswith("*") else f"{base} {ptr}"
    if kind == "array":
        return f"{type_text(t['of'], expand)}[{t.get('length', '')}]"
    if kind == "function":
        params = ", ".join(type_text(p["type"], expand) for p in t["params"]) or "void"
        return f"{type_text(t['return'], expand)} ({params})"
    return f"{quals} {t.get('name') or kind}".strip()
