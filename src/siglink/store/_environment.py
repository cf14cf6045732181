"""The running environment's installed distributions as read-only store candidates.

Only used when a :class:`~siglink.store.Store` is opened with ``environment=True``. Metadata is
read with :mod:`importlib.metadata`; nothing is imported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from siglink.errors import BadInputError
from siglink.store._records import StoredVersion

if TYPE_CHECKING:
    from siglink.contracts.manifest import Manifest

__all__ = ["environment_versions", "extract_installed"]


def _top_level(dist: metadata.Distribution) -> tuple[str, ...]:
    try:
        text = dist.read_text("top_level.txt")
    except UnicodeDecodeError:  # not UTF-8: no names from it, only those of its files
        text = None
    if text:
        names = {n.strip() for n in text.split()}
    else:
        names = set()
        for file in dist.files or ():
            parts = file.parts
            if not parts or parts[0].endswith((".dist-info", ".egg-info", ".data")):
                continue
            if parts[0] in ("..", "__pycache__") or parts[0].startswith("__editable__"):
                continue
            if len(parts) > 1:
                names.add(parts[0])
            elif parts[0].endswith(".py"):
                names.add(parts[0][:-3])
            elif parts[0].endswith((".so", ".pyd")):
                names.add(parts[0].split(".", 1)[0])
    return tuple(sorted(n for n in names if n.isidentifier()))


def environment_versions() -> dict[str, list[StoredVersion]]:
    """Installed distributions by normalized name (the first on ``sys.path`` wins a tie).

    siglink's own dependency ``packaging`` is one, read from its metadata:

    >>> packaging = environment_versions()["packaging"][0]
    >>> packaging.source, packaging.top_level, packaging.yanked
    ('environment', ('packaging',), None)
    """
    found: dict[str, list[StoredVersion]] = {}
    for dist in metadata.distributions():
        raw_name = dist.metadata["Name"]
        dist_path = getattr(dist, "_path", None)  # PathDistribution's own directory
        if not raw_name or dist_path is None:
            continue
        try:
            Version(dist.version)
        except (InvalidVersion, TypeError):
            continue
        name = canonicalize_name(raw_name)
        if any(v.version == dist.version for v in found.get(name, ())):
            continue
        found.setdefault(name, []).append(
            StoredVersion(
                name=name,
                version=dist.version,
                path=Path(str(dist.locate_file(""))),
                dist_info=Path(dist_path),
                top_level=_top_level(dist),
                requires=tuple(dist.requires or ()),
                requires_python=dist.metadata["Requires-Python"] or None,
                yanked=None,
                source="environment",
            )
        )
    return found


def extract_installed(
    stored: StoredVersion, modules_of: Callable[[str], Iterable[str]] | None = None
) -> Manifest:
    """The manifest of an installed distribution without a ``siglink.json``; with
    ``modules_of`` (a distribution's top-level modules), also what it uses from the
    distributions it requires (:mod:`siglink.store._imports`)."""
    from siglink.python.exports import extract

    try:
        manifest = extract(stored.name, name=stored.name, version=stored.version)
    except OSError as e:  # a file of the distribution that cannot be read: bad input
        raise BadInputError(f"{stored}: cannot read its exports ({e.strerror or e})") from e
    if modules_of is None or not stored.requires or manifest.imports:
        return manifest
    from siglink.store._imports import library_imports

    own = set(stored.top_level)
    files = [
        f for f in metadata.PathDistribution(stored.dist_info).files or ()
        if f.suffix == ".py" and f.parts and (f.parts[0].removesuffix(".py") in own)
    ]
    sources = ((f.as_posix(), (stored.path / f).read_bytes) for f in files
               if (stored.path / f).is_file())
    imports = library_imports(stored.name, stored.requires, stored.top_level, sources,
                              modules_of)
    return replace(manifest, imports=imports)
