"""Is a plugin's implementation assignable to the host's current spec?

The host calls the plugin, so the host is the consumer and the implementation the provider:
every call the spec allows must bind to the implementation, and what the implementation
returns must be what the spec promises (parameters contravariant, results covariant). That is
:func:`siglink.contracts.compat.check_export` with the spec as the expected export and the
implementation as the provided one: the same checker, the same rule ids, as the linker's.

- A function spec: the implementation's signature against the spec's.
- A Protocol-like class spec: each public method of the spec against the implementing object's
  method of that name (P1 when it has none); an implementing class is instantiated with no
  arguments when loaded, so its constructor must accept that call.
- The plugin's imports of the host's API are checked as the linker checks an application's.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
from collections.abc import Iterable
from typing import Any, Final

from siglink.contracts.compat import check_export, class_graph
from siglink.contracts.manifest import CallShape, Export, ExportKind, Manifest
from siglink.contracts.signature import Signature
from siglink.contracts.types import ClassGraph
from siglink.contracts.verdict import Verdict
from siglink.errors import BadInputError

__all__ = [
    "check_implementation",
    "check_imports",
    "live_export",
    "live_spec",
    "spec_classes",
    "spec_kind",
]


def __dir__() -> list[str]:
    return list(__all__)


def spec_kind(spec: Export) -> str:
    """``function`` or ``class``: how a spec is implemented."""
    return "class" if spec.members and spec.signature is None else "function"


def _as_expected(spec: Export) -> Export:
    if spec_kind(spec) == "class":
        return Export(spec.path, ExportKind.CLASS, spec.module, members=spec.members,
                      location=spec.location)
    kind = ExportKind.ASYNC_FUNCTION if spec.flavor == "async" else ExportKind.FUNCTION
    return Export(spec.path, kind, spec.module, spec.signature, spec.overloads,
                  location=spec.location)


def check_implementation(
    spec: Export, impl: Export, *, classes: ClassGraph | None = None
) -> Verdict:
    """The implementation ``impl`` against the host's current ``spec`` (an extension-point
    export, or a function/class export of the spec).

    >>> from siglink.contracts.signature import Signature
    >>> spec = Export("chat.command", ExportKind.EXTENSION_POINT,
    ...               signature=Signature.parse("(text: str, *, user: str) -> str | None"))
    >>> impl = Export("shout.shout", ExportKind.FUNCTION,
    ...               signature=Signature.parse("(text: str, *, user: int) -> str"))
    >>> for problem in check_implementation(spec, impl).problems:
    ...     print(problem.explain())
    P11 param user: expected str, found int; parameter type narrowed (incompatible)
    P12 return: expected str | None, found str; narrowed (harmless)
    """
    expected = _as_expected(spec) if spec.kind is ExportKind.EXTENSION_POINT else spec
    if expected.kind is ExportKind.CLASS:
        parts = []
        if impl.kind is ExportKind.CLASS:
            if impl.signature is not None:  # instantiated with no arguments when loaded
                parts.append(check_export(None, impl, calls=(CallShape(),))
                             .prefixed("constructor"))
            provided = dataclasses.replace(impl, signature=None, flavor=None, bases=(),
                                           digest="")
        else:
            provided = dataclasses.replace(impl, kind=ExportKind.CLASS, signature=None,
                                           type=None, flavor=None, digest="")
        graph = classes if classes is not None else class_graph([impl])
        return Verdict.merge([check_export(expected, provided, classes=graph), *parts])
    return check_export(expected, impl,
                        classes=classes if classes is not None else class_graph([impl]))


def check_imports(
    plugin: Manifest, host: Manifest, *, classes: ClassGraph | None = None
) -> Verdict:
    """The plugin's recorded uses of the host's API against the host's exports (optional and
    dynamic uses are not checked, as in the linker)."""
    from packaging.utils import canonicalize_name

    uses = plugin.imports.get(canonicalize_name(host.unit.name), ())
    parts: list[Verdict] = []
    graph = classes or class_graph(host.exports.values())
    for use in uses:
        if use.optional or use.dynamic:
            continue
        provided = host.exports.get(use.path)
        # As the linker checks an application's import: only the members it uses, and the
        # argument types evident at its call sites.
        verdict = check_export(use.expected, provided, calls=use.calls or None,
                               calls_complete=use.calls_complete, classes=graph,
                               members=use.members, arguments=use.arguments)
        parts.append(verdict.prefixed(use.path))
    return Verdict.merge(parts)


def spec_classes(*manifests: Manifest | None) -> ClassGraph | None:
    """The classes of the host and plugin manifests, for nominal subtyping of their types
    (one shared empty graph when they define none: the checker's verdicts are memoized per
    graph, so plugins without classes share them)."""
    exports: list[Export] = []
    for manifest in manifests:
        if manifest is not None:
            exports.extend(e for e in manifest.exports.values() if e.kind is ExportKind.CLASS)
    return class_graph(exports) if exports else _NO_CLASSES


_NO_CLASSES: Final = ClassGraph({})


# -- live objects -------------------------------------------------------------------------------


def _path(obj: Any) -> str:
    module = getattr(obj, "__module__", None) or ""
    name = (getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
            or type(obj).__name__)
    return f"{module}.{name}" if module else str(name)


def _function(obj: Any, path: str, *, method: bool = False) -> Export:
    raw = obj
    target = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw
    is_async = inspect.iscoroutinefunction(target)
    if method:
        if isinstance(raw, staticmethod):
            kind, drop = ExportKind.STATICMETHOD, False
        elif isinstance(raw, classmethod):
            kind, drop = ExportKind.CLASSMETHOD, True
        else:
            kind = ExportKind.ASYNC_METHOD if is_async else ExportKind.METHOD
            drop = not isinstance(raw, types.MethodType)
        sig = Signature.from_callable(target, drop_first=drop)
    else:
        kind = ExportKind.ASYNC_FUNCTION if is_async else ExportKind.FUNCTION
        sig = Signature.from_callable(target)
    return Export(path, kind, getattr(target, "__module__", "") or "", sig)


def _public_callables(obj: Any) -> Iterable[tuple[str, Any]]:
    if isinstance(obj, type):
        seen: set[str] = set()
        for klass in obj.__mro__:
            if klass is object:
                continue
            for name, value in vars(klass).items():
                if name in seen or name.startswith("_"):
                    continue
                seen.add(name)
                if isinstance(value, (types.FunctionType, staticmethod, classmethod)):
                    yield name, value
        return
    for name in dir(obj):
        if name.startswith("_"):
            continue
        value = getattr(obj, name, None)
        if isinstance(value, (types.FunctionType, types.MethodType)):
            yield name, value


def live_spec(obj: Any) -> Export:
    """The extension-point export of a spec object the running host declared."""
    from siglink.plugins.spec import group_of

    group = group_of(obj)
    path = _path(obj)
    if isinstance(obj, type):
        members = {name: _function(value, f"{path}.{name}", method=True)
                   for name, value in _public_callables(obj)}
        return Export(path, ExportKind.EXTENSION_POINT, obj.__module__, members=members,
                      value=repr(group))
    if not callable(obj):
        raise BadInputError(f"{path}: an extension point is a function or a class")
    export = _function(obj, path)
    flavor = "async" if export.kind is ExportKind.ASYNC_FUNCTION else None
    return Export(path, ExportKind.EXTENSION_POINT, export.module, export.signature,
                  flavor=flavor, value=repr(group))


def live_export(obj: Any, path: str | None = None) -> Export:
    """The export of a loaded implementation: a function, a class (its constructor and
    methods) or any other object (a module, an instance: its public functions as methods)."""
    path = path or _path(obj)
    if isinstance(obj, type):
        members = {name: _function(value, f"{path}.{name}", method=True)
                   for name, value in _public_callables(obj)}
        try:
            sig: Signature | None = Signature.from_callable(obj)
        except BadInputError:
            sig = None
        return Export(path, ExportKind.CLASS, obj.__module__, sig, members=members)
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType, types.MethodType)):
        return _function(obj, path)
    members = {}
    for name, value in _public_callables(obj):
        # Bound methods and a module's functions, called as they are: no self to drop.
        is_async = inspect.iscoroutinefunction(value)
        members[name] = Export(f"{path}.{name}",
                               ExportKind.ASYNC_METHOD if is_async else ExportKind.METHOD,
                               getattr(value, "__module__", "") or "",
                               Signature.from_callable(value))
    return Export(path, ExportKind.ATTRIBUTE if not members else ExportKind.CLASS,
                  getattr(obj, "__name__", "") if isinstance(obj, types.ModuleType) else "",
                  members=members)
