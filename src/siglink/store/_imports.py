"""A library's imports, computed at install when its wheel ships no ``siglink.json``.

See docs/design.md §4.

What a third-party library uses from the distributions it requires is read statically from its
own modules (:mod:`siglink.python.usage`, as ``siglink build`` reads an application) and
recorded as call-shape-only imports: no expected signature, no version built against, so the
linker checks that each name exists and that each direct call fits, and marks the verdict
unverified. Only distributions of the wheel's ``Requires-Dist`` count, those without a marker
or whose marker holds for this interpreter (an extra's requirements are optional). Uses the
library can do without (:attr:`siglink.python.usage.Use.optional`) are recorded with
``optional`` set and never checked.

A top-level module belongs to a required distribution when a version of that distribution in
the store (or in the same install) provides it; otherwise the distribution's normalized name
is taken as its module's (``MarkupSafe`` -> ``markupsafe``). A module two required
distributions share (a namespace package) is left out.

>>> sorted(required(["MarkupSafe>=2.1.1", 'watchdog>=2.3 ; extra == "watchdog"',
...                  'tzdata ; sys_platform == "nonesuch"']))
['markupsafe']
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence

from packaging.markers import InvalidMarker, default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from siglink._gc import fewer_collections
from siglink.contracts.manifest import Import
from siglink.errors import BadInputError
from siglink.python.usage import Usage, analyze_source

__all__ = ["library_imports", "module_guess", "required"]


def __dir__() -> list[str]:
    return list(__all__)


def required(requires: Iterable[str]) -> set[str]:
    """The normalized names of the distributions required unconditionally or by a marker that
    holds here (extras: none). Unreadable requirements are skipped (the linker warns)."""
    env = {**default_environment(), "extra": ""}
    names: set[str] = set()
    for text in requires:
        try:
            req = Requirement(text)
            if req.marker is not None and not req.marker.evaluate(env):  # type: ignore[arg-type]
                continue
        except (InvalidRequirement, InvalidMarker):
            continue
        names.add(canonicalize_name(req.name))
    return names


def module_guess(name: str) -> str:
    """The top-level module a distribution most likely provides: ``MarkupSafe`` ->
    ``markupsafe``, ``typing-extensions`` -> ``typing_extensions``."""
    return canonicalize_name(name).replace("-", "_").replace(".", "_")


def library_imports(
    name: str,
    requires: Sequence[str],
    top_level: Sequence[str],
    sources: Iterable[tuple[str, Callable[[], bytes]]],
    modules_of: Callable[[str], Iterable[str]],
) -> dict[str, tuple[Import, ...]]:
    """What library ``name`` uses from each distribution it requires.

    :param sources: the library's own modules, as (path shown in locations, reader of bytes).
    :param modules_of: the top-level modules a distribution provides (empty when unknown).
    """
    own = set(top_level)
    owners: dict[str, set[str]] = {}
    for dist in required(requires) - {canonicalize_name(name)}:
        modules = set(modules_of(dist)) or {module_guess(dist)}
        for module in modules:
            if module not in own and module not in sys.stdlib_module_names:
                owners.setdefault(module, set()).add(dist)
    owner = {module: next(iter(d)) for module, d in owners.items() if len(d) == 1}
    if not owner:
        return {}
    needles = [m.encode() for m in owner]
    usage = Usage()
    # Syntax trees are many small objects without cycles, freed as each file is done; the
    # cyclic collector would rescan everything alive (after reading a large library's
    # exports, close to a million objects) again and again.
    with fewer_collections():
        for shown, read in sources:
            source = read()
            # Cheap first: a file that never spells a required module's name cannot use it.
            if not any(needle in source for needle in needles):
                continue
            try:
                usage.merge(analyze_source(source, shown))
            except BadInputError:
                continue  # a module that does not parse is the exports' diagnostic already
    found: dict[str, list[Import]] = {}
    for path, use in sorted(usage.uses.items()):
        top = path.split(".", 1)[0]
        library = owner.get(top)
        if library is None or path == top or path in usage.modules:
            continue  # not a required distribution's, or a module used as a whole
        calls = tuple(use.calls)
        found.setdefault(library, []).append(Import(
            path, calls=calls, calls_complete=bool(calls) and not use.other,
            dynamic=use.dynamic, location=use.location, optional=use.optional,
        ))
    return {dist: tuple(items) for dist, items in sorted(found.items())}
