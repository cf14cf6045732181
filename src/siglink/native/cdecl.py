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

import ast
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from pycparser import c_ast, c_generator, c_parser

from siglink.errors import NativeError

__all__ = ["SCHEMA", "HeaderError", "cache_dir", "describe", "type_text"]


def __dir__() -> list[str]:
    return list(__all__)

SCHEMA: Final = 1
_CODE_VERSION: Final = "cdecl-7"  # bump when the output for the same input changes

Json = dict[str, Any]


class HeaderError(NativeError):
    """A header or declaration text that cannot be preprocessed, parsed or measured."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.line = line


_CPP_SHIMS: Final = (
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

_SHIM_TYPES: Final = {
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
_PRELUDE: Final = '# 1 "<siglink-prelude>"\n' + "".join(
    f"typedef int {name};" for name in _SHIM_TYPES
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


def _tool(name: str) -> str:
    found = shutil.which(os.environ.get("CC", "gcc") if name == "cc" else name)
    if found is None:
        raise HeaderError(f"the C compiler ({name}) is not installed; siglink needs it here")
    return found


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
            header = Path(tmp, "declarations.h")
            header.write_text(raw if raw.endswith("\n") else raw + "\n")
            display = "<declarations>"
        else:
            header = _locate_header(raw, include_dirs)
            display = header.name
        flags = [f"-I{d}" for d in include_dirs] + [f"-D{d}" for d in defines]
        cc = _tool("cc")
        preprocessed = _run(
            [cc, "-E", "-std=gnu11", "-x", "c", *flags, *_CPP_SHIMS, str(header)],
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
        if cached is not None and cached.is_file():
            try:
                loaded: Json = json.loads(cached.read_text())
                return loaded
            except (OSError, ValueError):
                pass
        builder = _Builder(header, display, tmp, cc, flags)
        try:
            result = builder.build(preprocessed, None if only is None else set(only), own_only,
                                   set(also))
        except RecursionError:  # pycparser and the type walk recurse once per nesting level
            raise HeaderError(f"{display}: declarations nested too deeply to read",
                              path=display) from None
        result["constants"] = {**_defines(cc, flags, header, tmp, display), **result["constants"]}
        if cached is not None:
            try:
                cached.parent.mkdir(parents=True, exist_ok=True)
                part = cached.with_suffix(f".{os.getpid()}.tmp")
                part.write_text(json.dumps(result))
                part.replace(cached)
            except OSError:
                pass
        return result


def _locate_header(raw: str, include_dirs: Sequence[str]) -> Path:
    """The header file ``raw`` names: the file itself, else (a relative name missing from
    the working directory) the first match in ``include_dirs``, then the compiler's
    system include directories, as ``#include <raw>`` would find it."""
    given = Path(raw)
    if given.is_file() or given.is_absolute():
        if not given.is_file():
            raise HeaderError(f"{raw}: no such header file", path=raw)
        return given.absolute()
    for directory in [*include_dirs, *_system_include_dirs(_tool("cc"))]:
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


def _run(cmd: list[str], header: Path, display: str) -> str:
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = [ln for ln in result.stderr.splitlines() if "error" in ln] or [
            result.stderr.strip() or f"exit {result.returncode}"
        ]
        raise HeaderError(_rename(lines[0], header, display), path=display)
    return result.stdout


def _caret(path: str, line: int, column: int) -> str:
    """The source line and a caret under ``column``, when the file can be read."""
    try:
        text = Path(path).read_text(errors="replace").splitlines()[line - 1]
    except (OSError, IndexError):
        return ""
    if not column or column > len(text) + 1:
        return f"\n    {text.strip()}"
    return f"\n    {text}\n    {' ' * (column - 1)}^"


def _rename(message: str, header: Path, display: str) -> str:
    return message.replace(str(header), display)


def _strip_gnu(text: str) -> tuple[str, dict[str, str], dict[str, str]]:
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


def _scalar_name(names: Sequence[str]) -> tuple[str, str]:
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


class _Builder:
    """One run over a parsed translation unit: convert, then measure with one probe."""

    def __init__(self, header: Path, display: str, tmp: str, cc: str, flags: list[str]) -> None:
        self.header = header
        self.display = display
        self.tmp = tmp
        self.cc = cc
        self.flags = flags
        self.typedef_nodes: dict[str, Any] = {}
        self.tag_nodes: dict[str, Any] = {}
        self.typedef_memo: dict[str, Json] = {}
        self.aggregates: dict[str, tuple[Any, str | None, str]] = {}  # key -> node, expr, loc
        self.enum_members: dict[str, list[str]] = {}
        self.loose_enumerators: list[str] = []
        self.scalars: set[str] = set()
        self.pending: list[str] = []
        self.fields: dict[str, list[Json]] = {}
        self.anonymous: dict[str, str] = {}  # anonymous member's key -> enclosing key
        self.included: set[str] = set()

    # -- locations -------------------------------------------------------------------
    def where(self, node: Any) -> str:
        coord = getattr(node, "coord", None)
        if coord is None:
            return self.display
        name = _rename(str(coord.file), self.header, self.display)
        return f"{Path(name).name if name != self.display else name}:{coord.line}"

    def own(self, node: Any) -> bool:
        """Declared in the header itself (or under a ``#line`` of its own), not included."""
        coord = getattr(node, "coord", None)
        if coord is None:
            return False
        name = str(coord.file)
        return name == str(self.header) or (
            name not in self.included and not name.startswith("<")
        )

    # -- building ----------------------------------------------------------------------
    def build(
        self, preprocessed: str, only: set[str] | None, own_only: bool, also: set[str]
    ) -> Json:
        # Linemarkers with flag 1 enter an included file; everything else is the header's own
        # (cgo's headers rename parts of themselves with #line).
        self.included = set(re.findall(r'^# \d+ "(.*)" 1(?: \d)*$', preprocessed, re.M))
        text, callconv, labels = _strip_gnu(preprocessed)
        parser = c_parser.CParser()
        try:
            unit = parser.parse(_PRELUDE + "\n" + text, str(self.header))
        except c_parser.ParseError as e:
            m = re.match(r"(.*?):(\d+)(?::(\d+))?: (.*)", str(e))
            if m is None:
                reason = _rename(str(e), self.header, self.display).removeprefix(
                    f"{self.display}: ")
                raise HeaderError(f"{self.display}: cannot parse C declarations: {reason}",
                                  path=self.display) from None
            source, line, column = m.group(1), int(m.group(2)), int(m.group(3) or 0)
            name = _rename(source, self.header, self.display)
            where = f"{name if name == self.display else Path(name).name}:{line}"
            reason = m.group(4)
            if reason.startswith("before: "):
                reason = f"unexpected {reason.removeprefix('before: ')!r}"
                if re.fullmatch(r"'[A-Za-z_]\w*'", reason.split(" ", 1)[1]):
                    reason += " (is a type name before it undeclared?)"
            raise HeaderError(
                f"{where}: cannot parse C declarations: {reason}{_caret(source, line, column)}",
                path=self.display, line=line,
            ) from None
        functions: dict[str, Any] = {}
        own_typedefs: list[str] = []
        own_tags: list[str] = []
        for node in unit.ext:
            decl = node.decl if isinstance(node, c_ast.FuncDef) else node
            self._collect_tags(decl)
            if isinstance(decl, c_ast.Typedef):
                self.typedef_nodes[decl.name] = decl.type
                if self.own(decl):
                    own_typedefs.append(decl.name)
            elif isinstance(decl, c_ast.Decl):
                if isinstance(decl.type, c_ast.FuncDecl) and "static" not in decl.storage:
                    if only is not None and labels.get(decl.name, decl.name) not in only:
                        continue
                    if own_only and not self.own(decl) and labels.get(
                        decl.name, decl.name
                    ) not in also:
                        continue
                    functions[decl.name] = decl
                elif decl.name is None and self.own(decl):
                    inner = decl.type
                    if isinstance(inner, c_ast.Struct | c_ast.Union | c_ast.Enum) and inner.name:
                        own_tags.append(self._tag_key(inner))
        out_functions: dict[str, Json] = {}
        for name, decl in functions.items():
            fn = self.convert(decl.type, None)
            fn.pop("kind", None)
            fn["location"] = self.where(decl)
            if name in labels and labels[name] != name:
                fn["symbol"] = labels[name]
            if name in callconv:
                fn["callconv"] = callconv[name]
            out_functions[name] = fn
        typedefs = {name: self.typedef(name) for name in own_typedefs}
        for key in own_tags:
            self._reference(key, None)
        while self.pending:
            key = self.pending.pop()
            self._fields(key)
        layout = self._probe()
        types: dict[str, Json] = {}
        for key, (node, _expr, loc) in self.aggregates.items():
            entry = layout.get(key)
            if isinstance(node, c_ast.Enum):
                members = {m: layout["enumerators"][m] for m in self.enum_members.get(key, [])}
                types[key] = {"kind": "enum", **(entry or {}), "members": members,
                              "location": loc}
            elif node is None or node.decls is None or entry is None:
                types[key] = {"kind": key.split(" ", 1)[0], "complete": False}
            else:
                types[key] = {"kind": key.split(" ", 1)[0], "complete": True, **entry,
                              "location": loc}
        constants = {
            name: layout["enumerators"][name]
            for name in self.loose_enumerators
            if name in layout["enumerators"]
        }
        for key in own_tags:
            for name in self.enum_members.get(key, []):
                constants[name] = layout["enumerators"][name]
        document: Json = {
            "schema": SCHEMA,
            "header": self.display,
            "pointer": layout["pointer"],
            "functions": out_functions,
            "types": types,
            "typedefs": typedefs,
            "constants": constants,
        }
        _fill(document, layout)
        return document

    def _collect_tags(self, node: Any) -> None:
        for child in _walk(node):
            if isinstance(child, c_ast.Struct | c_ast.Union) and child.decls is not None:
                if child.name:
                    self.tag_nodes.setdefault(self._tag_key(child), child)
            elif isinstance(child, c_ast.Enum) and child.values is not None:
                names = [e.name for e in child.values.enumerators]
                if child.name:
                    self.tag_nodes.setdefault(self._tag_key(child), child)
                    self.enum_members[self._tag_key(child)] = names
                elif self.own(child):
                    self.loose_enumerators.extend(names)

    @staticmethod
    def _tag_key(node: Any) -> str:
        kind = {c_ast.Struct: "struct", c_ast.Union: "union", c_ast.Enum: "enum"}[type(node)]
        return f"{kind} {node.name}"

    def _reference(self, key: str, node: Any, expr: str | None = None) -> None:
        if key in self.aggregates:
            return
        defined = self.tag_nodes.get(key, node)
        if defined is not None and not getattr(defined, "name", None):
            defined = node
        self.aggregates[key] = (defined, expr if expr is not None else key, self.where(defined))
        if isinstance(defined, c_ast.Struct | c_ast.Union) and defined.decls is not None:
            self.pending.append(key)

    def typedef(self, name: str) -> Json:
        if name not in self.typedef_memo:
            node = self.typedef_nodes[name]
            converted = self.convert(node, f"(*({name}*)0)", anon=f"@{name}")
            self.typedef_memo[name] = {**converted, "typedef": name}
        return self.typedef_memo[name]

    def convert(self, node: Any, expr: str | None, anon: str | None = None) -> Json:
        """A pycparser type node as a TYPE document (sizes filled in later)."""
        if isinstance(node, c_ast.Decl | c_ast.Typename):
            return self.convert(node.type, expr, anon)
        if isinstance(node, c_ast.PtrDecl):
            inner = self.convert(node.type, None if expr is None else f"*({expr})", anon)
            return _quals({"kind": "pointer", "to": inner}, node.quals)
        if isinstance(node, c_ast.ArrayDecl):
            inner = self.convert(node.type, None if expr is None else f"({expr})[0]", anon)
            result: Json = {"kind": "array", "of": inner}
            if isinstance(node.dim, c_ast.Constant) and node.dim.type == "int":
                result["length"] = int(node.dim.value.rstrip("uUlL"), 0)
            elif node.dim is None:
                result["length"] = 0
            return _quals(result, node.dim_quals)
        if isinstance(node, c_ast.FuncDecl):
            params: list[Json] = []
            variadic = False
            for param in node.args.params if node.args is not None else ():
                if isinstance(param, c_ast.EllipsisParam):
                    variadic = True
                    continue
                ptype = self.convert(param, None)
                if ptype["kind"] == "void" and not _pointerish(param):
                    continue  # f(void)
                if ptype["kind"] == "array":  # parameters of array type are pointers
                    ptype = {"kind": "pointer", "to": ptype["of"]}
                elif ptype["kind"] == "function":
                    ptype = {"kind": "pointer", "to": ptype}
                params.append({"name": getattr(param, "name", None), "type": ptype})
            ret = self.convert(node.type, None)
            return {"kind": "function", "return": ret, "params": params, "variadic": variadic}
        if isinstance(node, c_ast.TypeDecl):
            inner = node.type
            if isinstance(inner, c_ast.IdentifierType):
                names = inner.names
                if len(names) == 1 and names[0] in _SHIM_TYPES:
                    result = {"kind": _SHIM_TYPES[names[0]], "name": names[0]}
                    self.scalars.add(names[0])
                elif len(names) == 1 and names[0] in self.typedef_nodes:
                    result = dict(self.typedef(names[0]))
                else:
                    name, kind = _scalar_name(names)
                    result = {"kind": kind, "name": name}
                    if kind != "void":
                        self.scalars.add(name)
            elif isinstance(inner, c_ast.Struct | c_ast.Union | c_ast.Enum):
                if inner.name:
                    key = self._tag_key(inner)
                    self._reference(key, inner)
                else:
                    kind = self._tag_key(inner).split(" ")[0]
                    key = f"{kind} {anon or '@' + self.where(inner)}"
                    typeof = None if expr is None else f"__typeof__({expr})"
                    self._reference(key, inner, expr=typeof)
                    if isinstance(inner, c_ast.Enum) and inner.values is not None:
                        self.enum_members[key] = [e.name for e in inner.values.enumerators]
                result = {"kind": key.split(" ")[0], "name": key}
            else:
                raise HeaderError(f"{self.where(node)}: unsupported type {type(inner).__name__}")
            return _quals(result, node.quals)
        raise HeaderError(f"{self.where(node)}: unsupported declaration {type(node).__name__}")

    def _fields(self, key: str) -> None:
        node, expr, _loc = self.aggregates[key]
        fields: list[Json] = []
        for index, decl in enumerate(node.decls):
            if decl.name is None:
                inner = decl.type
                if decl.bitsize is not None:
                    # An unnamed bit-field: padding that moves the next one (binding needs
                    # it; checking does not, since the named fields' positions are measured).
                    width = _evaluate(c_generator.CGenerator().visit(decl.bitsize), {}, 0)
                    if width is None:
                        raise HeaderError(f"{self.where(decl)}: unsupported width of an "
                                          f"unnamed bit-field in {key}", path=self.display)
                    fields.append({"name": f"@{index}", "padding": True, "bits": width,
                                   "type": self.convert(decl.type, None)})
                    continue
                if getattr(inner, "name", None) is not None:
                    continue  # a tag declared in passing: no member
                if not isinstance(inner, c_ast.Struct | c_ast.Union) or inner.decls is None:
                    raise HeaderError(
                        f"{self.where(decl)}: unsupported unnamed member of {key}",
                        path=self.display,
                    )
                # C11 anonymous struct/union: its members are reached as members of the
                # enclosing aggregate, so they are measured through the outermost one.
                kind = "union" if isinstance(inner, c_ast.Union) else "struct"
                member = f"{kind} @{key.split(' ', 1)[1].lstrip('@')}.{index}"
                self.aggregates[member] = (inner, expr, self.where(inner))
                self.anonymous[member] = key
                self.pending.append(member)
                fields.append({"name": f"@{index}", "anonymous": True,
                               "type": {"kind": kind, "name": member}})
                continue
            base = None if expr is None else f"(({expr}*)0)->{decl.name}"
            ftype = self.convert(decl.type, base, anon=f"@{key.split(' ', 1)[1]}.{decl.name}")
            field: Json = {"name": decl.name, "type": ftype}
            if decl.bitsize is not None:
                field["bits"] = -1
            fields.append(field)
        self.fields[key] = fields

    # -- measuring --------------------------------------------------------------------
    def _probe(self) -> Json:
        lines: list[str] = []
        tags: list[tuple[Any, ...]] = []

        def emit(tag: Any, fmt: str, *args: str) -> None:
            lines.append(f'  __builtin_printf("{len(tags)} {fmt}\\n", {", ".join(args)});')
            tags.append(tag)

        emit(("pointer",), "%zu %zu", "sizeof(void*)", "_Alignof(void*)")
        for name in sorted(self.scalars):
            if self_kind(name) == "va_list":
                emit(("scalar", name), "%zu %zu 0", f"sizeof({name})", f"_Alignof({name})")
            elif self_kind(name) == "int":
                emit(("scalar", name), "%zu %zu %d", f"sizeof({name})", f"_Alignof({name})",
                     f"(int)((({name})-1) < ({name})0)")
            else:
                emit(("scalar", name), "%zu %zu 0", f"sizeof({name})", f"_Alignof({name})")
        enumerators: list[str] = list(self.loose_enumerators)
        for key, (node, expr, _loc) in self.aggregates.items():
            if expr is None or node is None:
                continue
            if isinstance(node, c_ast.Enum):
                if node.values is None and key not in self.enum_members:
                    continue
                emit(("enum", key), "%zu %zu %d", f"sizeof({expr})", f"_Alignof({expr})",
                     f"(int)((({expr})-1) < ({expr})0)")
                enumerators.extend(self.enum_members.get(key, []))
                continue
            fields = self.fields.get(key)
            if fields is None:
                continue
            anonymous = key in self.anonymous
            if not anonymous:
                emit(("aggregate", key), "%zu %zu", f"sizeof({expr})", f"_Alignof({expr})")
            for index, field in enumerate(fields):
                name = field["name"]
                if field.get("anonymous") or field.get("padding"):
                    continue  # placed from its own members (_place_anonymous), or unnamed
                if anonymous and "bits" not in field:
                    emit(("field", key, index), "%zu %zu %zu",
                         f"__builtin_offsetof({expr}, {name})",
                         f"sizeof((({expr}*)0)->{name})", f"__alignof__((({expr}*)0)->{name})")
                elif "bits" in field:
                    lines.append(
                        f"  {{ union {{ {expr} s; unsigned char b[sizeof({expr})]; }} u;"
                        f" __builtin_memset(&u, 0, sizeof u); u.s.{name} = ~0;"
                        f' siglink_bits(u.b, sizeof u.b, {len(tags)}); }}'
                    )
                    tags.append(("bits", key, index))
                else:
                    flexible = field["type"].get("kind") == "array" and not field["type"].get(
                        "length", 1)
                    emit(("field", key, index), "%zu %zu",
                         f"__builtin_offsetof({expr}, {name})",
                         "(size_t)0" if flexible else f"sizeof((({expr}*)0)->{name})")
        for name in dict.fromkeys(enumerators):
            emit(("enumerator", name), "%lld", f"(long long)({name})")
        # A typedef's own size and alignment: attributes the parser never sees
        # (vector_size, mode, aligned) change them.
        for name, t in self.typedef_memo.items():
            if t["kind"] in ("int", "float", "bool", "complex"):
                emit(("typedef", name), "%zu %zu", f"sizeof({name})", f"_Alignof({name})")
        # Headers rename members with macros (``#define sa_handler __sigaction_handler...``,
        # ``#define st_atime st_atim.tv_sec``); the probe means the members themselves.
        members = sorted({f["name"] for fields in self.fields.values() for f in fields
                          if not f["name"].startswith("@")})
        source = (
            f'#include "{self.header}"\n'
            + "".join(f"#undef {name}\n" for name in members)
            + "#include <stddef.h>\n"
            "static void siglink_bits(const unsigned char *b, unsigned long n, int tag) {\n"
            "  long first = -1, count = 0;\n"
            "  for (unsigned long i = 0; i < 8 * n; i++)\n"
            "    if (b[i / 8] >> (i % 8) & 1) { if (first < 0) first = (long)i; count++; }\n"
            '  __builtin_printf("%d %ld %ld\\n", tag, first, count);\n'
            "}\n"
            "int main(void) {\n" + "\n".join(lines) + "\n  return 0;\n}\n"
        )
        probe_c = Path(self.tmp, "siglink_probe.c")
        probe_c.write_text(source)
        exe = Path(self.tmp, "siglink_probe")
        compiled = subprocess.run(
            [self.cc, "-std=gnu11", "-w", *self.flags, "-o", str(exe), str(probe_c)],
            capture_output=True, text=True, check=False,
        )
        if compiled.returncode != 0:
            errors = [ln for ln in compiled.stderr.splitlines() if "error" in ln]
            first = _rename(errors[0] if errors else compiled.stderr.strip(), self.header,
                            self.display)
            raise HeaderError(f"{self.display}: the compiler rejects the declarations: {first}",
                              path=self.display)
        ran = subprocess.run([str(exe)], capture_output=True, text=True, check=False)
        if ran.returncode != 0:
            raise HeaderError(f"{self.display}: the layout probe failed (exit {ran.returncode})")
        layout: Json = {"scalars": {}, "enumerators": {}, "typedefs": {}}
        aggregates: dict[str, Json] = {}
        for key in self.anonymous:
            if key in self.fields:
                aggregates[key] = layout[key] = {
                    "size": 0, "align": 1, "fields": [dict(f) for f in self.fields[key]]}
        for row in ran.stdout.splitlines():
            position, *values = row.split()
            tag: tuple[Any, ...] = tags[int(position)]
            nums = [int(v) for v in values]
            if tag[0] == "pointer":
                layout["pointer"] = {"size": nums[0], "align": nums[1]}
            elif tag[0] == "scalar":
                layout["scalars"][tag[1]] = {"size": nums[0], "align": nums[1],
                                             "signed": bool(nums[2])}
            elif tag[0] == "enum":
                layout[tag[1]] = {"size": nums[0], "align": nums[1], "signed": bool(nums[2])}
            elif tag[0] == "aggregate":
                aggregates[tag[1]] = {"size": nums[0], "align": nums[1],
                                      "fields": [dict(f) for f in self.fields[tag[1]]]}
                layout[tag[1]] = aggregates[tag[1]]
            elif tag[0] == "field":
                field = aggregates[tag[1]]["fields"][tag[2]]
                field["offset"], field["size"] = nums[:2]
                if len(nums) > 2:
                    field["align"] = nums[2]
            elif tag[0] == "bits":
                field = aggregates[tag[1]]["fields"][tag[2]]
                first_bit, count = nums
                field["bits"], field["bit_offset"] = count, first_bit
                field["offset"] = first_bit // 8
            elif tag[0] == "enumerator":
                layout["enumerators"][tag[1]] = nums[0]
            elif tag[0] == "typedef":
                layout["typedefs"][tag[1]] = {"size": nums[0], "align": nums[1]}
        self._place_anonymous(aggregates, layout)
        return layout

    def _place_anonymous(self, aggregates: dict[str, Json], layout: Json) -> None:
        """Lay out anonymous members from their fields' offsets in the enclosing aggregate.

        Their fields were measured through the outermost aggregate (``offsetof`` reaches
        them by name); an anonymous member starts where its first field does, its alignment
        is its fields' largest, and its size is rounded up to that alignment.
        """
        members = [k for k in self.anonymous if k in aggregates]
        if not members:
            return

        def start(key: str) -> int:
            first = next(f for f in aggregates[key]["fields"] if not f.get("padding"))
            if first.get("anonymous"):
                return start(first["type"]["name"])
            return int(first["offset"])

        starts = {key: start(key) for key in members
                  if any(not f.get("padding") for f in aggregates[key]["fields"])}
        for key, entry in aggregates.items():
            base = starts.get(key, 0)
            for field in entry["fields"]:
                if field.get("padding"):
                    continue
                if field.get("anonymous"):
                    field["offset"] = starts[field["type"]["name"]] - base
                elif base:
                    field["offset"] -= base
                    if "bit_offset" in field:
                        field["bit_offset"] -= 8 * base

        def align(field: Json) -> int:
            if "align" in field:
                return int(field.pop("align"))
            name = field["type"].get("name")
            info = layout["scalars"].get(name) or layout.get(name) or {}
            return int(info.get("align", 1))

        def place(key: str) -> None:
            entry = aggregates[key]
            if entry["size"]:
                return
            end, largest = 0, 1
            for field in entry["fields"]:
                if field.get("padding"):
                    continue
                if field.get("anonymous"):
                    place(field["type"]["name"])
                    field["size"] = aggregates[field["type"]["name"]]["size"]
                if "bits" in field:
                    stop = -(-(field["bit_offset"] + field["bits"]) // 8)
                else:
                    stop = field["offset"] + field["size"]
                end, largest = max(end, stop), max(largest, align(field))
            entry["align"] = largest
            entry["size"] = -(-end // largest) * largest

        for key in members:
            place(key)
        for entry in aggregates.values():
            for field in entry["fields"]:
                field.pop("align", None)
                if field.get("anonymous"):
                    field["size"] = aggregates[field["type"]["name"]]["size"]


def self_kind(name: str) -> str:
    if name in _SHIM_TYPES:
        return _SHIM_TYPES[name]
    return _scalar_name(name.split())[1]


def _pointerish(param: Any) -> bool:
    return isinstance(getattr(param, "type", None), c_ast.PtrDecl | c_ast.ArrayDecl)


def _quals(result: Json, quals: Sequence[str]) -> Json:
    for q in quals:
        if q in ("const", "volatile", "restrict"):
            result[q] = True
    return result


def _walk(node: Any) -> Iterable[Any]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(child for _name, child in current.children())


def _fill(document: Json, layout: Json) -> None:
    """Put the compiler's sizes into every TYPE of ``document``."""
    pointer = layout["pointer"]
    seen: set[int] = set()

    def visit(t: Json) -> None:
        if id(t) in seen:
            return
        seen.add(id(t))
        kind = t.get("kind")
        if kind in ("int", "float", "bool", "complex", "va_list"):
            info = layout["scalars"].get(t["name"])
            if info is not None:
                t["size"], t["align"] = info["size"], info["align"]
                if kind == "int":
                    t["signed"] = info["signed"]
            own = layout["typedefs"].get(t.get("typedef"))
            if own is not None and (own["size"], own["align"]) != (t.get("size"), t.get("align")):
                if own["size"] != t.get("size") and not (kind == "int" and own["size"] in (
                        1, 2, 4, 8)):
                    t["kind"] = "vector"  # vector_size: not the scalar it was written as
                t["size"], t["align"] = own["size"], own["align"]
        elif kind == "pointer":
            t["size"], t["align"] = pointer["size"], pointer["align"]
            visit(t["to"])
        elif kind == "enum":
            info = layout.get(t["name"])
            if info is not None:
                t["size"], t["align"], t["signed"] = info["size"], info["align"], info["signed"]
        elif kind in ("struct", "union"):
            info = layout.get(t["name"])
            if info is not None:
                t["size"], t["align"] = info["size"], info["align"]
        elif kind == "array":
            visit(t["of"])
            size = t["of"].get("size")
            if "length" not in t and size:
                t["length"] = -1
        elif kind == "function":
            visit(t["return"])
            for p in t["params"]:
                visit(p["type"])
        for key in ("return",):
            if key in t and kind != "function":
                visit(t[key])

    for fn in document["functions"].values():
        visit(fn["return"])
        for p in fn["params"]:
            visit(p["type"])
    for t in document["typedefs"].values():
        visit(t)
    for entry in document["types"].values():
        for field in entry.get("fields", ()):
            visit(field["type"])
            if field["type"].get("kind") == "array" and field["type"].get("length", -1) < 0:
                elem = field["type"]["of"].get("size")
                if elem:
                    field["type"]["length"] = field["size"] // elem


_INT_LITERAL: Final = re.compile(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]*\b")
_DEFINE: Final = re.compile(r"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)(?![\w(])", re.M)


def _defines(cc: str, flags: list[str], header: Path, tmp: str, display: str) -> dict[str, int]:
    """Integer object-like macros ``#define``'d in the header's own text."""
    try:
        own = set(_DEFINE.findall(header.read_text(errors="replace")))
    except OSError:
        return {}
    if not own:
        return {}
    out = _run([cc, "-E", "-dM", "-std=gnu11", "-x", "c", *flags, str(header)], header, display)
    macros: dict[str, str] = {}
    for line in out.splitlines():
        m = re.match(r"#define ([A-Za-z_]\w*)(?!\()\s*(.*)$", line)
        if m:
            macros[m.group(1)] = m.group(2)
    values: dict[str, int] = {}
    for name in sorted(own):
        if name in macros and not name.startswith("_"):
            value = _evaluate(macros[name], macros, 0)
            if value is not None:
                values[name] = value
    return values


_ALLOWED: Final = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Add, ast.Sub, ast.Mult,
    ast.FloorDiv, ast.Mod, ast.LShift, ast.RShift, ast.BitOr, ast.BitAnd, ast.BitXor,
    ast.Invert, ast.USub, ast.UAdd,
)


def _evaluate(text: str, macros: dict[str, str], depth: int) -> int | None:
    """The value of a macro body that is an integer constant expression, else ``None``."""
    if depth > 16 or not text.strip():
        return None
    if re.search(r"['\"]", text):
        return None

    def replace_name(m: re.Match[str]) -> str:
        name = m.group(0)
        if name not in macros:
            raise KeyError(name)
        inner = _evaluate(macros[name], macros, depth + 1)
        if inner is None:
            raise KeyError(name)
        return f"({inner})"

    try:
        expr = _INT_LITERAL.sub(lambda m: _py_int(m.group(1)), text)
        expr = re.sub(r"\b[A-Za-z_]\w*\b", replace_name, expr)
    except KeyError:
        return None
    expr = expr.replace("/", "//")
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError:
        return None
    if not all(isinstance(n, _ALLOWED) for n in ast.walk(tree)):
        return None
    if not all(isinstance(n.value, int) for n in ast.walk(tree) if isinstance(n, ast.Constant)):
        return None
    try:
        value = eval(compile(tree, "<macro>", "eval"), {"__builtins__": {}})
    except (ArithmeticError, ValueError):
        return None
    return value if isinstance(value, int) else None


def _py_int(literal: str) -> str:
    if literal.startswith(("0x", "0X")):
        return str(int(literal, 16))
    if len(literal) > 1 and literal.startswith("0"):
        return str(int(literal, 8))
    return literal


def type_text(t: Json, expand: bool = False) -> str:
    """C spelling of a TYPE document: ``const unsigned char *``, ``struct point``.

    Typedef names are kept unless ``expand`` is true.
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
