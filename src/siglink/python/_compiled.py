"""Compiled modules without stubs: inspected by a separate interpreter, never in this process.

The child puts the library's directory first on ``sys.path``, imports each module, and prints
JSON describing its public names (``inspect.signature`` text where one exists). Each result
becomes an :class:`Export` with ``compiled=True``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from siglink.contracts.manifest import Diagnostic, Export, ExportKind
from siglink.contracts.signature import Signature
from siglink.contracts.types import TypeContext
from siglink.errors import BadInputError

__all__ = ["inspect_compiled"]

_TIMEOUT: Final = 60.0

# Runs in the child interpreter: standard library only.
_PROBE: Final = r"""
import importlib, inspect, json, sys, sysconfig, types
sys.path.insert(0, sys.argv[1])
def flags(obj):
    # A builtin without __text_signature__: its PyMethodDef says how it takes arguments.
    import ctypes
    if sys.implementation.name != "cpython" or hasattr(sys, "getobjects") \
            or sysconfig.get_config_var("Py_GIL_DISABLED"):
        return None
    class MethodDef(ctypes.Structure):
        _fields_ = [("name", ctypes.c_char_p), ("meth", ctypes.c_void_p),
                    ("flags", ctypes.c_int), ("doc", ctypes.c_char_p)]
    head = [("refcnt", ctypes.c_ssize_t), ("type", ctypes.c_void_p)]
    if type(obj) is types.BuiltinFunctionType:
        fields, bound = head + [("ml", ctypes.POINTER(MethodDef))], False
    elif type(obj) is types.MethodDescriptorType:
        fields = head + [("objclass", ctypes.c_void_p), ("name", ctypes.c_void_p),
                         ("qualname", ctypes.c_void_p), ("ml", ctypes.POINTER(MethodDef))]
        bound = True
    else:
        return None
    class Head(ctypes.Structure):
        _fields_ = fields
    ml = Head.from_address(id(obj)).ml
    if not ml or ml.contents.name is None or ml.contents.name.decode() != obj.__name__:
        return None
    f = ml.contents.flags
    first = "self, " if bound else ""
    if f & 0x0004:  # METH_NOARGS
        return f"({first})".replace(", )", ")")
    if f & 0x0008:  # METH_O
        return f"({first}arg, /)"
    if f & 0x0002:  # METH_KEYWORDS: anything goes, as far as the flags tell
        return None
    if f & (0x0001 | 0x0080):  # METH_VARARGS, METH_FASTCALL: positional arguments only
        return f"({first}*args)"
    return None
def sig(obj):
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        try:
            return flags(obj)
        except Exception:
            return None
def describe(obj, member=False):
    if inspect.isclass(obj):
        members = {}
        for name, value in vars(obj).items():
            if name.startswith("_") and name not in ("__call__",):
                continue
            if isinstance(value, staticmethod):
                members[name] = {"kind": "staticmethod", "signature": sig(value.__func__)}
            elif isinstance(value, classmethod):
                members[name] = {"kind": "classmethod", "signature": sig(value.__func__)}
            elif isinstance(value, property) or inspect.isgetsetdescriptor(value) \
                    or inspect.ismemberdescriptor(value):
                members[name] = {"kind": "property"}
            elif callable(value):
                members[name] = {"kind": "method", "signature": sig(value)}
            else:
                members[name] = {"kind": "attribute", "value": repr(value)[:200]}
        return {"kind": "class", "signature": sig(obj), "members": members,
                "bases": [f"{b.__module__}.{b.__qualname__}" for b in obj.__bases__]}
    if callable(obj):
        return {"kind": "function", "signature": sig(obj)}
    return {"kind": "attribute", "type": f"{type(obj).__module__}.{type(obj).__qualname__}"}
out = {}
for name in sys.argv[2:]:
    try:
        module = importlib.import_module(name)
    except BaseException as e:
        out[name] = {"error": f"{type(e).__name__}: {e}"}
        continue
    names = getattr(module, "__all__", None)
    if not isinstance(names, (list, tuple)):
        names = [n for n in vars(module) if not n.startswith("_")]
    items = {}
    for n in names:
        obj = getattr(module, n, None)
        if inspect.ismodule(obj):
            continue
        if getattr(obj, "__module__", name) not in (name, None) and not hasattr(module, "__all__"):
            continue
        items[n] = describe(obj)
    out[name] = {"members": items}
sys.stdout.write(json.dumps(out))
"""


def inspect_compiled(
    root: Path, modules: Sequence[str]
) -> tuple[dict[str, Export], list[Diagnostic]]:
    """Exports of compiled ``modules`` under ``root``, by path, and what could not be read."""
    diagnostics: list[Diagnostic] = []
    try:
        result = subprocess.run(
            [sys.executable, "-I", "-c", _PROBE, str(root), *modules],
            capture_output=True,
            text=True,
            timeout=_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return {}, [Diagnostic(f"compiled modules {', '.join(modules)} not inspected: {e}")]
    try:
        data: dict[str, Any] = json.loads(result.stdout or "{}")
    except ValueError:
        data = {}
    exports: dict[str, Export] = {}
    for module in modules:
        entry = data.get(module)
        if entry is None:
            detail = result.stderr.strip().splitlines()[-1:] or ["no output"]
            diagnostics.append(Diagnostic(f"compiled module {module} not inspected: {detail[0]}"))
            continue
        if "error" in entry:
            diagnostics.append(
                Diagnostic(f"compiled module {module} could not be imported: {entry['error']}")
            )
            continue
        context = TypeContext(module=module, names={}, aliases={}, typevars=frozenset())
        for name, item in entry["members"].items():
            path = f"{module}.{name}"
            exports[path] = _export(path, module, item, context)
    return exports, diagnostics


def _signature(text: str | None, context: TypeContext, *, drop_first: bool) -> Signature | None:
    if text is None:
        return None
    try:
        sig = Signature.parse(text, context)
    except BadInputError:
        return None
    if drop_first and sig.params and not sig.params[0].kind.variadic:
        return Signature(params=sig.params[1:], returns=sig.returns)
    return sig


_MEMBER_KINDS: Final = {
    "method": ExportKind.METHOD,
    "classmethod": ExportKind.CLASSMETHOD,
    "staticmethod": ExportKind.STATICMETHOD,
    "property": ExportKind.PROPERTY,
    "attribute": ExportKind.ATTRIBUTE,
}


def _export(path: str, module: str, item: dict[str, Any], context: TypeContext) -> Export:
    kind = item["kind"]
    if kind == "class":
        members = {}
        for name, member in item.get("members", {}).items():
            member_kind = _MEMBER_KINDS[member["kind"]]
            drop = member_kind in (ExportKind.METHOD, ExportKind.CLASSMETHOD)
            members[name] = Export(
                path=f"{path}.{name}",
                kind=member_kind,
                module=module,
                signature=_signature(member.get("signature"), context, drop_first=drop)
                if member_kind.callable else None,
                compiled=True,
            )
        bases = tuple(b.removeprefix("builtins.") for b in item.get("bases", ())
                      if b != "builtins.object")
        return Export(path=path, kind=ExportKind.CLASS, module=module,
                      signature=_signature(item.get("signature"), context, drop_first=False),
                      members=members, bases=bases, compiled=True)
    if kind == "function":
        return Export(path=path, kind=ExportKind.FUNCTION, module=module,
                      signature=_signature(item.get("signature"), context, drop_first=False),
                      compiled=True)
    return Export(path=path, kind=ExportKind.ATTRIBUTE, module=module, compiled=True)
