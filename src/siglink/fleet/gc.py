"""``siglink gc``: remove the versions nothing needs.

A version is kept when a registered application links it (as registered, or as it would link
now), when it is the newest of its release line (``major.minor``) among the stored versions of
its library, or when a running process has a file under its directory open or mapped
(``/proc/PID/maps`` and ``/proc/PID/fd``, of the processes this user may read) or runs from a
link plan that names it (``$SIGLINK_PLAN`` in ``/proc/PID/environ``, or a plan file on its
command line). Everything else is removed through :meth:`siglink.store.Store.remove`, one
version at a time.

>>> Verdict("textkit", "1.0.0", "").removable, Verdict("textkit", "1.0.1", "linked").removable
(True, False)
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.version import InvalidVersion, Version

if TYPE_CHECKING:
    from siglink.store import Store, StoredVersion

__all__ = ["Verdict", "in_use", "sweep"]


def __dir__() -> list[str]:
    return list(__all__)


@dataclass(frozen=True)
class Verdict:
    """One stored version: kept (``why``) or removable (``why`` is empty)."""

    name: str
    version: str
    why: str

    @property
    def removable(self) -> bool:
        return not self.why


def _line(version: str) -> tuple[int, ...] | None:
    try:
        release = Version(version).release
    except InvalidVersion:
        return None
    return (*release, 0)[:2]


def _plan_dirs(plan: str, cache: dict[str, set[str]]) -> set[str]:
    """The linked directories a plan file names."""
    if plan not in cache:
        found: set[str] = set()
        from siglink._foreign import ForeignFileError, read_foreign
        from siglink._json import loads

        try:  # named by any user's process: no FIFO, device or link of theirs is opened
            data = loads(read_foreign(plan, 4 * 1024 * 1024)[0])
            for link in (data.get("links") or {}).values():
                if isinstance(link, dict) and isinstance(link.get("path"), str):
                    found.add(link["path"])
        except (OSError, ForeignFileError, ValueError, AttributeError):
            pass
        cache[plan] = found
    return cache[plan]


def in_use(directories: Iterable[Path], proc: Path = Path("/proc")) -> dict[str, int]:
    """``{directory: pid}`` for each of ``directories`` a running process uses (see the module
    docstring); processes that cannot be read are passed over."""
    wanted = {str(d): str(d) + os.sep for d in directories}
    found: dict[str, int] = {}
    plans: dict[str, set[str]] = {}
    me = os.getpid()
    try:
        pids = [int(e.name) for e in os.scandir(proc) if e.name.isdigit()]
    except OSError:
        return found
    for pid in pids:
        if pid == me:
            continue
        base = proc / str(pid)
        paths: set[str] = set()
        try:
            with open(base / "maps", encoding="utf-8", errors="replace") as f:
                for line in f:
                    parts = line.split(None, 5)
                    if len(parts) == 6 and parts[5].startswith("/"):
                        paths.add(parts[5].rstrip("\n"))
        except OSError:
            pass
        try:
            for fd in os.scandir(base / "fd"):
                try:
                    paths.add(os.readlink(fd.path))
                except OSError:
                    continue
        except OSError:
            pass
        try:
            environ = (base / "environ").read_bytes().split(b"\0")
            cmdline = (base / "cmdline").read_bytes().split(b"\0")
        except OSError:
            environ, cmdline = [], []
        for item in environ:
            if item.startswith(b"SIGLINK_PLAN="):
                paths |= _plan_dirs(os.fsdecode(item.partition(b"=")[2]), plans)
        for arg in cmdline:
            text = os.fsdecode(arg)
            if text.endswith(".json") and f"{os.sep}plans{os.sep}" in text:
                paths |= _plan_dirs(text, plans)
        for directory, prefix in wanted.items():
            if directory not in found and any(
                    p == directory or p.startswith(prefix) for p in paths):
                found[directory] = pid
    return found


def sweep(store: Store, linked: Iterable[tuple[str, str]]) -> list[Verdict]:
    """Every stored version with why it is kept, or that it is removable; ``linked``: the
    ``(name, version)`` the registered applications link (as registered and as fresh links
    say)."""
    kept_links = set(linked)
    versions: list[StoredVersion] = [
        v for name in store.names() for v in store.versions(name) if v.source == "store"]
    newest: dict[tuple[str, tuple[int, ...] | None], str] = {}
    for v in versions:  # newest first within each name
        newest.setdefault((v.name, _line(v.version)), v.version)
    busy = in_use(v.path for v in versions)
    out = []
    for v in versions:
        if (v.name, v.version) in kept_links:
            why = "linked by a registered application"
        elif newest[(v.name, _line(v.version))] == v.version:
            line = _line(v.version)
            why = ("the newest of its release line "
                   + (".".join(map(str, line)) if line is not None else v.version))
        elif str(v.path) in busy:
            why = f"in use by process {busy[str(v.path)]}"
        else:
            why = ""
        out.append(Verdict(v.name, v.version, why))
    return out
