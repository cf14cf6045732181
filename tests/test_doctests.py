"""The examples in siglink's docstrings are true."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import siglink

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(siglink.__path__, "siglink.")
    if ".demo.units" not in info.name and not info.name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
