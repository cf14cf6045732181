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


@given(st.integers(0, 10**12).flatmap(lambda g: st.tuples(
    st.just(g),
    st.dictionaries(st.from_regex(r"[a-z0-9][a-z0-9.-]{0,20}", fullmatch=True),
                    st.integers(0, g), max_size=20))))
def test_round_trip(case: tuple[int, dict[str, int]]) -> None:
    import os
    import tempfile

    generation, libraries = case
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
