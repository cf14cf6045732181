"""What the resolver chooses among: stored versions seen through a :class:`LinkSource`
(:class:`ManifestView`, :class:`StoreSource`), as :class:`Candidate` s, and what each consumer
needs of a distribution, as :class:`Requirement` s (:mod:`siglink.link.resolve`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from siglink._json import JSONTextError, loads_object
from siglink._layout import ALL
from siglink.contracts.manifest import Export, Import, Manifest
from siglink.store.index import CorruptIndexError

if TYPE_CHECKING:
    from siglink.contracts.types import ClassGraph
    from siglink.store import Store, StoredVersion


class LinkSource(Protocol):
    """What the resolver reads: a store, or a store with hypothetical changes (impact)."""

    def versions(self, name: str) -> Sequence[StoredVersion]:
        """Every stored version of ``name``, yanked ones included, newest first."""
        ...

    def view(self, name: str, version: str) -> ManifestView:
        """One version's manifest, read lazily."""
        ...

    def providers(self, module: str) -> list[str]:
        """The distributions providing top-level module ``module`` (normalized names)."""
        ...


class ManifestView:
    """A library version's exports and imports, parsed one export at a time from JSON.

    Parsing a whole manifest (every signature of every export) costs far more than a link
    needs: a consumer imports a few names, and most of them are identical by digest.
    """

    __slots__ = ("_classes", "_exports", "_imports", "_modules", "_parsed", "_protocols",
                 "_raw")

    def __init__(
        self, raw: Mapping[str, Any] | None = None, manifest: Manifest | None = None
    ) -> None:
        self._raw: Mapping[str, Any] = (raw or {}).get("exports", {})
        self._imports: Mapping[str, Any] = (raw or {}).get("imports", {})
        self._parsed: dict[str, Export | None] = dict(manifest.exports) if manifest else {}
        self._exports: Mapping[str, Export] | None = manifest.exports if manifest else None
        self._modules: frozenset[str] | None = None
        self._classes: ClassGraph | None = None
        self._protocols: Any = manifest.protocols if manifest is not None else (
            (raw or {}).get("protocols") or {})
        if manifest is not None:
            self._imports = dict(manifest.imports)

    def export_digest(self, path: str) -> str | None:
        """The digest of export ``path`` without parsing it (None when absent)."""
        if self._exports is not None:
            export = self._exports.get(path)
            return None if export is None else export.digest
        data = self._raw.get(path)
        if data is None:
            return None
        digest = data.get("digest")
        if digest:
            return str(digest)
        parsed = self.export(path)
        return None if parsed is None else parsed.digest

    def deprecated(self, path: str) -> bool:
        """Is export ``path`` served with a deprecation warning? (Without parsing it.)"""
        if self._exports is not None:
            export = self._exports.get(path)
            return export is not None and export.deprecated
        return bool((self._raw.get(path) or {}).get("deprecated"))

    def export(self, path: str) -> Export | None:
        """Export ``path``, parsed on first use (None when absent)."""
        if path not in self._parsed:
            data = self._raw.get(path)
            self._parsed[path] = None if data is None else Export.from_json(path, data)
        return self._parsed[path]

    def paths(self) -> Iterable[str]:
        """Every export path."""
        return self._exports.keys() if self._exports is not None else self._raw.keys()

    def export_module(self, path: str) -> str:
        """The module that defines export ``path`` ("" when unknown)."""
        if self._exports is not None:
            export = self._exports.get(path)
            return export.module if export is not None else ""
        return str(self._raw.get(path, {}).get("module", ""))

    def modules(self) -> frozenset[str]:
        """The modules this version has, as far as its exports tell: every export's defining
        module and every dotted prefix of an export path, with their parents (computed once)."""
        if self._modules is None:
            found: set[str] = set()
            for path in self.paths():
                parts = path.split(".")
                found.update(".".join(parts[:i]) for i in range(1, len(parts)))
                module = self.export_module(path)
                if module:
                    mparts = module.split(".")
                    found.update(".".join(mparts[:i]) for i in range(1, len(mparts) + 1))
            self._modules = frozenset(found)
        return self._modules

    def class_graph(self) -> ClassGraph:
        """Every class's recorded bases (:func:`siglink.contracts.compat.class_graph`), so that
        relations between the library's own classes are known; read from the JSON without
        parsing any signature, once."""
        if self._classes is None:
            from siglink.contracts.types import ClassGraph

            if self._exports is not None:
                from siglink.contracts.compat import class_graph

                self._classes = class_graph(self._exports.values(), self.protocols())
            else:
                bases: dict[str, tuple[str, ...]] = {}

                def visit(path: str, data: Mapping[str, Any]) -> None:
                    if data.get("kind") != "class":
                        return
                    found = tuple(data.get("bases", ()))
                    bases[path] = found
                    module = data.get("module")
                    if module:
                        bases.setdefault(f"{module}.{path.rpartition('.')[2]}", found)
                    for name, member in data.get("members", {}).items():
                        visit(f"{path}.{name}", member)

                for path, data in self._raw.items():
                    visit(path, data)
                self._classes = ClassGraph(bases, self.protocols())
        return self._classes

    def protocols(self) -> Mapping[str, Mapping[str, str]]:
        """The version's Protocols and their members (:attr:`Manifest.protocols`); none when
        the table is damaged (a store's copy is checked when it is written)."""
        from siglink.contracts.manifest import protocols_of
        from siglink.errors import ManifestError

        try:
            return protocols_of({"protocols": self._protocols})
        except ManifestError:
            return {}

    def imports(self) -> dict[str, tuple[Import, ...]]:
        """The library's own recorded imports (siglink-built, or computed at install)."""
        out: dict[str, tuple[Import, ...]] = {}
        for lib, items in self._imports.items():
            out[canonicalize_name(lib)] = tuple(
                i if isinstance(i, Import) else Import.from_json(i) for i in items
            )
        return out


class StoreSource:
    """A :class:`LinkSource` reading a :class:`~siglink.store.Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._versions: dict[str, list[StoredVersion]] = {}
        self._views: dict[tuple[str, str], ManifestView] = {}
        self._asked_providers = False

    def versions(self, name: str) -> Sequence[StoredVersion]:
        found = self._versions.get(name)
        if found is None:
            found = self._versions[name] = list(self.store.versions(name, include_yanked=True))
        return found

    def view(self, name: str, version: str) -> ManifestView:
        key = (name, version)
        found = self._views.get(key)
        if found is None:
            found = self._views[key] = self._load(name, version)
        return found

    def _load(self, name: str, version: str) -> ManifestView:
        text = self._raw_text(name, version)
        if text is not None:
            try:
                raw = loads_object(text)
                exports, imports = raw.get("exports", {}), raw.get("imports", {})
                if not isinstance(exports, dict) or not isinstance(imports, dict) or not all(
                        isinstance(e, dict) for e in exports.values()):
                    raise JSONTextError("exports or imports of the wrong shape")
            except JSONTextError as e:  # the index's own copy: damage, not input
                raise CorruptIndexError(
                    self.store.index_path, f"corrupt manifest of {name}=={version} ({e}); run "
                    "'siglink store repair' to rebuild it from libs/") from None
            return ManifestView(raw=raw)
        return ManifestView(manifest=self.store.manifest(name, version))

    def providers(self, module: str) -> list[str]:
        """The distributions providing top-level module ``module`` (normalized names)."""
        self._asked_providers = True
        return [canonicalize_name(n) for n in self.store.providers(module)]

    def considered(self) -> tuple[str, ...]:
        """What was read so far: the libraries whose versions were asked for (normalized
        names), and ``*`` when a module's providers were (the set of libraries mattered)."""
        names = tuple(canonicalize_name(n) for n in self._versions)
        return (*names, ALL) if self._asked_providers else names

    def _raw_text(self, name: str, version: str) -> str | None:
        # The store keeps each manifest's JSON text in its index: parse only what is used.
        return self.store.manifest_json(name, version)


def _yank_reason(stored: StoredVersion) -> str | None:
    yanked: object = stored.yanked
    if not yanked:
        return None
    return yanked if isinstance(yanked, str) else "yanked"


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


class Candidate:
    """One stored version; its manifest is read on first need, one export at a time."""

    __slots__ = ("_imports", "_view", "extras", "name", "source", "stored", "version")

    def __init__(self, source: LinkSource, stored: StoredVersion, extras: frozenset[str]) -> None:
        self.source = source
        self.stored = stored
        self.name = canonicalize_name(stored.name)
        self.version = _version(stored.version) or Version("0")
        self.extras = extras
        self._view: ManifestView | None = None
        self._imports: dict[str, tuple[Import, ...]] | None = None

    def __repr__(self) -> str:
        return f"<Candidate {self.name}=={self.stored.version}>"

    @property
    def view(self) -> ManifestView:
        if self._view is None:
            self._view = self.source.view(self.stored.name, self.stored.version)
        return self._view

    @property
    def imports(self) -> dict[str, tuple[Import, ...]]:
        if self._imports is None:
            self._imports = self.view.imports()
        return self._imports


@dataclass(frozen=True, eq=False)
class Requirement:
    """What ``consumer`` needs of distribution ``name``."""

    consumer: str
    name: str
    specifier: SpecifierSet = field(default_factory=SpecifierSet)
    imports: tuple[Import, ...] = ()
    extras: frozenset[str] = frozenset()
    why: str = ""  # the Requires-Dist text or the policy that set the specifier

    def __repr__(self) -> str:
        return f"<Requirement {self.consumer} -> {self.name}{self.specifier}>"



def _semver_spec(imports: Iterable[Import], policy: str) -> SpecifierSet:
    if policy != "semver":
        return SpecifierSet()
    for imp in imports:
        if imp.built_against:
            version = _version(imp.built_against)
            if version is not None:
                return SpecifierSet(f"=={semver_major(version.release)}.*")
    return SpecifierSet()


def semver_major(release: tuple[int, ...]) -> str:
    """The components that make a version's "major" under semver, as ``siglink diff`` counts
    them: the first, or for 0.x up to the leftmost non-zero one (``0.1.0`` → ``0.1``, ``0.0.3``
    → ``0.0.3``, ``2.4.1`` → ``2``).

    >>> semver_major((0, 1, 0)), semver_major((0, 0, 3)), semver_major((2, 4, 1))
    ('0.1', '0.0.3', '2')
    """
    parts = [*release, *[0] * (3 - len(release))]
    for i, part in enumerate(parts):
        if part != 0 or i == len(parts) - 1:
            return ".".join(map(str, parts[: i + 1]))
    return "0"  # not reached


def app_requirements(
    app: str, imports: Mapping[str, tuple[Import, ...]], policy: str,
    built_against: Mapping[str, str] | None = None,
) -> list[Requirement]:
    """The application's root requirements: one per distribution it imports."""
    out = []
    for name, items in imports.items():
        spec = _semver_spec(items, policy)
        if not spec and policy == "semver" and built_against and name in built_against:
            spec = _semver_spec((Import(name, built_against=built_against[name]),), policy)
        why = "policy semver" if spec else ""
        out.append(Requirement(app, canonicalize_name(name), spec, items, frozenset(), why))
    return out

