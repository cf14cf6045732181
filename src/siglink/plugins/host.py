"""``siglink.plugins(SPEC_OR_GROUP)``: a host's compatible plugins, ready to call.

::

    import siglink
    from chat import command          # @siglink.extension_point("chat.commands")

    hook = siglink.plugins(command, directories=["plugins/"])
    answers = hook.collect("hello", user="ann")
    for outcome in outcomes(hook):     # who was rejected, and why
        print(outcome.record.label, outcome.status, *outcome.lines())

Discovery imports no plugin code; every implementation is checked against the *running*
host's spec (the decorated object itself), so a plugin built against an older host is
accepted exactly when the host's current calls still bind to it. Rejected, unloadable and
superseded plugins are reported, never raised: the host runs on.

>>> from siglink.plugins.spec import extension_point
>>> @extension_point("demo.double")
... def double(x: int) -> int: ...
>>> hook = plugins(double, entry_points=False)   # no plugin installed: the host runs on
>>> hook.collect(2), outcomes(hook)
([], [])
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence
from typing import Any

from siglink.contracts.manifest import Export, Manifest
from siglink.errors import BadInputError
from siglink.plugins.checking import check_implementation, live_export, live_spec, spec_kind
from siglink.plugins.discovery import discover
from siglink.plugins.dispatch import CallFailure, Hook, OnError, Plugin, _State, ordered
from siglink.plugins.loading import LoadFailure, load
from siglink.plugins.records import Fault, dotted
from siglink.plugins.selection import Outcome, Status, select
from siglink.plugins.spec import group_of, registered

__all__ = ["outcomes", "plugins"]


def __dir__() -> list[str]:
    return list(__all__)


def outcomes(hook: Hook) -> list[Outcome]:
    """What became of every plugin found for ``hook`` (selected, superseded, rejected, failed
    to load), updated as plugins are loaded."""
    return list(hook._state.outcomes)


def _spec_of(spec_or_group: object, host: Manifest | None) -> tuple[str, Export]:
    if isinstance(spec_or_group, str):
        group = spec_or_group
        obj = registered(group)
        if obj is not None:
            return group, live_spec(obj)
        if host is not None:
            from siglink.plugins.build import spec_exports

            found = spec_exports(host).get(group)
            if found is not None:
                return group, found
        raise BadInputError(f"no extension point {group!r} is declared: import the module that "
                            "declares it (@siglink.extension_point) or pass the host's manifest")
    group_name = group_of(spec_or_group)
    if group_name is None:
        name = getattr(spec_or_group, "__qualname__", repr(spec_or_group))
        raise BadInputError(f"{name} is not an extension point: declare it with "
                            "@siglink.extension_point(\"GROUP\")")
    return group_name, live_spec(spec_or_group)


def plugins(
    spec: object,
    *,
    directories: Iterable[str | os.PathLike[str]] = (),
    store: Any = None,
    entry_points: bool = True,
    paths: Sequence[str] | None = None,
    host: Manifest | None = None,
    order: Sequence[str] = (),
    on_error: OnError = "propagate",
) -> Hook:
    """The compatible plugins of extension point ``spec`` (the spec object, or its group).

    :param directories: plugin directories (one plugin per subdirectory with a
        ``siglink.json``).
    :param store: a store (or its path) whose plugin units are considered.
    :param entry_points: also the entry-point group named like the extension point.
    :param host: the host's manifest: plugins' imports of its API are checked too.
    :param order: plugin names called first, in this order.
    :param on_error: the default for a raising plugin (``Hook.using`` changes it per call).
    """
    group, current = _spec_of(spec, host)
    if isinstance(store, (str, os.PathLike)):
        from siglink.store import Store

        store = Store(os.fspath(store))
    records = discover(group, directories=directories, store=store,
                       entry_points=entry_points, paths=paths)
    found = select(group, current, records, host=host)
    chosen = ordered([Plugin(o) for o in found if o.selected], order)
    log = None
    if store is not None:
        from siglink.plugins.report import FailureLog

        log = FailureLog(store.root).record
    live = spec if not isinstance(spec, str) else registered(group)
    state = _State(group, chosen, lambda: [], log, live)
    state.outcomes = found
    state.loader = lambda: _load_all(state, current, found)
    return Hook(state).using(on_error)


def _load_all(state: _State, spec: Export, found: list[Outcome]) -> list[tuple[Plugin, Any]]:
    """Import the selected plugins; one that fails is replaced by its newest superseded
    version that loads, if any."""
    loaded: list[tuple[Plugin, Any]] = []
    as_class = spec_kind(spec) == "class"
    for plugin in state.plugins:
        candidates = [plugin, *(Plugin(o) for o in found if o.status == "superseded"
                                and o.record.name == plugin.name)]
        for candidate in candidates:
            result = _load_one(candidate, spec, as_class)
            index = next(i for i, o in enumerate(found) if o is candidate.outcome)
            if isinstance(result, LoadFailure):
                status: Status = ("rejected" if result.fault is Fault.INCOMPATIBLE
                                  else "failed")
                found[index] = dataclasses.replace(candidate.outcome, status=status,
                                                   fault=result.fault, reason=str(result),
                                                   verdict=result.verdict)
                failure = CallFailure(candidate.label, state.point, result.fault, str(result))
                state.failures[candidate.label] = failure
                if state.record is not None:
                    state.record(failure)
                continue
            if candidate is not plugin:
                found[index] = dataclasses.replace(candidate.outcome, status="compatible",
                                                   reason="a newer version failed to load")
            candidate.obj = result
            loaded.append((candidate, result))
            break
    return loaded


def _group_text(spec: Export) -> str:
    """The group of an extension-point export (its value is the group's source text)."""
    return (spec.value or "").strip("'\"") or spec.path


def _load_one(plugin: Plugin, spec: Export, as_class: bool) -> Any:
    obj = load(plugin.record, plugin.impl)
    if isinstance(obj, LoadFailure):
        return obj
    if plugin.impl.export is None:  # no manifest: checked now, before any call
        try:
            export = live_export(obj, dotted(plugin.impl.target))
        except BadInputError as e:
            return LoadFailure(Fault.INCOMPATIBLE, e.message)
        verdict = check_implementation(spec, export).prefixed(plugin.impl.target)
        if not verdict.ok:
            return LoadFailure(Fault.INCOMPATIBLE,
                               f"not assignable to the host's {_group_text(spec)}", None, verdict)
    if as_class and isinstance(obj, type):
        try:
            obj = obj()
        except Exception as e:  # the plugin's constructor raised: reported, the host runs on
            return LoadFailure(Fault.IMPORT_ERROR,
                               f"{plugin.impl.target}() raised {type(e).__name__}: {e}")
    return obj
