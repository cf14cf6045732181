"""``siglink update``: take every fix. For each library in the store (or those named), ask the
index for its newest release and install it with what it requires.

The newest release is what pip itself would install: one ``pip install --dry-run --no-deps
--ignore-installed --report`` of every name, unpinned, against the configured index (so
yanked releases, pre-releases and releases whose ``Requires-Python`` excludes this interpreter
are passed over exactly as pip passes them over). A name the index does not have (a library
built locally) is reported and left alone. The newer releases are then installed with their
dependency closure (:mod:`siglink.fleet.install`).

>>> Newer("jinja2", "3.1.3", "3.1.6").spec
'jinja2==3.1.6'
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from siglink.errors import FetchError
from siglink.store import version_key

if TYPE_CHECKING:
    from siglink.fleet.install import Step
    from siglink.store import Store

__all__ = ["Newer", "Survey", "newest_on_index", "survey"]


def __dir__() -> list[str]:
    return list(__all__)



@dataclass(frozen=True)
class Newer:
    """``name``'s newest stored version is ``stored``; the index has ``latest``."""

    name: str
    stored: str
    latest: str

    @property
    def spec(self) -> str:
        return f"{self.name}=={self.latest}"


@dataclass(frozen=True)
class Survey:
    """What the index has for the libraries checked: the ``newer`` releases, the libraries
    already at the newest (``current``: name -> version) and those the index does not have
    (``absent``: name -> pip's reason)."""

    checked: tuple[str, ...]
    newer: tuple[Newer, ...]
    current: dict[str, str] = field(default_factory=dict)
    absent: dict[str, str] = field(default_factory=dict)


def newest_on_index(
    names: Sequence[str], *, index_url: str | None = None, work: Path,
) -> tuple[dict[str, str], dict[str, str]]:
    """The version pip would install of each of ``names`` (``{name: version}``) and the names
    the index does not have (``{name: reason}``), in one resolution (one more per absent name).

    :raises FetchError: the index cannot be reached, or pip fails otherwise.
    """
    from siglink.store.fetch import resolve

    wanted = list(dict.fromkeys(canonicalize_name(n) for n in names))
    absent: dict[str, str] = {}
    for attempt in range(len(wanted) + 1):
        asked = [n for n in wanted if n not in absent]
        if not asked:
            return {}, absent
        try:
            resolved = resolve(asked, no_deps=True, index_url=index_url,
                               work=work / f"survey-{attempt}")
        except FetchError as e:
            found = re.match(r"(\S+): cannot be fetched from the package index: (.+)$",
                             e.message)
            name = canonicalize_name(found.group(1)) if found else None
            if name is None or name not in asked:
                raise
            absent[name] = found.group(2) if found else e.message
            continue
        return {r.name: r.version for r in resolved}, absent
    raise FetchError("the index could not be surveyed")  # not reached: one name per attempt


def survey(
    store: Store, names: Sequence[str] = (), *, index_url: str | None = None,
    on_step: Step | None = None,
) -> Survey:
    """Compare the store's newest version of each library (or of ``names``, each of which must
    be in the store) with the index's newest release.

    :raises NotInStoreError: a name given is not in the store (exit 2).
    :raises FetchError: the index cannot be reached (exit 4).
    """
    from siglink.store import NotInStoreError

    stored: dict[str, str] = {}
    for name in names or store.names():
        versions = [v for v in store.versions(name) if v.source == "store"]
        if not versions:
            raise NotInStoreError(canonicalize_name(name), hint=store.where)
        stored[versions[0].name] = versions[0].version
    if not stored:
        return Survey((), ())
    if on_step is not None:
        on_step(f"asking the index for the newest release of {len(stored)} librar"
                + ("y" if len(stored) == 1 else "ies"))
    with tempfile.TemporaryDirectory(prefix="siglink-update-") as tmp:
        latest, absent = newest_on_index(list(stored), index_url=index_url, work=Path(tmp))
    have = store.installed()
    newer, current = [], {}
    for name, version in sorted(stored.items()):
        found = latest.get(name)
        if found is None:
            continue
        in_store = any(n == name and version_key(v) == version_key(found) for n, v in have)
        if version_key(found) > version_key(version) and not in_store:
            newer.append(Newer(name, version, found))
        else:
            current[name] = version if version_key(version) >= version_key(found) else found
    return Survey(tuple(sorted(stored)), tuple(newer), current, absent)
