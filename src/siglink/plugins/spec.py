"""Declaring extension points and implementations: two decorators, standard library only.

A host marks the spec of an extension point; a plugin marks what implements one::

    @siglink.extension_point("chat.commands")
    def command(text: str, *, user: str) -> str | None: ...

    @siglink.implements("chat.commands")
    def shout(text: str, *, user: str, loud: bool = True) -> str: ...

Both decorators return the object itself, only tagged: calling a spec or an implementation
costs nothing extra. The static extractor reads the same decorators from source (a host's
manifest exports the spec as kind ``extension-point``; ``siglink build`` fills a plugin's
``implements``), so nothing here runs at build time. This module imports nothing, so that
``import siglink`` and a host's import of its own specs stay cheap.

>>> @extension_point("demo.greet")
... def greet(name: str) -> str: ...
>>> group_of(greet), registered("demo.greet") is greet
('demo.greet', True)
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: this module must stay import-free
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Literal, TypeVar

    _T = TypeVar("_T")
    Position = Literal["first", "last"] | None

__all__ = [
    "GROUP_ATTRIBUTE",
    "IMPLEMENTS_ATTRIBUTE",
    "extension_point",
    "group_of",
    "implements",
    "registered",
]

GROUP_ATTRIBUTE = "__siglink_extension_point__"
IMPLEMENTS_ATTRIBUTE = "__siglink_implements__"

# group -> the spec object the running host declared (its *current* spec).
_POINTS: dict[str, object] = {}


def __dir__() -> list[str]:
    return list(__all__)


def _check_group(group: object, what: str) -> str:
    if not isinstance(group, str) or not group or any(c.isspace() for c in group):
        from siglink.errors import BadInputError

        raise BadInputError(f"{what}: a group is a non-empty name without spaces, not {group!r}")
    return group


def extension_point(group: str) -> Callable[[_T], _T]:
    """Declare the decorated function or Protocol-like class as the spec of ``group``."""
    _check_group(group, "extension_point")

    def mark(spec: _T) -> _T:
        setattr(spec, GROUP_ATTRIBUTE, group)
        _POINTS[group] = spec
        return spec

    return mark


def implements(group: str, *, position: Position = None) -> Callable[[_T], _T]:
    """Declare the decorated object as an implementation of ``group``.

    ``position="first"`` or ``"last"`` asks to be called before or after the others (a host's
    explicit order wins).
    """
    _check_group(group, "implements")
    if position not in (None, "first", "last"):
        from siglink.errors import BadInputError

        raise BadInputError(f"implements({group!r}): position must be 'first', 'last' or None")

    def mark(obj: _T) -> _T:
        marks = dict(getattr(obj, IMPLEMENTS_ATTRIBUTE, None) or {})
        marks[group] = position
        setattr(obj, IMPLEMENTS_ATTRIBUTE, marks)
        return obj

    return mark


def group_of(spec: object) -> str | None:
    """The group a spec was declared for (``None`` for an undecorated object)."""
    group = getattr(spec, GROUP_ATTRIBUTE, None)
    return group if isinstance(group, str) else None


def registered(group: str) -> object | None:
    """The spec the running program declared for ``group``, if it did."""
    return _POINTS.get(group)
