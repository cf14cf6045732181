"""Registered applications: what each links now, so that a change to the store can say whom
it moves and a removal can refuse a version in use.

The store's owner registers in the index. A user who cannot write the store (a shared system
store owned by root) registers in a file of their own,
``$XDG_DATA_HOME/siglink/registrations/<digest of the store's path>.json`` (mode 0644, so that
the store's owner can read it); ``who-uses``, ``remove``, ``gc`` and ``apps`` consult the
index and every such file they can read (each user's default data directory, found through the
password database): ``remove`` refuses, and ``gc`` keeps, a version any of them links.

A registration is written only where it belongs: a first run is recorded in the registry of
the user who ran it (the index for the store's owner); a relink after a change updates the
registry of the user who makes the change, and never copies into it an application that only
another user's registry holds (root relinking after an install leaves alice's registration
to alice). ``forget`` removes an application from every registry this user may change (the
index when it may write the store, its own file) and names each other registry that still
holds it: siglink never writes into a directory another user controls.

>>> from siglink.store._core import StoreCore
>>> apps(StoreCore("/nonexistent/store"))
[]
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from siglink._files import write_atomic
from siglink._json import JSONTextError, loads
from siglink._layout import user_store
from siglink.errors import SiglinkError, StoreError
from siglink.store._core import StoreCore
from siglink.store._records import RegisteredApp

__all__ = ["Forgotten", "apps", "forget_app", "own_registry", "register_app", "registrations",
           "users"]


def __dir__() -> list[str]:
    return list(__all__)


def register_app(core: StoreCore, app_id: str, *, manifest_path: str,
                 links: Mapping[str, str | None], refused: str | None = None) -> None:
    """Record what application ``app_id`` links now (``{library: version}``), or, with
    ``refused`` (why its link was refused), the libraries it needs (version ``None``).

    Does not advance the generation: a registration changes no application's link.
    A store that does not exist yet is not created for this when it was given by path (a
    mistyped ``--store``): :class:`StoreError` then, unless there is nothing to record (no
    library linked or needed).
    """
    normalized = {str(canonicalize_name(k)): v for k, v in links.items()}
    if core.explicit and not core.exists:
        if not normalized and refused is None:
            return
        raise StoreError(f"no store at {core.root}: {app_id} is not registered "
                         "(check --store or $SIGLINK_STORE)")
    index = core.reader()
    if index is not None and not _can_write(core):
        if not any(a.app_id == app_id for a in _read_registry(own_registry(core), core)) and (
                _elsewhere(core, app_id, index_too=True)):
            return  # another user's application, relinked here: theirs to record
        _register_in_own_file(core, app_id, manifest_path, normalized, refused)
        return
    if index is not None and index.app(app_id) == (manifest_path, normalized, refused):
        return  # unchanged: written nothing (a refused removal leaves the store as it was)
    if index is not None and index.app(app_id) is None and _elsewhere(core, app_id):
        return  # another user's application, relinked here: theirs to record
    with core.locked():
        index = core.writer()
        with index.transaction():
            index.register_app(app_id, manifest_path, normalized, refused)


@dataclass(frozen=True)
class Forgotten:
    """What ``forget`` did: the registries it removed the application from (``index`` for
    the store's own, else a file), and those still holding it that this user may not change
    (``(file or "index", its owner's name)``)."""

    removed: tuple[str, ...]
    kept: tuple[tuple[str, str], ...]


def forget_app(core: StoreCore, app_id: str) -> Forgotten:
    """Remove application ``app_id``'s registration (``siglink forget``) from every registry
    this user may change: the index when it may write the store, and its own registry file.
    Does not advance the generation: no link changes."""
    index = core.reader()
    if index is None:
        return Forgotten((), ())
    removed: list[str] = []
    kept: list[tuple[str, str]] = []
    writable = _can_write(core)
    if index.app(app_id) is not None:
        if writable:
            with core.locked():
                writer = core.writer()
                with writer.transaction():
                    writer.unregister_app(app_id)
            removed.append("index")
        else:
            kept.append(("index", _owner_name(core.root)))
    own = own_registry(core)
    for path in _registries(core):
        entries = _read_registry(path, core)
        if not any(a.app_id == app_id for a in entries):
            continue
        if path != own:
            kept.append((str(path), _owner_name(path)))
            continue
        _write_registry(core, path, [a for a in entries if a.app_id != app_id], app_id,
                        "forget")
        removed.append(str(path))
    return Forgotten(tuple(removed), tuple(kept))


def registrations(core: StoreCore) -> list[tuple[RegisteredApp, str]]:
    """Every registration, from every registry this user can read, with where it is
    (``index``, or the registry file): an application two users registered appears twice,
    each with what it links for that user. Applications whose manifest is gone are left out."""
    index = core.reader()
    if index is None:
        return []
    found = [(RegisteredApp(*row), "index") for row in index.apps()]
    for registry in _registries(core):
        found += [(app, str(registry)) for app in _read_registry(registry, core)]
    return [(a, where) for a, where in found if not _gone(a.manifest_path)]


def apps(core: StoreCore) -> list[RegisteredApp]:
    """Applications registered by the linker, with what each links now.

    An application whose manifest file no longer exists (it was deleted) is left out, and
    forgotten when the store can be written.
    """
    index = core.reader()
    if index is None:
        return []
    found = [RegisteredApp(*row) for row in index.apps()]
    known = {a.app_id for a in found}
    for registry in _registries(core):
        for app in _read_registry(registry, core):
            if app.app_id not in known:
                found.append(app)
                known.add(app.app_id)
    gone = [a.app_id for a in found if _gone(a.manifest_path)]
    if gone and _can_write(core):
        try:
            with core.locked():
                writer = core.writer()
                with writer.transaction():
                    for app_id in gone:
                        writer.unregister_app(app_id)
        except (OSError, SiglinkError):
            pass  # a read-only store: left out, not forgotten
    return [a for a in found if a.app_id not in gone]


def users(core: StoreCore, name: str,
          version: str | None = None) -> list[tuple[RegisteredApp, str | None]]:
    """Registered applications linking ``name`` (``==version``), with the version linked;
    without ``version``, also those that need ``name`` but link no version of it now
    (``None``: see :attr:`RegisteredApp.refused`)."""
    index = core.reader()
    if index is None:
        return []
    name = canonicalize_name(name)
    out = []
    for app, _ in registrations(core):  # every user's registration counts, not one per app
        if name not in app.links:
            continue
        linked = app.links[name]
        if (version is None or linked == version) and (app, linked) not in out:
            out.append((app, linked))
    return sorted(out, key=lambda pair: pair[0].app_id)


def _gone(manifest_path: str) -> bool:
    """True when the manifest is known not to exist (one this user may not see is kept)."""
    try:
        os.stat(manifest_path)
    except (FileNotFoundError, NotADirectoryError):
        return True
    except OSError:
        return False
    return False


def _elsewhere(core: StoreCore, app_id: str, *, index_too: bool = False) -> bool:
    """True when another user's registry (or, with ``index_too``, the index) holds
    ``app_id``."""
    if index_too:
        index = core.reader()
        if index is not None and index.app(app_id) is not None:
            return True
    own = own_registry(core)
    return any(any(a.app_id == app_id for a in _read_registry(path, core))
               for path in _registries(core) if path != own)


def _owner_name(path: str | os.PathLike[str]) -> str:
    """The name of the user owning ``path`` (its uid when unknown)."""
    import pwd

    try:
        uid = os.stat(path).st_uid
    except OSError:
        return "another user"
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _can_write(core: StoreCore) -> bool:
    """True when this user may change the store (its owner, or root)."""
    return os.access(core.root, os.W_OK) and (
        not os.path.exists(core.layout.lock) or os.access(core.layout.lock, os.W_OK))


def _registry_name(core: StoreCore) -> str:
    return hashlib.sha256(os.fsencode(core.root)).hexdigest()[:24] + ".json"


def own_registry(core: StoreCore) -> Path:
    """This user's registry file for ``core``'s store."""
    return Path(user_store(), "registrations", _registry_name(core))


def _registries(core: StoreCore) -> list[Path]:
    """Every registry file for this store that may exist: this user's, and each user's in
    their default data directory (read if readable)."""
    import pwd

    found = [own_registry(core)]
    name = _registry_name(core)
    try:
        homes = {entry.pw_dir for entry in pwd.getpwall() if entry.pw_dir}
    except OSError:
        homes = set()
    for home in sorted(homes):
        path = Path(home, ".local", "share", "siglink", "registrations", name)
        if path not in found:
            found.append(path)
    return found


def _read_registry(path: Path, core: StoreCore) -> list[RegisteredApp]:
    try:
        with open(path, "rb") as f:
            data = loads(f.read(1 << 22))
    except (OSError, JSONTextError):
        return []
    if not isinstance(data, dict) or data.get("store") != os.fsdecode(core.root):
        return []
    entries = data.get("apps")
    out = []
    for app_id, entry in (entries.items() if isinstance(entries, dict) else ()):
        if not isinstance(entry, dict):
            continue
        links = entry.get("links")
        manifest_path = entry.get("manifest_path")
        refused = entry.get("refused")
        if not isinstance(manifest_path, str) or not isinstance(links, dict):
            continue
        out.append(RegisteredApp(
            str(app_id), manifest_path,
            {str(k): (v if isinstance(v, str) else None) for k, v in links.items()},
            refused if isinstance(refused, str) else None))
    return out


def _register_in_own_file(core: StoreCore, app_id: str, manifest_path: str,
                          links: Mapping[str, str | None], refused: str | None) -> None:
    path = own_registry(core)
    apps_now = {a.app_id: a for a in _read_registry(path, core)
                if os.path.exists(a.manifest_path)}
    entry = RegisteredApp(app_id, manifest_path, dict(links), refused)
    if apps_now.get(app_id) == entry:
        return
    apps_now[app_id] = entry
    _write_registry(core, path, list(apps_now.values()), app_id, "record")


def _write_registry(core: StoreCore, path: Path, entries: list[RegisteredApp], app_id: str,
                    doing: str) -> None:
    """Write this user's registry file ``path`` with ``entries``."""
    data = {"store": os.fsdecode(core.root), "apps": {
        a.app_id: {"manifest_path": a.manifest_path, "links": a.links, "refused": a.refused}
        for a in sorted(entries, key=lambda a: a.app_id)}}
    try:
        for folder in (path.parent.parent, path.parent):
            if not folder.is_dir():
                folder.mkdir(parents=True, exist_ok=True)
                os.chmod(folder, 0o755)
        write_atomic(path, (json.dumps(data, indent=1) + "\n").encode(), mode=0o644)
    except OSError as e:
        raise StoreError(f"{path}: cannot {doing} {app_id} ({e.strerror or e})") from e
