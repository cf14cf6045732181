"""Importing a selected plugin on first use; every failure becomes a report, never a crash.

A plugin's import runs the plugin's own code, which may raise anything: that is caught here
(and only here) and kept as the plugin's failure, so the host runs on. A module that another
plugin (or the host) already provides under the same name is refused: importing it would
silently hand this plugin the other one's code.

>>> str(LoadFailure(Fault.IMPORT_ERROR, "importing x raised ValueError: no", "x/__init__.py:3"))
'x/__init__.py:3: importing x raised ValueError: no'
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from dataclasses import dataclass
from typing import Any

from siglink.contracts.verdict import Verdict
from siglink.plugins.records import Fault, ImplRecord, PluginRecord

__all__ = ["LoadFailure", "load"]


def __dir__() -> list[str]:
    return list(__all__)


@dataclass(frozen=True, slots=True)
class LoadFailure:
    """Why an implementation could not be imported: ``where`` is the plugin's line that raised
    (``shout/__init__.py:3``) when known."""

    fault: Fault
    message: str
    where: str | None = None
    verdict: Verdict | None = None  # an implementation checked when imported (no manifest)

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


def _raised_at(error: BaseException, root: str | None) -> str | None:
    frames = traceback.extract_tb(error.__traceback__)
    for frame in reversed(frames):
        if root is None or os.path.abspath(frame.filename).startswith(root + os.sep):
            name = frame.filename if root is None else os.path.relpath(frame.filename, root)
            return f"{name}:{frame.lineno}"
    if isinstance(error, SyntaxError) and error.filename:
        name = error.filename if root is None else os.path.relpath(error.filename, root)
        return f"{name}:{error.lineno}"
    return None


def _forget(root: str, module_name: str) -> None:
    """Undo a failed import of a plugin from ``root``: its directory off ``sys.path``, the
    modules of its package that did import out of ``sys.modules``."""
    sys.path[:] = [p for p in sys.path if p != root]
    top = module_name.split(".", maxsplit=1)[0]
    for name in [n for n in sys.modules if n == top or n.startswith(f"{top}.")]:
        origin = getattr(sys.modules[name], "__file__", None) or ""
        if os.path.abspath(origin).startswith(root + os.sep):
            del sys.modules[name]
    importlib.invalidate_caches()


def load(record: PluginRecord, impl: ImplRecord) -> Any:
    """The implementing object, imported now; a :class:`LoadFailure` when it cannot be."""
    module_name, _, qualname = impl.target.partition(":")
    root = os.path.abspath(record.path) if record.path is not None else None
    if root is not None:
        top = module_name.split(".")[0]
        loaded = sys.modules.get(top)
        origin = getattr(loaded, "__file__", None) if loaded is not None else None
        if loaded is not None and not (origin and os.path.abspath(origin).startswith(
                root + os.sep)):
            return LoadFailure(Fault.DUPLICATE, (
                f"module {top} is already imported from {origin or 'elsewhere'}; "
                f"{record.label} provides another module of that name"))
    added = None
    if root is not None and root not in sys.path:
        sys.path.append(root)
        added = root
    try:
        obj: Any = importlib.import_module(module_name)
    except (Exception, SystemExit) as e:  # the plugin's own code: reported, the host runs on
        if added is not None:  # leave no trace: another version may be tried next
            _forget(added, module_name)
        return LoadFailure(Fault.IMPORT_ERROR,
                           f"importing {module_name} raised {type(e).__name__}: {e}",
                           _raised_at(e, root))
    origin = getattr(obj, "__file__", None)
    if root is not None and not (origin and os.path.abspath(origin).startswith(root + os.sep)):
        # An earlier sys.path entry (the standard library, an installed distribution)
        # provides a module of that name: it is not this plugin's code.
        return LoadFailure(Fault.DUPLICATE, (
            f"module {module_name} resolves to {origin or 'a built-in module'}, not to "
            f"{record.label}'s own"))
    for part in qualname.split(".") if qualname else ():
        try:
            obj = getattr(obj, part)
        except AttributeError:
            return LoadFailure(Fault.MISSING_OBJECT,
                               f"{impl.target}: {module_name} has no {qualname}")
    return obj
