"""One file, one spelling: a wheel whose member names could put two texts on one unpacked
file (``pkg/./x.py``, ``pkg//x.py``, ``PKG/x.py`` beside ``pkg/x.py``, a file where another
member needs a directory) is refused by ``exports`` and ``install`` in one line naming the
member or both members, exit 2, the store untouched; and the exports a store version records
are read from the very bytes it keeps."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.clirun import siglink
from tests.store.test_wheel_hostile import INIT, write_wheel

from siglink.store import Store

Snapshot = Callable[[Path], dict[str, object]]
OTHER = b"def other(count: int) -> int:\n    return count\n"


@pytest.mark.parametrize(("members", "expected"), [
    ({"evil/__init__.py": INIT, "evil/./__init__.py": OTHER},
     "member 'evil/./__init__.py' has an empty or '.' path segment; refused"),
    ({"evil/./__init__.py": OTHER, "evil/__init__.py": INIT},
     "member 'evil/./__init__.py' has an empty or '.' path segment; refused"),
    ({"evil/__init__.py": INIT, "evil//__init__.py": OTHER},
     "member 'evil//__init__.py' has an empty or '.' path segment; refused"),
    ({"evil/__init__.py": INIT, "./evil/x.py": OTHER},
     "member './evil/x.py' has an empty or '.' path segment; refused"),
    ({"evil/__init__.py": INIT, "evil\\x.py": OTHER},
     "member 'evil\\\\x.py' contains a backslash (a path separator on Windows); refused"),
    ({"evil/__init__.py": INIT, "evil/\x1bx.py": OTHER},
     "member 'evil/\\x1bx.py' contains a control character; refused"),
    ({"evil/__init__.py": INIT, "EVIL/__init__.py": OTHER},
     "members 'evil/__init__.py' and 'EVIL/__init__.py' collide when unpacked; refused"),
    ({"evil/caf\u00e9.py": INIT, "evil/cafe\u0301.py": OTHER, "evil/__init__.py": b""},
     "members 'evil/caf\u00e9.py' and 'evil/cafe\u0301.py' collide when unpacked; refused"),
    ({"evil/\u015b.py": INIT, "evil/\u017f\u0301.py": OTHER, "evil/__init__.py": b""},
     "members 'evil/\u015b.py' and 'evil/\u017f\u0301.py' collide when unpacked; refused"),
    ({"evil/__init__.py": INIT, "evil/__init__.py/x.py": OTHER},
     "members 'evil/__init__.py' and 'evil/__init__.py/x.py' collide when unpacked; refused"),
], ids=["dot-after", "dot-before", "double-slash", "leading-dot", "backslash", "control",
        "case", "unicode-composition", "fold-then-compose", "file-as-directory"])
def test_two_spellings_of_one_file_are_refused(
    members: dict[str, bytes], expected: str, tmp_path: Path, snapshot: Snapshot,
) -> None:
    wheel = write_wheel(tmp_path / "w", members)
    store = tmp_path / "store"
    before = snapshot(store)
    for argv in (["exports", str(wheel)], ["install", str(wheel), "--store", str(store)]):
        done = siglink(*argv)
        assert done.returncode == 2, (argv, done.stderr)
        label = str(wheel) if argv[0] == "exports" else wheel.name
        assert done.stderr == f"siglink: error: {label}: {expected}\n", argv
        assert done.stdout == ""
    assert snapshot(store) == before


def test_purelib_members_collide_where_they_are_unpacked(tmp_path: Path) -> None:
    wheel = write_wheel(tmp_path / "w", {"evil/__init__.py": INIT,
                                         "evil-1.0.data/purelib/Evil/__init__.py": OTHER})
    done = siglink("install", str(wheel), "--store", str(tmp_path / "store"))
    assert (done.returncode, done.stderr) == (2, (
        f"siglink: error: {wheel.name}: members 'evil/__init__.py' and "
        "'evil-1.0.data/purelib/Evil/__init__.py' collide when unpacked; refused\n"))
    assert not (tmp_path / "store" / "libs").exists()


def test_exports_are_read_from_the_files_the_store_keeps(tmp_path: Path) -> None:
    """A package shipped under ``NAME.data/purelib`` is unpacked to the top level; its exports
    are those of the stored file."""
    wheel = write_wheel(tmp_path / "w", {"evil-1.0.data/purelib/evil/__init__.py": INIT})
    store = tmp_path / "store"
    done = siglink("install", str(wheel), "--store", str(store))
    assert done.returncode == 0, done.stderr
    assert (store / "libs/evil/1.0/evil/__init__.py").read_bytes() == INIT
    manifest = Store(store).manifest("evil", "1.0")
    assert sorted(manifest.exports) == ["evil.hello"]
    assert str(manifest.exports["evil.hello"].signature) == "(name: str) -> str"
