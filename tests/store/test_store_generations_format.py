"""The generations file format the warm path reads (``siglink._layout.read_generations``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from siglink._layout import ALL, format_generations, read_generations


@pytest.mark.parametrize(("text", "expected"), [
    (b"7\n", (7, {ALL: 7})),
    (b"7\n* 5\ntextkit 7\nidna 3\n", (7, {ALL: 5, "textkit": 7, "idna": 3})),
    (b"0\n* 0\n", (0, {ALL: 0})),
    (b"", (-1, {})),
    (b"x\n", (-1, {})),
    (b"7\ntextkit\n", (-1, {})),
    (b"7\ntextkit 8\n", (-1, {})),  # no library changed after the store did
    (b"7\ntextkit -1\n", (-1, {})),
    (b"7\ntextkit 1\ntextkit 2\n", (-1, {})),
    (b"7\ntext kit 1\n", (-1, {})),
    (b"7\n\xff 1\n", (-1, {})),
])
def test_read(tmp_path: Path, text: bytes, expected: tuple[int, dict[str, int]]) -> None:
    path = tmp_path / "generation"
    path.write_bytes(text)
    assert read_generations(str(path)) == expected


def test_absent_and_unreadable(tmp_path: Path) -> None:
    assert read_generations(str(tmp_path / "generation")) == (0, {ALL: 0})
    (tmp_path / "generation").mkdir()
    assert read_generations(str(tmp_path / "generation")) == (-1, {})


@given(st.integers(0, 10**12), st.dictionaries(
    st.text("abcdefghijklmnopqrstuvwxyz0123456789.-", min_size=1, max_size=20),
    st.integers(0, 10**12), max_size=20))
def test_round_trip(last: int, libraries: dict[str, int]) -> None:
    import os
    import tempfile

    generation = max([last, *libraries.values()])
    fd, path = tempfile.mkstemp()
    try:
        os.write(fd, format_generations(generation, libraries))
        os.close(fd)
        assert read_generations(path) == (generation, {ALL: generation, **libraries})
    finally:
        os.unlink(path)


@given(st.binary(max_size=200))
def test_any_bytes_never_raise(data: bytes) -> None:
    import os
    import tempfile

    fd, path = tempfile.mkstemp()
    try:
        os.write(fd, data)
        os.close(fd)
        generation, libraries = read_generations(path)
        assert generation >= -1 and all(0 <= g <= generation for g in libraries.values())
    finally:
        os.unlink(path)


def test_the_store_advances_only_what_changed(tmp_path: Path) -> None:
    """Each change moves the global generation, the distributions it touched, and ``*`` only
    when the set of distributions or top-level modules changed."""
    from siglink.demo.wheels import make_wheel
    from siglink.store import Store

    def wheel(name: str, version: str, modules: tuple[str, ...] = ()) -> str:
        files = {f"{m}/__init__.py": "def f(x): ...\n" for m in modules or (name,)}
        return str(make_wheel(tmp_path / "wheels", name, version, files))

    root = tmp_path / "store"
    store = Store(root)

    def generations() -> tuple[int, dict[str, int]]:
        found = read_generations(str(root / "generation"))
        assert found == store.generations()
        return found

    store.install([wheel("textkit", "1.0.0")])
    assert generations() == (1, {ALL: 1, "textkit": 1})
    store.install([wheel("otherlib", "1.0")])
    assert generations() == (2, {ALL: 2, "textkit": 1, "otherlib": 2})
    store.install([wheel("textkit", "1.0.1")])  # same modules: "*" stays
    assert generations() == (3, {ALL: 2, "textkit": 3, "otherlib": 2})
    store.yank("textkit", "1.0.0", "CVE-1")
    assert generations() == (4, {ALL: 2, "textkit": 4, "otherlib": 2})
    store.yank("textkit", "1.0.0", "CVE-1")  # the same yank changes nothing
    assert generations() == (4, {ALL: 2, "textkit": 4, "otherlib": 2})
    store.install([wheel("otherlib", "2.0", ("otherlib", "extra"))])  # a new module name
    assert generations() == (5, {ALL: 5, "textkit": 4, "otherlib": 5})
    store.remove("textkit", "1.0.0")
    assert generations() == (6, {ALL: 5, "textkit": 6, "otherlib": 5})
    store.remove("textkit", "1.0.1")  # textkit gone: the set of distributions changed
    assert generations() == (7, {ALL: 7, "textkit": 7, "otherlib": 5})
    store.bump()
    assert generations() == (8, {ALL: 8, "textkit": 8, "otherlib": 8})
