"""Compiled modules without stubs: inspected inside an OS sandbox, never in this process.

Stubs a wheel ships (``.pyi``) are read statically before this is reached. Inspecting imports
the module, which runs its package's ``__init__``: library code. So it happens only inside
:mod:`siglink._sandbox` (bubblewrap: read-only view, private ``/tmp``, no network, user
``nobody``, CPU/memory/time limits, every process killed afterwards). The child puts the
library's directory first on ``sys.path``, imports each module, and prints JSON describing
its public names (``inspect.signature`` text where one exists); that output is hostile and
is validated before any of it is used. Each result becomes an :class:`Export` with
``compiled=True``.

Without a sandbox (``bwrap`` missing, or refused by the kernel) nothing is imported: each
module gets a diagnostic, its names stay unverified, and one
:class:`UninspectedModuleWarning` names the modules and how to install bubblewrap.
"""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from siglink import _sandbox
from siglink.contracts.manifest import Diagnostic, Export, ExportKind
from siglink.contracts.signature import Signature
from siglink.contracts.types import TypeContext
from siglink.errors import BadInputError

__all__ = ["UninspectedModuleWarning", "inspect_compiled"]

# An import of even a large extension takes seconds; a package that sleeps or spins in its
# __init__ is cut off (its names are then not inspected) instead of stalling the command.
# Importing needs far less than a build: every compiled module of scipy, pandas or jaxlib
# together peaks below 0.35 GiB of address space (pyarrow reserves what its allocator gets),
# in one process of one or two threads. 2 GiB and 16 processes and threads (bubblewrap's
# init and the launcher among them) bound the sandbox's memory at 32 GiB of address space
# (docs/design.md section 5). Processes include threads: numerical libraries start one per
# core on import unless told; glibc gives a thread 64 MiB of address space for its own
# malloc arena unless told.
_LIMITS: Final = _sandbox.Limits(wall_seconds=20.0, cpu_seconds=20, memory_bytes=2 << 30,
                                 processes=16)
_ONE_THREAD: Final = {**{name: "1" for name in (
    "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")},
    "MALLOC_ARENA_MAX": "2"}
_UNIT: Final = "/siglink/unit"
_MAX_NAMES: Final = 20_000
_MAX_TEXT: Final = 20_000
_KINDS: Final = frozenset({"class", "function", "attribute"})
# Runs in the child interpreter: standard library only.
_PROBE: Final = r"""
import importlib, inspect, json, os, sys, sysconfig, types
sys.path.insert(0, sys.argv[1])
# What the modules print goes to stderr; the result alone to the original stdout.
result = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
sys.stdout = sys.stderr
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
def access(cls, value):
    # Whether a data descriptor takes assignment and deletion: a property by its fset and
    # fdel; a C getset or member descriptor by its PyGetSetDef's setter or PyMemberDef's
    # READONLY flag (read through ctypes on CPython, as flags() does); None: not known.
    try:
        setattr_hooked = cls.__setattr__ is not object.__setattr__
        delattr_hooked = cls.__delattr__ is not object.__delattr__
    except Exception:
        return {"setter": None, "deleter": None}
    found = {"setter": None, "deleter": None}
    if isinstance(value, property):
        found = {"setter": value.fset is not None, "deleter": value.fdel is not None}
    else:
        try:
            found = c_access(value)
        except Exception:
            pass
    return {"setter": None if setattr_hooked and found["setter"] is False else found["setter"],
            "deleter": None if delattr_hooked and found["deleter"] is False
            else found["deleter"]}
def c_access(value):
    import ctypes
    unknown = {"setter": None, "deleter": None}
    if sys.implementation.name != "cpython" or hasattr(sys, "getobjects") \
            or sysconfig.get_config_var("Py_GIL_DISABLED"):
        return unknown
    head = [("refcnt", ctypes.c_ssize_t), ("type", ctypes.c_void_p),
            ("objclass", ctypes.c_void_p), ("name", ctypes.c_void_p),
            ("qualname", ctypes.c_void_p)]
    if inspect.isgetsetdescriptor(value):
        class GetSetDef(ctypes.Structure):
            _fields_ = [("name", ctypes.c_char_p), ("get", ctypes.c_void_p),
                        ("set", ctypes.c_void_p), ("doc", ctypes.c_char_p),
                        ("closure", ctypes.c_void_p)]
        class Descr(ctypes.Structure):
            _fields_ = head + [("d", ctypes.POINTER(GetSetDef))]
        d = Descr.from_address(id(value)).d
        if not d or d.contents.name is None or d.contents.name.decode() != value.__name__:
            return unknown
        # A setter also receives deletions, and may refuse them.
        return {"setter": True, "deleter": None} if d.contents.set else (
            {"setter": False, "deleter": False})
    if inspect.ismemberdescriptor(value):
        class MemberDef(ctypes.Structure):
            _fields_ = [("name", ctypes.c_char_p), ("type", ctypes.c_int),
                        ("offset", ctypes.c_ssize_t), ("flags", ctypes.c_int),
                        ("doc", ctypes.c_char_p)]
        class Descr(ctypes.Structure):
            _fields_ = head + [("d", ctypes.POINTER(MemberDef))]
        d = Descr.from_address(id(value)).d
        if not d or d.contents.name is None or d.contents.name.decode() != value.__name__:
            return unknown
        if d.contents.flags & 1:  # READONLY
            return {"setter": False, "deleter": False}
        # Only object members can be deleted (T_OBJECT, T_OBJECT_EX); numbers refuse it.
        return {"setter": True, "deleter": d.contents.type in (6, 16)}
    return unknown
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
                members[name] = {"kind": "property", **access(obj, value)}
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
        out[name] = {"error": f"{type(e).__name__}: {e}".removesuffix(": ")[:300]}
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
result.write(json.dumps(out))
result.flush()
"""


class UninspectedModuleWarning(UserWarning):
    """Compiled modules left uninspected because no sandbox could be started."""


class _Rejected(Exception):
    """The sandbox's output is not what the probe prints."""


def inspect_compiled(
    root: Path, modules: Sequence[str]
) -> tuple[dict[str, Export], list[Diagnostic]]:
    """Exports of compiled ``modules`` under ``root``, by path, and what could not be read."""
    try:
        outcome = _sandbox.run(
            [sys.executable, "-I", "-c", _PROBE, _UNIT, *modules],
            binds=[(root, _UNIT)], limits=_LIMITS, env=_ONE_THREAD,
        )
    except _sandbox.SandboxUnavailableError as e:
        many = len(modules) > 1
        message = (f"compiled module{'s' if many else ''} {', '.join(modules)} not inspected "
                   f"({e.reason}): {'their' if many else 'its'} names are unverified; "
                   f"{_sandbox.INSTALL_HINT}")
        warnings.warn(message, UninspectedModuleWarning, stacklevel=2)
        return {}, [Diagnostic(message)]
    if outcome.timed_out:
        return {}, [Diagnostic(f"compiled module {module} not inspected: the import did not "
                               f"finish in {_LIMITS.wall_seconds:g} s") for module in modules]
    try:
        data = _validated(outcome.stdout, modules)
    except _Rejected as e:
        detail = outcome.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
        reason = detail[0][:300] if detail and not outcome.stdout else str(e)
        return {}, [Diagnostic(f"compiled module {module} not inspected: {reason}")
                    for module in modules]
    diagnostics: list[Diagnostic] = []
    exports: dict[str, Export] = {}
    for module in modules:
        entry = data[module]
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


def _validated(stdout: bytes, modules: Sequence[str]) -> dict[str, Any]:
    """The probe's JSON, checked to be exactly the shape it prints (else :class:`_Rejected`).

    >>> out = b'{"fast": {"members": {"crc": {"kind": "function", "signature": "(data)"}}}}'
    >>> _validated(out, ["fast"])["fast"]["members"]["crc"]["kind"]
    'function'
    >>> _validated(b'{"fast": {"members": {"not a name": {"kind": "function"}}}}', ["fast"])
    Traceback (most recent call last):
    siglink.python._compiled._Rejected: fast: 'not a name' is not an identifier
    """
    try:
        data = json.loads(stdout.decode("utf-8"))
    except (ValueError, RecursionError) as e:
        raise _Rejected(f"the inspection printed no valid JSON ({type(e).__name__})") from None
    if not isinstance(data, dict) or set(data) != set(modules):
        raise _Rejected("the inspection printed results for other modules")
    budget = [_MAX_NAMES]
    for module in modules:
        entry = data[module]
        if not isinstance(entry, dict):
            raise _Rejected(f"{module}: not an object")
        if "error" in entry:
            if set(entry) != {"error"} or not isinstance(entry["error"], str):
                raise _Rejected(f"{module}: malformed error")
            entry["error"] = _text(entry["error"], f"{module}: error")[:300]
            continue
        if set(entry) != {"members"}:
            raise _Rejected(f"{module}: unexpected keys")
        _names(entry["members"], f"{module}", budget)
        for name, item in entry["members"].items():
            _item(item, f"{module}.{name}", budget, top=True)
    return data


def _names(members: Any, where: str, budget: list[int]) -> None:
    if not isinstance(members, dict):
        raise _Rejected(f"{where}: members is not an object")
    budget[0] -= len(members)
    if budget[0] < 0:
        raise _Rejected(f"more than {_MAX_NAMES} names")
    for name in members:
        if not name.isidentifier():
            raise _Rejected(f"{where}: {name[:80]!r} is not an identifier")


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or len(value) > _MAX_TEXT:
        raise _Rejected(f"{where}: not a string of at most {_MAX_TEXT} characters")
    return value


def _item(item: Any, where: str, budget: list[int], *, top: bool) -> None:
    if not isinstance(item, dict) or not isinstance(item.get("kind"), str):
        raise _Rejected(f"{where}: no kind")
    kind = item["kind"]
    allowed = _KINDS if top else set(_MEMBER_KINDS)
    if kind not in allowed:
        raise _Rejected(f"{where}: unknown kind {kind[:40]!r}")
    for key in ("signature", "type", "value"):
        if item.get(key) is not None:
            _text(item[key], f"{where}.{key}")
    for key in ("setter", "deleter"):
        if item.get(key) is not None and (kind != "property" or not isinstance(item[key], bool)):
            raise _Rejected(f"{where}.{key}: not true, false or null on a property")
    if kind == "class" and top:
        bases = item.get("bases", [])
        if not isinstance(bases, list) or len(bases) > 64:
            raise _Rejected(f"{where}: bases is not a short list")
        for base in bases:
            _text(base, f"{where}.bases")
        _names(item.get("members", {}), where, budget)
        for name, member in item.get("members", {}).items():
            _item(member, f"{where}.{name}", budget, top=False)


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


def _export(path: str, module: str, item: Mapping[str, Any], context: TypeContext) -> Export:
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
                setter=member.get("setter"),
                deleter=member.get("deleter"),
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
