"""What a wheel's ``METADATA`` gives the store is held to the manifest reader's rules at
install: a ``Requires-Dist`` or ``Requires-Python`` with a NUL or another control character is
refused in one line naming the wheel and the field (exit 2), the store untouched, instead of
installing a version that then reads back as a corrupt index that repair will not adopt."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.clirun import siglink
from tests.store.conftest import build_wheel

Snapshot = Callable[[Path], dict[str, object]]


@pytest.mark.parametrize(("field", "kwargs", "char"), [
    ("Requires-Dist", {"requires": ("idna\x00>=2",)}, "U+0000"),
    ("Requires-Dist", {"requires": ("idna\x1b[31m",)}, "U+001B"),
    ("Requires-Dist", {"requires": ("idna>=2", "six\x7f")}, "U+007F"),
    ("Requires-Python", {"requires_python": ">=3.8\x00"}, "U+0000"),
    ("Requires-Python", {"requires_python": ">=3.8\x07"}, "U+0007"),
], ids=["dist-nul", "dist-escape", "dist-delete", "python-nul", "python-bell"])
def test_a_control_character_in_a_kept_field_is_refused(
    field: str, kwargs: dict[str, object], char: str, tmp_path: Path, snapshot: Snapshot,
) -> None:
    wheel = build_wheel(tmp_path / "w", "ctl", "1.0", **kwargs)  # type: ignore[arg-type]
    store = tmp_path / "store"
    assert siglink("install", "--no-deps", str(build_wheel(tmp_path / "ok", "fine", "1.0")),
                   "--store", str(store)).returncode == 0
    before = snapshot(store)
    done = siglink("install", "--no-deps", str(wheel), "--store", str(store))
    assert (done.returncode, done.stdout) == (2, ""), done.stderr
    assert done.stderr == (f"siglink: error: {wheel.name}: ctl-1.0.dist-info/METADATA: {field} "
                           f"holds a control character ({char}); refused\n")
    assert snapshot(store) == before
    assert siglink("list", "--store", str(store)).returncode == 0


def test_a_folded_field_and_a_tab_are_text(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path / "w", "folded", "1.0",
                        requires=("idna\n  >=2",), requires_python=">=3.8,\t<4")
    store = tmp_path / "store"
    done = siglink("install", "--no-deps", str(wheel), "--store", str(store))
    assert done.returncode == 0, done.stderr
    shown = siglink("show", "folded==1.0", "--store", str(store))
    assert shown.returncode == 0, shown.stderr


def test_exports_the_manifest_reader_would_refuse_are_refused_at_install(
    tmp_path: Path, snapshot: Snapshot,
) -> None:
    """A signature longer than a manifest may hold (64 KiB): refused at install, naming the
    wheel and the export, rather than stored as an index that no longer reads."""
    params = ", ".join(f"a{i}: int" for i in range(8000))
    wheel = build_wheel(tmp_path / "w", "longsig", "1.0",
                        {"longsig/__init__.py": f"def f({params}) -> None: ...\n"})
    store = tmp_path / "store"
    assert siglink("install", "--no-deps", str(build_wheel(tmp_path / "ok", "fine", "1.0")),
                   "--store", str(store)).returncode == 0
    before = snapshot(store)
    done = siglink("install", "--no-deps", str(wheel), "--store", str(store))
    assert (done.returncode, done.stdout) == (2, ""), done.stderr
    assert done.stderr == (
        f"siglink: error: {wheel.name}: its manifest: corrupt manifest: "
        "$.exports[\"longsig.f\"].signature.text: a string of 94898 characters (at most "
        "65536); refused\n")
    assert snapshot(store) == before
