"""Extension points in a host's source: objects decorated ``@siglink.extension_point("GROUP")``.

Such a function or Protocol-like class is exported as kind ``extension-point``
(docs/design-notes.md, "Plugins"): its full signature (a class: its public methods; no
constructor, the host never builds a plugin's object from the spec), and its group as
``value`` (the group's source text, ``'chat.commands'``), so a renamed group is a changed
export like any other.

>>> from pathlib import Path
>>> lines = ["import siglink", '@siglink.extension_point("g")', "def f(x: int) -> int: ..."]
>>> code = chr(10).join(lines)
>>> module = griffe.visit("host", filepath=Path("host.py"), code=code)
>>> decorator_group(module["f"], DECLARERS)
'g'
"""

from __future__ import annotations

import ast
import dataclasses
from typing import Final

import griffe

from siglink.contracts.manifest import Export, ExportKind
from siglink.python._annotations import LOOKUP_ERRORS

__all__ = ["decorator_group", "mark_extension_point"]

DECLARERS: Final = frozenset({
    "siglink.extension_point",
    "siglink.plugins.extension_point",
    "siglink.plugins.spec.extension_point",
})
IMPLEMENTERS: Final = frozenset({
    "siglink.implements",
    "siglink.plugins.implements",
    "siglink.plugins.spec.implements",
})


def decorator_group(obj: griffe.Object, names: frozenset[str]) -> str | None:
    """The group of the first decorator of ``obj`` calling one of ``names`` with a string."""
    for decorator in getattr(obj, "decorators", ()):
        call = decorator.value
        if not isinstance(call, griffe.ExprCall):
            continue
        try:
            called = call.function.canonical_path if isinstance(call.function, griffe.Expr) \
                else str(call.function)
        except LOOKUP_ERRORS:
            continue
        if called not in names or not call.arguments:
            continue
        first = call.arguments[0]
        if isinstance(first, griffe.ExprKeyword):
            first = first.value
        try:
            group = ast.literal_eval(str(first))
        except (ValueError, SyntaxError):
            continue
        if isinstance(group, str) and group:
            return group
    return None


def mark_extension_point(export: Export | None, obj: object) -> Export | None:
    """``export`` as an extension point when ``obj`` is declared one, else unchanged."""
    if export is None or not isinstance(obj, (griffe.Function, griffe.Class)):
        return export
    group = decorator_group(obj, DECLARERS)
    if group is None:
        return export
    if export.kind is ExportKind.CLASS:
        members = {
            name: member for name, member in export.members.items()
            if not name.startswith("_") and member.kind.callable
        }
        return dataclasses.replace(export, kind=ExportKind.EXTENSION_POINT, signature=None,
                                   bases=(), flavor=None, members=members, value=repr(group),
                                   digest="")
    flavor = "async" if export.kind is ExportKind.ASYNC_FUNCTION else None
    return dataclasses.replace(export, kind=ExportKind.EXTENSION_POINT, flavor=flavor,
                               value=repr(group), digest="")
