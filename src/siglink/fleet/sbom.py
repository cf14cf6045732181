"""``siglink sbom``: an application's exact linked versions as a CycloneDX document.

The versions are those the linker chooses for the application now (the plan its next start
runs on), each a ``library`` component with its package URL (``pkg:pypi/NAME@VERSION``), the
sha256 of its installed ``RECORD`` (which lists the sha256 of every file of the version, so it
identifies the installed contents exactly) and the directory it is served from; the
application is the document's subject, with a dependency graph from each library's
Requires-Dist among the linked ones. Built with the CycloneDX Python library
(``pip install 'siglink[sbom]'``), imported only here.

>>> FORMATS
('cyclonedx-json',)
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Final

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from siglink.errors import BadInputError

if TYPE_CHECKING:
    from siglink.link.plan import LinkPlan
    from siglink.store import Store

__all__ = ["FORMATS", "sbom"]

FORMATS: Final = ("cyclonedx-json",)


def __dir__() -> list[str]:
    return list(__all__)


def _record_sha256(dist_info: str) -> str | None:
    try:
        with open(f"{dist_info}/RECORD", "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return None


def sbom(store: Store, plan: LinkPlan, *, app_name: str) -> str:
    """The CycloneDX 1.6 JSON document of ``plan`` (validated against its schema).

    :raises BadInputError: the CycloneDX library is not installed (exit 2).
    """
    try:
        from cyclonedx.model import HashAlgorithm, HashType, Property
        from cyclonedx.model.bom import Bom
        from cyclonedx.model.component import Component, ComponentType
        from cyclonedx.output.json import JsonV1Dot6
        from packageurl import PackageURL
    except ImportError as e:
        raise BadInputError("siglink sbom needs the CycloneDX library: pip install "
                            "'siglink[sbom]'") from e
    bom = Bom()
    subject = Component(name=app_name, type=ComponentType.APPLICATION, bom_ref="application",
                        properties=[Property(name="siglink:manifest", value=plan.manifest_path),
                                    Property(name="siglink:policy", value=plan.policy)])
    bom.metadata.component = subject
    components: dict[str, Any] = {}
    for name, lib in sorted(plan.links.items()):
        digest = _record_sha256(lib.dist_info)
        hashes = [HashType(alg=HashAlgorithm.SHA_256, content=digest)] if digest else []
        component = Component(
            name=name, version=lib.version, type=ComponentType.LIBRARY,
            bom_ref=f"pkg:pypi/{name}@{lib.version}",
            purl=PackageURL(type="pypi", name=name, version=lib.version), hashes=hashes,
            properties=[Property(name="siglink:path", value=lib.path),
                        Property(name="siglink:source", value=lib.source),
                        Property(name="siglink:verdict", value=lib.status),
                        *([Property(name="siglink:hash-of", value="dist-info RECORD")]
                          if digest else [])])
        bom.components.add(component)
        components[name] = component
    for name, lib in plan.links.items():
        deps = []
        if lib.source == "store":
            for text in store.get(name, lib.version).requires:
                try:
                    dep = str(canonicalize_name(Requirement(text).name))
                except InvalidRequirement:
                    continue
                if dep in components and dep != name:
                    deps.append(components[dep])
        bom.register_dependency(components[name], deps)
    direct = [components[n] for n in sorted(components) if n in _direct(plan)]
    bom.register_dependency(subject, direct or list(components.values()))
    return str(JsonV1Dot6(bom).output_as_string(indent=2))


def _direct(plan: LinkPlan) -> set[str]:
    """The libraries the application imports itself (read from its manifest)."""
    from siglink.link.plan import read_app_manifest

    return {str(canonicalize_name(n)) for n in read_app_manifest(plan.manifest_path).imports}
