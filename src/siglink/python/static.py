"""The static reader's building blocks, for readers of Python source outside this package
(pluggy hookspecs and hookimpls): annotations rendered with
every name qualified, signatures
and exports built from griffe's model, a module's file as it sits in a wheel.

>>> render("typing.Optional[int]", AliasTable({}))
'typing.Optional[int]'
"""

from __future__ import annotations

from siglink.python._annotations import LOOKUP_ERRORS, AliasTable, render
from siglink.python._builder import Builder, module_file

__all__ = ["LOOKUP_ERRORS", "AliasTable", "Builder", "module_file", "render"]


def __dir__() -> list[str]:
    return list(__all__)
