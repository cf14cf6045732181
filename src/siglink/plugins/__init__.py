"""Plugins: typed extension points as versioned contracts (docs/design-notes.md, "Plugins").

A host declares extension points (:mod:`.spec`); plugins say what they implement
(:mod:`.records`); :func:`plugins` finds them without importing them (:mod:`.discovery`),
checks each implementation against the host's current spec (:mod:`.checking`), imports it on
first use (:mod:`.loading`) and calls it (:mod:`.dispatch`). :mod:`.pluggy_check` applies the
same checker to pluggy hookimpls; :mod:`.report` answers ``siglink plugins HOST``.

>>> import siglink
>>> callable(siglink.plugins), siglink.plugins.__name__
(True, 'siglink.plugins')
"""

from __future__ import annotations

import sys
import types

TYPE_CHECKING = False

__all__ = ["extension_point", "implements", "plugins"]

_LAZY = {
    "extension_point": "siglink.plugins.spec",
    "implements": "siglink.plugins.spec",
    "plugins": "siglink.plugins.host",
}

if TYPE_CHECKING:
    from typing import Any

    from siglink.plugins.host import plugins
    from siglink.plugins.spec import extension_point, implements


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'siglink.plugins' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return list(__all__)


class _Package(types.ModuleType):
    """``siglink.plugins`` is this package and, called, :func:`siglink.plugins.host.plugins`."""

    def __call__(self, spec: object, /, **options: Any) -> Any:
        from siglink.plugins.host import plugins

        return plugins(spec, **options)


sys.modules[__name__].__class__ = _Package
