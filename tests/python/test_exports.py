"""Export tables of small libraries written into tmp_path: every kind of export, the rules for
public names, re-exports, type aliases, and what happens to code that cannot be read."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import textwrap
import zipfile
from pathlib import Path

import pytest

from siglink.contracts.manifest import Diagnostic, ExportKind, Manifest
from siglink.contracts.signature import ParamKind, Signature
from siglink.contracts.types import parse_type
from siglink.demo import wheels
from siglink.errors import ExtractionError, ManifestError
from siglink.python.exports import extract, extract_tree


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def make_wheel(
    directory: Path,
    name: str,
    version: str,
    files: dict[str, str],
    *,
    requires: tuple[str, ...] = (),
    requires_python: str | None = None,
) -> Path:
    """A real wheel (:func:`siglink.demo.wheels.make_wheel`) of ``files``, each dedented."""
    sources = {path: textwrap.dedent(text) for path, text in files.items()}
    return wheels.make_wheel(directory, name, version, sources, requires=requires,
                             requires_python=requires_python)


KINDS = {
    "kinds/__init__.py": '''
        """Every kind of export."""
        from __future__ import annotations

        import dataclasses
        import enum
        import typing as t
        from typing import NamedTuple, TypedDict, overload

        import attr

        LIMIT: int = 10
        name = "kinds"

        def plain(a: int, /, b: str = "x", *args: int, c: float, **kw: t.Any) -> list[int]:
            return []

        async def fetch(url: str) -> bytes: ...

        @overload
        def pick(x: int) -> int: ...
        @overload
        def pick(x: str) -> str: ...
        def pick(x):
            return x

        class Base:
            shared: t.ClassVar[int] = 1
            size: int

            def __init__(self, size: int, *, label: str | None = None) -> None:
                self.size = size

            def method(self, n: int) -> str: ...
            async def amethod(self) -> None: ...
            @classmethod
            def make(cls, text: str) -> Base: ...
            @staticmethod
            def helper(a, b=2): ...
            @property
            def area(self) -> float: ...
            def __call__(self, x: int) -> int: ...
            def _private(self) -> None: ...

        class Child(Base):
            def extra(self) -> None: ...

        class Made:
            def __new__(cls, seed: int) -> Made: ...

        class Empty:
            pass

        class Oops(ValueError):
            pass

        @dataclasses.dataclass(frozen=True)
        class Point:
            x: int
            y: int = 0
            tags: list[str] = dataclasses.field(default_factory=list)

        @attr.s(auto_attribs=True, kw_only=True)
        class Options:
            verbose: bool = False
            _level: int = 1
            extra = attr.ib(factory=dict)

        class Pair(NamedTuple):
            left: int
            right: str = "r"

        class Movie(TypedDict, total=False):
            title: str
            year: int

        class Color(enum.Enum):
            RED = 1
            GREEN = "g"
    ''',
}


@pytest.fixture
def kinds(tmp_path: Path) -> Manifest:
    return extract(write_tree(tmp_path, KINDS) / "kinds")


def sig(text: str) -> Signature:
    return Signature.parse(text)


def canon(signature_text: str) -> str:
    """The canonical text of a signature written by hand (defaults become ``...``)."""
    return str(Signature.parse(signature_text))


def text(signature: Signature | None) -> str | None:
    return None if signature is None else str(signature)


class TestKinds:
    def test_functions(self, kinds: Manifest) -> None:
        plain = kinds.exports["kinds.plain"]
        assert plain.kind is ExportKind.FUNCTION
        assert plain.module == "kinds"
        assert text(plain.signature) == canon(
            "(a: int, /, b: str = ..., *args: int, c: float, **kw: typing.Any) -> list[int]")
        assert plain.signature is not None and plain.signature.defaults == {"b": "'x'"}
        assert kinds.exports["kinds.fetch"].kind is ExportKind.ASYNC_FUNCTION
        assert plain.location == "kinds/__init__.py:15"

    def test_overloads(self, kinds: Manifest) -> None:
        pick = kinds.exports["kinds.pick"]
        assert [str(o) for o in pick.overloads] == [
            canon("(x: int) -> int"), canon("(x: str) -> str")]

    def test_module_attributes(self, kinds: Manifest) -> None:
        assert kinds.exports["kinds.LIMIT"].kind is ExportKind.ATTRIBUTE
        assert kinds.exports["kinds.LIMIT"].type == parse_type("int")
        # unannotated: the type of its literal value, as a type checker infers it
        assert kinds.exports["kinds.name"].type == parse_type("str")

    def test_class_members_of_every_kind(self, kinds: Manifest) -> None:
        base = kinds.exports["kinds.Base"]
        assert base.kind is ExportKind.CLASS
        assert text(base.signature) == canon("(size: int, *, label: str | None = ...)")
        kinds_of = {name: m.kind for name, m in base.members.items()}
        assert kinds_of == {
            "shared": ExportKind.ATTRIBUTE,
            "size": ExportKind.ATTRIBUTE,
            "method": ExportKind.METHOD,
            "amethod": ExportKind.ASYNC_METHOD,
            "make": ExportKind.CLASSMETHOD,
            "helper": ExportKind.STATICMETHOD,
            "area": ExportKind.PROPERTY,
            "__call__": ExportKind.METHOD,
        }
        assert text(base.members["method"].signature) == canon("(n: int) -> str")
        assert text(base.members["make"].signature) == canon("(text: str) -> kinds.Base")
        assert text(base.members["helper"].signature) == canon("(a, b=...)")
        assert base.members["area"].type == parse_type("float")
        assert base.members["size"].type == parse_type("int")

    def test_inherited_members_and_bases(self, kinds: Manifest) -> None:
        child = kinds.exports["kinds.Child"]
        assert child.bases == ("kinds.Base",)
        assert child.signature == kinds.exports["kinds.Base"].signature
        assert {"method", "make", "area", "extra"} <= set(child.members)
        assert child.members["method"] == kinds.exports["kinds.Base"].members["method"]

    def test_constructors(self, kinds: Manifest) -> None:
        assert text(kinds.exports["kinds.Made"].signature) == canon("(seed: int)")
        assert text(kinds.exports["kinds.Empty"].signature) == canon("()")
        assert text(kinds.exports["kinds.Oops"].signature) == canon("(*args: object)")

    def test_dataclass(self, kinds: Manifest) -> None:
        point = kinds.exports["kinds.Point"]
        assert point.flavor == "dataclass"
        assert text(point.signature) == canon("(x: int, y: int = ..., tags: list[str] = ...)")
        assert set(point.members) == {"x", "y", "tags"}

    def test_attrs(self, kinds: Manifest) -> None:
        options = kinds.exports["kinds.Options"]
        assert options.flavor == "attrs"
        assert text(options.signature) == canon(
            "(*, extra=..., level: int = ..., verbose: bool = ...)")
        assert options.signature is not None
        assert options.signature.defaults["extra"] == "dict()"

    def test_namedtuple(self, kinds: Manifest) -> None:
        pair = kinds.exports["kinds.Pair"]
        assert pair.flavor == "namedtuple"
        assert text(pair.signature) == canon("(left: int, right: str = ...)")
        assert list(pair.members) == ["left", "right"]

    def test_typeddict(self, kinds: Manifest) -> None:
        movie = kinds.exports["kinds.Movie"]
        assert movie.flavor == "typeddict"
        assert text(movie.signature) == canon("(*, title: str = ..., year: int = ...)")
        assert all(m.optional for m in movie.members.values())

    def test_enum(self, kinds: Manifest) -> None:
        color = kinds.exports["kinds.Color"]
        assert color.flavor == "enum"
        assert {n: m.value for n, m in color.members.items()} == {"RED": "1", "GREEN": "'g'"}
        assert color.members["RED"].type == parse_type("kinds.Color")

    def test_not_exported(self, kinds: Manifest) -> None:
        for path in ("kinds.t", "kinds.dataclasses", "kinds.attr", "kinds.enum"):
            assert path not in kinds.exports
        assert "_private" not in kinds.exports["kinds.Base"].members

    def test_metadata_of_a_bare_package(self, kinds: Manifest) -> None:
        assert (kinds.unit.name, kinds.unit.version) == ("kinds", "0")
        assert kinds.top_level == ("kinds",)
        assert set(kinds.files) == {"kinds/__init__.py"}
        assert kinds.diagnostics == ()

    def test_manifest_round_trip(self, kinds: Manifest, tmp_path: Path) -> None:
        path = tmp_path / "siglink.json"
        path.write_text(kinds.dumps())
        loaded = extract(path)
        assert loaded.exports == kinds.exports
        assert {p: e.digest for p, e in loaded.exports.items()} == {
            p: e.digest for p, e in kinds.exports.items()}


PUBLIC = {
    "pub/__init__.py": '''
        import re
        import functools
        from typing import TYPE_CHECKING, Any
        from ._impl import helper, Thing as Thing
        from .mod import visible
        from other_dist.sub import Widget
        try:
            from ._fast import escape
        except ImportError:
            from ._slow import escape
        if TYPE_CHECKING:
            from ._impl import Hidden
        _secret = 1
        alias_of_helper = helper
    ''',
    "pub/_impl.py": '''
        def helper(x: int = 1) -> int: ...
        class Thing:
            def go(self) -> None: ...
        class Hidden: ...
        def internal_only() -> None: ...
    ''',
    "pub/_fast.pyi": "def escape(s: str) -> str: ...\n",
    "pub/_slow.py": "def escape(s: str) -> str: ...\n",
    "pub/mod.py": '''
        from typing import Any
        from pub._impl import helper
        import os
        def visible(a: Any) -> None: ...
        def _hidden() -> None: ...
    ''',
    "pub/listed.py": '''
        __all__ = ["one"]
        __all__ += ["two"]
        def one() -> None: ...
        def two() -> None: ...
        def three() -> None: ...
    ''',
    "pub/_private/__init__.py": "def deep() -> None: ...\n",
    "pub/shims.py": '__all__ = ["Any", "OrderedDict"]\nfrom typing import Any\n'
                    "from collections import OrderedDict\n",
}


class TestPublicNames:
    @pytest.fixture
    def pub(self, tmp_path: Path) -> Manifest:
        return extract(make_wheel(tmp_path, "pub", "1.0", PUBLIC, requires=("Other-Dist>=1",)))

    def test_package_init_exports_its_imports(self, pub: Manifest) -> None:
        assert {"pub.helper", "pub.Thing", "pub.visible", "pub.escape"} <= set(pub.exports)

    def test_modules_private_names_and_type_checking_imports_are_not_exports(
        self, pub: Manifest
    ) -> None:
        for path in ("pub.re", "pub.functools", "pub._secret", "pub.Hidden", "pub.mod",
                     "pub.mod.os", "pub.mod._hidden"):
            assert path not in pub.exports, path

    def test_private_modules_count_only_through_re_exports(self, pub: Manifest) -> None:
        private = ("pub._impl", "pub._private", "pub._slow")
        assert not any(p.startswith(private) for p in pub.exports)

    def test_re_export_has_the_target_signature(self, pub: Manifest) -> None:
        assert text(pub.exports["pub.helper"].signature) == canon("(x: int = ...) -> int")
        assert pub.exports["pub.helper"].module == "pub._impl"
        assert pub.exports["pub.helper"] == pub.exports["pub.mod.helper"]
        assert text(pub.exports["pub.alias_of_helper"].signature) == canon("(x: int = ...) -> int")
        assert pub.exports["pub.Thing"].members["go"].kind is ExportKind.METHOD

    def test_plain_module_exports_only_its_own_librarys_imports(self, pub: Manifest) -> None:
        assert "pub.mod.visible" in pub.exports
        assert "pub.mod.helper" in pub.exports
        assert "pub.mod.Any" not in pub.exports

    def test_all_with_augmented_assignment(self, pub: Manifest) -> None:
        listed = {p for p in pub.exports if p.startswith("pub.listed.")}
        assert listed == {"pub.listed.one", "pub.listed.two"}

    def test_other_distribution_is_a_reference(self, pub: Manifest) -> None:
        widget = pub.exports["pub.Widget"]
        assert widget.reference == "other-dist:other_dist.sub.Widget"
        # Listed in __all__, a standard-library object is an export (a reference to it) ...
        assert pub.exports["pub.shims.Any"].reference == "python:typing.Any"
        assert pub.exports["pub.shims.OrderedDict"].reference == "python:collections.OrderedDict"

    def test_standard_library_imports_without_all_are_not_exports(self, pub: Manifest) -> None:
        """... but what an ``__init__`` without ``__all__`` imports from the standard library
        for its own use (``from typing import Any``) is not the library's API."""
        assert "pub.Any" not in pub.exports
        assert "pub.TYPE_CHECKING" not in pub.exports

    def test_locations_are_relative_to_the_library(self, pub: Manifest, tmp_path: Path) -> None:
        """Where an export is defined, as a file of the wheel: never the temporary directory
        it was unpacked into, nor a path of the machine that read it."""
        assert pub.exports["pub.helper"].location == "pub/_impl.py:2"
        assert pub.exports["pub.visible"].location == "pub/mod.py:5"
        assert pub.exports["pub.listed.two"].location == "pub/listed.py:5"
        for export in pub.exports.values():
            assert export.location is None or not export.location.startswith("/"), export

    def test_wheel_metadata(self, pub: Manifest) -> None:
        assert (pub.unit.name, pub.unit.version) == ("pub", "1.0")
        assert pub.requires == ("Other-Dist>=1",)
        assert pub.top_level == ("pub",)
        data = textwrap.dedent(PUBLIC["pub/mod.py"]).encode()
        assert pub.files["pub/mod.py"] == hashlib.sha256(data).hexdigest()


ALIASES = {
    "al/__init__.py": '''
        import typing as _t
        from .types import StrPath, Node
        from . import types as _types

        _t_key = _t.Union[str, bytes]
        _t_keys = _t.Union[_t_key, _t.Iterable[_t_key]]
        T = _t.TypeVar("T")

        def sign(key: _t_keys, path: StrPath, node: "Node") -> _t.Optional[_t_key]: ...
        def same(x: T) -> T: ...
        def direct(n: _types.Node) -> None: ...
    ''',
    "al/types.py": '''
        import os
        from typing import Union
        StrPath = Union[str, "os.PathLike[str]"]
        class Node: ...
    ''',
}


def test_annotations_resolve_through_imports_and_aliases(tmp_path: Path) -> None:
    manifest = extract(write_tree(tmp_path, ALIASES) / "al")
    sign = manifest.exports["al.sign"].signature
    assert sign is not None
    key = parse_type("str | bytes")
    assert sign.params[0].annotation == parse_type(
        "typing.Union[str, bytes, typing.Iterable[typing.Union[str, bytes]]]")
    assert sign.params[1].annotation == parse_type("str | os.PathLike[str]")
    assert sign.params[2].annotation == parse_type("al.types.Node")
    assert sign.returns == parse_type(f"{key} | None")
    same = manifest.exports["al.same"].signature
    assert same is not None and same.params[0].annotation is not None
    assert same.params[0].annotation.is_typevar
    direct = manifest.exports["al.direct"].signature
    assert direct is not None and direct.params[0].annotation == parse_type("al.types.Node")


class TestUnreadableCode:
    def test_syntax_error_is_a_diagnostic_and_the_rest_is_read(self, tmp_path: Path) -> None:
        wheel = make_wheel(tmp_path, "half", "1.0", {
            "half/__init__.py": "from .good import ok\n",
            "half/good.py": "def ok(a: int) -> int: ...\n",
            "half/bad.py": "def fine():\n    pass\ndef broken(:\n    pass\n",
        })
        manifest = extract(wheel)
        assert text(manifest.exports["half.ok"].signature) == canon("(a: int) -> int")
        assert "half.good.ok" in manifest.exports
        assert manifest.diagnostics == (
            Diagnostic("syntax error: invalid syntax; module skipped", "half/bad.py", 3),
        )

    def test_newer_python_syntax_is_reported_as_such(self, tmp_path: Path) -> None:
        wheel = make_wheel(tmp_path, "modern", "1.0", {
            "modern/__init__.py": "def ok() -> None: ...\n",
            "modern/aliases.py": "type Pair = tuple[int, int]\n",
        }, requires_python=">=3.12")
        manifest = extract(wheel)
        assert "modern.ok" in manifest.exports
        if sys.version_info < (3, 12):
            (diagnostic,) = manifest.diagnostics
            assert diagnostic.file == "modern/aliases.py" and diagnostic.line == 1
            assert diagnostic.message.startswith(
                "needs Python 3.12+: uses the type statement (PEP 695), but this is Python 3.11")
        else:  # the running Python reads it: no diagnostic, the alias is an export
            assert manifest.diagnostics == ()
            assert "modern.aliases.Pair" in manifest.exports

    def test_requires_python_explains_an_error_in_newer_syntax(self, tmp_path: Path) -> None:
        wheel = make_wheel(tmp_path, "future", "1.0", {
            "future/__init__.py": "def ok() -> None: ...\n",
            "future/new.py": "x = (yield from) from\n",
        }, requires_python=">=3.99")
        (diagnostic,) = extract(wheel).diagnostics
        here = f"{sys.version_info[0]}.{sys.version_info[1]}"
        assert diagnostic.message == (
            f"needs a newer Python: Requires-Python >=3.99, this is Python {here} "
            "(invalid syntax); module skipped")

    def test_undecodable_module(self, tmp_path: Path) -> None:
        root = write_tree(tmp_path / "tree", {"enc/__init__.py": "def ok() -> None: ...\n"})
        (root / "enc" / "latin.py").write_bytes(b"# \xff\xfe\nx = 1\n")
        manifest = extract(root / "enc")
        assert "enc.ok" in manifest.exports
        (diagnostic,) = manifest.diagnostics
        assert diagnostic == Diagnostic(
            "not UTF-8 text (invalid start byte at byte 2); module skipped", "enc/latin.py", 1)


class TestBadInput:
    def test_missing_path(self, tmp_path: Path) -> None:
        target = tmp_path / "nothing.whl"
        with pytest.raises(ExtractionError) as info:
            extract(target)
        assert info.value.message == f"{target}: no such file or directory"

    def test_not_a_zip(self, tmp_path: Path) -> None:
        target = tmp_path / "fake-1.0-py3-none-any.whl"
        target.write_text("hello")
        with pytest.raises(ExtractionError) as info:
            extract(target)
        assert info.value.message == (
            f"{target}: not a valid wheel (zip archive): File is not a zip file")
        assert info.value.path == str(target)

    def test_truncated_wheel(self, tmp_path: Path) -> None:
        wheel = make_wheel(tmp_path, "cut", "1.0", {"cut/__init__.py": "x = 1\n" * 500})
        data = wheel.read_bytes()
        wheel.write_bytes(data[: len(data) // 2])
        with pytest.raises(ExtractionError) as info:
            extract(wheel)
        assert info.value.message == (
            f"{wheel}: not a valid wheel (zip archive): File is not a zip file")

    def test_tampered_wheel(self, tmp_path: Path) -> None:
        wheel = make_wheel(tmp_path, "tamper", "1.0", {"tamper/__init__.py": "x = 1\n"})
        with zipfile.ZipFile(wheel) as archive:
            entries = {i.filename: archive.read(i) for i in archive.infolist()}
        entries["tamper/__init__.py"] = b"x = 2\n"
        with zipfile.ZipFile(wheel, "w") as archive:
            for name, data in entries.items():
                archive.writestr(name, data)
        with pytest.raises(ExtractionError) as info:
            extract(wheel)
        assert info.value.message == (
            f"{wheel}: corrupt wheel: tamper/__init__.py does not match its RECORD hash")

    def test_wheel_without_metadata(self, tmp_path: Path) -> None:
        wheel = tmp_path / "bare-1.0-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as archive:
            archive.writestr("bare/__init__.py", "")
        with pytest.raises(ExtractionError) as info:
            extract(wheel)
        assert info.value.message == f"{wheel}: not a wheel: no single .dist-info/METADATA"

    def test_corrupt_sdist(self, tmp_path: Path) -> None:
        target = tmp_path / "thing-1.0.tar.gz"
        target.write_bytes(b"\x1f\x8b\x08garbage")
        with pytest.raises(ExtractionError) as info:
            extract(target)
        assert info.value.message.startswith(f"{target}: not a valid source archive: ")

    def test_corrupt_manifest(self, tmp_path: Path) -> None:
        target = tmp_path / "siglink.json"
        target.write_text("{not json")
        with pytest.raises(ManifestError) as info:
            extract(target)
        assert info.value.message.startswith(f"{target}: not valid JSON (")

    def test_newer_manifest_format(self, tmp_path: Path) -> None:
        target = tmp_path / "siglink.json"
        target.write_text('{"format": 99, "unit": {"name": "x", "version": "1"}}')
        with pytest.raises(ManifestError) as info:
            extract(target)
        assert info.value.message == (
            f"{target}: manifest format 99 is newer than this siglink reads (format 1); "
            "upgrade siglink")

    def test_directory_without_python(self, tmp_path: Path) -> None:
        (tmp_path / "empty").mkdir()
        with pytest.raises(ExtractionError) as info:
            extract(tmp_path / "empty")
        assert info.value.message == f"{tmp_path / 'empty'}: no Python package or module found"


def test_sdist_with_src_layout(tmp_path: Path) -> None:
    project = write_tree(tmp_path / "proj-2.0", {
        "PKG-INFO": "Metadata-Version: 2.1\nName: proj\nVersion: 2.0\nRequires-Python: >=3.8\n",
        "setup.py": "from setuptools import setup\nsetup()\n",
        "src/proj/__init__.py": "def run(n: int) -> None: ...\n",
        "tests/test_proj.py": "def test_x(): ...\n",
    })
    sdist = tmp_path / "proj-2.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        archive.add(project, arcname="proj-2.0")
    manifest = extract(sdist)
    assert (manifest.unit.name, manifest.unit.version) == ("proj", "2.0")
    assert manifest.requires_python == ">=3.8"
    assert set(manifest.exports) == {"proj.run"}
    assert manifest.top_level == ("proj",)


def test_project_tree_with_pyproject(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "proj", {
        "pyproject.toml": '[project]\nname = "flat"\nversion = "0.3"\ndependencies = ["rich"]\n',
        "flat.py": "def go() -> None: ...\n",
        "docs/conf.py": "x = 1\n",
    })
    manifest = extract(root)
    assert (manifest.unit.name, manifest.unit.version) == ("flat", "0.3")
    assert manifest.requires == ("rich",)
    assert set(manifest.exports) == {"flat.go"}


def test_locations_of_a_tree_given_by_a_relative_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``siglink exports .`` in a project: locations are still ``pkg/mod.py:LINE``."""
    write_tree(tmp_path / "proj", {
        "pyproject.toml": '[project]\nname = "rel"\nversion = "1"\n',
        "src/rel/__init__.py": "from ._core import run\n",
        "src/rel/_core.py": "\n\ndef run() -> None: ...\n",
    })
    monkeypatch.chdir(tmp_path / "proj")
    manifest = extract(".")
    assert manifest.exports["rel.run"].location == "rel/_core.py:3"


def test_extract_tree_reads_an_unpacked_wheel(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "unp", "3.1", {"unp/__init__.py": "def f() -> int: ...\n"})
    tree = tmp_path / "tree"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tree)
    manifest = extract_tree(tree)
    assert (manifest.unit.name, manifest.unit.version, manifest.top_level) == (
        "unp", "3.1", ("unp",))
    explicit = extract_tree(tree, ["unp"], name="unp", version="3.1")
    assert explicit.exports == manifest.exports
    assert text(explicit.exports["unp.f"].signature) == canon("() -> int")


def test_collector_settings_are_restored(tmp_path: Path) -> None:
    """extract collects garbage less often while griffe loads, and only meanwhile."""
    import gc

    before = gc.get_threshold()
    extract(make_wheel(tmp_path, "gcx", "1.0", {"gcx/__init__.py": "def f() -> None: ...\n"}))
    assert gc.get_threshold() == before


def test_installed_distribution_by_name() -> None:
    manifest = extract("packaging")
    from importlib.metadata import version

    assert manifest.unit.version == version("packaging")
    assert manifest.exports["packaging.version.Version"].kind is ExportKind.CLASS
    assert "packaging.version.parse" in manifest.exports


C_SOURCE = r"""
#include <Python.h>
static PyObject *add(PyObject *self, PyObject *args) {
    long a, b;
    if (!PyArg_ParseTuple(args, "ll", &a, &b)) return NULL;
    return PyLong_FromLong(a + b);
}
static PyMethodDef methods[] = {
    {"add", add, METH_VARARGS, "add($module, a, b, /)\n--\n\nAdd two numbers."},
    {NULL, NULL, 0, NULL}
};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speed", NULL, -1, methods};
PyMODINIT_FUNC PyInit__speed(void) { return PyModule_Create(&module); }
"""


def test_compiled_module_without_stubs_is_inspected_in_a_subprocess(tmp_path: Path) -> None:
    compiler = shutil.which("gcc") or shutil.which("cc")
    include = sysconfig.get_paths()["include"]
    if compiler is None or not (Path(include) / "Python.h").is_file():
        pytest.skip(f"needs a C compiler and Python headers (compiler={compiler}, {include})")
    root = write_tree(tmp_path / "tree", {
        "fastpkg/__init__.py": "from ._speed import add\nfrom .pure import slow\n",
        "fastpkg/pure.py": "def slow(a: int) -> int: ...\n",
    })
    (tmp_path / "speed.c").write_text(C_SOURCE)
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    subprocess.run([compiler, "-shared", "-fPIC", f"-I{include}", str(tmp_path / "speed.c"),
                    "-o", str(root / "fastpkg" / f"_speed{suffix}")], check=True)
    manifest = extract(root / "fastpkg")
    add = manifest.exports["fastpkg.add"]
    assert add.compiled and add.kind is ExportKind.FUNCTION
    assert text(add.signature) == canon("(a, b, /)")
    assert add.signature is not None
    assert [p.kind for p in add.signature.params] == [ParamKind.POSITIONAL_ONLY] * 2
    assert not manifest.exports["fastpkg.slow"].compiled
    assert "fastpkg.add" not in sys.modules  # inspected elsewhere, never here
    assert "fastpkg" not in sys.modules
