"""Whether a property takes assignment and deletion (``Export.setter``/``Export.deleter``), as
extraction records it, against what Python does when the test's own module is imported and
each member assigned and deleted (the runtime is the oracle)."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from siglink.contracts.manifest import ExportKind
from siglink.python.exports import extract_tree

SOURCE = '''
import abc
import functools


def _get(self):
    return 1


def _set(self, value=None):
    pass


class Plain:
    def __init__(self):
        self.value = 0
        self.held = property(_get)  # an instance attribute holding a property object

    @property
    def read_only(self) -> int:
        return 1

    @property
    def settable(self) -> int:
        return 1

    @settable.setter
    def settable(self, value: int) -> None:
        pass

    @property
    def deletable(self) -> int:
        return 1

    @deletable.deleter
    def deletable(self) -> None:
        pass

    @property
    def both(self) -> int:
        return 1

    @both.setter
    def both(self, value: int) -> None:
        pass

    @both.deleter
    def both(self) -> None:
        pass

    @functools.cached_property
    def cached(self) -> int:
        return 1

    by_call = property(_get, _set)
    by_call_read_only = property(_get)
    by_keyword = property(fget=_get, fdel=_set)
    by_call_none = property(_get, None, _set)


class Derived(Plain):
    """Inherits every property as it is."""


class Hooked:
    """Decides assignment itself: a property without a setter may take it after all."""

    def __setattr__(self, name, value):
        object.__setattr__(self, "_" + name, value)

    @property
    def read_only(self) -> int:
        return 1
'''

EXPECTED = {
    "Plain.read_only": (False, False),
    "Plain.settable": (True, False),
    "Plain.deletable": (False, True),
    "Plain.both": (True, True),
    "Plain.cached": (True, None),  # deletion works only once computed
    "Plain.by_call": (True, False),
    "Plain.by_call_read_only": (False, False),
    "Plain.by_keyword": (False, True),
    "Plain.by_call_none": (False, True),
    "Derived.settable": (True, False),
    "Derived.read_only": (False, False),
    "Hooked.read_only": (None, False),
}


@pytest.fixture
def library(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "lib"
    (root / "props").mkdir(parents=True)
    (root / "props" / "__init__.py").write_text(textwrap.dedent(SOURCE))
    yield root
    sys.modules.pop("props", None)


def _runtime(root: Path, cls: str, name: str) -> tuple[bool, bool]:
    """Does assigning, then deleting, ``name`` on a fresh instance work?"""
    sys.path.insert(0, str(root))
    try:
        module = importlib.import_module("props")
    finally:
        sys.path.remove(str(root))
    kind: type = getattr(module, cls)
    try:
        setattr(kind(), name, 2)
    except AttributeError:
        assigned = False
    else:
        assigned = True
    try:
        delattr(kind(), name)
    except AttributeError:
        deleted = False
    else:
        deleted = True
    return assigned, deleted


def test_setters_and_deleters_as_python_runs_them(library: Path) -> None:
    manifest = extract_tree(library, ["props"], name="props", version="1.0")
    recorded = {}
    for cls in ("Plain", "Derived", "Hooked"):
        for name, member in manifest.exports[f"props.{cls}"].members.items():
            if member.kind is ExportKind.PROPERTY:
                recorded[f"{cls}.{name}"] = (member.setter, member.deleter)
    assert {k: v for k, v in recorded.items() if k in EXPECTED} == EXPECTED
    for name in ("value", "held"):
        assert manifest.exports["props.Plain"].members[name].kind is ExportKind.ATTRIBUTE
    for path, (setter, deleter) in recorded.items():
        runs = _runtime(library, *path.split("."))
        for what, said, ran in (("setter", setter, runs[0]), ("deleter", deleter, runs[1])):
            assert said is None or said is ran, f"{path}: {what} recorded {said}, runs {ran}"
