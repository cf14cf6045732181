"""The shape of a bundle's description (``.siglink/bundle.json``), checked before any use.

A bundle is a file from anywhere: every field ``inspect`` and ``relink`` read is checked for
its type here, and a field of the wrong type, or a member it names that the bundle does not
hold, is refused naming the field, never met later as a traceback.

>>> check_description({"format": 1}, frozenset())
'$.python: missing'
>>> check_description({"format": 1, "python": "3.12", "app": {"name": 7}}, frozenset())
'$.app.name: expected a string, found a number'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from typing import Any, Final

from siglink._json import kind as json_kind

__all__ = ["check_description"]

_PYTHON: Final = re.compile(r"[0-9]{1,3}\.[0-9]{1,4}")
_POLICIES: Final = ("signature", "semver", "strict")


def __dir__() -> list[str]:
    return list(__all__)


class _Wrong(Exception):
    """A field of the wrong shape: ``str()`` is ``$.path: what is wrong``."""


def _need(value: Any, kind: type, at: str, what: str) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _Wrong(f"{at}: expected {what}, found {json_kind(value)}")
    return value


def _text(value: Any, at: str) -> str:
    text: str = _need(value, str, at, "a string")
    return text


def _object(value: Any, at: str) -> dict[str, Any]:
    found: dict[str, Any] = _need(value, dict, at, "an object")
    return found


def _field(data: dict[str, Any], key: str, at: str, check: Callable[[Any, str], Any], *,
           optional: bool = False) -> Any:
    where = f"{at}.{key}"
    if key not in data or (optional and data[key] is None):
        if optional:
            return None
        raise _Wrong(f"{where}: missing")
    return check(data[key], where)


def _texts(value: Any, at: str) -> list[str]:
    return [_text(v, f"{at}[{i}]") for i, v in enumerate(_need(value, list, at, "an array"))]


def _hashes(value: Any, at: str) -> dict[str, str]:
    return {k: _text(v, f"{at}[{k!r}]") for k, v in _object(value, at).items()}


def _flag(value: Any, at: str) -> bool:
    flag: bool = _need(value, bool, at, "true or false")
    return flag


def _member(members: Collection[str]) -> Callable[[Any, str], str]:
    def check(value: Any, at: str) -> str:
        name = _text(value, at)
        if name not in members:
            raise _Wrong(f"{at}: names {name!r}, which the bundle does not hold")
        return name
    return check


def _app(value: Any, at: str, members: Collection[str]) -> None:
    app = _object(value, at)
    _field(app, "name", at, _text)
    _field(app, "version", at, _text)
    _field(app, "manifest", at, _member(members))
    run = _field(app, "run", at, _hashes)
    if len([k for k in ("module", "func") if k in run]) != 1:
        raise _Wrong(f"{at}.run: expected exactly one of 'module' and 'func'")
    policy = _field(app, "policy", at, _text, optional=True)
    if policy is not None and policy not in _POLICIES:
        raise _Wrong(f"{at}.policy: {policy[:40]!r} is not one of {', '.join(_POLICIES)}")
    _field(app, "files", at, _hashes, optional=True)


def _lib(value: Any, at: str, members: Collection[str]) -> None:
    lib = _object(value, at)
    _field(lib, "version", at, _text)
    for key in ("member", "dist_info", "content_sha256", "kept_whole"):
        _field(lib, key, at, _text, optional=True)
    _field(lib, "manifest", at, _member(members), optional=True)
    _field(lib, "top_level", at, _texts, optional=True)
    _field(lib, "source", at, _object, optional=True)
    _field(lib, "files", at, _hashes, optional=True)
    _field(lib, "compiled", at, _flag, optional=True)
    _field(lib, "pruned", at, _flag, optional=True)


def _plan(value: Any, at: str) -> None:
    links = _field(_object(value, at), "links", at, _object, optional=True) or {}
    for name, link in links.items():
        where = f"{at}.links[{name!r}]"
        verdict = _field(_object(link, where), "verdict", where, _object, optional=True)
        if verdict is not None:
            _field(verdict, "status", f"{where}.verdict", _text, optional=True)


def _unicode(info: dict[str, Any]) -> None:
    """Every key and string of ``info`` is text that can be written out: JSON's ``\\ud800``
    escape makes a lone surrogate, which no output encodes."""
    pending: list[tuple[Any, str]] = [(info, "$")]
    while pending:
        value, at = pending.pop()
        if isinstance(value, str):
            if not _encodable(value):
                raise _Wrong(f"{at}: a string that is not valid Unicode (a lone surrogate)")
        elif isinstance(value, dict):
            for key, item in value.items():
                if not _encodable(key):
                    raise _Wrong(f"{at}: a key that is not valid Unicode (a lone surrogate)")
                pending.append((item, f"{at}.{key}" if key.isidentifier() else f"{at}[{key!r}]"))
        elif isinstance(value, list):
            pending += [(item, f"{at}[{i}]") for i, item in enumerate(value)]


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_description(info: dict[str, Any], members: Collection[str]) -> str | None:
    """What is wrong with description ``info`` of a bundle holding ``members`` (``$.path:
    reason``), or None when every field siglink reads has its type."""
    try:
        _unicode(info)
        _field(info, "format", "$", lambda v, at: _need(v, int, at, "a number"))
        python = _field(info, "python", "$", _text)
        if not _PYTHON.fullmatch(python):
            raise _Wrong(f"$.python: {python[:20]!r} is not X.Y")
        _field(info, "siglink", "$", _text, optional=True)
        _field(info, "prune", "$", _flag, optional=True)
        _field(info, "app", "$", lambda v, at: _app(v, at, members))
        for name, lib in _field(info, "libs", "$", _object).items():
            _lib(lib, f"$.libs[{name!r}]", members)
        _field(info, "plan", "$", _plan, optional=True)
        _field(info, "members", "$", _hashes)
    except _Wrong as e:
        return str(e)
    return None
