"""Cases real releases exercise: annotation names, fallback definitions, and more."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from siglink.contracts.compat import check_export, class_graph
from siglink.contracts.manifest import CallShape, ExportKind, Manifest
from siglink.python.exports import extract, extract_tree


def tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def param_type(manifest: Manifest, path: str, param: str) -> str:
    sig = manifest.exports[path].signature
    assert sig is not None
    annotation = next(p.annotation for p in sig.params if p.name == param)
    return str(annotation)


def test_annotation_names_resolve_through_submodules_classes_and_generic_aliases(
    tmp_path: Path,
) -> None:
    root = tree(tmp_path, {
        "lib/__init__.pyi": """
            from typing import Callable, Generic, Optional, Sequence, TypeVar, Union
            from . import setters as setters
            _T = TypeVar("_T")
            _V = Callable[[_T], int]
            _VArg = Union[_V[_T], Sequence[_V[_T]]]
            _W = _V[_T] | Sequence[_V[_T]]
            class Attribute(Generic[_T]):
                type: Optional[type[_T]]
            def ib(validator: Optional[_VArg[_T]] = ..., w: _W[str] = ...,
                   on: setters.NoOp = ..., bad: nowhere.Thing = ...) -> _T: ...
        """,
        "lib/setters.pyi": "class NoOp: ...\n",
    })  # stubs only: beside an empty ``.py`` these names would not exist at run time
    manifest = extract_tree(root, ["lib"], name="lib", version="1")
    attribute = manifest.exports["lib.Attribute"]
    assert str(attribute.members["type"].type) == "type[~lib._T] | None"
    assert param_type(manifest, "lib.ib", "validator") == (
        "collections.abc.Callable[[~lib._T], int]"
        " | collections.abc.Sequence[collections.abc.Callable[[~lib._T], int]] | None")
    assert param_type(manifest, "lib.ib", "w") == (
        "collections.abc.Callable[[str], int]"
        " | collections.abc.Sequence[collections.abc.Callable[[str], int]]")
    assert param_type(manifest, "lib.ib", "on") == "lib.setters.NoOp"
    assert param_type(manifest, "lib.ib", "bad") == "unknown"


@pytest.mark.network
def test_attrs_23_to_24_accepts_default_calls(pypi: Any) -> None:
    old = extract(pypi.fetch("attrs==23.2.0"))
    new = extract(pypi.fetch("attrs==24.2.0"))
    classes = class_graph(new.exports.values())
    for path in ("attr.ib", "attrs.field"):
        verdict = check_export(old.exports[path], new.exports[path],
                               calls=[CallShape(0, ("default",))], classes=classes)
        assert verdict.ok, (path, [p.explain() for p in verdict.incompatible])
    on_setattr = param_type(old, "attr.ib", "on_setattr")
    assert "attr.setters._NoOpType" in on_setattr and "attr.Attribute.type" not in str(
        old.exports["attr.Attribute"].members["type"].type)
    assert old.exports["attr.Attribute"].kind is ExportKind.CLASS


def test_only_the_live_branch_of_version_and_platform_tests_counts(tmp_path: Path) -> None:
    root = tree(tmp_path, {
        "lib/__init__.py": """
            import sys
            if sys.version_info[:2] >= (3, 8):
                from typing import TypedDict
            else:
                class TypedDict:
                    pass
            if sys.version_info < (3, 0):
                def old() -> None: ...
            else:
                def new() -> None: ...
            if sys.platform == "no-such-os":
                ONLY_THERE = 1
            try:
                Group = __builtins__.ExceptionGroup
            except AttributeError:
                class Group(Exception):
                    pass
            class Raw(TypedDict, total=False):
                name: str
        """,
    })
    manifest = extract_tree(root, ["lib"], name="lib", version="1")
    exports = manifest.exports
    assert "lib.TypedDict" not in exports or exports["lib.TypedDict"].kind is not ExportKind.CLASS
    assert "lib.new" in exports and "lib.old" not in exports and "lib.ONLY_THERE" not in exports
    assert exports["lib.Group"].kind is ExportKind.ATTRIBUTE
    assert exports["lib.Raw"].flavor == "typeddict"


@pytest.mark.network
def test_packaging_fallback_definitions_are_not_reported(pypi: Any) -> None:
    old = extract(pypi.fetch("packaging==23.2"))
    new = extract(pypi.fetch("packaging==24.1"))
    for path in ("packaging.metadata.RawMetadata", "packaging.metadata.ExceptionGroup"):
        assert old.exports[path].kind is new.exports[path].kind, path
    assert old.exports["packaging.metadata.RawMetadata"].flavor == "typeddict"
    for name in ("TypedDict", "Literal"):
        assert (f"packaging.metadata.{name}" in old.exports) == (
            f"packaging.metadata.{name}" in new.exports)


def test_abstractproperty_and_cached_property_are_properties(tmp_path: Path) -> None:
    root = tree(tmp_path, {
        "lib/__init__.py": """
            import abc
            import functools
            import types
            from abc import abstractproperty
            class Base(abc.ABC):
                @abc.abstractproperty
                def prereleases(self) -> bool: ...
                @abstractproperty
                def other(self) -> int: ...
                @functools.cached_property
                def cached(self) -> str: ...
                @types.DynamicClassAttribute
                def dynamic(self) -> str: ...
                def method(self) -> str: ...
        """,
    })
    members = extract_tree(root, ["lib"], name="lib", version="1").exports["lib.Base"].members
    for name in ("prereleases", "other", "cached", "dynamic"):
        assert members[name].kind is ExportKind.PROPERTY, name
    assert str(members["prereleases"].type) == "bool"
    assert members["method"].kind is ExportKind.METHOD


@pytest.mark.network
def test_packaging_21_abstract_prereleases_is_a_property(pypi: Any) -> None:
    spec = extract(pypi.fetch("packaging==21.3")).exports["packaging.specifiers.BaseSpecifier"]
    assert spec.members["prereleases"].kind is ExportKind.PROPERTY


def test_type_checking_imports_through_any_typing_alias_are_not_runtime_names(
    tmp_path: Path,
) -> None:
    root = tree(tmp_path, {
        "lib/__init__.py": "",
        "lib/core.py": "class Context: ...\nclass Command: ...\nclass Other: ...\n",
        "lib/a.py": """
            import typing as t
            if t.TYPE_CHECKING:
                from .core import Context
            def use(ctx: "Context") -> None: ...
        """,
        "lib/b.py": """
            import typing
            from typing import TYPE_CHECKING
            if typing.TYPE_CHECKING:
                from .core import Command
            if TYPE_CHECKING:
                from .core import Other
        """,
    })
    exports = extract_tree(root, ["lib"], name="lib", version="1").exports
    assert "lib.a.use" in exports
    for path in ("lib.a.Context", "lib.b.Command", "lib.b.Other"):
        assert path not in exports, path
    sig = exports["lib.a.use"].signature
    assert sig is not None and str(sig) == "(ctx: lib.core.Context) -> None"


@pytest.mark.network
def test_click_type_checking_names_and_callable_attribute(pypi: Any) -> None:
    old = extract(pypi.fetch("click==7.1.2"))
    new = extract(pypi.fetch("click==8.1.7"))
    assert "click.exceptions.Context" not in new.exports
    assert "click.exceptions.UsageError" in new.exports
    verdict = check_export(old.exports["click.termui.visible_prompt_func"],
                           new.exports["click.termui.visible_prompt_func"],
                           calls=[CallShape(1)], calls_complete=True)
    assert "R6" not in [p.rule for p in verdict.problems]
    assert verdict.ok and not verdict.problems
    # ``visible_prompt_func = input`` (7.1.2: through ``raw_input = input`` under ``PY2``'s
    # else): the builtin that runs, with this interpreter's signature for it.
    for manifest in (old, new):
        export = manifest.exports["click.termui.visible_prompt_func"]
        assert export.kind is ExportKind.FUNCTION
        assert str(export.signature) == "(prompt=..., /)"


def test_computed_all_and_star_import(tmp_path: Path) -> None:
    root = tree(tmp_path, {
        "calc/__init__.py": """
            from . import ops
            from .ops import *
            __all__ = ["VERSION"] + ops.__all__
            VERSION = "1"
        """,
        "calc/ops.py": """
            __all__ = [n for n in ("add", "sub")]
            def add(a: int, b: int) -> int: ...
            def sub(a: int, b: int) -> int: ...
            def mul(a: int, b: int) -> int: ...
        """,
    })
    manifest = extract_tree(root, ["calc"], name="calc", version="1")
    assert set(manifest.exports) == {
        "calc.VERSION", "calc.add", "calc.sub", "calc.ops.add", "calc.ops.sub"}
    assert str(manifest.exports["calc.add"].signature) == "(a: int, b: int) -> int"
    assert not [d for d in manifest.diagnostics if "__all__" in d.message]


@pytest.mark.network
def test_pyyaml_cloader_inherits_the_compiled_parser(pypi: Any) -> None:
    exports = extract(pypi.fetch("pyyaml==6.0.1")).exports
    cloader = exports["yaml.CLoader"]
    assert "yaml._yaml.CParser" in cloader.bases
    for name in ("get_token", "check_node", "dispose", "get_single_data", "construct_document"):
        assert name in cloader.members, name
    assert cloader.members["get_token"].kind is ExportKind.METHOD


def test_a_class_attribute_bound_to_a_callable_factory_is_compared_as_a_method(
    pypi: Any, tmp_path: Path
) -> None:
    """MarkupSafe 2.1 binds ``capitalize = _simple_escaping_wrapper(str.capitalize)`` (the
    factory returns ``t.Callable[_P, Markup]``); 3.0 defines ``def capitalize(self)``. The
    attribute holds that callable, so the two compare as methods, not as R6."""
    old = extract(pypi.fetch("markupsafe==2.1.5"))
    new = extract(pypi.fetch("markupsafe==3.0.2"))
    held = old.exports["markupsafe.Markup"].members["capitalize"]
    assert held.kind is ExportKind.ATTRIBUTE
    assert str(held.type) == "collections.abc.Callable[~markupsafe._P, markupsafe.Markup]"
    method = new.exports["markupsafe.Markup"].members["capitalize"]
    assert check_export(held, method).ok
    assert check_export(method, held).ok
    # an unannotated factory says nothing: the attribute's type stays unknown
    made = extract_tree(tree(tmp_path, {"lib/__init__.py": """
        def make(name):
            return getattr(str, name)

        class K:
            lower = make("lower")
        """}), ["lib"], name="lib", version="1")
    assert made.exports["lib.K"].members["lower"].type is None
