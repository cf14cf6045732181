"""Reading real packages as they run: namespace packages, names served by a module
``__getattr__``, module dunders, ``enum.auto()``, ``**kwargs`` reads, unreadable bases, and
what ``diff`` leaves out (docs/design.md §3.6)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from siglink.contracts.diff import diff_manifests
from siglink.python.exports import extract, extract_tree


def tree(tmp_path: Path, files: dict[str, str], name: str = "pkg") -> Any:
    for rel, text in files.items():
        path = tmp_path / name / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return extract_tree(tmp_path, [name], name=name, version="1")


def test_a_namespace_package_inside_a_package_is_read(tmp_path: Path) -> None:
    manifest = tree(tmp_path, {
        "__init__.py": "from .app import App\n",
        "app.py": "from .sansio.base import Base\n\nclass App(Base):\n    def run(self): ...\n",
        "sansio/base.py": "class Base:\n    def route(self, rule: str) -> None: ...\n",
    })
    assert set(manifest.exports["pkg.App"].members) == {"route", "run"}
    assert "pkg.sansio.base.Base" in manifest.exports
    assert manifest.diagnostics == ()


def test_an_unreadable_base_is_reported(tmp_path: Path) -> None:
    manifest = tree(tmp_path, {"__init__.py": "from .gone import Base\n\nclass K(Base): ...\n"})
    assert [str(d) for d in manifest.diagnostics][-1] == (
        "pkg.K: base class pkg.gone.Base could not be read; the members it provides are "
        "unverified")


def test_a_standard_library_base_reached_through_an_alias_is_not_unread(
        tmp_path: Path) -> None:
    manifest = tree(tmp_path, {
        "__init__.py": "",
        "compat.py": "from http import cookiejar as cookielib\n",
        "cookies.py": "from .compat import cookielib\n\nclass Jar(cookielib.CookieJar): ...\n",
    })
    assert "pkg.cookies.Jar" in manifest.exports
    assert not any("could not be read" in str(d) for d in manifest.diagnostics)


def test_module_getattr_names_and_dunders(tmp_path: Path) -> None:
    manifest = tree(tmp_path, {
        "__init__.py": """
            import warnings
            __version__ = "1.0"
            __author__ = "someone"
            _lazy = {"Fast": ".fast", "Slow": ".slow"}

            def __getattr__(name):
                if name == "OLD":
                    warnings.warn("OLD is deprecated", DeprecationWarning)
                    return 1
                if name in _lazy:
                    return 2
                raise AttributeError(name)
            """,
    })
    served = {p: e.deprecated for p, e in manifest.exports.items()}
    assert served == {"pkg.__version__": False, "pkg.__author__": False, "pkg.OLD": True,
                      "pkg.Fast": False, "pkg.Slow": False}


def test_an_open_module_getattr_is_a_diagnostic(tmp_path: Path) -> None:
    manifest = tree(tmp_path, {"__init__.py": """
        from . import impl

        def __getattr__(name):
            return getattr(impl, name)
        """, "impl.py": "x = 1\n"})
    assert [str(d) for d in manifest.diagnostics] == [
        "pkg/__init__.py:3: pkg.__getattr__ may serve names not read statically; uses of names "
        "it may serve are unverified"]


@pytest.mark.parametrize(("source", "values"), [
    ("from enum import Enum, auto\nclass E(Enum):\n    A = auto()\n    B = 10\n    C = auto()\n",
     {"A": "1", "B": "10", "C": "11"}),
    ("from enum import Flag, auto\nclass E(Flag):\n    R = auto()\n    W = auto()\n"
     "    X = auto()\n", {"R": "1", "W": "2", "X": "4"}),
    ("from enum import IntFlag, auto\nclass E(IntFlag):\n    R = 3\n    W = auto()\n",
     {"R": "3", "W": "4"}),
    ("from enum import StrEnum, auto\nclass E(StrEnum):\n    Foo = auto()\n", {"Foo": "'foo'"}),
    ("from enum import Enum, auto\nclass E(Enum):\n    @staticmethod\n"
     "    def _generate_next_value_(name, start, count, last_values):\n        return name\n"
     "    Q = auto()\n", {"Q": "'Q'"}),
    ("from enum import Enum, auto\nclass E(Enum):\n"
     "    def _generate_next_value_(name, start, count, last_values):\n        return count\n"
     "    Q = auto()\n", {"Q": None}),
])
def test_enum_auto_values(tmp_path: Path, source: str, values: dict[str, str | None]) -> None:
    export = tree(tmp_path, {"__init__.py": source}).exports["pkg.E"]
    assert {n: m.value for n, m in export.members.items() if m.kind.value == "attribute"} == (
        values)


def test_kwargs_keys_the_body_reads(tmp_path: Path) -> None:
    manifest = tree(tmp_path, {"__init__.py": """
        def reads(x, **kw):
            strict = kw.pop("strict", False)
            if "mode" in kw:
                return kw["mode"]
            return strict

        def forwards(x, **kw):
            return reads(x, **kw)

        def plain(x):
            return x

        class C:
            def __init__(self, **options):
                self.depth = options.get("depth", 1)
        """})
    read = {p: e.kwargs_read for p, e in manifest.exports.items()}
    assert read == {"pkg.reads": ("mode", "strict"), "pkg.forwards": ("**",),
                    "pkg.plain": None, "pkg.C": ("depth",)}


def test_diff_leaves_out_what_breaks_nobody(tmp_path: Path) -> None:
    old = tree(tmp_path / "1", {"__init__.py": """
        from typing import TypeVar, Union
        T = TypeVar("T")
        Number = Union[int, float]

        class C:
            def __eq__(self, other: object) -> bool:
                return True
            def __ne__(self, other: object) -> bool:
                return False

        def f(a: int, _cache: dict | None = None) -> int:
            return a
        """})
    new = tree(tmp_path / "2", {"__init__.py": """
        class C:
            def __eq__(self, other: object) -> bool:
                return True

        def f(a: int, _memo: list | None = None) -> int:
            return a
        """})
    diff = diff_manifests(old, new)
    assert not diff.breaking
    assert [p for p, _ in diff.removed + diff.incompatible] == []


@pytest.mark.network
def test_diff_keeps_a_real_break_of_a_patch_release(pypi: Any) -> None:
    """urllib3 2.2.2 inserted ``version_string`` before existing positional parameters of
    ``HTTPResponse``: still reported."""
    old = extract(pypi.fetch("urllib3==2.2.1"))
    new = extract(pypi.fetch("urllib3==2.2.2"))
    diff = diff_manifests(old, new)
    broken = dict(diff.incompatible)
    verdict = broken["urllib3.HTTPResponse"]
    assert verdict is not None
    assert "P4" in {p.rule for p in verdict.problems}
