"""The runtime oracle: Python itself says whether a name resolves and a call shape binds.

Run as a script in a sandboxed child interpreter (``python -I -S -B _oracle.py``), one per
library version, with that version's unpacked wheel (and its pinned dependencies) first on
``sys.path`` and nothing else. It reads one JSON request on standard input and writes one JSON
answer on standard output::

    {"paths": [DIR, ...],
     "describe": [PATH, ...],                 # names of this version, as an old release
     "bind": [[PATH, [[N, [KW, ...], TARGETS], ...]], ...]}   # uses of an older release

    {"describe": {PATH: {"ok": true, "callable": true, "shapes": [[N, [KW, ...], TARGETS], ...],
                         "sigerr": null} | {"ok": false, "error": "..."}},
     "bind": {PATH: {"ok": true, "sigerr": null, "results": [null | "TypeError: ...", ...]}
                    | {"ok": false, "error": "..."}}}

Importing the library's modules runs their top-level code (that is the oracle, and why the
child runs in a sandbox); no library function is called: a call shape is checked with
``inspect.signature(obj).bind(...)`` on placeholder arguments, for a class also against its own
``__new__`` and ``__init__`` (:func:`_layers`), and what cannot be called at all (a Protocol, an
abstract class, a typing special form) gets no call shapes. A call *binds the same* when
every argument lands in the parameter of the same name as in the old release (TARGETS,
:func:`targets`): an argument that now lands elsewhere is a changed meaning, a failure.
Standard library only.
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
import types
import warnings
from typing import Any

Shape = tuple[int, tuple[str, ...]]

EXTRA_KEYWORD = "siglink_extra_keyword"
"""The keyword a call passes to exercise a ``**kwargs`` parameter (a name no library uses)."""

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def call_shapes(sig: inspect.Signature) -> list[Shape]:
    """Every call shape a consumer may write against ``sig``: each positional prefix from the
    required ones up (defaults omitted first), one more positional into ``*args``, each
    optional parameter by keyword, the required ones by keyword, and an unnamed keyword into
    ``**kwargs``; each shape is ``(number of positional arguments, sorted keywords)``."""
    params = list(sig.parameters.values())
    positional = [p for p in params if p.kind in _POSITIONAL]
    required = 0
    while required < len(positional) and positional[required].default is inspect.Parameter.empty:
        required += 1
    kw_required = [p.name for p in params
                   if p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is p.empty]
    kw_optional = [p.name for p in params
                   if p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is not p.empty]
    kinds = {p.kind for p in params}
    out: list[Shape] = []

    def add(n: int, keywords: list[str]) -> None:
        shape = (n, tuple(sorted(keywords)))
        if shape not in out:
            out.append(shape)

    for n in range(required, len(positional) + 1):
        add(n, kw_required)
    if inspect.Parameter.VAR_POSITIONAL in kinds:
        add(len(positional) + 1, kw_required)
    for p in positional[required:]:
        if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD:
            add(required, [*kw_required, p.name])
    for name in kw_optional:
        add(required, [*kw_required, name])
    by_keyword = [p.name for p in positional[:required]
                  if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    if by_keyword:
        add(required - len(by_keyword), [*kw_required, *by_keyword])
    if inspect.Parameter.VAR_KEYWORD in kinds:
        add(required, [*kw_required, EXTRA_KEYWORD])
    return [s for s in out if binds(sig, s) is None]


def binds(sig: inspect.Signature, shape: Shape) -> str | None:
    """None when a call of ``shape`` binds to ``sig``, else Python's error."""
    found = targets(sig, shape)
    return found if isinstance(found, str) else None


def targets(sig: inspect.Signature, shape: Shape) -> list[str] | str:
    """The parameter each argument of a call of ``shape`` lands in (positional ones first,
    then the keywords; ``*args``/``**kwargs`` by their names with the star), or Python's
    error when it does not bind: what the call *means*."""
    n, keywords = shape
    args = [f"#{i}" for i in range(n)]
    try:
        bound = sig.bind(*args, **{k: f"={k}" for k in keywords})
    except TypeError as e:
        return f"TypeError: {e}"
    where: dict[str, str] = {}
    for name, value in bound.arguments.items():
        kind = sig.parameters[name].kind
        if kind is inspect.Parameter.VAR_POSITIONAL:
            where.update(dict.fromkeys(value, f"*{name}"))
        elif kind is inspect.Parameter.VAR_KEYWORD:
            where.update(dict.fromkeys(value.values(), f"**{name}"))
        else:
            where[value] = name
    return [where[a] for a in args] + [where[f"={k}"] for k in keywords]


def meaning(old: list[str], new: list[str], shape: Shape) -> str | None:
    """None when every argument lands in the parameter of the same name (or, for the extra
    positional and keyword arguments, in ``*args``/``**kwargs`` again), else what changed."""
    n, keywords = shape
    labels = [f"argument {i + 1}" for i in range(n)] + [f"keyword {k}" for k in keywords]
    for label, was, now in zip(labels, old, new, strict=True):
        if was == now or (was[:1] == now[:1] == "*" and was.count("*") == now.count("*")):
            continue
        return f"changed meaning: {label} now binds to {now} (was {was})"
    return None


def _error(e: BaseException) -> str:
    text = f"{type(e).__name__}: {e}"
    return text if len(text) <= 200 else text[:197] + "..."


def resolve(path: str) -> Any:
    """What ``from PARENT import NAME`` binds (the consumer's own statement): module PARENT
    imported by the import system, then its attribute NAME, else its submodule NAME."""
    parent, _, name = path.rpartition(".")
    module = importlib.import_module(parent)
    try:
        return getattr(module, name)
    except AttributeError:
        pass
    try:
        return importlib.import_module(path)
    except ModuleNotFoundError as e:
        if e.name != path:
            raise
    raise ImportError(f"cannot import name {name!r} from {parent!r}")


def _is_callable(obj: Any) -> bool:
    """Can a consumer call ``obj`` at all? Not a module, a value, a typing special form or
    alias (``Never``, ``List``: calling one raises), a Protocol or an abstract class (cannot be
    instantiated); a proxy whose probing raises (a context-local unbound outside a request)
    counts as a value."""
    try:
        if isinstance(obj, types.ModuleType) or not callable(obj):
            return False
        if isinstance(obj, type):
            return not (getattr(obj, "_is_protocol", False) or inspect.isabstract(obj))
        kind = type(obj)
        return kind.__module__ not in ("typing", "typing_extensions") or kind.__name__ == "NewType"
    except Exception:
        return False


def _layers(obj: Any) -> list[inspect.Signature]:
    """The signatures a call of ``obj`` must satisfy: ``inspect.signature(obj)``, and for a
    class also each of its own ``__new__`` and ``__init__`` (a metaclass ``__call__`` taking
    ``*args`` hides them from ``inspect.signature``, yet Python passes them the arguments)."""
    out = [inspect.signature(obj)]
    if isinstance(obj, type):
        for name, base in (("__new__", object.__new__), ("__init__", object.__init__)):
            method = getattr(obj, name, None)
            if method is None or method is base or not inspect.isfunction(method):
                continue
            sig = inspect.signature(method)
            params = list(sig.parameters.values())[1:]  # cls / self
            out.append(sig.replace(parameters=params))
    return out


def _signatures(obj: Any) -> tuple[list[inspect.Signature], str | None]:
    try:
        return _layers(obj), None
    except Exception as e:  # ValueError, TypeError, or whatever a proxy raises when probed
        return [], _error(e)


def _binds_all(sigs: list[inspect.Signature], shape: Shape) -> str | None:
    for sig in sigs:
        error = binds(sig, shape)
        if error is not None:
            return error
    return None


def describe(path: str) -> dict[str, Any]:
    try:
        obj = resolve(path)
    except BaseException as e:  # the library's own import failure is an answer, not a crash
        return {"ok": False, "error": _error(e)}
    if not _is_callable(obj):
        return {"ok": True, "callable": False, "shapes": [], "sigerr": None}
    sigs, error = _signatures(obj)
    shapes = [] if not sigs else [[n, list(k), targets(sigs[0], (n, k))]
                                  for n, k in call_shapes(sigs[0])
                                  if _binds_all(sigs, (n, k)) is None]
    return {"ok": True, "callable": True, "shapes": shapes, "sigerr": error}


def bind(path: str, shapes: list[list[Any]]) -> dict[str, Any]:
    try:
        obj = resolve(path)
    except BaseException as e:
        return {"ok": False, "error": _error(e)}
    if not shapes:
        return {"ok": True, "sigerr": None, "results": []}
    if not _is_callable(obj):
        return {"ok": True, "sigerr": None,
                "results": ["TypeError: not callable, or cannot be instantiated"]
                * len(shapes)}
    sigs, error = _signatures(obj)
    if not sigs:
        return {"ok": True, "sigerr": error, "results": [None] * len(shapes)}
    results = []
    for n, k, was in shapes:
        shape = (n, tuple(k))
        problem = _binds_all(sigs, shape)
        if problem is None:
            now = targets(sigs[0], shape)
            assert isinstance(now, list)
            problem = meaning(was, now, shape)
        results.append(problem)
    return {"ok": True, "sigerr": None, "results": results}


def main() -> int:
    request = json.load(sys.stdin)
    sys.path[:0] = request["paths"]
    out = sys.stdout
    sys.stdout = sys.stderr  # whatever a library prints at import stays out of the answer
    warnings.simplefilter("ignore")
    answer: dict[str, Any] = {"describe": {}, "bind": {}}
    for path, shapes in request.get("bind", []):
        answer["bind"][path] = bind(path, shapes)
    for path in request.get("describe", []):
        answer["describe"][path] = describe(path)
    out.write(json.dumps(answer))
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
