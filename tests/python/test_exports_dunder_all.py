"""A computed ``__all__`` is evaluated as Python would build it, and never loses an export."""

from __future__ import annotations

from pathlib import Path

import pytest

from siglink.python._dunder_all import AllResult, evaluate_all
from siglink.python.exports import extract


def _other(local: str) -> tuple[str, ...] | None:
    return {"sub": ("g", "h"), "pkg.sub": ("g", "h")}.get(local)


@pytest.mark.parametrize(
    ("source", "names"),
    [
        ("__all__ = ['a', 'b']", ("a", "b")),
        ("__all__ = ('a',) + ('b',)", ("a", "b")),
        ("__all__ = ['f'] + list(sub.__all__)", ("f", "g", "h")),
        ("__all__ = [*sub.__all__, 'f']", ("g", "h", "f")),
        ("__all__ = sorted(pkg.sub.__all__)", ("g", "h")),
        ("__all__ = ['a']\n__all__ += ['b']\n__all__.extend(sub.__all__)", ("a", "b", "g", "h")),
        ("__all__ = ['a', 'b']\n__all__.append('c')\n__all__.remove('a')", ("b", "c")),
        ("x = 1", None),
    ],
)
def test_evaluable_forms(source: str, names: tuple[str, ...] | None) -> None:
    assert evaluate_all(source, _other) == AllResult(names)


@pytest.mark.parametrize(
    ("source", "line"),
    [
        ("import os\n__all__ = [n for n in dir() if not n.startswith('_')]", 2),
        ("__all__ = ['a']\n__all__ += unknown.__all__", 2),
        ("__all__ = ['a']\n__all__.insert(0, 'b')", 2),
    ],
)
def test_unreadable_forms_name_their_line(source: str, line: int) -> None:
    assert evaluate_all(source, _other) == AllResult(unreadable_line=line)


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "pkg"


def test_a_computed_all_keeps_every_export(tmp_path: Path) -> None:
    package = _tree(tmp_path, {
        "pkg/__init__.py": (
            "from . import sub\nfrom .sub import g, h\n"
            "__all__ = ['f'] + list(sub.__all__)\n"
            "def f(x: int) -> int:\n    return x\n"
        ),
        "pkg/sub.py": "__all__ = ['g', 'h']\ndef g(a): ...\ndef h(b, c=1): ...\n",
    })
    manifest = extract(package, name="pkg", version="1.0")
    assert {"pkg.f", "pkg.g", "pkg.h"} <= set(manifest.exports)
    assert manifest.diagnostics == ()


def test_an_unfollowed_all_falls_back_to_every_public_name(tmp_path: Path) -> None:
    package = _tree(tmp_path, {
        "pkg/__init__.py": (
            "import os\n__all__ = [n for n in dir() if not n.startswith('_')]\n"
            "def f() -> None: ...\n"
        ),
    })
    manifest = extract(package, name="pkg", version="1.0")
    assert set(manifest.exports) == {"pkg.f"}
    [diagnostic] = manifest.diagnostics
    assert str(diagnostic) == (
        "pkg/__init__.py:2: __all__ is computed in a way siglink does not follow; "
        "every public name of the module is exported instead"
    )


def test_comprehension_over_a_literal() -> None:
    assert evaluate_all('__all__ = [n for n in ("a", "b")]', _other).names == ("a", "b")
    assert evaluate_all('__all__ = list(n for n in ["a"]) + ["c"]', _other).names == ("a", "c")
    assert evaluate_all('__all__ = [n for n in ("a",) if n]', _other).unreadable_line == 1
    assert evaluate_all('__all__ = [n.upper() for n in ("a",)]', _other).unreadable_line == 1
