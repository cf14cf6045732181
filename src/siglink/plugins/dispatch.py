"""Calling the implementations of an extension point: all of them, up to the first result, or
collecting the results; in a controlled order; a raising plugin handled as the host says.

The first call imports the selected plugins (:mod:`.loading`); from then on a call is a loop
over the implementations' own function objects, so its cost is close to calling them
directly. What a raising implementation does is decided per call by the host::

    hook.call_all(event)                    # propagate: PluginCallError names the plugin
    hook.using("skip").collect(event)       # leave it out of this call's results
    hook.using("collect").collect(event)    # its CallFailure takes its place in the results

Every failure is kept as that plugin's last failure (:attr:`Hook.failures`).

>>> hook = Hook.of("demo.greet", [str.upper, str.title])
>>> hook.collect("ann"), hook.first("ann")
(['ANN', 'Ann'], 'ANN')
>>> def boom(name: str) -> str:
...     raise ValueError(name)
>>> Hook.of("demo.greet", [boom, str.upper]).using("skip").collect("ann")
['ANN']
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from siglink.errors import PluginCallError
from siglink.plugins.records import Fault, ImplRecord, PluginRecord
from siglink.plugins.selection import Outcome

__all__ = ["CallFailure", "Hook", "OnError", "Plugin", "ordered"]

OnError = Literal["propagate", "skip", "collect"]
_MODES: Final = ("propagate", "skip", "collect")


def __dir__() -> list[str]:
    return list(__all__)


@dataclass(frozen=True, slots=True)
class CallFailure:
    """A plugin that raised (or could not be loaded): ``plugin`` is ``name version``."""

    plugin: str
    point: str
    fault: Fault
    message: str
    error: BaseException | None = field(default=None, compare=False)
    when: float = field(default=0.0, compare=False)

    def __str__(self) -> str:
        return f"{self.plugin}: {self.message}"

    def to_json(self) -> dict[str, object]:
        return {"plugin": self.plugin, "point": self.point, "fault": self.fault.value,
                "message": self.message, "when": self.when}


class Plugin:
    """A selected plugin version: imported on first use (:meth:`load`)."""

    __slots__ = ("impl", "obj", "outcome", "record")

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome
        self.record: PluginRecord = outcome.record
        impl = outcome.record.implementation(outcome.point)
        assert impl is not None
        self.impl: ImplRecord = impl
        self.obj: Any = None

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def version(self) -> str:
        return self.record.version

    @property
    def label(self) -> str:
        return self.record.label

    def __repr__(self) -> str:
        return f"<Plugin {self.label} {self.impl.target} ({self.outcome.status})>"


class _State:
    """What every view of one hook shares: the order, the loaded callables, the failures."""

    __slots__ = ("failures", "funcs", "loader", "outcomes", "owners", "plugins", "point",
                 "record", "spec")

    def __init__(self, point: str, plugins: list[Plugin],
                 loader: Callable[[], list[tuple[Plugin, Any]]],
                 record: Callable[[CallFailure], None] | None, spec: Any = None) -> None:
        self.point = point
        self.spec = spec
        self.plugins = plugins
        self.loader = loader
        self.funcs: tuple[Callable[..., Any], ...] | None = None
        self.owners: dict[int, Plugin] = {}
        self.failures: dict[str, CallFailure] = {}
        self.record = record
        self.outcomes: list[Outcome] = []


class Hook:
    """The implementations of one extension point, ready to call (see the module docstring).

    For a class spec, :meth:`method` gives the hook of one of its methods and :meth:`objects`
    the plugins' objects.
    """

    __slots__ = ("_attribute", "_bound", "_mode", "_state", "_views", "call_all", "collect",
                 "first")

    # Each returns a coroutine to await instead when the spec is ``async``.
    call_all: Callable[..., Any]
    """Call every implementation; under ``collect``, the list of failures is returned."""
    first: Callable[..., Any]
    """The first result that is not ``None`` (the later implementations are not called);
    ``None`` when every implementation returns ``None``. Failures never count as results."""
    collect: Callable[..., Any]
    """Every implementation's result as a list, in call order (under ``collect`` a raising
    one's :class:`CallFailure` takes its place; under ``skip`` it is left out)."""

    def __init__(self, state: _State, mode: OnError = "propagate",
                 attribute: str | None = None) -> None:
        self._state = state
        self._bound: tuple[Callable[..., Any], ...] | None = None
        self._mode = mode
        self._attribute = attribute
        self._views: dict[tuple[str, str | None], Hook] = {}
        # Until the first call these load the plugins, then they are replaced by callers
        # generated for the spec (or by the generic ones).
        self.call_all = self._lazy_call_all
        self.first = self._lazy_first
        self.collect = self._lazy_collect

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Same as :attr:`collect`."""
        return self.collect(*args, **kwargs)

    def _ready(self) -> None:
        funcs = self._funcs()
        fast = None
        spec = self._state.spec
        if spec is not None:
            target = spec if self._attribute is None else getattr(spec, self._attribute, None)
            if target is not None:
                from siglink.plugins._callers import compile_callers

                fast = compile_callers(target, funcs, self._raise, record=self._fail,
                                       mode=self._mode, drop_first=self._attribute is not None,
                                       name=self.point)
        if fast is not None:
            self.call_all, self.first, self.collect = fast
        else:
            self.call_all, self.first, self.collect = (self._call_all, self._first,
                                                       self._collect)

    def _lazy_call_all(self, *args: Any, **kwargs: Any) -> Any:
        self._ready()
        return self.call_all(*args, **kwargs)

    def _lazy_first(self, *args: Any, **kwargs: Any) -> Any:
        self._ready()
        return self.first(*args, **kwargs)

    def _lazy_collect(self, *args: Any, **kwargs: Any) -> Any:
        self._ready()
        return self.collect(*args, **kwargs)

    @classmethod
    def of(cls, point: str, functions: Sequence[Callable[..., Any]],
           on_error: OnError = "propagate", spec: Any = None) -> Hook:
        """A hook over callables already at hand, in this order: no discovery, no check (for a
        host's built-in implementations, tests and benchmarks); with ``spec`` they are
        called as it declares."""
        plugins = []
        for f in functions:
            module = getattr(f, "__module__", None) or "?"
            name = getattr(f, "__qualname__", None) or repr(f)
            record = PluginRecord(name, "-", "directory", module,
                                  (ImplRecord(point, f"{module}:{name}"),))
            plugin = Plugin(Outcome(record, point, "compatible"))
            plugin.obj = f
            plugins.append(plugin)
        state = _State(point, plugins, lambda: [(p, p.obj) for p in plugins], None, spec)
        return cls(state).using(on_error)

    @property
    def point(self) -> str:
        return self._state.point

    @property
    def plugins(self) -> list[Plugin]:
        """The selected plugins, in call order (after the first call: those that loaded)."""
        return list(self._state.plugins)

    @property
    def failures(self) -> dict[str, CallFailure]:
        """The last failure of each plugin (``name version`` -> failure)."""
        return dict(self._state.failures)

    def using(self, on_error: OnError) -> Hook:
        """This hook, calling with another policy for a raising plugin."""
        if on_error not in _MODES:
            from siglink.errors import BadInputError

            raise BadInputError(f"on_error {on_error!r}: expected one of {', '.join(_MODES)}")
        return self._view(on_error, self._attribute)

    def method(self, name: str) -> Hook:
        """The hook calling method ``name`` of each plugin's object (a class spec)."""
        return self._view(self._mode, name)

    def _view(self, mode: OnError, attribute: str | None) -> Hook:
        key = (mode, attribute)
        view = self._views.get(key)
        if view is None:
            view = self._views[key] = Hook(self._state, mode, attribute)
        return view

    def objects(self) -> list[Any]:
        """The loaded objects (imports the plugins on first use)."""
        self._funcs()
        return [p.obj for p in self._state.plugins]

    # -- loading ---------------------------------------------------------------------------

    def _funcs(self) -> tuple[Callable[..., Any], ...]:
        state = self._state
        if state.funcs is None:
            loaded = state.loader()
            state.plugins = [p for p, _ in loaded]
            state.funcs = tuple(f for _, f in loaded)
            state.owners = {id(f): p for p, f in loaded}
        if self._attribute is None:
            self._bound = state.funcs
            return state.funcs
        bound = []
        for plugin in state.plugins:
            method = getattr(plugin.obj, self._attribute, None)
            if method is None:  # an object the spec's check could not see (no manifest)
                failure = CallFailure(plugin.label, f"{state.point}.{self._attribute}",
                                      Fault.MISSING_OBJECT,
                                      f"{plugin.impl.target} has no {self._attribute}")
                state.failures[plugin.label] = failure
                if state.record is not None:
                    state.record(failure)
                continue
            state.owners[id(method)] = plugin
            bound.append(method)
        # Bound methods are made once per view (and kept alive by it: ids stay unique).
        self._bound = tuple(bound)
        return self._bound

    # -- failures --------------------------------------------------------------------------

    def _fail(self, func: Any, error: Exception) -> CallFailure:
        state = self._state
        plugin = state.owners.get(id(func))
        label = plugin.label if plugin is not None else "?"
        what = f".{self._attribute}" if self._attribute else ""
        failure = CallFailure(label, f"{state.point}{what}", Fault.CALL_ERROR,
                              f"{type(error).__name__}: {error}", error, time.time())
        state.failures[label] = failure
        if state.record is not None:
            state.record(failure)
        return failure

    def _raise(self, func: Any, error: Exception) -> Exception:
        failure = self._fail(func, error)
        return PluginCallError(f"plugin {failure.plugin} raised in {failure.point}: "
                               f"{failure.message}", plugin=failure.plugin,
                               point=failure.point, error=error)

    # -- calling ---------------------------------------------------------------------------

    def _call_all(self, *args: Any, **kwargs: Any) -> list[CallFailure]:
        funcs = self._bound
        if funcs is None:
            funcs = self._funcs()
        if self._mode == "propagate":
            f = None
            try:
                for f in funcs:
                    f(*args, **kwargs)
            except Exception as e:
                raise self._raise(f, e) from e
            return []
        failed = []
        for f in funcs:
            try:
                f(*args, **kwargs)
            except Exception as e:
                failed.append(self._fail(f, e))
        return failed if self._mode == "collect" else []

    def _first(self, *args: Any, **kwargs: Any) -> Any:
        funcs = self._bound
        if funcs is None:
            funcs = self._funcs()
        if self._mode == "propagate":
            f = None
            try:
                for f in funcs:
                    result = f(*args, **kwargs)
                    if result is not None:
                        return result
            except Exception as e:
                raise self._raise(f, e) from e
            return None
        for f in funcs:
            try:
                result = f(*args, **kwargs)
            except Exception as e:
                self._fail(f, e)
                continue
            if result is not None:
                return result
        return None

    def _collect(self, *args: Any, **kwargs: Any) -> list[Any]:
        funcs = self._bound
        if funcs is None:
            funcs = self._funcs()
        results: list[Any] = []
        append = results.append
        if self._mode == "propagate":
            f = None
            try:
                for f in funcs:
                    append(f(*args, **kwargs))
            except Exception as e:
                raise self._raise(f, e) from e
            return results
        keep = self._mode == "collect"
        for f in funcs:
            try:
                append(f(*args, **kwargs))
            except Exception as e:
                failure = self._fail(f, e)
                if keep:
                    append(failure)
        return results

    def __repr__(self) -> str:
        names = ", ".join(p.label for p in self._state.plugins)
        return f"<Hook {self.point} [{names}] on_error={self._mode}>"


def ordered(plugins: Sequence[Plugin], order: Sequence[str] = ()) -> list[Plugin]:
    """The call order: the host's explicit ``order`` (plugin names) first, then the plugins
    asking to be first, then the others by name, then those asking to be last."""
    rank = {name: i for i, name in enumerate(order)}

    def key(p: Plugin) -> tuple[int, int, str]:
        if p.name in rank:
            return (0, rank[p.name], p.name)
        position = {"first": 1, None: 2, "last": 3}.get(p.impl.position, 2)
        return (position, 0, p.name)

    return sorted(plugins, key=key)
