"""Static analysis of what an application uses (``siglink.python.usage``)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from siglink.contracts.manifest import CallShape
from siglink.errors import BadInputError
from siglink.python.usage import analyze, analyze_source


def uses(source: str) -> dict[str, tuple[list[CallShape], bool, str | None]]:
    usage = analyze_source(textwrap.dedent(source), "app.py")
    return {p: (u.calls, u.other, u.dynamic) for p, u in usage.uses.items()}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import m\nm.f(1, 2)\n", {"m.f": ([CallShape(2)], False, None)}),
        ("import a.b as z\nz.f(x=1)\n", {"a.b.f": ([CallShape(0, ("x",))], False, None)}),
        ("import a.b\na.b.c.f(*r, **k)\n",
         {"a.b.c.f": ([CallShape(0, (), True, True)], False, None)}),
        ("from m import f\nf(1, k=2)\nf(1, k=2)\n", {"m.f": ([CallShape(1, ("k",))], False, None)}),
        ("from m import f\ng = f\n", {"m.f": ([], True, None)}),
        ("from m import f\nlist(map(f, []))\n", {"m.f": ([], True, None)}),
        ("from m import deco\n@deco\ndef g(): ...\n", {"m.deco": ([], True, None)}),
        ("from m import f\ndef g():\n    return f\n", {"m.f": ([], True, None)}),
        ("import m\nm.f().g()\n", {"m.f": ([CallShape()], False, None)}),
        ("import m\nm.C.method(1)\n", {"m.C.method": ([CallShape(1)], False, None)}),
        # a dunder a library may stop serving is a use like any other; __file__ is the module's
        ("import m\nprint(m.__version__)\n", {"m.__version__": ([], True, None)}),
        ("import m\nprint(m.__file__)\n", {"m": ([], True, None)}),
        ("import m\nm.__version__.split('.')\n", {"m.__version__": ([], True, None)}),
        ("import m\ngetattr(m, 'f')(1)\n", {"m.f": ([CallShape(1)], False, None)}),
        ("import m\ngetattr(m, name)\n", {"m": ([], True, "getattr")}),
        ("from m._impl import _x\n", {"m._impl._x": ([], True, "private")}),
        ("from m import *\n", {"m": ([], True, "star")}),
        ("import importlib\nz = importlib.import_module('a.b')\nz.f()\n",
         {"a.b.f": ([CallShape()], False, None)}),
        ("from . import sibling\nsibling.f()\n", {}),
    ],
)
def test_uses(source: str, expected: dict[str, tuple[list[CallShape], bool, str | None]]) -> None:
    found = uses(source)
    found = {k: v for k, v in found.items() if not k.startswith(("builtins", "importlib"))}
    assert found == expected


def test_modules_and_warnings() -> None:
    usage = analyze_source("import m.sub\nimport importlib\n__import__(n)\n"
                           "importlib.import_module(n)\nfrom x import *\n", "app.py")
    assert set(usage.modules) == {"m.sub", "importlib", "x"}
    assert usage.warnings == [
        "app.py:3: __import__ with a non-literal name: not checked",
        "app.py:4: importlib.import_module with a non-literal name: not checked",
        "app.py:5: from x import *: the names used cannot be seen",
    ]


def test_syntax_error_names_the_line() -> None:
    with pytest.raises(BadInputError) as info:
        analyze_source("x = 1\nif x\n", "app.py")
    assert str(info.value) == "app.py:2: syntax error: expected ':'"
    assert (info.value.path, info.value.line) == ("app.py", 2)


def test_follows_the_applications_own_modules(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("import helper\nhelper.run()\n")
    (tmp_path / "helper.py").write_text("import m\ndef run():\n    m.f(1)\n")
    (tmp_path / "unused.py").write_text("import n\nn.g()\n")
    usage = analyze([tmp_path / "app.py"], root=tmp_path, follow=True)
    assert sorted(usage.files) == ["app.py", "helper.py"]
    assert usage.uses["m.f"].calls == [CallShape(1)]
    assert usage.uses["m.f"].location == "helper.py:3"
    assert "n.g" not in usage.uses
