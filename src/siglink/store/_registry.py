"""Registered applications: what each links now, so that a change to the store can say whom
it moves and a removal can refuse a version in use.

The store's owner registers in the index. A user who cannot write the store (a shared system
store owned by root) registers in a file of their own, at a place every other user can derive
from the password database alone: ``HOME/.local/share/siglink/registrations/<digest of the
store's path>.json``, ``HOME`` the user's home directory as ``/etc/passwd`` says, whatever
``$XDG_DATA_HOME`` or ``$HOME`` are (mode 0644 in directories of mode 0755, so that the
store's owner can read it). Only a user without a home directory of their own registers in
``$XDG_DATA_HOME/siglink/registrations/`` instead (with a warning: nobody else sees it).
``who-uses``, ``remove``, ``gc`` and ``apps`` consult the index and every such file they can
read: ``remove`` refuses, and ``gc`` keeps, a version any of them links.

Another user's registry file is trusted only when it is a regular file owned by the user whose
home it is in, reached through no symbolic link that user (or anyone but root and the reader)
owns; a registration counts only while its manifest is a regular file of a sane size
(:mod:`siglink._foreign`): a FIFO, a device or a huge file is skipped with one warning line
naming the registration and why, never opened. A manifest behind another user's link is never
read (a relink skips it with the warning) but its registration still counts for ``who-uses``,
``remove`` and ``gc``, which need only the registry's record. A registry entry whose fields
are not sane (a manifest path that is not absolute or holds a control character, a link that
is not a project name and a version) is skipped with one warning line, and a registry holds
at most :data:`MAX_ENTRIES` entries (the rest are skipped, with a warning).

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

import contextlib
import hashlib
import json
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from siglink._files import write_atomic
from siglink._foreign import MANIFEST_LIMIT, ForeignFileError, foreign_problem, read_foreign
from siglink._json import JSONTextError, loads
from siglink._layout import user_store
from siglink._text import inert
from siglink.errors import SiglinkError, StoreError
from siglink.store._core import StoreCore
from siglink.store._records import RegisteredApp

__all__ = ["Forgotten", "apps", "forget_app", "own_registry", "register_app", "registrations",
           "users"]


MAX_ENTRIES = 1000
"""The most registrations read from one registry file (another user could write millions)."""

_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7f, 0xa0))}


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
    mine = set(_own_registries(core))
    for path, owners in _registries(core):
        entries = _read_registry(path, core, owners)
        if not any(a.app_id == app_id for a in entries):
            continue
        if path not in mine:
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
    for registry, owners in _registries(core):
        found += [(app, str(registry)) for app in _read_registry(registry, core, owners)]
    return [(a, where) for a, where in found if _usable(a, where, read=False) is True]


def apps(core: StoreCore) -> list[RegisteredApp]:
    """Applications registered by the linker, with what each links now.

    An application whose manifest file no longer exists (it was deleted) is left out, and
    forgotten when the store can be written.
    """
    index = core.reader()
    if index is None:
        return []
    found = [(RegisteredApp(*row), "index") for row in index.apps()]
    known = {a.app_id for a, _ in found}
    for registry, owners in _registries(core):
        for app in _read_registry(registry, core, owners):
            if app.app_id not in known:
                found.append((app, str(registry)))
                known.add(app.app_id)
    usable = {a.app_id: _usable(a, where, read=True) for a, where in found}
    gone = [app_id for app_id, ok in usable.items() if ok is None]
    if gone and _can_write(core):
        try:
            with core.locked():
                writer = core.writer()
                with writer.transaction():
                    for app_id in gone:
                        writer.unregister_app(app_id)
        except (OSError, SiglinkError):
            pass  # a read-only store: left out, not forgotten
    return [a for a, _ in found if usable[a.app_id]]


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


_WARNED: set[str] = set()


def _warn(message: str) -> None:
    """``siglink: warning: MESSAGE`` on stderr, once per process."""
    if message in _WARNED:
        return
    _WARNED.add(message)
    with contextlib.suppress(OSError, ValueError):  # another user's text: shown inert
        sys.stderr.write(f"siglink: warning: {inert(message)}\n")
        sys.stderr.flush()


def _usable(app: RegisteredApp, where: str, *, read: bool) -> bool | None:
    """Whether ``app``'s registration counts: None when its manifest is known not to exist
    (left out silently); False, with a warning naming it, when its manifest or the
    ``pyproject.toml`` beside it is not a regular file of a sane size
    (:func:`siglink._foreign.foreign_problem`: a FIFO, a device, a huge file), or, when the
    caller will ``read`` them (a relink), lies behind a symbolic link another user owns; else
    True. Counting (``who-uses``, ``remove``, ``gc``) needs only the registry's own record,
    so a manifest behind its user's own link, or one this user may not see, still counts,
    unread."""
    for path, what in ((app.manifest_path, "manifest"),
                       (os.path.join(os.path.dirname(app.manifest_path), "pyproject.toml"),
                        "pyproject.toml")):
        try:
            problem = foreign_problem(path, MANIFEST_LIMIT)
        except (FileNotFoundError, NotADirectoryError):
            if what == "manifest":
                return None
            continue
        except ForeignFileError as e:
            if e.planted and not read:
                continue  # counted, never followed
            problem = e.reason
        except OSError:
            continue  # not searchable by this user: kept, not known to be gone
        if problem is not None:
            registry = "the index" if where == "index" else where
            _warn(f"skipped the registration of {app.application} in {registry}: "
                  f"its {what} {path} {problem}")
            return False
    return True


def _elsewhere(core: StoreCore, app_id: str, *, index_too: bool = False) -> bool:
    """True when another user's registry (or, with ``index_too``, the index) holds
    ``app_id``."""
    if index_too:
        index = core.reader()
        if index is not None and index.app(app_id) is not None:
            return True
    mine = set(_own_registries(core))
    return any(any(a.app_id == app_id for a in _read_registry(path, core, owners))
               for path, owners in _registries(core) if path not in mine)


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
    """This user's registry file for ``core``'s store: under the home directory the password
    database gives (owned by this user), else under ``$XDG_DATA_HOME`` (see the module doc)."""
    home = _own_home()
    if home is None:
        return Path(user_store(), "registrations", _registry_name(core))
    return _home_registry(home, _registry_name(core))


def _home_registry(home: str, name: str) -> Path:
    return Path(home, ".local", "share", "siglink", "registrations", name)


def _own_home() -> str | None:
    """This user's home directory from the password database, when it exists and is this
    user's own; else None."""
    import pwd

    uid = os.geteuid()
    try:
        home = pwd.getpwuid(uid).pw_dir
    except KeyError:
        return None
    if not home or not os.path.isabs(home):
        return None
    try:
        owner = os.stat(home).st_uid
    except OSError:
        return None
    return home if owner == uid else None


def _own_registries(core: StoreCore) -> list[Path]:
    """This user's registry files: the one written, and one written under
    ``$XDG_DATA_HOME`` before registrations moved to the home directory."""
    own = own_registry(core)
    legacy = Path(user_store(), "registrations", _registry_name(core))
    return [own] if legacy == own else [own, legacy]


def _registries(core: StoreCore) -> list[tuple[Path, frozenset[int]]]:
    """Every registry file for this store that may exist, with the users who may own it:
    this user's own, and each user's in the home directory the password database gives."""
    import pwd

    me = frozenset({os.geteuid()})
    found = [(path, me) for path in _own_registries(core)]
    seen = {path for path, _ in found}
    homes: dict[str, set[int]] = {}
    try:
        for entry in pwd.getpwall():
            if entry.pw_dir and os.path.isabs(entry.pw_dir):
                homes.setdefault(entry.pw_dir, set()).add(entry.pw_uid)
    except OSError:
        pass
    name = _registry_name(core)
    for home, uids in sorted(homes.items()):
        path = _home_registry(home, name)
        if path not in seen:
            seen.add(path)
            found.append((path, frozenset(uids)))
    return found


def _read_registry(path: Path, core: StoreCore,
                   owners: frozenset[int] | None = None) -> list[RegisteredApp]:
    """The registrations in the registry file ``path``, trusted only when the file belongs to
    one of ``owners`` (this user by default) and is read safely (:mod:`siglink._foreign`)."""
    if owners is None:
        owners = frozenset({os.geteuid()})
    try:
        text, st = read_foreign(str(path), 1 << 22)
    except ForeignFileError as e:
        _warn(f"skipped the registry {path}: it {e.reason}")
        return []
    except OSError:
        return []  # none, or not readable by this user
    if st.st_uid not in owners:
        _warn(f"skipped the registry {path}: it is owned by uid {st.st_uid}, not by the user "
              "whose home it is in")
        return []
    try:
        data = loads(text)
    except JSONTextError:
        return []
    if not isinstance(data, dict) or data.get("store") != os.fsdecode(core.root):
        return []
    entries = data.get("apps")
    out = []
    if not isinstance(entries, dict):
        return []
    if len(entries) > MAX_ENTRIES:
        _warn(f"skipped the registry {path} past its first {MAX_ENTRIES} entries "
              f"(it holds {len(entries)})")
    for app_id, entry in list(entries.items())[:MAX_ENTRIES]:
        if not isinstance(entry, dict):
            continue
        links = entry.get("links")
        manifest_path = entry.get("manifest_path")
        refused = entry.get("refused")
        if not isinstance(manifest_path, str) or not isinstance(links, dict):
            continue
        problem = _insane(manifest_path, links)
        if problem is not None:
            _warn(f"skipped the registration {app_id} in {path}: {problem}")
            continue
        out.append(RegisteredApp(
            str(app_id), manifest_path,
            {str(k): (v if isinstance(v, str) else None) for k, v in links.items()},
            refused if isinstance(refused, str) else None))
    return out


_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*", re.ASCII)  # canonical, as links are keyed


def _has_control(text: str) -> bool:
    return any(ord(c) in _CONTROL for c in text)


def _insane(manifest_path: str, links: Mapping[object, object]) -> str | None:
    """Why a registry entry's fields are not sane, or None."""
    if _has_control(manifest_path) or not os.path.isabs(manifest_path):
        return "its manifest path is not an absolute path without control characters"
    for name, version in links.items():
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            return "it links a library name that is not a project name"
        if version is None:
            continue
        try:
            Version(version if isinstance(version, str) else "!")
        except InvalidVersion:
            return f"it links {name} at a version that is not a valid version"
    return None


def _register_in_own_file(core: StoreCore, app_id: str, manifest_path: str,
                          links: Mapping[str, str | None], refused: str | None) -> None:
    path, *legacy = _own_registries(core)
    apps_now = {a.app_id: a for a in _read_registry(path, core)
                if os.path.exists(a.manifest_path)}
    entry = RegisteredApp(app_id, manifest_path, dict(links), refused)
    if apps_now.get(app_id) != entry:
        apps_now[app_id] = entry
        _write_registry(core, path, list(apps_now.values()), app_id, "record")
    for old in legacy:  # moved out of the registry under $XDG_DATA_HOME
        entries = _read_registry(old, core)
        if any(a.app_id == app_id for a in entries):
            with contextlib.suppress(StoreError):
                _write_registry(core, old, [a for a in entries if a.app_id != app_id], app_id,
                                "move")


def _write_registry(core: StoreCore, path: Path, entries: list[RegisteredApp], app_id: str,
                    doing: str) -> None:
    """Write this user's registry file ``path`` with ``entries``."""
    data = {"store": os.fsdecode(core.root), "apps": {
        a.app_id: {"manifest_path": a.manifest_path, "links": a.links, "refused": a.refused}
        for a in sorted(entries, key=lambda a: a.app_id)}}
    try:
        _make_dirs(path.parent)
        write_atomic(path, (json.dumps(data, indent=1) + "\n").encode(), mode=0o644)
    except OSError as e:
        raise StoreError(f"{path}: cannot {doing} {app_id} ({e.strerror or e})") from e
    if _own_home() is None and doing == "record":
        _warn(f"{path}: this user has no home directory of their own, so other users (the "
              "store's owner's remove and gc) cannot find this registration")


def _make_dirs(folder: Path) -> None:
    """Make ``folder`` and its missing parents with mode 0755 whatever the umask (the store's
    owner must be able to read the registry file in it)."""
    missing = []
    while not folder.is_dir():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for each in reversed(missing):
        with contextlib.suppress(FileExistsError):
            each.mkdir(mode=0o700)
        os.chmod(each, 0o755)
