"""Hostile wheels: a zip bomb, names that are not UTF-8, a RECORD that is not UTF-8, malformed
or lying, paths with ``..``, absolute paths, symbolic links. ``exports`` and ``install`` refuse
each with one line and exit 2, and the store is left byte-for-byte as it was; the bomb is
refused quickly with bounded memory."""

from __future__ import annotations

import ast
import base64
import hashlib
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from siglink._unzip import Budget, UnpackLimitError, UnpackLimits
from siglink.cli.main import main
from siglink.demo import wheels
from siglink.errors import BadInputError
from siglink.store import wheel as store_wheel

Snapshot = Callable[[Path], dict[str, object]]
WheelMaker = Callable[..., Path]

METADATA = b"Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n"
WHEEL = b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
INIT = b"def hello(name: str) -> str:\n    return name\n"


def _digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(
        b"=").decode()


def write_wheel(
    folder: Path,
    members: dict[str, bytes],
    *,
    record: bytes | None = None,
    symlinks: tuple[str, ...] = (),
) -> Path:
    """``evil-1.0-py3-none-any.whl`` holding ``members`` and a correct RECORD (or ``record``);
    ``symlinks`` are members stored with the symbolic-link mode."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {**members, "evil-1.0.dist-info/METADATA": METADATA,
             "evil-1.0.dist-info/WHEEL": WHEEL}
    if record is None:
        lines = [f"{name},{_digest(data)},{len(data)}" for name, data in files.items()]
        record = ("\n".join([*lines, "evil-1.0.dist-info/RECORD,,"]) + "\n").encode()
    path = folder / "evil-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in {**files, "evil-1.0.dist-info/RECORD": record}.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o120777 if name in symlinks else 0o100644) << 16
            archive.writestr(info, data)
    return path


def with_raw_name(wheel: Path, placeholder: str, raw: bytes) -> Path:
    """Rename member ``placeholder`` to the bytes ``raw`` (same length), flagged as UTF-8 as
    the zip format allows, in both its local header and the central directory."""
    assert len(raw) == len(placeholder.encode())
    data = wheel.read_bytes()
    assert data.count(placeholder.encode()) == 2
    data = data.replace(placeholder.encode(), raw)
    patched = bytearray(data)
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (at := data.find(signature, start)) != -1:
            patched[at + flag_at + 1] |= 0x08  # bit 11 (0x800): the name is UTF-8
            start = at + 4
    wheel.write_bytes(bytes(patched))
    return wheel


def hostile_wheels(folder: Path) -> Iterator[tuple[str, Path, str]]:
    """(case, wheel, what the one-line error must say)."""
    good = {"evil/__init__.py": INIT}
    yield ("name not UTF-8",
           with_raw_name(write_wheel(folder / "utf8", {**good, "evil/AAAA.py": b"x = 1\n"}),
                         "evil/AAAA.py", b"evil/\xff\xfe\xfd\xfc.py"),
           "not valid UTF-8")
    record = (f"evil/__init__.py,{_digest(INIT)},{len(INIT)}\n").encode() + b"\xff\xfe\n"
    yield ("RECORD not UTF-8", write_wheel(folder / "record-utf8", good, record=record),
           "RECORD")
    yield ("RECORD malformed", write_wheel(folder / "record-bad", good,
                                           record=b'evil/__init__.py,"sha256=abc\x00\n'),
           "RECORD")
    lying = "".join(
        f"{name},{_digest(b'other' if name == 'evil/__init__.py' else data)},{len(data)}\n"
        for name, data in {**good, "evil-1.0.dist-info/METADATA": METADATA,
                           "evil-1.0.dist-info/WHEEL": WHEEL}.items())
    yield ("RECORD hash differs",
           write_wheel(folder / "record-lies", good,
                       record=(lying + "evil-1.0.dist-info/RECORD,,\n").encode()),
           "evil/__init__.py")
    yield ("path with ..", write_wheel(folder / "dotdot", {**good, "evil/../../x.py": b""}),
           "..")
    yield ("absolute path", write_wheel(folder / "absolute", {**good, "/tmp/evil.py": b""}),
           "absolute")
    yield ("symbolic link", write_wheel(folder / "symlink", {**good, "evil/link": b"/etc"},
                                        symlinks=("evil/link",)),
           "symbolic link")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile") / "store"
    good = wheels.make_wheel(root.parent / "w", "textkit", "1.0.0",
                             {"textkit/__init__.py": "def wrap(text: str) -> str: ...\n"})
    assert main(["install", str(good), "--store", str(root)]) == 0
    return root


@pytest.mark.parametrize("case", ["name not UTF-8", "RECORD not UTF-8", "RECORD malformed",
                                  "RECORD hash differs", "path with ..", "absolute path",
                                  "symbolic link"])
def test_hostile_wheel_is_refused_with_one_line(
    case: str, store: Path, tmp_path: Path, snapshot: Snapshot,
    capsys: pytest.CaptureFixture[str],
) -> None:
    wheel, expected = next((w, e) for c, w, e in hostile_wheels(tmp_path) if c == case)
    capsys.readouterr()
    before = snapshot(store)
    for argv in (["exports", str(wheel)], ["install", str(wheel), "--store", str(store)]):
        assert main(argv) == 2, argv
        out, err = capsys.readouterr()
        assert out == ""
        assert len(err.splitlines()) == 1, err
        assert err.startswith("siglink: error: ") and expected in err, err
        assert wheel.name in err
    assert snapshot(store) == before


def _zeros_wheel(folder: Path, size: int) -> Path:
    """A wheel whose member ``evil/zeros.bin`` inflates to ``size`` zero bytes, written as a
    stream so neither this test nor the file holds them (deflate packs zeros ~1000:1)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "evil-1.0-py3-none-any.whl"
    block = bytes(1 << 20)
    digest = hashlib.sha256()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("evil/__init__.py", INIT)
        with archive.open("evil/zeros.bin", "w", force_zip64=True) as out:
            for _ in range(size // len(block)):
                out.write(block)
                digest.update(block)
        archive.writestr("evil-1.0.dist-info/METADATA", METADATA)
        archive.writestr("evil-1.0.dist-info/WHEEL", WHEEL)
        zeros = "sha256=" + base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()
        archive.writestr("evil-1.0.dist-info/RECORD", "\n".join([
            f"evil/__init__.py,{_digest(INIT)},{len(INIT)}",
            f"evil-1.0.dist-info/METADATA,{_digest(METADATA)},{len(METADATA)}",
            f"evil-1.0.dist-info/WHEEL,{_digest(WHEEL)},{len(WHEEL)}",
            f"evil/zeros.bin,{zeros},{size}",
            "evil-1.0.dist-info/RECORD,,", ""]))
    return path


_MEASURE = (
    "import resource, subprocess, sys\n"
    "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "print(r.returncode, peak, repr(r.stderr))\n"
)


@pytest.mark.slow
def test_a_zip_bomb_is_refused_quickly_with_bounded_memory(
    tmp_path: Path, store: Path, snapshot: Snapshot
) -> None:
    wheel = _zeros_wheel(tmp_path / "bomb", 1 << 30)
    assert wheel.stat().st_size < 2 << 20  # a 1 GiB member in a wheel of about 1 MB
    before = snapshot(store)
    for argv in (["exports", str(wheel)], ["install", str(wheel), "--store", str(store)]):
        start = time.monotonic()
        measured = subprocess.run(
            [sys.executable, "-c", _MEASURE, sys.executable, "-m", "siglink", *argv],
            capture_output=True, text=True, check=True, env={"NO_COLOR": "1", "PATH": "/usr/bin"})
        elapsed = time.monotonic() - start
        code, peak_kib, err = measured.stdout.split(" ", 2)
        stderr = ast.literal_eval(err)  # the repr printed above
        assert int(code) == 2, stderr
        label = str(wheel) if argv[0] == "exports" else wheel.name
        compressed = f"{zipfile.ZipFile(wheel).getinfo('evil/zeros.bin').compress_size / 1024:.1f}"
        assert stderr == (
            f"siglink: error: {label}: member 'evil/zeros.bin' declares more than 200 times "
            f"its compressed size ({compressed} KiB); refused (the limit is set by "
            "SIGLINK_UNPACK_MAX_RATIO)\n")
        assert int(peak_kib) < 300 * 1024, f"peak RSS {int(peak_kib) // 1024} MB"
        assert elapsed < 20, f"{argv[0]} took {elapsed:.1f} s"
    assert snapshot(store) == before


def test_limits_come_from_the_environment_and_are_checked_as_bytes_come_out(
    tmp_path: Path,
) -> None:
    wheel = write_wheel(tmp_path, {"evil/__init__.py": INIT, "evil/data.bin": bytes(5000)})
    limits = UnpackLimits.from_environment({"SIGLINK_UNPACK_MAX_MEMBER": "4K"})
    assert limits == UnpackLimits(member_bytes=4096)
    with zipfile.ZipFile(wheel) as archive:
        info = archive.getinfo("evil/data.bin")
        with pytest.raises(UnpackLimitError) as caught:
            Budget("evil.whl", limits).read(archive, info)
        assert caught.value.member == "evil/data.bin"
        assert str(caught.value) == (
            "evil.whl: member 'evil/data.bin' declares more than 4 KiB; refused (the limit is "
            "set by SIGLINK_UNPACK_MAX_MEMBER)")
        # Members are counted together against the total.
        both = Budget("evil.whl", UnpackLimits(total_bytes=5000))
        both.read(archive, archive.getinfo("evil/__init__.py"))
        with pytest.raises(UnpackLimitError, match=r"past 4\.9 KiB uncompressed"):
            both.read(archive, info)
        # A header that understates the size: the bytes beyond it never come out.
        info.file_size = 10
        with pytest.raises(BadInputError, match=r"member 'evil/data\.bin' is corrupt"):
            Budget("evil.whl", limits).read(archive, info)
    with pytest.raises(BadInputError, match=r"SIGLINK_UNPACK_MAX_TOTAL='lots': expected a "):
        UnpackLimits.from_environment({"SIGLINK_UNPACK_MAX_TOTAL": "lots"})


def test_top_level_names_come_from_every_kind_of_module(make_wheel: WheelMaker) -> None:
    wheel = make_wheel("mixed", "1.0", {
        "mixed/__init__.py": "",
        "os/__init__.py": "",
        "json.py": "",
        "_speed.cpython-311-x86_64-linux-gnu.so": b"\x7fELF",
        "mixed-1.0.data/purelib/extra/__init__.py": "",
        "mixed-1.0.data/scripts/tool": "#!/bin/sh\n",
        "__pycache__/json.cpython-311.pyc": b"",
        "README.txt": "",
    })
    info = store_wheel.validate(wheel)
    assert info.top_level == ("_speed", "extra", "json", "mixed", "os")
