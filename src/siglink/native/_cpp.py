"""The system preprocessor, and what pycparser cannot read in its output.

``cc -E`` runs with shims for GNU spellings (:data:`CPP_SHIMS`); :func:`strip_gnu` then
blanks ``__attribute__`` and ``__asm__`` labels out, keeping line numbers, and records the
calling conventions and symbol names they carried. Types pycparser does not know
(``__builtin_va_list``, ``_Float128`` ...) are typedef'd by :data:`PRELUDE`.

>>> scalar_name(["long", "unsigned", "int", "long"]), self_kind("_Float128")
(('unsigned long long', 'int'), 'float')
>>> strip_gnu('int f(void) __attribute__((ms_abi));')[1]
{'f': 'ms_abi'}
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Final

from siglink._text import bad_char, inert, shown
from siglink.errors import NativeError

__all__ = [
    "CPP_SHIMS",
    "PRELUDE",
    "SHIM_TYPES",
    "HeaderError",
    "caret",
    "cpp_text",
    "locate_header",
    "rename",
    "run",
    "scalar_name",
    "self_kind",
    "strip_gnu",
    "tool",
]


def __dir__() -> list[str]:
    return list(__all__)


class HeaderError(NativeError):
    """A header or declaration text that cannot be preprocessed, parsed or measured."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 multiline: bool = False) -> None:
        super().__init__(message)
        self.path = path
        self.line = line
        self.multiline = multiline  # the source line and a caret under it (see caret())


CPP_SHIMS: Final = (
    "-D__restrict=restrict",
    "-D__restrict__=restrict",
    "-D__inline=inline",
    "-D__inline__=inline",
    "-D__extension__=",
    "-D__const=const",
    "-D__const__=const",
    "-D__volatile=volatile",
    "-D__volatile__=volatile",
    "-D__signed=signed",
    "-D__signed__=signed",
    "-D_Noreturn=",
    "-D__thread=",
    "-D_Thread_local=",
)

SHIM_TYPES: Final = {
    "__builtin_va_list": "va_list",
    "_Float16": "float",
    "_Float32": "float",
    "_Float64": "float",
    "_Float128": "float",
    "_Float32x": "float",
    "_Float64x": "float",
    "__float128": "float",
    "__fp16": "float",
    "__bf16": "float",
}
PRELUDE: Final = '# 1 "<siglink-prelude>"\n' + "".join(
    f"typedef int {name};" for name in SHIM_TYPES
) + "typedef __int128 __int128_t; typedef unsigned __int128 __uint128_t;"

_CALLCONVS: Final = re.compile(
    r"\b_*(ms_abi|sysv_abi|stdcall|fastcall|thiscall|vectorcall|regparm|pcs)_*\b"
)
_GNU_WORDS: Final = re.compile(r"\b(__attribute__|__attribute|__declspec|__asm__|__asm|asm)\s*\(")
_NAME_CALL: Final = re.compile(r"([A-Za-z_]\w*)\s*\(")
_KEYWORDS: Final = frozenset(
    [
        "__attribute__", "__attribute", "__declspec", "__asm__", "__asm", "asm",
        "sizeof", "return", "if", "while", "for",
    ]
)


def tool(name: str) -> str:
    found = shutil.which(os.environ.get("CC", "gcc") if name == "cc" else name)
    if found is None:
        raise HeaderError(f"the C compiler ({name}) is not installed; siglink needs it here")
    return found


def locate_header(raw: str, include_dirs: Sequence[str]) -> Path:
    """The header file ``raw`` names: the file itself, else (a relative name missing from
    the working directory) the first match in ``include_dirs``, then the compiler's
    system include directories, as ``#include <raw>`` would find it."""
    given = Path(raw)
    if given.is_file() or given.is_absolute():
        if not given.is_file():
            raise HeaderError(f"{raw}: no such header file", path=raw)
        return given.absolute()
    for directory in [*include_dirs, *_system_include_dirs(tool("cc"))]:
        candidate = Path(directory, raw)
        if candidate.is_file():
            return candidate.absolute()
    searched = ", ".join(["the working directory", *include_dirs, "the system include path"])
    raise HeaderError(f"{raw}: no such header file (searched {searched})", path=raw)


@lru_cache(maxsize=4)
def _system_include_dirs(cc: str) -> tuple[str, ...]:
    """The directories ``cc`` searches for ``#include <...>``, from ``cc -E -Wp,-v``."""
    try:
        result = subprocess.run([cc, "-E", "-Wp,-v", "-x", "c", os.devnull],
                                capture_output=True, text=True, check=False)
    except OSError:
        return ()
    dirs: list[str] = []
    inside = False
    for line in result.stderr.splitlines():
        if line.startswith("#include <...> search starts here"):
            inside = True
        elif line.startswith("End of search list"):
            break
        elif inside and line.startswith(" "):
            dirs.append(line.strip().removesuffix(" (framework directory)"))
    return tuple(dirs)


def run(cmd: list[str], header: Path, display: str) -> str:
    """``cmd``'s (``cc -E``) output as text (:func:`cpp_text`).

    :raises HeaderError: the compiler's first error, or a declaration that is not UTF-8.
    """
    result = subprocess.run(cmd, capture_output=True, check=False)
    if result.returncode != 0:
        stderr = result.stderr.decode("utf-8", "surrogateescape")
        lines = [ln for ln in stderr.splitlines() if "error" in ln] or [
            stderr.strip() or f"exit {result.returncode}"
        ]
        raise HeaderError(rename(lines[0], header, display), path=display)
    return cpp_text(result.stdout, header, display)


_LINEMARKER: Final = re.compile(r'# (\d+) "(.*)"')


def cpp_text(data: bytes, header: Path, display: str) -> str:
    r"""``cc -E`` output as text. A file name in a line marker may hold any bytes (they stay
    ``surrogateescape``'d, as a path does); the declarations themselves must be UTF-8.

    >>> cpp_text(b'# 1 "h\xff.h"\nint f(void);\n', Path("h\udcff.h"), "h\udcff.h")
    '# 1 "h\udcff.h"\nint f(void);\n'
    >>> cpp_text(b'# 1 "x.h"\nint f(void);\nint g\xff(void);\n', Path("x.h"), "x.h")
    Traceback (most recent call last):
    siglink.native._cpp.HeaderError: x.h:2: not UTF-8 text (byte 0xff): int g\udcff(void);
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", "surrogateescape")
    name, line = display, 0
    for row in text.splitlines():
        marker = _LINEMARKER.match(row)
        if marker:
            name, line = rename(marker[2], header, display), int(marker[1]) - 1
            continue
        line += 1
        at = bad_char(row)
        if at is not None:
            shown_name = name if name == display else Path(name).name
            raise HeaderError(f"{shown(shown_name)}:{line}: not UTF-8 text (byte "
                              f"0x{ord(row[at]) - 0xDC00:02x}): {shown(row.strip()[:80])}",
                              path=display, line=line)
    return text


def caret(path: str, line: int, column: int) -> str:
    """The source line and a caret under ``column``, when the file can be read (made inert:
    the error spans lines, :attr:`~siglink.errors.SiglinkError.multiline`)."""
    try:
        text = Path(path).read_text(errors="replace").splitlines()[line - 1]
    except (OSError, IndexError):
        return ""
    if not column or column > len(text) + 1:
        return f"\n    {inert(text.strip())}"
    return f"\n    {inert(text)}\n    {' ' * len(inert(text[:column - 1]))}^"


def rename(message: str, header: Path, display: str) -> str:
    return message.replace(str(header), display)


def strip_gnu(text: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """Blank out ``__attribute__((...))`` and ``__asm__("label")``, keeping line numbers.

    Returns the text, calling conventions found in attributes (function name to convention)
    and asm labels (function name to symbol name).
    """
    out: list[str] = []
    callconv: dict[str, str] = {}
    labels: dict[str, str] = {}
    pos = 0
    for m in _GNU_WORDS.finditer(text):
        if m.start() < pos:
            continue
        depth, i = 0, m.end() - 1
        while i < len(text):
            c = text[i]
            if c == '"':
                i += 1
                while i < len(text) and text[i] != '"':
                    i += 2 if text[i] == "\\" else 1
            elif c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        body = text[m.end() : i]
        out.append(text[pos : m.start()])
        out.append(re.sub(r"[^\n]", " ", text[m.start() : i + 1]))
        pos = i + 1
        word = m.group(1)
        conv = _CALLCONVS.search(body) if "attribute" in word or "declspec" in word else None
        if conv is None and "asm" not in word:
            continue
        name = _owner(text, m.start(), pos)
        if name is None:
            continue
        if conv is not None:
            callconv[name] = conv.group(1)
        else:
            labels[name] = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', body))
    out.append(text[pos:])
    return "".join(out), callconv, labels


def _owner(text: str, start: int, end: int) -> str | None:
    """The function an attribute between ``start`` and ``end`` belongs to."""
    after = text[end:].lstrip()
    if after[:1] in (";", ",", "{", "") or after.startswith("__attribute") or after.startswith(
        "__asm"
    ):
        decl_start = max(text.rfind(";", 0, start), text.rfind("}", 0, start)) + 1
        names = [
            n for n in _NAME_CALL.findall(text[decl_start:start]) if n not in _KEYWORDS
        ]
        return names[0] if names else None
    m = _NAME_CALL.search(text, end)
    while m is not None and m.group(1) in _KEYWORDS:
        m = _NAME_CALL.search(text, m.end())
    return m.group(1) if m is not None else None


def scalar_name(names: Sequence[str]) -> tuple[str, str]:
    """Canonical C spelling and class of a builtin type: ``('unsigned long', 'int')``."""
    words = list(names)
    if words == ["void"]:
        return "void", "void"
    if words in (["_Bool"], ["bool"]):
        return "_Bool", "bool"
    longs = words.count("long")
    complex_ = "_Complex" in words
    if "double" in words or "float" in words:
        base = "double" if "double" in words else "float"
        name = ("long " if longs else "") + base
        return (name + " _Complex", "complex") if complex_ else (name, "float")
    unsigned = "unsigned" in words
    if "char" in words:
        if unsigned:
            return "unsigned char", "int"
        return ("signed char" if "signed" in words else "char"), "int"
    if "__int128" in words:
        return ("unsigned " if unsigned else "") + "__int128", "int"
    size = "short" if "short" in words else " ".join(["long"] * longs) if longs else "int"
    return ("unsigned " if unsigned else "") + size, "int"


def self_kind(name: str) -> str:
    if name in SHIM_TYPES:
        return SHIM_TYPES[name]
    return scalar_name(name.split())[1]
