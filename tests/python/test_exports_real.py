"""Export tables of real libraries from PyPI, spot-checked against their known signatures."""

from __future__ import annotations

import zipfile
from typing import Any

import pytest

from siglink.contracts.manifest import ExportKind, Manifest
from siglink.contracts.signature import ParamKind, Signature
from siglink.contracts.types import parse_type
from siglink.python.exports import extract

pytestmark = pytest.mark.network


def canon(text: str) -> str:
    return str(Signature.parse(text))


def load(pypi: Any, requirement: str, kind: str = "wheel") -> Manifest:
    return extract(pypi.fetch(requirement, kind=kind))


def test_itsdangerous_expands_its_type_aliases(pypi: Any) -> None:
    manifest = load(pypi, "itsdangerous==2.1.2")
    assert (manifest.unit.name, manifest.unit.version) == ("itsdangerous", "2.1.2")
    signer = manifest.exports["itsdangerous.Signer"]
    assert signer.kind is ExportKind.CLASS and signer.module == "itsdangerous.signer"
    assert signer.signature is not None
    secret_key = signer.signature.params[0]
    assert secret_key.name == "secret_key"
    # `secret_key: _t_secret_key`, where _t_secret_key = Union[Iterable[str|bytes], str, bytes]
    assert secret_key.annotation == parse_type(
        "typing.Union[typing.Iterable[typing.Union[str, bytes]], str, bytes]")
    assert signer.members["sign"].kind is ExportKind.METHOD
    assert str(signer.members["sign"].signature) == canon("(value: str | bytes) -> bytes")
    assert signer.members["secret_key"].kind is ExportKind.PROPERTY
    assert manifest.exports["itsdangerous.URLSafeTimedSerializer"].bases == (
        "itsdangerous.url_safe.URLSafeSerializerMixin", "itsdangerous.timed.TimedSerializer")
    assert manifest.top_level == ("itsdangerous",)
    assert manifest.requires_python == ">=3.7"
    assert manifest.diagnostics == ()


def test_click_echo(pypi: Any) -> None:
    manifest = load(pypi, "click==8.1.7")
    echo = manifest.exports["click.echo"]
    assert echo.kind is ExportKind.FUNCTION and echo.module == "click.utils"
    assert echo.signature is not None
    assert [(p.name, p.kind, p.default) for p in echo.signature.params] == [
        ("message", ParamKind.POSITIONAL_OR_KEYWORD, "None"),
        ("file", ParamKind.POSITIONAL_OR_KEYWORD, "None"),
        ("nl", ParamKind.POSITIONAL_OR_KEYWORD, "True"),
        ("err", ParamKind.POSITIONAL_OR_KEYWORD, "False"),
        ("color", ParamKind.POSITIONAL_OR_KEYWORD, "None"),
    ]
    assert echo.signature.returns == parse_type("None")
    assert manifest.exports["click.echo"] == manifest.exports["click.utils.echo"]
    assert manifest.exports["click.Abort"].signature is not None
    command = manifest.exports["click.Command"]
    assert command.bases == ("click.core.BaseCommand",)
    assert command.members["invoke"].kind is ExportKind.METHOD


def test_attrs_reads_its_own_aliases_and_overloads(pypi: Any) -> None:
    manifest = load(pypi, "attrs==23.2.0")
    assert manifest.exports["attr.s"].kind is ExportKind.FUNCTION
    assert manifest.exports["attr.s"] == manifest.exports["attr.attrs"]
    define = manifest.exports["attrs.define"]
    assert define.kind is ExportKind.FUNCTION and define.overloads
    assert define.signature is not None
    assert "slots" in {p.name for p in define.signature.params}
    assert set(manifest.top_level) == {"attr", "attrs"}


def test_packaging_names_classes_where_they_are_defined(pypi: Any) -> None:
    manifest = load(pypi, "packaging==24.0")
    version = manifest.exports["packaging.version.Version"]
    assert str(version.signature) == canon("(version: str)")
    assert version.members["major"].kind is ExportKind.PROPERTY
    assert version.members["major"].type == parse_type("int")
    parse = manifest.exports["packaging.version.parse"]
    assert str(parse.signature) == canon("(version: str) -> packaging.version.Version")


def test_markupsafe_sdist_exports_its_try_except_imports(pypi: Any) -> None:
    manifest = load(pypi, "markupsafe==2.0.1", kind="sdist")
    assert (manifest.unit.name, manifest.unit.version) == ("MarkupSafe", "2.0.1")
    assert {"markupsafe.escape", "markupsafe.soft_unicode", "markupsafe.Markup"} <= set(
        manifest.exports)
    for module in ("re", "functools", "string", "t"):
        assert f"markupsafe.{module}" not in manifest.exports
    assert str(manifest.exports["markupsafe.escape"].signature) == canon(
        "(s: typing.Any) -> markupsafe.Markup")
    assert manifest.top_level == ("markupsafe",)


def test_markupsafe_compiled_wheel_prefers_stubs(pypi: Any) -> None:
    manifest = load(pypi, "markupsafe==2.1.5")
    assert "markupsafe.soft_unicode" not in manifest.exports
    compiled = {path for path, e in manifest.exports.items() if e.compiled}
    assert compiled == {"markupsafe.escape", "markupsafe.escape_silent", "markupsafe.soft_str"}
    assert manifest.exports["markupsafe.Markup"].signature is not None
    assert manifest.diagnostics == ()


def test_markupsafe_escape_is_what_the_compiled_speedups_accept(pypi: Any) -> None:
    """``try: from ._speedups import escape`` / ``except ImportError: from ._native import
    escape``: the stub and the pure-Python fallback take ``escape(s=...)``, the compiled
    function (METH_O) takes no keyword argument, so neither may a consumer."""
    wheel = pypi.fetch("markupsafe==2.1.5")
    assert any(n.startswith("markupsafe/_speedups.cpython-311") for n in zipfile.ZipFile(
        wheel).namelist()), "expected the CPython 3.11 wheel with the compiled speedups"
    manifest = extract(wheel)
    escape = manifest.exports["markupsafe.escape"]
    assert escape.signature == Signature.parse("(s: typing.Any, /) -> markupsafe.Markup")
    assert escape.signature.params[0].kind is ParamKind.POSITIONAL_ONLY
    assert str(manifest.exports["markupsafe.escape_silent"].signature) == canon(
        "(s: typing.Any | None, /) -> markupsafe.Markup")

    from siglink.contracts.compat import check_export
    from siglink.contracts.manifest import CallShape, Export, Import

    by_keyword = Import("markupsafe.escape", expected=Export(
        path="markupsafe.escape", kind=ExportKind.FUNCTION,
        signature=Signature.parse("(s: typing.Any) -> markupsafe.Markup")),
        calls=(CallShape(0, ("s",)),), calls_complete=True)
    assert by_keyword.expected is not None
    verdict = check_export(by_keyword.expected, escape)
    assert not verdict.ok
    assert [p.rule for p in verdict.incompatible] == ["P18"]
