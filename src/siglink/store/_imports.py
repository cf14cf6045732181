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

Members too, where a version of the required distribution is available at install (one in the
same install, else the newest in the store that the requirement admits): the members the
library reaches of each of its classes, through instances whose type is evident (the inference
``siglink build`` uses, :func:`siglink.python.receivers.used_members`, against that version's
exports), with the evident arguments of each member call (:attr:`Import.members`,
:attr:`Import.arguments`; still no expected export and no version built against, so the
linker checks that each member exists and each call binds). Without such a version the
imports are chains and direct calls only.

A top-level module belongs to a required distribution when a version of that distribution in
the store (or in the same install) provides it; otherwise the distribution's normalized name
is taken as its module's (``MarkupSafe`` -> ``markupsafe``). A namespace package (PEP 420)
that several distributions ship portions of is attributed portion by portion
(``jaraco.functools`` to jaraco.functools, ``jaraco.classes`` to jaraco.classes: ``modules_of``
gives the portions); a module two required distributions both claim is left out.

>>> sorted(required(["MarkupSafe>=2.1.1", 'watchdog>=2.3 ; extra == "watchdog"',
...                  'tzdata ; sys_platform == "nonesuch"']))
['markupsafe']
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from packaging.markers import InvalidMarker, default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from siglink._gc import fewer_collections
from siglink.contracts.manifest import Export, Import
from siglink.errors import BadInputError
from siglink.python.usage import Usage, analyze_source

__all__ = ["Available", "Exports", "ExportsOf", "LibraryUsage", "install_order",
           "library_imports", "module_guess", "required"]


def __dir__() -> list[str]:
    return list(__all__)


class Exports(Protocol):
    """One version's exports, looked up by path (``None`` when it has no such export)."""

    def export(self, path: str) -> Export | None: ...


ExportsOf = Callable[[str, SpecifierSet], Exports | None]
"""The exports of a version of a distribution (normalized name) that the specifier admits,
available at install; ``None`` when there is none."""


class _JsonExports:
    """A stored manifest's exports, each parsed from its JSON when first looked up."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self._raw = raw
        self._parsed: dict[str, Export | None] = {}

    def export(self, path: str) -> Export | None:
        if path not in self._parsed:
            data = self._raw.get(path)
            self._parsed[path] = None if not isinstance(data, Mapping) else (
                Export.from_json(path, data))
        return self._parsed[path]


class _Exports:
    def __init__(self, exports: Mapping[str, Export]) -> None:
        self.export = exports.get


class Available:
    """What :func:`library_imports` reads members against during an install: the version of
    a distribution in the same install (:meth:`add`, in :func:`install_order`), else the
    newest non-yanked version in the store that the requirement admits.

    :param versions: a distribution's versions in the store, newest first: (version,
        yanked, the manifest's JSON text reader, ``None`` for a version without one).
    """

    def __init__(self, versions: Callable[[str], Iterable[
            tuple[str, bool, Callable[[], str | None]]]]) -> None:
        self._versions = versions
        self._batch: dict[str, tuple[str, Exports]] = {}
        self._stored: dict[tuple[str, str], Exports | None] = {}

    def add(self, name: str, version: str, exports: Mapping[str, Export]) -> None:
        """A version read in this install."""
        self._batch[canonicalize_name(name)] = (version, _Exports(exports))

    def __call__(self, name: str, specifier: SpecifierSet) -> Exports | None:
        name = canonicalize_name(name)
        if name in self._batch:
            return self._batch[name][1]
        for version, yanked, text in self._versions(name):
            try:
                admitted = specifier.contains(Version(version), prereleases=True)
            except InvalidVersion:
                admitted = False
            if yanked or not admitted:
                continue
            key = (name, version)
            if key not in self._stored:
                raw = text()
                try:
                    data = json.loads(raw) if raw is not None else None
                except ValueError:
                    data = None
                exports = data.get("exports") if isinstance(data, dict) else None
                self._stored[key] = None if not isinstance(exports, dict) else (
                    _JsonExports(exports))
            if self._stored[key] is not None:
                return self._stored[key]
        return None


def install_order(requires: Mapping[str, Sequence[str]]) -> list[str]:
    """The distributions of one install (normalized name -> its Requires-Dist), each after
    those it requires (a cycle is broken where it closes), ties in the given order.

    >>> install_order({"requests": ["urllib3>=1", "idna"], "idna": [], "urllib3": []})
    ['urllib3', 'idna', 'requests']
    """
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str) -> None:
        if state.get(name):
            return
        state[name] = 1
        for dep in _required(requires[name]):
            if dep in requires and dep != name:
                visit(dep)
        state[name] = 2
        order.append(name)

    for name in requires:
        visit(name)
    return order


def required(requires: Iterable[str]) -> set[str]:
    """The normalized names of the distributions required unconditionally or by a marker that
    holds here (extras: none). Unreadable requirements are skipped (the linker warns)."""
    return set(_required(requires))


def _required(requires: Iterable[str]) -> dict[str, SpecifierSet]:
    env = {**default_environment(), "extra": ""}
    found: dict[str, SpecifierSet] = {}
    for text in requires:
        try:
            req = Requirement(text)
            if req.marker is not None and not req.marker.evaluate(env):  # type: ignore[arg-type]
                continue
        except (InvalidRequirement, InvalidMarker):
            continue
        name = canonicalize_name(req.name)
        found[name] = found.get(name, SpecifierSet()) & req.specifier
    return found


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
    *, exports_of: ExportsOf | None = None,
) -> dict[str, tuple[Import, ...]]:
    """What library ``name`` uses from each distribution it requires.

    :param sources: the library's own modules, as (path shown in locations, reader of bytes).
    :param modules_of: the top-level modules a distribution provides (empty when unknown).
    :param exports_of: a version of a required distribution to read the members the library
        reaches against (none: chains and direct calls only).
    """
    return LibraryUsage.read(name, requires, top_level, sources, modules_of).imports(exports_of)


@dataclasses.dataclass
class LibraryUsage:
    """What a library's modules use of the distributions it requires, read once (the costly
    part, done where the wheel is read); :meth:`imports` then records it against versions of
    those distributions (cheap, done in dependency order)."""

    found: dict[str, list[Import]]
    usage: Usage
    owner: dict[str, str]
    specifiers: dict[str, SpecifierSet]

    @classmethod
    def read(cls, name: str, requires: Sequence[str], top_level: Sequence[str],
             sources: Iterable[tuple[str, Callable[[], bytes]]],
             modules_of: Callable[[str], Iterable[str]]) -> LibraryUsage:
        """Read the library's modules (see :func:`library_imports`)."""
        own = set(top_level)
        owners: dict[str, set[str]] = {}
        specifiers = _required(requires)
        specifiers.pop(canonicalize_name(name), None)
        for dist in specifiers:
            modules = set(modules_of(dist)) or {module_guess(dist)}
            for module in modules:
                top = module.split(".", 1)[0]
                if (module not in own and top not in sys.stdlib_module_names
                        and module.replace(".", "").isidentifier()):
                    owners.setdefault(module, set()).add(dist)
        owner = {module: next(iter(d)) for module, d in owners.items() if len(d) == 1}
        usage = Usage()
        found: dict[str, list[Import]] = {}
        if not owner:
            return cls(found, usage, owner, {})
        needles = list(dict.fromkeys(m.split(".", 1)[0].encode() for m in owner))
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
        for path, use in sorted(usage.uses.items()):
            library = _owner(owner, path)
            if library is None or path in owner or path in usage.modules:
                continue  # not a required distribution's, or a module used as a whole
            calls = tuple(use.calls)
            found.setdefault(library, []).append(Import(
                path, calls=calls, calls_complete=bool(calls) and not use.other,
                dynamic=use.dynamic, location=use.location, optional=use.optional,
            ))
        return cls(found, usage, owner, {d: s for d, s in specifiers.items()
                                         if d in owner.values()})

    def imports(self, exports_of: ExportsOf | None = None) -> dict[str, tuple[Import, ...]]:
        """The imports of each required distribution; with ``exports_of``, also the members
        the library reaches of their classes, read against the versions it gives."""
        found = {dist: list(items) for dist, items in self.found.items()}
        if exports_of is not None and self.owner:
            _add_members(found, self.usage, self.owner, self.specifiers, exports_of)
        return {dist: tuple(sorted(items, key=lambda i: i.path))
                for dist, items in sorted(found.items())}


def _owner(owner: Mapping[str, str], path: str) -> str | None:
    """The distribution owning ``path``: its longest prefix that is a module of one (a
    top-level module, or a portion of a namespace package)."""
    parts = path.split(".")
    for length in range(len(parts), 0, -1):
        found = owner.get(".".join(parts[:length]))
        if found is not None:
            return found
    return None


def _add_members(found: dict[str, list[Import]], usage: Usage, owner: dict[str, str],
                 specifiers: dict[str, SpecifierSet], exports_of: ExportsOf) -> None:
    """Record on each used class's import the members the library reaches of it, and how it
    calls them, read against a version of its distribution available now."""
    from siglink.python.receivers import ALL, used_members

    views = {dist: view for dist, spec in sorted(specifiers.items())
             if (view := exports_of(dist, spec)) is not None}
    if not views:
        return

    def export_of(path: str) -> Export | None:
        view = views.get(_owner(owner, path) or "")
        return None if view is None else view.export(path)

    uses = [u for p, u in usage.uses.items() if _owner(owner, p) in views]
    members, arguments, classes = used_members(usage, export_of, uses)
    for digest, (export, where) in sorted(classes.items(), key=lambda c: c[1][0].path):
        dist = _owner(owner, export.path)
        names = members.get(digest, set())
        if dist is None or ALL in names:
            continue  # every member used: the class's presence is what is checked
        used = tuple(sorted(names & export.members.keys()))
        if not used:
            continue
        evidence = tuple(dict.fromkeys(a for a in arguments.get(digest, ()) if a.member in used))
        items = found.setdefault(dist, [])
        at = next((n for n, i in enumerate(items) if i.path == export.path), None)
        if at is None:
            items.append(Import(export.path, location=where, members=used, arguments=evidence))
        elif not (items[at].optional or items[at].dynamic):
            items[at] = dataclasses.replace(items[at], members=used, arguments=evidence)
