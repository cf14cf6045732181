"""Hostile source archives: a tar bomb (one huge member, or a stream of headers), links,
devices, absolute and ``..`` members. ``siglink exports`` refuses each with one line and exit 2,
quickly and with bounded memory, and nothing is written outside its temporary directory."""

from __future__ import annotations

import ast
import io
import re
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from siglink._unzip import UnpackLimitError, UnpackLimits, extract
from siglink.cli.main import main
from siglink.errors import BadInputError

SETUP = b"from setuptools import setup\nsetup(name='bomb', version='1.0')\n"


def _add(archive: tarfile.TarFile, name: str, data: bytes = b"", **fields: object) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in fields.items():
        setattr(info, key, value)
    archive.addfile(info, io.BytesIO(data) if data else None)


class _Zeros(io.RawIOBase):
    """``size`` zero bytes, produced as they are read (the test never holds the bomb)."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self.left)
        buffer[:n] = bytes(n)
        self.left -= n
        return n


def tar_bomb(folder: Path, size: int = 1 << 30) -> Path:
    """``bomb-1.0.tar.gz``: a setup.py and a member of ``size`` zero bytes (about 1 MB on disk
    for 1 GiB)."""
    path = folder / "bomb-1.0.tar.gz"
    with tarfile.open(path, "w:gz", compresslevel=9) as archive:
        _add(archive, "bomb-1.0/setup.py", SETUP)
        info = tarfile.TarInfo("bomb-1.0/bomb/data.bin")
        info.size = size
        archive.addfile(info, io.BufferedReader(_Zeros(size), 1 << 20))
    return path


def test_a_tar_bomb_is_refused_while_it_inflates(tmp_path: Path) -> None:
    bomb = tar_bomb(tmp_path)
    assert bomb.stat().st_size < 2 << 20
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(UnpackLimitError) as caught:
        extract(bomb, out, "bomb-1.0.tar.gz")
    assert re.fullmatch(
        r"bomb-1\.0\.tar\.gz: member 'bomb-1\.0/bomb/data\.bin' takes the archive to more "
        r"than 200 times the archive's compressed size \(\d+(\.\d)? KiB\); refused \(the "
        r"limit is set by SIGLINK_UNPACK_MAX_RATIO\)", str(caught.value)), str(caught.value)
    assert caught.value.member == "bomb-1.0/bomb/data.bin"
    written = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    assert written < 300 << 20  # stopped at the ratio, long before 1 GiB


def test_member_and_total_limits_apply_to_tar_members(tmp_path: Path) -> None:
    path = tmp_path / "big-1.0.tar"
    with tarfile.open(path, "w") as archive:
        _add(archive, "big-1.0/a.bin", bytes(3000))
        _add(archive, "big-1.0/b.bin", bytes(3000))
    (tmp_path / "one").mkdir()
    with pytest.raises(UnpackLimitError) as caught:
        extract(path, tmp_path / "one", "big-1.0.tar", UnpackLimits(member_bytes=2048))
    assert str(caught.value) == (
        "big-1.0.tar: member 'big-1.0/a.bin' declares more than 2 KiB; refused (the limit is "
        "set by SIGLINK_UNPACK_MAX_MEMBER)")
    (tmp_path / "two").mkdir()
    with pytest.raises(UnpackLimitError, match=r"member 'big-1\.0/b\.bin' takes the archive "
                                               r"past 4\.9 KiB uncompressed"):
        extract(path, tmp_path / "two", "big-1.0.tar", UnpackLimits(total_bytes=5000))
    (tmp_path / "three").mkdir()
    extract(path, tmp_path / "three", "big-1.0.tar")
    assert (tmp_path / "three/big-1.0/b.bin").read_bytes() == bytes(3000)


def test_a_stream_of_headers_counts_against_the_ratio(tmp_path: Path) -> None:
    """Empty members cost 512 bytes of header each and compress to almost nothing."""
    path = tmp_path / "many-1.0.tar.gz"
    with tarfile.open(path, "w:gz", compresslevel=9) as archive:
        for n in range(6000):
            _add(archive, f"many-1.0/{'x' * 90}{n:06d}")
    (tmp_path / "out").mkdir()
    with pytest.raises(UnpackLimitError, match="SIGLINK_UNPACK_MAX_RATIO"):
        extract(path, tmp_path / "out", "many-1.0.tar.gz", UnpackLimits(ratio=20))


@pytest.mark.parametrize(("member", "fields", "says"), [
    ("pkg-1.0/link", {"type": tarfile.SYMTYPE, "linkname": "/etc/passwd"},
     "member 'pkg-1.0/link' is a symbolic link; refused"),
    ("pkg-1.0/hard", {"type": tarfile.LNKTYPE, "linkname": "pkg-1.0/setup.py"},
     "member 'pkg-1.0/hard' is a hard link; refused"),
    ("pkg-1.0/dev", {"type": tarfile.CHRTYPE, "devmajor": 1, "devminor": 3},
     "member 'pkg-1.0/dev' is a device; refused"),
    ("pkg-1.0/fifo", {"type": tarfile.FIFOTYPE}, "member 'pkg-1.0/fifo' is a FIFO; refused"),
    ("/tmp/abs.py", {}, "unsafe member path '/tmp/abs.py'; refused"),
    ("pkg-1.0/../../escape.py", {}, "unsafe member path 'pkg-1.0/../../escape.py'; refused"),
])
def test_links_devices_and_escaping_paths_are_refused_by_exports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], member: str,
    fields: dict[str, object], says: str,
) -> None:
    path = tmp_path / "pkg-1.0.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        _add(archive, "pkg-1.0/setup.py", SETUP)
        _add(archive, member, **fields)
    assert main(["exports", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"siglink: error: {path}: {says}", err
    assert not (tmp_path.parent / "escape.py").exists()


def test_zip_sdist_links_and_bombs_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "z-1.0.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("z-1.0/setup.py", SETUP)
        info = zipfile.ZipInfo("z-1.0/link")
        info.external_attr = 0o120777 << 16
        archive.writestr(info, "/etc/passwd")
    (tmp_path / "out").mkdir()
    with pytest.raises(BadInputError, match=r"member 'z-1\.0/link' is a symbolic link; refused"):
        extract(path, tmp_path / "out", "z-1.0.zip")
    with zipfile.ZipFile(bomb := tmp_path / "zb-1.0.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zb-1.0/data.bin", bytes(8 << 20))
    (tmp_path / "out2").mkdir()
    with pytest.raises(UnpackLimitError, match="SIGLINK_UNPACK_MAX_RATIO"):
        extract(bomb, tmp_path / "out2", "zb-1.0.zip")


_MEASURE = (  # run by a small interpreter, so that the peak is siglink's, not pytest's
    "import resource, subprocess, sys\n"
    "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "print(r.returncode, peak, repr(r.stderr))\n"
)


def test_exports_of_a_tar_bomb_exits_2_quickly_with_bounded_memory(tmp_path: Path) -> None:
    bomb = tar_bomb(tmp_path)
    start = time.monotonic()
    measured = subprocess.run(
        [sys.executable, "-c", _MEASURE, sys.executable, "-m", "siglink", "exports", str(bomb)],
        capture_output=True, text=True, check=True, timeout=120,
        env={"NO_COLOR": "1", "PATH": "/usr/bin"})
    elapsed = time.monotonic() - start
    code, peak_kib, err = measured.stdout.split(" ", 2)
    stderr = ast.literal_eval(err)  # the repr printed above
    assert int(code) == 2, stderr
    assert stderr.endswith("refused (the limit is set by SIGLINK_UNPACK_MAX_RATIO)\n"), stderr
    assert stderr.count("\n") == 1
    assert int(peak_kib) < 300 * 1024, f"peak RSS {int(peak_kib) // 1024} MB"
    assert elapsed < 30, f"exports took {elapsed:.1f} s"
