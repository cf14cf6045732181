"""Binding checked declarations with ctypes: functions, Structure classes, constants.

>>> Binder({}, "libz.so.1", {}).ctype({"kind": "int", "size": 8, "signed": False}, "param")
<class 'ctypes.c_ulong'>
"""

from __future__ import annotations

import ctypes
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from siglink.errors import NativeError
from siglink.native._buffers import Buffer, BufferParam, ConstBuffer, TextBuffer
from siglink.native._layout import (
    INTS,
    explicit_fields,
    field_name,
    flat_fields,
    layout_ok,
    offset_text,
)
from siglink.native.cdecl import type_text

__all__ = ["Binder"]


def __dir__() -> list[str]:
    return list(__all__)


Json = dict[str, Any]

# By name, not size: _Float128 has long double's size on x86-64 but another format.
_CTYPES_FLOATS: dict[str, Any] = {
    "float": ctypes.c_float, "_Float32": ctypes.c_float,
    "double": ctypes.c_double, "_Float64": ctypes.c_double, "_Float32x": ctypes.c_double,
    "long double": ctypes.c_longdouble,
}


class _Unbindable(Exception):
    """A type ctypes cannot represent; :class:`Binder` names where it was met."""


class Binder:
    def __init__(self, decls: Mapping[str, Any], path: str, versions: Mapping[str, str]) -> None:
        self.decls = decls
        self.types: Mapping[str, Json] = decls.get("types", {})
        self.path = path
        self.versions = versions
        self.classes: dict[str, Any] = {}
        self.done: set[str] = set()
        self.callbacks: dict[str, Any] = {}

    def bind(self, namespace: dict[str, Any]) -> None:
        """Put the bound functions, classes and constants into ``namespace`` (a library's
        ``__dict__``), and ``unbound``: each function ctypes cannot call, with the reason."""
        handle = ctypes.CDLL(self.path)
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
            if isinstance(argtype, type) and issubclass(argtype, BufferParam):
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
            found = INTS.get((int(t.get("size") or 0), bool(t.get("signed"))))
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
            name = field_name(field)
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
        flat = flat_fields(self.types, info)
        anon: dict[str, Any] = {"_anonymous_": tuple(anonymous)} if anonymous else {}
        # ctypes' own rules first (natural, then each packing); where the compiler did what
        # ctypes cannot say (an aligned member, a field in a bit-field's storage unit),
        # every field at its measured offset with explicit padding.
        candidates: list[tuple[dict[str, Any], list[tuple[Any, ...]]]] = [
            ({**anon} if pack is None else {"_pack_": pack, **anon}, fields)
            for pack in (None, 1, 2, 4, 8, 16)
        ]
        if base is ctypes.Structure:
            explicit = explicit_fields(placed, info["size"])
            if explicit is not None:
                candidates.append(({"_pack_": 1, **anon}, explicit))
        for extra, chosen in candidates:
            trial = type("trial", (base,), {**extra, "_fields_": chosen})
            if layout_ok(trial, info, flat):
                final = list(chosen)
                pad = info["size"] - ctypes.sizeof(trial)
                if pad > 0:
                    final.append(("_siglink_padding", ctypes.c_ubyte * pad))
                for name, value in extra.items():
                    setattr(cls, name, value)
                cls._fields_ = final
                if ctypes.sizeof(cls) == info["size"] and layout_ok(cls, info, flat):
                    return
                break
        offsets = ", ".join(f"{f['name']}@{offset_text(f)}" for f in flat)
        raise NativeError(
            f"{self.path}: ctypes cannot reproduce the compiler's layout of {key} "
            f"(size {info['size']}: {offsets})"
        )


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
