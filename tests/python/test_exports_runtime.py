"""Export tables say what runs (docs/design-notes.md, "Link truth"): the constructor Python
calls, the branch the running interpreter takes, the object a name is bound to, and no name
that only a type checker sees. Synthetic trees state each rule; real wheels show the case
that called for it."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Any

import pytest

from siglink.contracts.compat import check_export
from siglink.contracts.manifest import CallShape, ExportKind, Manifest
from siglink.python.exports import extract, extract_tree


def tree(tmp_path: Path, files: dict[str, str], name: str = "pkg") -> Manifest:
    for rel, text in files.items():
        path = tmp_path / name / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return extract_tree(tmp_path, [name], name=name, version="1")


def sig(manifest: Manifest, path: str) -> str | None:
    signature = manifest.exports[path].signature
    return None if signature is None else str(signature)


# -- constructors -----------------------------------------------------------------------------

def test_namedtuple_constructors(tmp_path: Path) -> None:
    manifest = tree(tmp_path, {"__init__.py": """
        import collections
        import typing

        class Url(typing.NamedTuple("Url", [("scheme", typing.Optional[str]), ("port", int)])):
            def __new__(cls, scheme=None, port=80):
                return super().__new__(cls, scheme, port)

        class Pair(typing.NamedTuple("Pair", [("left", int), ("right", str)])):
            pass

        class Point(collections.namedtuple("Point", "x, y z", defaults=(0,))):
            pass

        class Row(typing.NamedTuple):
            key: str
            size: int = 0
        """})
    assert sig(manifest, "pkg.Url") == "(scheme=..., port=...)"
    assert sig(manifest, "pkg.Pair") == "(left: int, right: str)"
    assert sig(manifest, "pkg.Point") == "(x, y, z=...)"
    assert sig(manifest, "pkg.Row") == "(key: str, size: int = ...)"
    assert {manifest.exports[p].flavor for p in ("pkg.Url", "pkg.Pair", "pkg.Point")} == {
        "namedtuple"}


def test_a_class_re_bound_by_hand_applied_decorators_stays_the_class(tmp_path: Path) -> None:
    manifest = tree(tmp_path, {"__init__.py": """
        def _add_repr(cls, ns=None):
            return cls

        def _add_eq(cls):
            return cls

        class Attribute:
            def __init__(self, name, default=None): ...

        Attribute = _add_eq(_add_repr(Attribute, ns="x"))

        class Other:
            pass

        Other = 3  # a real re-binding: no longer the class
        """})
    attribute = manifest.exports["pkg.Attribute"]
    assert (attribute.kind, sig(manifest, "pkg.Attribute")) == (
        ExportKind.CLASS, "(name, default=...)")
    assert manifest.exports["pkg.Other"].kind is ExportKind.ATTRIBUTE


def test_a_replaced_constructor_is_unverified(tmp_path: Path) -> None:
    """Jinja's ``NodeType.__new__ = staticmethod(_failing_new)`` after the class."""
    manifest = tree(tmp_path, {"__init__.py": """
        class NodeType(type):
            def __new__(mcs, name, bases, d):
                return type.__new__(mcs, name, bases, d)

        def _failing_new(*args, **kwargs):
            raise TypeError("can't create custom node types")

        NodeType.__new__ = staticmethod(_failing_new)
        """})
    assert manifest.exports["pkg.NodeType"].kind is ExportKind.CLASS
    assert sig(manifest, "pkg.NodeType") is None


@pytest.mark.network
def test_real_constructors(pypi: Any) -> None:
    urllib3 = extract(pypi.fetch("urllib3==2.2.2"))
    for path in ("urllib3.util.Url", "urllib3.util.url.Url", "urllib3.connectionpool.Url"):
        assert sig(urllib3, path) == (
            "(scheme: str | None = ..., auth: str | None = ..., host: str | None = ..., "
            "port: int | None = ..., path: str | None = ..., query: str | None = ..., "
            "fragment: str | None = ...)"), path
    attrs = extract(pypi.fetch("attrs==23.2.0"))
    attribute = attrs.exports["attr.Attribute"]
    assert (sig(attrs, "attr.Attribute") or "").startswith(
        "(name, default, validator, repr, cmp, hash, init, inherited, metadata=...")
    # the stub's typed fields are merged into the class that runs, not lost
    assert str(attribute.members["type"].type) == "type[~attr._T] | None"
    assert sig(attrs, "attrs.Attribute") == sig(attrs, "attr.Attribute")
    assert sig(attrs, "attr.VersionInfo") == (
        "(year: int, minor: int, micro: int, releaselevel: str)")


# -- the branch that runs ---------------------------------------------------------------------

def test_flags_os_name_and_main_are_decided(tmp_path: Path) -> None:
    manifest = tree(tmp_path, {"__init__.py": f"""
        import os
        import sys

        PY2 = sys.version_info[0] == 2
        WIN = sys.platform.startswith("win")

        if PY2:
            def run(code, globs=None, locs=None): ...
        else:
            def run(code, *, closure=None): ...

        if WIN or os.name == "nt":
            def home(user): ...
        elif os.name == {os.name!r}:
            def home(): ...

        if __name__ == "__main__":
            demo = 1
        """})
    assert sig(manifest, "pkg.run") == "(code, *, closure=...)"
    assert sig(manifest, "pkg.home") == "()"
    assert "pkg.demo" not in manifest.exports


def test_try_else_alternatives_are_unverified(tmp_path: Path) -> None:
    """colorama's ``win32``: which ``def`` exists depends on what the ``try`` imports."""
    manifest = tree(tmp_path, {"__init__.py": """
        try:
            from ctypes import WinDLL
        except (AttributeError, ImportError):
            SetAttr = lambda *_: None
        else:
            def SetAttr(stream_id, attrs): ...

        def stable(x): ...
        """})
    assert manifest.exports["pkg.SetAttr"].kind is ExportKind.FUNCTION
    assert sig(manifest, "pkg.SetAttr") is None
    assert sig(manifest, "pkg.stable") == "(x)"


def test_a_builtin_bound_to_a_name_is_the_builtin(tmp_path: Path) -> None:
    manifest = tree(tmp_path, {"__init__.py": """
        import builtins
        import typing as t

        exec_ = getattr(builtins, "exec")
        visible_prompt_func: t.Callable[[str], str] = input

        def input_like(): ...
        shadowed = input_like
        """})
    assert sig(manifest, "pkg.exec_") == "(source, globals=..., locals=..., /, *, closure=...)"
    prompt = manifest.exports["pkg.visible_prompt_func"]
    assert (prompt.kind, str(prompt.signature)) == (ExportKind.FUNCTION, "(prompt=..., /)")
    assert sig(manifest, "pkg.shadowed") == "()"


def test_a_decorator_from_another_distribution_makes_the_signature_unverified(
    tmp_path: Path,
) -> None:
    manifest = tree(tmp_path, {"__init__.py": """
        import functools
        import click

        @click.command("run")
        @click.option("--port")
        def run_command(port: int) -> None: ...

        @functools.lru_cache
        def cached(x: int) -> int: ...
        """})
    assert manifest.exports["pkg.run_command"].kind is ExportKind.FUNCTION
    assert sig(manifest, "pkg.run_command") is None
    assert sig(manifest, "pkg.cached") == "(x: int) -> int"


@pytest.mark.network
def test_real_branches_and_bindings(pypi: Any) -> None:
    six = extract(pypi.fetch("six==1.16.0"))
    assert sig(six, "six.exec_") == "(source, globals=..., locals=..., /, *, closure=...)"
    click = extract(pypi.fetch("click==8.1.7"))
    assert sig(click, "click.termui.visible_prompt_func") == "(prompt=..., /)"
    flask = extract(pypi.fetch("flask==3.0.3"))
    for path in ("flask.cli.run_command", "flask.cli.routes_command", "flask.cli.shell_command"):
        assert flask.exports[path].kind is ExportKind.FUNCTION and sig(flask, path) is None
    jinja2 = extract(pypi.fetch("jinja2==3.1.4"))
    assert sig(jinja2, "jinja2.nodes.NodeType") is None


# -- names only a type checker sees ---------------------------------------------------------

def test_type_checking_and_stub_only_names_are_no_exports(tmp_path: Path) -> None:
    manifest = tree(tmp_path, {
        "__init__.py": """
            from typing import TYPE_CHECKING
            from .core import Console

            if TYPE_CHECKING:
                from .core import Theme
                class HasHTML: ...

            def render(c: "Console") -> None: ...
            """,
        "core.py": "class Console: ...\nclass Theme: ...\n",
        "typed.py": "def f(): ...\n",
        "typed.pyi": "from typing import TypeVar\nT = TypeVar('T')\ndef f() -> int: ...\n",
    })
    assert {"pkg.Console", "pkg.render", "pkg.typed.f"} <= manifest.exports.keys()
    for path in ("pkg.Theme", "pkg.HasHTML", "pkg.typed.T"):
        assert path not in manifest.exports, path


@pytest.mark.network
def test_real_typing_only_names(pypi: Any) -> None:
    jinja2 = extract(pypi.fetch("jinja2==3.1.4"))
    assert "jinja2.filters.HasHTML" not in jinja2.exports  # `if t.TYPE_CHECKING:`
    assert "jinja2.filters.do_map" in jinja2.exports
    werkzeug = extract(pypi.fetch("werkzeug==3.0.3"))
    assert "werkzeug.datastructures.headers.T" not in werkzeug.exports  # the stub's only
    assert "werkzeug.datastructures.headers.Headers" in werkzeug.exports
    assert "werkzeug.testapp.run_simple" not in werkzeug.exports  # `if __name__ == ...`


# -- a class that became a Protocol (R7) ----------------------------------------------------

@pytest.mark.network
def test_attrs_instance_became_a_protocol(pypi: Any) -> None:
    old = extract(pypi.fetch("attrs==23.1.0"))
    new = extract(pypi.fetch("attrs==23.2.0"))
    assert new.exports["attr.AttrsInstance"].flavor == "protocol"  # via attr._compat
    called = check_export(old.exports["attr.AttrsInstance"], new.exports["attr.AttrsInstance"],
                          calls=[CallShape(0)], calls_complete=True)
    assert [(p.rule, p.severity.value) for p in called.problems] == [("R7", "incompatible")]
    imported = check_export(old.exports["attr.AttrsInstance"],
                            new.exports["attr.AttrsInstance"], calls=[], calls_complete=True)
    assert imported.ok


def test_a_stub_beside_a_module_getattr_keeps_its_names(tmp_path: Path) -> None:
    """A lazily loading package (PEP 562) whose stub declares what ``__getattr__`` serves:
    the names may exist at run time, so they stay exports."""
    manifest = tree(tmp_path, {
        "__init__.py": "def __getattr__(name):\n    return __import__('importlib')"
                       ".import_module('.' + name, __name__)\n",
        "__init__.pyi": "def solve(a: int) -> int: ...\n",
    })
    assert sig(manifest, "pkg.solve") == "(a: int) -> int"


def test_a_flag_set_in_an_undecided_branch_is_not_a_flag(tmp_path: Path) -> None:
    manifest = tree(tmp_path, {"__init__.py": """
        import sys

        FAST = False
        if unknown_condition():
            FAST = sys.version_info >= (3, 0)

        if FAST:
            def run(a): ...
        else:
            def run(a, b): ...
        """})
    assert sig(manifest, "pkg.run") == "(a, b)"  # both branches read; the later def wins
    assert "pkg.FAST" in manifest.exports


def test_a_module_getattr_that_serves_known_names_hides_no_other(tmp_path: Path) -> None:
    """blinker 1.8's ``base``: a ``__getattr__`` serving literal names does not make its
    ``TYPE_CHECKING``-only TypeVars run-time names."""
    manifest = tree(tmp_path, {"__init__.py": """
        import typing as t

        if t.TYPE_CHECKING:
            T = t.TypeVar("T")

        def __getattr__(name):
            if name == "OLD":
                return 1
            raise AttributeError(name)
        """})
    assert "pkg.OLD" in manifest.exports
    assert "pkg.T" not in manifest.exports
