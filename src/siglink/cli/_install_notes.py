"""What the store and fleet commands both say about installs and applications: applications
shown relative to the current directory, and the warnings an install prints (a version this
interpreter will not link, exports that could not be read).

>>> import os
>>> shown(os.path.join(os.getcwd(), "app.py"))
'app.py'
>>> shown("/elsewhere/app.py") if not os.getcwd().startswith("/elsewhere") else "/elsewhere/app.py"
'/elsewhere/app.py'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from siglink.store import Store

__all__ = ["install_warnings", "shown"]


def __dir__() -> list[str]:
    return list(__all__)


def shown(application: str) -> str:
    """An application for people: relative to the current directory when it is under it."""
    import os

    if not os.path.isabs(application) or os.getcwd() == os.sep:
        return application
    try:
        relative = os.path.relpath(application)
    except ValueError:
        return application
    if relative.startswith(os.pardir):
        return application
    return relative + (os.sep if application.endswith(os.sep) and relative != "." else "")


_UNREAD = ("could not be read", "may serve names not read statically",
           "could not be imported", "the import did not finish")


def unread(store: Store, results: Any) -> list[str]:
    """A warning for each re-export or base class an installed version's exports could not
    read, and each compiled module its inspection could not import (what it provides is
    unverified at link time, never absent)."""
    out = []
    for r in results:
        if r.status != "installed":
            continue
        text = store.manifest_json(r.name, r.version)
        if text is not None and not any(marker in text for marker in _UNREAD):
            continue  # parsing a large manifest costs more than the whole search
        for diagnostic in store.manifest(r.name, r.version).diagnostics:
            if any(marker in diagnostic.message for marker in _UNREAD):
                out.append(f"{r.name}=={r.version}: {diagnostic}")
    return out


def python_excluded(store: Store, results: Any) -> list[str]:
    """A warning for each version whose ``Requires-Python`` excludes this interpreter: it is
    installed (a shared store serves other interpreters too) but never linked here."""
    import platform

    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    out = []
    for r in results:
        wanted = store.get(r.name, r.version).requires_python
        if not wanted:
            continue
        try:
            excluded = not SpecifierSet(wanted).contains(platform.python_version(),
                                                         prereleases=True)
        except InvalidSpecifier:
            continue
        if excluded:
            out.append(f"{r.name}=={r.version}: Requires-Python {wanted} excludes this "
                       "interpreter: it will not be linked here")
    return out


def install_warnings(store: Store, results: Any) -> list[str]:
    """Every warning an install prints: versions this interpreter will not link, then
    exports that could not be read."""
    return [*python_excluded(store, results), *unread(store, results)]
