"""Callers generated for one extension point's spec: the host's call costs one call plus the
implementations' own, with no ``*args, **kwargs`` forwarding.

For the spec ``(text, *, user)`` and implementations ``f0, f1`` the collecting caller is::

    def collect(text, *, user):
        try:
            return [f(text, user=user) for f in funcs]
        except Exception as e:
            raise fail(culprit(e), e) from e

Arguments reach each implementation as the spec passes them (its positional parameters
positionally, its keyword-only ones by keyword), which the checker has proven every selected
implementation accepts; a parameter the host omits is passed with the spec's own default. The
source is registered in :mod:`linecache`, so tracebacks show it.

>>> def spec(a: int, *, b: int = 2) -> int: ...
>>> impls = [lambda a, b: a + b, lambda a, b: a * b]
>>> call_all, first, collect = compile_callers(spec, impls, lambda f, e: e)
>>> collect(3), first(3, b=0)
([5, 6], 3)
"""

from __future__ import annotations

import inspect
import linecache
from collections.abc import Callable, Sequence
from itertools import count
from typing import Any

__all__ = ["compile_callers"]

Callers = tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]
_SERIAL = count()


def __dir__() -> list[str]:
    return list(__all__)


def _shape(spec: Any, drop_first: bool) -> tuple[str, str, dict[str, Any]] | None:
    """``(parameters, arguments, defaults)`` text for ``def``/call, or None if unreadable."""
    try:
        sig = inspect.signature(spec)
    except (TypeError, ValueError):
        return None
    params = list(sig.parameters.values())
    if drop_first:
        if not params or params[0].kind not in (inspect.Parameter.POSITIONAL_ONLY,
                                                inspect.Parameter.POSITIONAL_OR_KEYWORD):
            return None
        params = params[1:]
    head: list[str] = []
    args: list[str] = []
    defaults: dict[str, Any] = {}
    star = False
    for i, p in enumerate(params):
        if p.name.startswith("__sl_") or not p.name.isidentifier():
            return None
        text = p.name
        if p.default is not p.empty:
            defaults[f"__sl_d_{p.name}"] = p.default
            text += f"=__sl_d_{p.name}"
        if p.kind is p.VAR_POSITIONAL:
            head.append(f"*{p.name}")
            args.append(f"*{p.name}")
            star = True
        elif p.kind is p.VAR_KEYWORD:
            head.append(f"**{p.name}")
            args.append(f"**{p.name}")
        elif p.kind is p.KEYWORD_ONLY:
            if not star:
                head.append("*")
                star = True
            head.append(text)
            args.append(f"{p.name}={p.name}")
        else:
            head.append(text)
            args.append(p.name)
            following = params[i + 1].kind if i + 1 < len(params) else None
            if p.kind is p.POSITIONAL_ONLY and following is not p.POSITIONAL_ONLY:
                head.append("/")
    return ", ".join(head), ", ".join(args), defaults


_PROPAGATE = """\
{d} call_all({h}):
    __sl_f = None
    try:
        for __sl_f in __sl_funcs:
            {aw}__sl_f({a})
    except Exception as __sl_e:
        raise __sl_fail(__sl_f, __sl_e) from __sl_e
    return []


{d} first({h}):
    __sl_f = None
    try:
        for __sl_f in __sl_funcs:
            __sl_r = {aw}__sl_f({a})
            if __sl_r is not None:
                return __sl_r
    except Exception as __sl_e:
        raise __sl_fail(__sl_f, __sl_e) from __sl_e
    return None
"""

_COLLECT_SYNC = """\


def collect({h}):
    try:
        return [__sl_f({a}) for __sl_f in __sl_funcs]
    except Exception as __sl_e:
        raise __sl_fail(__sl_culprit(__sl_e), __sl_e) from __sl_e
"""

_COLLECT_ASYNC = """\


async def collect({h}):
    __sl_out = []
    __sl_f = None
    try:
        for __sl_f in __sl_funcs:
            __sl_out.append(await __sl_f({a}))
    except Exception as __sl_e:
        raise __sl_fail(__sl_f, __sl_e) from __sl_e
    return __sl_out
"""

# skip / collect: a raising implementation is recorded and left out (or its failure kept).
_TOLERANT = """\
{d} call_all({h}):
    __sl_failed = []
    for __sl_f in __sl_funcs:
        try:
            {aw}__sl_f({a})
        except Exception as __sl_e:
            __sl_failed.append(__sl_record(__sl_f, __sl_e))
    return __sl_failed if __sl_keep else []


{d} first({h}):
    for __sl_f in __sl_funcs:
        try:
            __sl_r = {aw}__sl_f({a})
        except Exception as __sl_e:
            __sl_record(__sl_f, __sl_e)
            continue
        if __sl_r is not None:
            return __sl_r
    return None


{d} collect({h}):
    __sl_out = []
    for __sl_f in __sl_funcs:
        try:
            __sl_out.append({aw}__sl_f({a}))
        except Exception as __sl_e:
            __sl_failure = __sl_record(__sl_f, __sl_e)
            if __sl_keep:
                __sl_out.append(__sl_failure)
    return __sl_out
"""


def compile_callers(
    spec: Any,
    funcs: Sequence[Callable[..., Any]],
    fail: Callable[[Any, Exception], Exception],
    *,
    record: Callable[[Any, Exception], Any] | None = None,
    mode: str = "propagate",
    drop_first: bool = False,
    name: str = "hook",
) -> Callers | None:
    """``(call_all, first, collect)`` for ``funcs`` called as ``spec`` declares (``async``
    callers that await each implementation for an ``async`` spec). Under ``propagate``,
    ``fail(f, e)`` builds the exception raised when ``f`` raised ``e``; under ``skip`` and
    ``collect``, ``record(f, e)`` records it and returns the failure (kept in ``collect``'s
    results). None when the spec's signature cannot be read (the generic callers serve)."""
    shape = _shape(spec, drop_first)
    if shape is None:
        return None
    head, args, defaults = shape
    codes: dict[Any, Any] = {}
    for f in funcs:
        code = getattr(getattr(f, "__func__", f), "__code__", None)
        if code is not None:
            codes.setdefault(code, f)

    def culprit(error: BaseException) -> Any:
        tb = error.__traceback__
        while tb is not None:
            found = codes.get(tb.tb_frame.f_code)
            if found is not None:
                return found
            tb = tb.tb_next
        return None

    is_async = inspect.iscoroutinefunction(spec)
    words = {"d": "async def" if is_async else "def", "aw": "await " if is_async else "",
             "h": head, "a": args}
    if mode == "propagate":
        source = (_PROPAGATE + (_COLLECT_ASYNC if is_async else _COLLECT_SYNC)).format(**words)
    else:
        source = _TOLERANT.format(**words)
    filename = f"<siglink hook {name} #{next(_SERIAL)}>"
    namespace: dict[str, Any] = {"__sl_funcs": tuple(funcs), "__sl_fail": fail,
                                 "__sl_culprit": culprit, "__sl_record": record,
                                 "__sl_keep": mode == "collect", **defaults}
    try:
        exec(compile(source, filename, "exec"), namespace)
    except SyntaxError:  # a parameter name Python accepts in a signature but not here
        return None
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return namespace["call_all"], namespace["first"], namespace["collect"]
