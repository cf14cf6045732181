"""The runtime oracle: Python itself says whether a name resolves and a call shape binds.

Run as a script in a sandboxed child interpreter (``python -I -S -B _oracle.py``), one per
library version, with that version's unpacked wheel (and its pinned dependencies) first on
``sys.path`` and nothing else. It reads one JSON request on standard input and writes one JSON
answer on standard output::

    {"paths": [DIR, ...],
     "describe": [PATH, ...],                 # names of this version, as an old release
     "bind": [[PATH, [[N, [KW, ...]], ...]], ...]}   # uses made against an older release

    {"describe": {PATH: {"ok": true, "callable": true, "shapes": [[N, [KW, ...]], ...],
                         "sigerr": null} | {"ok": false, "error": "..."}},
     "bind": {PATH: {"ok": true, "sigerr": null, "results": [null | "TypeError: ...", ...]}
                    | {"ok": false, "error": "..."}}}

Importing the library's modules runs their top-level code (that is the oracle, and why the
child runs in a sandbox); no library function is called: a call shape is checked with
``inspect.signature(obj).bind(...)`` on placeholder arguments. Standard library only.
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
    n, keywords = shape
    try:
        sig.bind(*[None] * n, **dict.fromkeys(keywords))
    except TypeError as e:
        return f"TypeError: {e}"
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
    """``callable(obj)`` for a plain object; a proxy whose probing raises (a context-local
    that is unbound outside a request) counts as a value."""
    try:
        return not isinstance(obj, types.ModuleType) and callable(obj)
    except Exception:
        return False


def _signature(obj: Any) -> tuple[inspect.Signature | None, str | None]:
    try:
        return inspect.signature(obj), None
    except Exception as e:  # ValueError, TypeError, or whatever a proxy raises when probed
        return None, _error(e)


def describe(path: str) -> dict[str, Any]:
    try:
        obj = resolve(path)
    except BaseException as e:  # the library's own import failure is an answer, not a crash
        return {"ok": False, "error": _error(e)}
    if not _is_callable(obj):
        return {"ok": True, "callable": False, "shapes": [], "sigerr": None}
    sig, error = _signature(obj)
    shapes = [] if sig is None else [[n, list(k)] for n, k in call_shapes(sig)]
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
                "results": ["TypeError: the object is not callable"] * len(shapes)}
    sig, error = _signature(obj)
    if sig is None:
        return {"ok": True, "sigerr": error, "results": [None] * len(shapes)}
    return {"ok": True, "sigerr": None,
            "results": [binds(sig, (n, tuple(k))) for n, k in shapes]}


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
