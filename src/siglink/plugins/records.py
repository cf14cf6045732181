"""What discovery knows of a plugin before importing it: records read from manifests.

A plugin's manifest (``siglink.json``, unit kind ``plugin``) holds ``implements`` (extension
point -> the implementing object, ``module:qualname``, the spec recorded when it was built and
an optional position), the implementing objects' own exports, and its imports of the host's
API. A plugin found behind an entry point without a manifest has only the entry point: its
implementation is checked when it is imported, before its first call.

>>> dotted("pkg.mod:Cls.f")
'pkg.mod.Cls.f'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from siglink.contracts.manifest import Export, Manifest

__all__ = ["Fault", "ImplRecord", "PluginRecord", "Source", "dotted", "record_from_manifest"]

Source = Literal["store", "directory", "entry-point"]


def __dir__() -> list[str]:
    return list(__all__)


class Fault(Enum):
    """Why a plugin did not load, beside an incompatible signature (whose problems carry the
    checker's rule ids)."""

    INCOMPATIBLE = "incompatible"  # an implementation or import does not fit the host
    BAD_MANIFEST = "bad-manifest"  # unreadable manifest, no implements, bad object name
    MISSING_OBJECT = "missing-object"  # the manifest names an object the plugin lacks
    IMPORT_ERROR = "import-error"  # importing the plugin raised
    DUPLICATE = "duplicate"  # another plugin of the same name and version came first
    CYCLE = "cycle"  # plugins that import each other's API
    CALL_ERROR = "call-error"  # a call raised (the last one is kept)


@dataclass(frozen=True, slots=True)
class ImplRecord:
    """One implementation: ``target`` is ``module:qualname``; ``spec`` is the extension point
    as the plugin was built against it; ``export`` the implementing object's own export."""

    point: str
    target: str
    spec: Export | None = None
    export: Export | None = None
    position: str | None = None


@dataclass(frozen=True, slots=True)
class PluginRecord:
    """One installed version of a plugin; ``path`` is what to put on ``sys.path`` to import
    it (``None`` when it is importable as installed)."""

    name: str
    version: str
    source: Source
    location: str
    implementations: tuple[ImplRecord, ...] = ()
    manifest: Manifest | None = None
    path: str | None = None
    problem: str | None = None
    modules: tuple[str, ...] = field(default=())

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"

    def implementation(self, point: str) -> ImplRecord | None:
        return next((i for i in self.implementations if i.point == point), None)


def dotted(target: str) -> str:
    """``pkg.mod:Cls.f`` -> ``pkg.mod.Cls.f`` (the path exports are keyed by)."""
    module, _, qualname = target.partition(":")
    return f"{module}.{qualname}" if qualname else module


def record_from_manifest(
    manifest: Manifest, source: Source, location: str, path: str | None
) -> PluginRecord:
    """A record of a plugin unit's manifest; a manifest implementing nothing, or naming an
    object that is not ``module:qualname``, gets a ``problem``."""
    impls: list[ImplRecord] = []
    problem: str | None = None
    for point, impl in sorted(manifest.implements.items()):
        module, sep, qualname = impl.obj.partition(":")
        if not sep or not all(p.isidentifier() for p in f"{module}.{qualname}".split(".")):
            problem = f"{location}: implements {point}: object {impl.obj!r} is not module:qualname"
            continue
        export = manifest.exports.get(dotted(impl.obj))
        impls.append(ImplRecord(point, impl.obj, impl.spec, export, impl.position))
    if not manifest.implements and problem is None:
        problem = f"{location}: the manifest implements no extension point"
    modules = manifest.top_level or tuple(sorted({i.target.split(".")[0].split(":")[0]
                                                  for i in impls}))
    return PluginRecord(manifest.unit.name, manifest.unit.version, source, location,
                        tuple(impls), manifest, path, problem, modules)
