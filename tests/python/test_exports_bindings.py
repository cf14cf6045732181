"""Every way a module binds a name reaches the export table: unpacking, for/with targets,
``:=``, ``global`` in functions, ``del``; and names bound by alternative imports export what
every alternative accepts."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_exports import make_wheel

from siglink.contracts.manifest import Diagnostic, ExportKind, Manifest
from siglink.contracts.signature import Signature
from siglink.contracts.types import parse_type
from siglink.python.exports import extract

BINDINGS = {
    "binds/__init__.py": '''
        import contextlib
        import os.path
        from typing import TYPE_CHECKING

        HORIZONTAL, VERTICAL = 1, 2
        (LEFT, RIGHT), [UP, *REST] = ("l", "r"), [b"u", 1, 2]
        FIRST, SECOND = os.path.split("a/b")
        A = B = 3.5

        for LOOP in range(3):
            pass
        with contextlib.suppress(Exception) as CONTEXT:
            pass
        if (WALRUS := 7) > 1:
            pass
        TOTAL = sum([(SQUARED := n * n) for n in range(3)])

        def configure() -> None:
            global CONFIGURED, _hidden
            CONFIGURED = True
            _hidden = 1

        GONE = 1
        del GONE
        KEPT = 1
        del KEPT
        KEPT = 2
        TEMP_A, TEMP_B = 1, 2
        del TEMP_A

        if TYPE_CHECKING:
            GUARDED_A, GUARDED_B = int, str
    ''',
}


@pytest.fixture(scope="module")
def binds(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    return extract(make_wheel(tmp_path_factory.mktemp("binds"), "binds", "1.0", BINDINGS))


def test_unpacking_binds_every_target(binds: Manifest) -> None:
    types = {path.removeprefix("binds."): None if e.type is None else str(e.type)
             for path, e in binds.exports.items() if e.kind is ExportKind.ATTRIBUTE}
    assert {k: types[k] for k in ("HORIZONTAL", "VERTICAL", "LEFT", "RIGHT", "UP", "REST",
                                  "FIRST", "SECOND", "A", "B")} == {
        "HORIZONTAL": "int", "VERTICAL": "int", "LEFT": "str", "RIGHT": "str", "UP": None,
        "REST": None, "FIRST": None, "SECOND": None, "A": "float", "B": "float"}
    assert binds.exports["binds.VERTICAL"].location == "binds/__init__.py:6"
    assert binds.diagnostics == ()


def test_loop_with_and_walrus_targets(binds: Manifest) -> None:
    for name in ("LOOP", "CONTEXT", "WALRUS", "SQUARED", "TOTAL"):
        assert binds.exports[f"binds.{name}"].kind is ExportKind.ATTRIBUTE, name
    assert binds.exports["binds.WALRUS"].type == parse_type("int")
    assert "binds.n" not in binds.exports  # a comprehension's own variable


def test_global_in_a_function_binds_a_module_name(binds: Manifest) -> None:
    assert binds.exports["binds.CONFIGURED"].kind is ExportKind.ATTRIBUTE
    assert "binds._hidden" not in binds.exports


def test_del_removes_a_name_unless_bound_again(binds: Manifest) -> None:
    assert "binds.GONE" not in binds.exports
    assert "binds.TEMP_A" not in binds.exports
    assert binds.exports["binds.TEMP_B"].type == parse_type("int")
    assert binds.exports["binds.KEPT"].type == parse_type("int")


def test_modules_are_not_exports(binds: Manifest) -> None:
    """``import os.path`` binds ``os``, a module; modules are never exports."""
    assert not {"binds.os", "binds.contextlib", "binds.TYPE_CHECKING"} & set(binds.exports)


def test_type_checking_only_names_are_not_runtime_exports(binds: Manifest) -> None:
    """Bound only under ``if TYPE_CHECKING:``: importing them at run time fails."""
    assert "binds.GUARDED_A" not in binds.exports
    assert "binds.GUARDED_B" not in binds.exports


def test_reexport_of_an_unpacked_name(tmp_path: Path) -> None:
    """Django's ``from .options import HORIZONTAL, VERTICAL`` of ``HORIZONTAL, VERTICAL =
    1, 2``: read, not a "could not be read" diagnostic."""
    manifest = extract(make_wheel(tmp_path, "admin", "1.0", {
        "admin/__init__.py": "from admin.options import HORIZONTAL, VERTICAL\n"
                             "__all__ = ['HORIZONTAL', 'VERTICAL']\n",
        "admin/options.py": "HORIZONTAL, VERTICAL = 1, 2\n",
    }))
    assert manifest.diagnostics == ()
    assert manifest.exports["admin.HORIZONTAL"].type == parse_type("int")
    assert manifest.exports["admin.HORIZONTAL"].module == "admin.options"


def test_names_bound_through_globals_are_reported(tmp_path: Path) -> None:
    manifest = extract(make_wheel(tmp_path, "dyn", "1.0", {
        "dyn/__init__.py": "X = 1\nfor _n in ('A', 'B'):\n    globals()[_n] = _n\n",
    }))
    assert manifest.diagnostics == (Diagnostic(
        "names bound through globals() are not read statically", "dyn/__init__.py", 3),)


def test_a_del_listed_in_all_is_reported(tmp_path: Path) -> None:
    manifest = extract(make_wheel(tmp_path, "gone", "1.0", {
        "gone/__init__.py": "__all__ = ['f']\ndef f() -> None: ...\ndel f\n",
    }))
    assert "gone.f" not in manifest.exports
    assert [d.message for d in manifest.diagnostics] == [
        "gone.__all__ lists 'f', which is not defined statically"]


ALTERNATIVES = {
    "alt/__init__.py": '''
        try:
            from alt._fast import scale, Box, mismatch
        except ImportError:
            from alt._slow import scale, Box, mismatch
        try:
            from alt._fast import plain
        except (OSError, ModuleNotFoundError):
            from alt._slow import plain
        try:
            from alt._fast import other
        except ValueError:
            from alt._slow import other
    ''',
    "alt/_fast.py": '''
        def scale(x, factor, /, *, exact=False): ...
        class Box:
            def __init__(self, size, /) -> None: ...
            def grow(self, by, /): ...
        def mismatch(a, b): ...
        def plain(a, /): ...
        def other(a, /): ...
    ''',
    "alt/_slow.py": '''
        def scale(x: float, factor: float = 2.0, *, exact: bool = False) -> float: ...
        class Box:
            def __init__(self, size: int) -> None: ...
            def grow(self, by: int) -> None: ...
        def mismatch(a: int) -> None: ...
        def plain(a: int) -> int: ...
        def other(a: int) -> int: ...
    ''',
}


@pytest.fixture(scope="module")
def alt(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    return extract(make_wheel(tmp_path_factory.mktemp("alt"), "alt", "1.0", ALTERNATIVES))


def test_alternatives_export_what_both_accept(alt: Manifest) -> None:
    scale = alt.exports["alt.scale"]
    assert str(scale.signature) == str(Signature.parse(
        "(x: float, factor: float, /, *, exact: bool = ...) -> float"))
    box = alt.exports["alt.Box"]
    assert str(box.signature) == str(Signature.parse("(size: int, /)"))
    assert str(box.members["grow"].signature) == str(Signature.parse("(by: int, /) -> None"))
    assert not scale.compiled


def test_alternatives_with_no_common_form_keep_the_preferred_one(alt: Manifest) -> None:
    assert str(alt.exports["alt.mismatch"].signature) == str(Signature.parse("(a, b)"))
    assert Diagnostic(
        "alt.mismatch: the alternatives alt._fast.mismatch, alt._slow.mismatch accept "
        "different calls; recorded alt._fast.mismatch(a, b), which runs when it imports",
    ) in alt.diagnostics


def test_only_import_errors_make_alternatives(alt: Manifest) -> None:
    assert str(alt.exports["alt.plain"].signature) == str(Signature.parse("(a: int, /) -> int"))
    # `except ValueError` is not a fallback import: the last binding is read, as before
    assert str(alt.exports["alt.other"].signature) == str(Signature.parse("(a: int) -> int"))


def test_alternatives_from_other_libraries_stay_references(tmp_path: Path) -> None:
    """``try: from simplejson import loads`` / ``except ImportError: from json import loads``:
    neither is this library's; a name in ``__all__`` is a reference to what griffe reads
    last, a plain module's imports from elsewhere are not its API."""
    manifest = extract(make_wheel(tmp_path, "jsonish", "1.0", {
        "jsonish/__init__.py": "__all__ = ['loads']\ntry:\n    from simplejson import loads\n"
                               "except ImportError:\n    from json import loads\n",
        "jsonish/codec.py": "try:\n    from simplejson import dumps\n"
                            "except ImportError:\n    from json import dumps\n"
                            "def encode(x: object) -> str: ...\n",
    }, requires=("simplejson",)))
    assert manifest.exports["jsonish.loads"].reference == "python:json.loads"
    assert "jsonish.codec.dumps" not in manifest.exports
    assert "jsonish.codec.encode" in manifest.exports
    assert manifest.diagnostics == ()
