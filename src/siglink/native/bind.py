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
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import subprocess
import warnings
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from siglink.contracts.manifest import Manifest
from siglink.contracts.verdict import Problem, Verdict
from siglink.errors import LinkError, NativeError
from siglink.native import manifest as native_manifest
from siglink.native.cdecl import describe, type_text
from siglink.native.compat import check_library, ordered
from siglink.native.elf import ElfError, ElfFile, check_loadable

__all__ = [
    "Library",
    "NativeLinkError",
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
        super().__init__("\n".join(lines), report=verdict)
        self.library = library
        self.path = path
        self.verdict = verdict
        self.symbols = tuple(dict.fromkeys(
            name for p in verdict.incompatible for name in _functions_of(p)))


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
    """A library linked by symbol presence only: it has no manifest and no header was given."""


def link(
    name_or_path: str | os.PathLike[str],
    declarations: str | os.PathLike[str],
    *,
    header: str | os.PathLike[str] | None = None,
    versions: Mapping[str, str] | None = None,
    include_dirs: Sequence[str] = (),
    defines: Sequence[str] = (),
) -> Library:
    """Link the library ``name_or_path`` against the consumer's ``declarations``.

    ``declarations`` is C declaration text or a header path (what the consumer was built
    against); ``header`` is the library's header, used when the library carries no manifest;
    ``versions`` maps a function to the ELF symbol version it must be bound to.

    :raises NativeLinkError: (exit 127) listing every incompatible problem, before any call.
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
    if provided is None:
        warnings.warn(
            f"{path} carries no siglink manifest and no header= was given: only the presence "
            "of each symbol was checked, not its signature (embed one with 'siglink native "
            "manifest', or pass the library's header)",
            UnverifiedLinkWarning,
            stacklevel=2,
        )
    library = Library(path, verdict, provider, source)
    _Binder(expected, path, versions or {}).bind(library)
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


def find_library(
    name_or_path: str | os.PathLike[str], *, search: Sequence[str] = ()
) -> tuple[str, str | None]:
    """The file of a library and the soname asked for: a path, ``libz.so.1`` or ``z``.

    A bare name that is a file in the working directory is that file; otherwise it is
    looked up like the dynamic loader does.

    ``search`` lists directories to try first (a consumer's ``DT_RUNPATH``).
    """
    name = os.fspath(name_or_path)
    # A path, or a bare name that is a file in the working directory, is that file.
    if "/" in name or os.path.isfile(name):
        if not os.path.exists(name):
            raise ElfError(f"{name}: no such file", path=name)
        base = os.path.basename(name)
        # dlopen searches the library path for a name without '/': keep the cwd file.
        return name if "/" in name else os.path.join(".", name), base if ".so." in base else None
    soname = name if ".so" in name else ctypes.util.find_library(name)
    if soname is None:
        raise NativeError(f"library {name!r} not found on this system's library path")
    for directory in [*search, *os.environ.get("LD_LIBRARY_PATH", "").split(":")]:
        candidate = os.path.join(directory, soname) if directory else ""
        if candidate and os.path.exists(candidate) and _loadable(candidate):
            return candidate, soname
    for candidate in _system_paths().get(soname, ()):
        if _loadable(candidate):
            return candidate, soname
    raise NativeError(f"library {soname!r} not found on this system's library path")


def _loadable(path: str) -> bool:
    try:
        check_loadable(path)
    except ElfError:
        return False
    return True


@lru_cache(maxsize=1)
def _system_paths() -> dict[str, tuple[str, ...]]:
    """``ldconfig -p``: soname to paths, plus the usual directories."""
    found: dict[str, list[str]] = {}
    try:
        out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True,
                             check=False).stdout
    except OSError:
        out = ""
    for line in out.splitlines():
        m = re.match(r"\s+(\S+) \(.*\) => (\S+)", line)
        if m:
            found.setdefault(m.group(1), []).append(m.group(2))
    for directory in ("/lib", "/usr/lib", "/lib64", "/usr/lib64", "/usr/local/lib",
                      "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
                      "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu"):
        try:
            for entry in os.listdir(directory):
                if ".so" in entry:
                    found.setdefault(entry, []).append(os.path.join(directory, entry))
        except OSError:
            continue
    return {k: tuple(v) for k, v in found.items()}


# -- ctypes types --------------------------------------------------------------------------

_INTS: dict[tuple[int, bool], Any] = {
    (1, True): ctypes.c_byte, (1, False): ctypes.c_ubyte,
    (2, True): ctypes.c_int16, (2, False): ctypes.c_uint16,
    (4, True): ctypes.c_int32, (4, False): ctypes.c_uint32,
    (8, True): ctypes.c_int64, (8, False): ctypes.c_uint64,
}
# By name, not size: _Float128 has long double's size on x86-64 but another format.
_CTYPES_FLOATS: dict[str, Any] = {
    "float": ctypes.c_float, "_Float32": ctypes.c_float,
    "double": ctypes.c_double, "_Float64": ctypes.c_double, "_Float32x": ctypes.c_double,
    "long double": ctypes.c_longdouble,
}
_SIMPLE_CDATA: tuple[type, ...] = (
    ctypes.Array, ctypes._Pointer, ctypes.c_void_p, ctypes.c_char_p,
)
_CARG = type(ctypes.byref(ctypes.c_int()))


# A zero-length char array over a buffer is the cheapest pointer ctypes makes from it:
# one C call, and the array holds the buffer's export for the call, so another thread
# cannot resize a bytearray while the library (running without the GIL) writes into it.
_AT: Final = ctypes.c_char * 0


def _other(obj: Any, cls: Any) -> Any:
    """The slow path of a buffer parameter: ctypes data, ``None``, addresses, other buffers."""
    if obj is None or isinstance(obj, _SIMPLE_CDATA) or obj.__class__ is _CARG:
        return obj
    if isinstance(obj, int):
        return ctypes.c_void_p(obj)
    readonly = isinstance(obj, bytes) or (obj.__class__ is memoryview and obj.readonly)
    if readonly and cls.const:
        return bytes(obj)
    try:
        return _AT.from_buffer(obj)  # array.array, mmap, numpy arrays ...
    except TypeError as e:
        if "not C contiguous" in str(e):
            if cls.const:
                return memoryview(obj).tobytes()
            raise TypeError(f"{cls.what}: the buffer is not contiguous") from None
        if readonly or "not writable" in str(e):
            kind = "bytes are immutable" if isinstance(obj, bytes) else (
                "a read-only buffer was given")
            raise TypeError(f"{cls.what} is written by the library ({cls.spelled}, not "
                            f"const): {kind}; pass a bytearray, a writable memoryview or a "
                            "ctypes buffer") from None
    wanted = "a buffer (bytes, bytearray, memoryview" if cls.const else (
        "a writable buffer (bytearray, memoryview")
    raise TypeError(f"{cls.what} ({cls.spelled}): expected {wanted}, ctypes data), "
                    f"got {type(obj).__name__}")


class _BufferParam(ctypes.c_void_p):
    """A pointer-to-bytes parameter; each subclass gets its own ``from_param``.

    ``from_param`` is a plain function closed over its class, set as a staticmethod: ctypes
    then calls it directly, without binding a classmethod on every call (about 15 ns).
    """

    what = "buffer parameter"
    spelled = "void *"
    const = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.from_param = staticmethod(cls._converter())  # type: ignore[method-assign]

    @classmethod
    def _converter(cls) -> Callable[[Any], Any]:
        """The ``from_param`` for ``cls``. Subclasses override it to take Python buffers
        on a fast path first; this base one accepts only what every buffer parameter does
        (``None``, ctypes data) and refuses the rest with a message naming ``cls``."""

        def from_param(obj: Any) -> Any:
            return _other(obj, cls)

        return from_param


class ConstBuffer(_BufferParam):
    """A ``const`` pointer to bytes or ``void``: bytes, bytearray, memoryview, ctypes data.

    A read-only memoryview is passed without a copy when it spans a whole ``bytes`` object
    in order, copied otherwise (ctypes cannot take the address of read-only memory).
    """

    spelled = "const void *"
    const = True

    @classmethod
    def _converter(cls) -> Callable[[Any], Any]:
        def from_param(obj: Any) -> Any:
            kind = obj.__class__
            if kind is bytes:
                return obj
            if kind is memoryview:
                whole = obj.obj
                if whole.__class__ is bytes:  # read-only by nature: no .readonly needed
                    try:
                        # All of it, in order (not ``[::-1]``): the bytes itself, no copy.
                        # As many items as the bytes has bytes means items of one byte,
                        # so all of them (``len`` is cheaper than ``.nbytes``).
                        if len(obj) == len(whole) and obj.c_contiguous:
                            return whole
                    except TypeError:  # a 0-dim view has no len()
                        pass
                    return obj.tobytes()  # ctypes cannot point into read-only memory
                if obj.readonly:
                    return obj.tobytes()
                if obj.c_contiguous:
                    return _AT.from_buffer(obj)
            elif kind is bytearray:
                return _AT.from_buffer(obj)
            return _other(obj, cls)

        return from_param


class Buffer(_BufferParam):
    """A pointer to bytes or ``void`` the library writes: bytearray, memoryview, ctypes data.

    ``bytes`` is refused: the pointee is not ``const``, so the library may write into it.
    """

    @classmethod
    def _converter(cls) -> Callable[[Any], Any]:
        def from_param(obj: Any) -> Any:
            kind = obj.__class__
            if kind is bytearray or (kind is memoryview and not obj.readonly
                                     and obj.c_contiguous):
                return _AT.from_buffer(obj)
            return _other(obj, cls)

        return from_param


class TextBuffer(Buffer):
    """A non-const ``char *``: like :class:`Buffer`, and ``bytes`` as ctypes' ``c_char_p``
    (C APIs older than ``const`` declare input strings so)."""

    what = "char * parameter"
    spelled = "char *"

    @classmethod
    def _converter(cls) -> Callable[[Any], Any]:
        def from_param(obj: Any) -> Any:
            kind = obj.__class__
            if kind is bytes:
                return obj
            if kind is bytearray or (kind is memoryview and not obj.readonly
                                     and obj.c_contiguous):
                return _AT.from_buffer(obj)
            return _other(obj, cls)

        return from_param


class _Unbindable(Exception):
    """A type ctypes cannot represent; :class:`_Binder` names where it was met."""


class _Binder:
    def __init__(self, decls: Mapping[str, Any], path: str, versions: Mapping[str, str]) -> None:
        self.decls = decls
        self.types: Mapping[str, Json] = decls.get("types", {})
        self.path = path
        self.versions = versions
        self.classes: dict[str, Any] = {}
        self.done: set[str] = set()
        self.callbacks: dict[str, Any] = {}

    def bind(self, library: Library) -> None:
        handle = ctypes.CDLL(self.path)
        namespace = library.__dict__
        namespace["_cdll"] = handle
        for key, info in self.types.items():
            if info.get("kind") in ("struct", "union"):
                cls = self.struct(key)
                tag = key.split(" ", 1)[1]
                if not tag.startswith("@"):
                    namespace[f"{key.split(' ')[0]}_{tag}"] = cls
                    namespace.setdefault(tag, cls)
        for key in list(self.classes):
            self.complete(key)
        for name, t in self.decls.get("typedefs", {}).items():
            if t.get("kind") in ("struct", "union"):
                namespace[name] = self.struct(t["name"])
        for info in self.types.values():
            if info.get("kind") == "enum":
                namespace.update(info.get("members", {}))
        namespace.update(self.decls.get("constants", {}))
        unbound: dict[str, str] = {}
        for name, fn in self.decls.get("functions", {}).items():
            try:
                namespace[name] = self.function(handle, name, fn)
            except NativeError as e:
                # Checked, but not callable through ctypes (an __int128, a _Float128 ...):
                # the rest of the library stays usable; using this one says why it cannot.
                unbound[name] = e.message
        namespace["unbound"] = unbound

    def function(self, handle: ctypes.CDLL, name: str, fn: Json) -> Any:
        symbol = fn.get("symbol", name)
        argtypes: list[Any] = []
        for index, param in enumerate(fn["params"], start=1):
            where = f"{name} param {index}" + (f" ({param['name']})" if param.get("name") else "")
            argtype = self._typed(param["type"], "param", where)
            if isinstance(argtype, type) and issubclass(argtype, _BufferParam):
                argtype = type(argtype.__name__, (argtype,), {
                    "what": f"{name}() {where.split(' ', 1)[1]}",
                    "spelled": type_text(param["type"]),
                })
            argtypes.append(argtype)
        restype = self._typed(fn["return"], "return", f"{name} return")
        version = self.versions.get(name)
        func: Any
        if version is not None:
            address = _dlvsym(handle, symbol, version)
            if not address:
                raise NativeError(f"{self.path}: {symbol}@{version} cannot be bound")
            func = ctypes.CFUNCTYPE(restype, *argtypes)(address)
        else:
            try:
                func = handle[symbol]
            except AttributeError:
                raise NativeError(f"{self.path}: {symbol} cannot be bound (dlsym)") from None
        func.argtypes = argtypes
        func.restype = restype
        func.__name__ = name
        return func

    def _typed(self, t: Json, role: str, where: str) -> Any:
        """:meth:`ctype` for one position of a function, refusing what ctypes cannot pass."""
        try:
            ctype = self.ctype(t, role)
        except _Unbindable as e:
            raise NativeError(f"{self.path}: cannot bind {where}: {e}") from None
        if isinstance(ctype, type) and issubclass(ctype, ctypes.Structure | ctypes.Union):
            info = self.types.get(t["name"], {})
            if info.get("align") and ctypes.alignment(ctype) != info["align"]:
                raise NativeError(
                    f"{self.path}: cannot bind {where}: {t['name']} is passed by value but "
                    "ctypes cannot "
                    f"give it the compiler's alignment ({info['align']}; ctypes: "
                    f"{ctypes.alignment(ctype)}); pass it through a pointer"
                )
        return ctype

    def ctype(self, t: Json, role: str) -> Any:
        kind = t["kind"]
        if kind == "void":
            return None
        if kind == "bool":
            return ctypes.c_bool
        if kind in ("int", "enum"):
            if role == "array" and t.get("name") == "char":
                return ctypes.c_char  # char arrays read and write as bytes
            found = _INTS.get((int(t.get("size") or 0), bool(t.get("signed"))))
            if found is None:
                raise _Unbindable(f"ctypes has no {type_text(t, expand=True)} "
                                  f"({t.get('size')} bytes)")
            return found
        if kind == "float":
            name = t.get("name")
            if name not in _CTYPES_FLOATS or t.get("size") != ctypes.sizeof(_CTYPES_FLOATS[name]):
                raise _Unbindable(f"ctypes has no {type_text(t, expand=True)} "
                                  f"({t.get('size')} bytes)")
            return _CTYPES_FLOATS[name]
        if kind == "va_list":
            return ctypes.c_void_p
        if kind in ("struct", "union"):
            cls = self.struct(t["name"])
            self.complete(t["name"])
            return cls
        if kind == "array":
            return self.ctype(t["of"], "array") * int(t.get("length") or 0)
        if kind == "pointer":
            return self.pointer(t["to"], role)
        if kind == "vector":
            raise _Unbindable(f"ctypes has no vector type {type_text(t)} ({t.get('size')} bytes)")
        raise _Unbindable(f"ctypes has no {type_text(t, expand=True)}")

    def pointer(self, to: Json, role: str) -> Any:
        kind = to["kind"]
        bytelike = kind == "void" or (kind in ("int", "bool") and to.get("size") == 1)
        if bytelike:
            if role == "param":
                if to.get("const"):
                    return ConstBuffer
                return TextBuffer if to.get("name") == "char" else Buffer
            if kind != "void" and to.get("name") == "char" and role == "return":
                return ctypes.c_char_p
            return ctypes.c_void_p if kind == "void" else ctypes.POINTER(self.ctype(to, role))
        if kind == "function":
            return self.callback(to, role)
        if kind in ("struct", "union"):
            return ctypes.POINTER(self.struct(to["name"]))
        if kind == "pointer":
            inner = self.ctype(to, "field")
            return ctypes.POINTER(inner)
        return ctypes.POINTER(self.ctype(to, "field"))

    def callback(self, fn: Json, role: str) -> Any:
        argtypes = [self.ctype(p["type"], "field") for p in fn["params"]]
        restype = self.ctype(fn["return"], "field")
        proto = ctypes.CFUNCTYPE(restype, *argtypes)
        if role != "param":
            return proto
        keep: dict[Any, Any] = {}

        def from_param(cls: type, obj: Any) -> Any:
            if obj is None or isinstance(obj, proto):
                return obj
            wrapped = keep.get(obj)
            if wrapped is None:
                if not callable(obj):
                    raise TypeError(f"expected a callable, got {type(obj).__name__}")
                wrapped = keep[obj] = proto(obj)  # kept: the library may call it later
            return wrapped

        return type("Callback", (proto,), {
            "_flags_": proto._flags_, "_argtypes_": proto._argtypes_,
            "_restype_": proto._restype_, "from_param": classmethod(from_param),
            "keep": keep,
        })

    def struct(self, key: str) -> Any:
        cls = self.classes.get(key)
        if cls is None:
            info = self.types.get(key, {})
            base = ctypes.Union if info.get("kind", key.split(" ", maxsplit=1)[0]) == "union" else (
                ctypes.Structure)
            tag = re.sub(r"\W", "_", key.split(" ", 1)[1].lstrip("@"))
            cls = self.classes[key] = type(tag, (base,), {"__module__": "siglink.native"})
        return cls

    def complete(self, key: str) -> None:
        if key in self.done:
            return
        self.done.add(key)
        info = self.types.get(key)
        cls = self.classes[key]
        if not info or not info.get("complete"):
            cls._fields_ = []
            return
        fields: list[tuple[Any, ...]] = []
        placed: list[tuple[Json, tuple[Any, ...]]] = []  # named fields, for explicit layout
        anonymous: list[str] = []
        for field in info["fields"]:
            try:
                ctype = self.ctype(field["type"], "field")
            except _Unbindable as e:
                if "bits" in field or not field.get("size"):
                    raise NativeError(f"{self.path}: {key} field {field['name']}: {e}") from None
                ctype = ctypes.c_ubyte * field["size"]  # kept in place, readable as bytes
            name = _field_name(field)
            if field.get("padding"):
                if field["bits"]:  # ctypes has no zero-width bit-field; the check below tells
                    fields.append(("_siglink_pad" + name[1:], ctype, field["bits"]))
                continue
            if field.get("anonymous"):
                anonymous.append(name)
            entry = (name, ctype, field["bits"]) if "bits" in field else (name, ctype)
            fields.append(entry)
            placed.append((field, entry))
        base = cls.__bases__[0]
        flat = _flat_fields(self.types, info)
        anon: dict[str, Any] = {"_anonymous_": tuple(anonymous)} if anonymous else {}
        # ctypes' own rules first (natural, then each packing); where the compiler did what
        # ctypes cannot say (an aligned member, a field in a bit-field's storage unit),
        # every field at its measured offset with explicit padding.
        candidates: list[tuple[dict[str, Any], list[tuple[Any, ...]]]] = [
            ({**anon} if pack is None else {"_pack_": pack, **anon}, fields)
            for pack in (None, 1, 2, 4, 8, 16)
        ]
        if base is ctypes.Structure:
            explicit = _explicit(placed, info["size"])
            if explicit is not None:
                candidates.append(({"_pack_": 1, **anon}, explicit))
        for extra, chosen in candidates:
            trial = type("trial", (base,), {**extra, "_fields_": chosen})
            if _layout_ok(trial, info, flat):
                final = list(chosen)
                pad = info["size"] - ctypes.sizeof(trial)
                if pad > 0:
                    final.append(("_siglink_padding", ctypes.c_ubyte * pad))
                for name, value in extra.items():
                    setattr(cls, name, value)
                cls._fields_ = final
                if ctypes.sizeof(cls) == info["size"] and _layout_ok(cls, info, flat):
                    return
                break
        offsets = ", ".join(f"{f['name']}@{_offset_text(f)}" for f in flat)
        raise NativeError(
            f"{self.path}: ctypes cannot reproduce the compiler's layout of {key} "
            f"(size {info['size']}: {offsets})"
        )


def _explicit(
    placed: list[tuple[Json, tuple[Any, ...]]], size: int
) -> list[tuple[Any, ...]] | None:
    """Fields at their measured offsets under ``_pack_ = 1``, padded explicitly.

    A run of bit-fields shares one storage unit, the smallest integer that holds the run
    without reaching the next field; ``None`` when there is none.
    """
    out: list[tuple[Any, ...]] = []
    cursor = 0  # bytes
    index = 0
    pads = 0

    def pad(to: int) -> bool:
        nonlocal cursor, pads
        if to < cursor:
            return False
        if to > cursor:
            out.append((f"_siglink_gap{pads}", ctypes.c_ubyte * (to - cursor)))
            pads += 1
        cursor = to
        return True

    while index < len(placed):
        field, entry = placed[index]
        if "bits" not in field:
            if not pad(field["offset"]):
                return None
            out.append(entry)
            cursor += field["size"]
            index += 1
            continue
        run = [placed[index]]
        while index + len(run) < len(placed) and "bits" in placed[index + len(run)][0]:
            run.append(placed[index + len(run)])
        following = placed[index + len(run)][0].get("offset", size) if (
            index + len(run) < len(placed)) else size
        start = run[0][0]["bit_offset"] // 8
        end_bit = max(f["bit_offset"] + f["bits"] for f, _ in run)
        unit = next((n for n in (1, 2, 4, 8)
                     if 8 * (start + n) >= end_bit and start + n <= max(following, start + 1)),
                    None)
        if unit is None or not pad(start):
            return None
        storage = _INTS[(unit, False)]
        bit = 8 * start
        for f, e in run:
            if f["bit_offset"] < bit:
                return None
            if f["bit_offset"] > bit:
                out.append((f"_siglink_gap{pads}", storage, f["bit_offset"] - bit))
                pads += 1
            signed = bool(f["type"].get("signed"))
            out.append((e[0], _INTS[(unit, signed)], f["bits"]))
            bit = f["bit_offset"] + f["bits"]
        cursor = start + unit
        index += len(run)
    return out


def _offset_text(field: Json) -> str:
    if "bit_offset" in field:
        return f"bit {field['bit_offset']}"
    return str(field.get("offset"))


def _field_name(field: Json) -> str:
    """The ctypes name of a field: anonymous members are ``_anon<N>`` (in ``_anonymous_``)."""
    name: str = field["name"]
    return "_anon" + name[1:] if field.get("anonymous") else name


def _flat_fields(
    types: Mapping[str, Json], info: Json, base: int = 0, *, top: bool = True
) -> list[Json]:
    """Fields with offsets from the start of ``info``, anonymous members' fields lifted
    (ctypes puts them on the enclosing class through ``_anonymous_``; a nested anonymous
    member itself stays on the class that holds it)."""
    out: list[Json] = []
    for field in info.get("fields", ()):
        if field.get("padding"):
            continue
        offset = field.get("offset", 0) + base
        if field.get("anonymous"):
            if top:
                out.append({**field, "name": _field_name(field), "offset": offset})
            out.extend(_flat_fields(types, types.get(field["type"]["name"], {}), offset,
                                    top=False))
        else:
            moved = {**field, "offset": offset}
            if "bit_offset" in field:
                moved["bit_offset"] = field["bit_offset"] + 8 * base
            out.append(moved)
    return out


def _layout_ok(cls: Any, info: Json, flat: list[Json]) -> bool:
    if ctypes.sizeof(cls) > info["size"]:
        return False
    for field in flat:
        descriptor = getattr(cls, field["name"])
        if "bits" in field:
            bit = descriptor.offset * 8 + (descriptor.size & 0xFFFF)
            if (descriptor.size >> 16, bit) != (field["bits"], field["bit_offset"]):
                return False
        elif descriptor.offset != field["offset"] or descriptor.size != field["size"]:
            return False
    return True


@lru_cache(maxsize=1)
def _dlvsym_function() -> Any:
    for name in (None, "libdl.so.2"):
        try:
            func = ctypes.CDLL(name).dlvsym
        except (OSError, AttributeError):
            continue
        func.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
        func.restype = ctypes.c_void_p
        return func
    raise NativeError("this C library has no dlvsym: versioned symbols cannot be bound")


def _dlvsym(handle: ctypes.CDLL, symbol: str, version: str) -> int:
    address = _dlvsym_function()(handle._handle, symbol.encode(), version.encode())
    return int(address or 0)
