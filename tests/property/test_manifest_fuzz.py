"""Hostile manifests: any text gives a manifest or one :class:`ManifestError` naming the file and
the JSON path of the bad value, never another exception (a traceback on the command line)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hostile_text import hostile_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siglink.cli.main import main
from siglink.contracts.manifest import Export, Import, Manifest
from siglink.errors import ManifestError

VALID: dict[str, Any] = {
    "format": 1,
    "unit": {"name": "textkit", "version": "1.0", "kind": "library", "language": "python"},
    "exports": {
        "textkit.wrap": {"kind": "function", "module": "textkit",
                         "signature": {"text": "(text: str, width: int = ...) -> list[str]",
                                       "defaults": {"width": "70"}}},
        "textkit.Box": {"kind": "class", "signature": "(size: int)", "bases": ["object"],
                        "members": {"area": {"kind": "method", "signature": "() -> int"},
                                    "size": {"kind": "property", "type": "int",
                                             "setter": True, "deleter": False}}},
        "textkit.LIMIT": {"kind": "attribute", "type": "int", "value": "10",
                          "deprecated": True},
        "textkit.f": {"kind": "function", "signature": "(**kw)", "kwargs_read": ["a"]},
    },
    "imports": {"other": [{"path": "other.f", "calls": [{"positional": 1, "keywords": ["x"],
                                                        "star_args": False,
                                                        "star_kwargs": False}],
                           "calls_complete": True, "attributes": ["a"], "members": ["m"],
                           "arguments": [{"positional": ["int"], "keywords": {"k": "str"},
                                          "member": "__call__"}]}]},
    "implements": {"host.hook": {"object": "textkit.impl", "position": "first",
                                 "spec": {"kind": "function", "signature": "(x)"}}},
    "files": {"textkit/__init__.py": "abc"},
    "requires": ["other>=1"],
    "top_level": ["textkit"],
    "diagnostics": [{"message": "m", "file": "f.py", "line": 3}],
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | hostile_text(20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(hostile_text(8), children, max_size=4),
    max_leaves=20,
)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += _paths(value, (*prefix, i))
    return found


ALL_PATHS = [p for p in _paths(VALID) if p and p != ("format",)]


def _replace(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    copy = json.loads(json.dumps(data))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copy


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        data = data[step]
    return data


def _delete(data: Any, path: tuple[Any, ...]) -> Any:
    copy = json.loads(json.dumps(data))
    target = copy
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]
    return copy


def _read(text: str | bytes) -> Manifest | ManifestError:
    try:
        return Manifest.loads(text, source="m.json")
    except ManifestError as e:
        assert e.message.startswith("m.json: ") and "\n" not in e.message, e.message
        return e


class TestAnyManifestTextReadsOrFailsWithOneLine:
    """Any input gives either a result or a ManifestError naming the file (never another
    exception)."""

    def test_the_valid_manifest_reads(self) -> None:
        manifest = Manifest.loads(json.dumps(VALID), source="m.json")
        assert Manifest.loads(manifest.dumps()).to_json() == manifest.to_json()

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.sampled_from(ALL_PATHS), json_values)
    def test_any_value_anywhere(self, path: tuple[Any, ...], value: Any) -> None:
        _read(json.dumps(_replace(VALID, path, value)))

    @settings(max_examples=100, deadline=None)
    @given(st.sampled_from(ALL_PATHS))
    def test_any_key_missing(self, path: tuple[Any, ...]) -> None:
        _read(json.dumps(_delete(VALID, path)))

    @settings(max_examples=200, deadline=None)
    @given(json_values)
    def test_any_json(self, value: Any) -> None:
        _read(json.dumps(value))
        _read(json.dumps({"format": 1, "unit": {"name": "x", "version": "1"}, "exports": value}))

    @settings(max_examples=200, deadline=None)
    @given(st.binary(max_size=200))
    def test_any_bytes(self, data: bytes) -> None:
        _read(data)
        _read(data.decode("utf-8", "surrogateescape"))  # a file read as Python reads paths

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.sampled_from(ALL_PATHS), hostile_text(12), st.booleans())
    def test_lone_surrogates_anywhere(self, path: tuple[Any, ...], text: str,
                                      escaped: bool) -> None:
        """A name, signature, type or path holding a lone surrogate, as JSON's escape or as
        the character itself: a manifest or one line (never a UnicodeEncodeError)."""
        data = _replace(VALID, path, text)
        if isinstance(path[-1], str) and len(path) > 1:  # also as the key itself
            data = _replace(data, path[:-1], {text: "x", **_get(data, path[:-1])})
        encoded = json.dumps(data, ensure_ascii=escaped)
        manifest = _read(encoded)
        if isinstance(manifest, Manifest):
            assert Manifest.loads(manifest.dumps()).digest == manifest.digest

    @settings(max_examples=100, deadline=None)
    @given(json_values)
    def test_exports_and_imports_read_alone(self, value: Any) -> None:
        for read in (lambda: Export.from_json("m.f", value), lambda: Import.from_json(value)):
            try:
                read()
            except ManifestError as e:
                assert "\n" not in e.message


@pytest.mark.parametrize(("text", "message"), [
    ('{"format": 1, "unit": {"name": "x", "version": 3}}',
     "$.unit.version: expected a string, found a number"),
    ('{"format": 1, "unit": {"name": "x"}}', "$.unit: missing key 'version'"),
    ('{"format": 1, "unit": {"name": "x", "version": "1"}, "exports": {"x.f": {"kind": "fn"}}}',
     "$.exports[\"x.f\"].kind: 'fn' is not one of function, async-function, class, method, "
     "async-method, classmethod, staticmethod, property, attribute, extension-point"),
    ('{"format": 1, "unit": {"name": "x", "version": "1"}, "imports": {"y": [{"path": "y.f", '
     '"calls": [{"positional": "2"}]}]}}',
     "$.imports.y[0].calls[0].positional: expected a non-negative integer, found a string"),
    ('{"format": 1, "unit": {"name": "x", "version": "1"}, "exports": {"x.C": {"kind": "class",'
     ' "members": {"m": {"kind": "method", "optional": "yes"}}}}}',
     "$.exports[\"x.C\"].members.m.optional: expected true or false, found a string"),
    ('{"format": 1, "unit": {"name": "x", "version": "1"}, "exports": {"x.C": {"kind": "class",'
     ' "members": {"p": {"kind": "property", "setter": 1}}}}}',
     "$.exports[\"x.C\"].members.p.setter: expected true or false, found a number"),
    ('{"format": 1, "unit": {"name": "x", "version": "1"}, "diagnostics": {"a": 1}}',
     "$.diagnostics: expected an array, found an object"),
])
def test_a_bad_value_is_named_by_its_json_path(text: str, message: str) -> None:
    with pytest.raises(ManifestError) as caught:
        Manifest.loads(text, source="m.json")
    assert caught.value.message == f"m.json: corrupt manifest: {message}"


def test_deep_nesting_huge_strings_and_newer_formats_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deep_json = tmp_path / "deep.json"
    deep_json.write_text('{"format": 1, "unit": ' + "[" * 100_000 + "]" * 100_000 + "}")
    member: dict[str, Any] = {"kind": "method"}
    for _ in range(200):
        member = {"kind": "class", "members": {"c": member}}
    deep_members = tmp_path / "deep-members.json"
    deep_members.write_text(json.dumps({"format": 1, "unit": {"name": "x", "version": "1"},
                                        "exports": {"x.C": member}}))
    huge = tmp_path / "huge.json"
    huge.write_text(json.dumps({"format": 1, "unit": {"name": "x", "version": "1"},
                                "exports": {"x.f": {"kind": "function",
                                                    "signature": "(" + "a" * (1 << 17) + ")"}}}))
    newer = tmp_path / "newer.json"
    newer.write_text('{"format": 2, "unit": {"name": "x", "version": "1"}}')
    cases = {
        deep_json: f"{deep_json}: not a manifest: JSON nested too deeply",
        deep_members: f"{deep_members}: corrupt manifest: $.exports[\"x.C\"]"
                      + ".members.c" * 33 + ": classes nested deeper than 32 levels",
        huge: f"{huge}: corrupt manifest: $.exports[\"x.f\"].signature: a string of 131074 "
              "characters (at most 65536)",
        newer: f"{newer}: manifest format 2 is newer than this siglink reads (format 1); "
               "upgrade siglink",
    }
    for path, message in cases.items():
        assert main(["exports", str(path)]) == 2
        assert capsys.readouterr() == ("", f"siglink: error: {message}\n")
