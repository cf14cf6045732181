"""Where each call shape was seen, and which imported modules are optional."""

from __future__ import annotations

from siglink.contracts.manifest import CallShape
from siglink.python.usage import Usage, analyze_source


def test_each_call_shape_keeps_its_first_location() -> None:
    usage = analyze_source("import m\nm.f(1)\nm.f(1)\nm.f(1, 2)\nm.f(k=3)\n", "app.py")
    assert usage.uses["m.f"].call_sites == {
        CallShape(1): "app.py:2", CallShape(2): "app.py:4", CallShape(0, ("k",)): "app.py:5"}


def test_modules_imported_only_where_optional() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "try:\n    import fast\nexcept ImportError:\n    fast = None\n"
        "if TYPE_CHECKING:\n    import hints\n"
        "try:\n    import both\nexcept ImportError:\n    pass\n"
        "import both\nimport plain\n"
    )
    usage = analyze_source(source, "app.py")
    assert usage.optional_modules == {"fast", "hints"}
    assert usage.modules["both"] == "app.py:12"  # the required import's location
    assert usage.modules["fast"] == "app.py:3"


def test_merge_keeps_a_required_import_required() -> None:
    optional = analyze_source("try:\n    import m\nexcept ImportError:\n    m = None\n", "a.py")
    required = analyze_source("import m\nm.f(1)\n", "b.py")
    merged = Usage()
    merged.merge(optional)
    assert merged.optional_modules == {"m"}
    merged.merge(required)
    assert (merged.optional_modules, merged.modules["m"]) == (set(), "b.py:1")
    assert merged.uses["m.f"].call_sites == {CallShape(1): "b.py:2"}
