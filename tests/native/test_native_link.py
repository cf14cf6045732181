"""Linking C libraries by signature: sl_demo 1.0/1.1/2.0, libz and libsqlite3."""

from __future__ import annotations

import array
import ctypes
import sqlite3
import subprocess
import zlib
from pathlib import Path

import pytest
from native_clib import header

from siglink.contracts.verdict import Severity
from siglink.errors import LinkError, NativeError
from siglink.native import NativeLinkError, find_library, link
from siglink.native.bind import UnverifiedLinkError, UnverifiedLinkWarning
from siglink.native.elf import ElfFile

ZLIB_H = Path("/usr/include/zlib.h")
ZLIB_DECLS = """
typedef unsigned char Bytef;
typedef unsigned long uLong;
typedef unsigned long uLongf;
typedef unsigned int uInt;
const char *zlibVersion(void);
uLong crc32(uLong crc, const Bytef *buf, uInt len);
uLong adler32(uLong adler, const Bytef *buf, uInt len);
uLong compressBound(uLong sourceLen);
int compress2(Bytef *dest, uLongf *destLen, const Bytef *source, uLong sourceLen, int level);
int uncompress(Bytef *dest, uLongf *destLen, const Bytef *source, uLong sourceLen);
"""


# -- sl_demo: a library compiled by the tests in three versions ---------------------------


def test_consumer_of_1_0_links_1_1_with_the_compatible_changes_recorded(
    sl_demo: dict[str, Path],
) -> None:
    lib = link(sl_demo["1.1"], header("1.0"))
    assert lib.verdict.ok and lib.source == "embedded"
    found = {(p.rule, p.path, p.severity) for p in lib.verdict.problems}
    assert found == {
        ("C7", "sl_checksum param 1 (data)", Severity.HARMLESS),
        ("C13", "sl_next_color param 1 (c) enum sl_color", Severity.HARMLESS),
        ("C13", "sl_next_color return enum sl_color", Severity.REVIEW),
        ("C18", "SL_DEMO_VERSION", Severity.REVIEW),  # compiled into the consumer as 1.0
    }
    assert not hasattr(lib, "sl_sub")  # added in 1.1, not something this consumer declared
    assert lib.sl_version_string() == b"sl_demo 1.1"


def test_consumer_of_1_0_is_refused_2_0_with_every_reason(sl_demo: dict[str, Path]) -> None:
    with pytest.raises(NativeLinkError) as info:
        link(sl_demo["2.0"], header("1.0"))
    error = info.value
    assert isinstance(error, LinkError) and isinstance(error, NativeError)
    assert error.exit_code == 127
    assert error.symbols == ("sl_scale", "sl_record_init", "sl_record_level", "sl_wire_sum")
    lines = error.message.splitlines()
    assert lines[0] == f"cannot link libsl_demo.so ({sl_demo['2.0']})"
    assert lines[1] == (
        "  C4 sl_scale param 2 (factor): expected int, found long; "
        "size 4 became 8; alignment 4 became 8 (incompatible)"
    )
    record = [ln for ln in lines if ln.startswith("  C15 struct sl_record:")]
    assert len(record) == 1, lines  # once, however many functions reach it
    assert "; field score inserted at offset 8; weight moved 8\u219216; name moved 16\u219224;" \
        in record[0]
    assert "; size 56\u219264 while the consumer allocates it; reached by sl_record_init " \
        "param 1 (r), sl_record_level param 1 (r) (incompatible)" in record[0]
    wire = [ln for ln in lines if ln.startswith("  C15 struct sl_wire:")]
    assert len(wire) == 1 and "value moved 4\u21921; count moved 8\u21925" in wire[0]
    assert "reached by sl_wire_sum param 1 (w)" in wire[0]
    assert not any("-> struct" in ln for ln in lines), lines  # no per-function repeats
    rules = {p.rule for p in error.verdict.incompatible}
    assert rules == {"C4", "C15"}


def test_consumer_of_2_0_links_2_0_and_the_packed_struct_matches_gcc(
    sl_demo: dict[str, Path], tmp_path: Path
) -> None:
    lib = link(sl_demo["2.0"], header("2.0"))
    assert lib.verdict.identical
    probe = tmp_path / "offsets.c"
    probe.write_text(
        f'#include "{header("2.0")}"\n#include <stdio.h>\n#include <stddef.h>\n'
        'int main(void) { printf("%zu %zu %zu %zu %zu\\n", offsetof(struct sl_wire, tag), '
        "offsetof(struct sl_wire, value), offsetof(struct sl_wire, count), "
        "sizeof(struct sl_wire), offsetof(struct sl_record, weight)); return 0; }\n"
    )
    subprocess.run(["gcc", "-o", str(tmp_path / "offsets"), str(probe)], check=True)
    said = subprocess.run([str(tmp_path / "offsets")], capture_output=True, text=True,
                          check=True).stdout.split()
    wire = lib.sl_wire
    assert [str(wire.tag.offset), str(wire.value.offset), str(wire.count.offset),
            str(ctypes.sizeof(wire)), str(lib.sl_record.weight.offset)] == said
    assert said[:4] == ["0", "1", "5", "7"]
    assert lib.sl_wire_sum(wire(1, 20, 300)) == 321
    assert lib.sl_scale(3, 2**40) == 3 * 2**40  # the long parameter


def test_calls_structs_enums_buffers_and_variadics(sl_demo: dict[str, Path]) -> None:
    lib = link(sl_demo["1.0"], header("1.0"))
    assert lib.sl_add(2, 40) == 42
    assert lib.sl_sum(4, 1, 2, 3, 4) == 10
    a, b = lib.sl_point(1, 2), lib.sl_point(7, 10)
    assert lib.sl_manhattan(a, b) == 14
    mid = lib.sl_mid(a, b)
    assert (mid.x, mid.y) == (4, 6)
    record = lib.struct_sl_record()
    lib.sl_record_init(ctypes.byref(record), 13, b"thirteen")
    assert (record.id, record.weight, record.name) == (13, 19.5, b"thirteen")
    assert (record.flags, record.level, lib.sl_record_level(record)) == (7, 13, 13)
    assert (lib.SL_RED, lib.SL_GREEN, lib.SL_BLUE) == (0, 1, 4)
    assert lib.sl_next_color(lib.SL_GREEN) == lib.SL_BLUE
    assert (lib.SL_DEMO_VERSION, lib.SL_NAME_MAX, lib.SL_FLAG_ALL) == (100, 32, 7)
    out = bytearray(5)
    lib.sl_fill(out, 5, 9)
    assert out == bytearray(b"\t" * 5)
    view = memoryview(bytearray(3))
    lib.sl_fill(view, 3, 1)
    assert bytes(view) == b"\x01\x01\x01"
    expected = 0
    for ch in b"abc":
        expected = expected * 31 + ch
    assert lib.sl_checksum(bytearray(b"abc"), 3) == expected


def test_buffers_take_what_a_user_expects(sl_demo: dict[str, Path]) -> None:
    """A const pointee reads any buffer; a pointee the library writes refuses immutable ones."""
    lib = link(sl_demo["1.1"], header("1.1"))  # 1.1: sl_checksum takes const unsigned char *
    expected = 0
    for ch in b"bcd":
        expected = expected * 31 + ch
    data = b"abcde"
    for buffer in (data[1:4], bytearray(b"bcd"), memoryview(b"bcd"), memoryview(data)[1:4],
                   memoryview(bytearray(data))[1:4], (ctypes.c_char * 3).from_buffer_copy(b"bcd")):
        assert lib.sl_checksum(buffer, 3) == expected, buffer
    assert lib.sl_checksum(None, 0) == 0
    with pytest.raises(ctypes.ArgumentError) as info:
        lib.sl_fill(b"abc", 3, 1)
    assert str(info.value) == (
        "argument 1: TypeError: sl_fill() param 1 (out) is written by the library "
        "(unsigned char *, not const): bytes are immutable; pass a bytearray, a writable "
        "memoryview or a ctypes buffer"
    )
    with pytest.raises(ctypes.ArgumentError, match=r"sl_fill\(\) param 1 \(out\) is written "
                       r"by the library \(unsigned char \*, not const\): a read-only "
                       "buffer was given"):
        lib.sl_fill(memoryview(b"abc"), 3, 1)
    with pytest.raises(ctypes.ArgumentError) as info:
        lib.sl_fill("abc", 3, 1)
    assert str(info.value) == (
        "argument 1: TypeError: sl_fill() param 1 (out) (unsigned char *): expected a writable "
        "buffer (bytearray, memoryview, ctypes data), got str")
    with pytest.raises(ctypes.ArgumentError, match=r"sl_checksum\(\) param 1 \(data\) "
                       r"\(const unsigned char \*\): expected a buffer \(bytes, bytearray"):
        lib.sl_checksum(3.5, 3)
    numbers = array.array("B", b"bcd")  # any buffer: array.array, mmap, numpy arrays
    assert lib.sl_checksum(numbers, 3) == expected
    lib.sl_fill(numbers, 3, 2)
    assert numbers.tobytes() == b"\2\2\2"
    target = bytearray(6)
    lib.sl_fill(memoryview(target)[2:5], 3, 7)  # a slice writes into its own bytes only
    assert target == bytearray(b"\0\0\7\7\7\0")


def test_callback_through_cfunctype_is_kept_referenced(sl_demo: dict[str, Path]) -> None:
    lib = link(sl_demo["1.1"], header("1.0"))
    handle = lib.sl_open(8)
    for value in (3, 5, 7):
        lib.sl_push(handle, value)
    seen: list[int] = []

    def visit(value: int, user: int | None) -> int:
        seen.append(value)
        return value * 100

    assert lib.sl_each(handle, visit, None) == 1500
    assert lib.sl_each(handle, visit, None) == 1500
    assert seen == [3, 5, 7, 3, 5, 7]
    callback_type = lib.sl_each.argtypes[1]
    assert list(callback_type.keep) == [visit]  # wrapped once, referenced for later calls
    lib.sl_close(handle)


def test_symbol_versions_bind_exactly(sl_demo: dict[str, Path]) -> None:
    elf = ElfFile.read(sl_demo["1.0"])
    assert elf.symbols["sl_versioned"].versions == ("SL_1", "SL_2")
    assert elf.symbols["sl_versioned"].default == "SL_2"
    v1 = link(sl_demo["1.0"], header("1.0"), versions={"sl_versioned": "SL_1"})
    v2 = link(sl_demo["1.0"], header("1.0"), versions={"sl_versioned": "SL_2"})
    plain = link(sl_demo["1.0"], header("1.0"))
    assert (v1.sl_versioned(), v2.sl_versioned(), plain.sl_versioned()) == (1, 2, 2)
    with pytest.raises(NativeError) as typo:
        link(sl_demo["1.0"], header("1.0"), versions={"sl_typo": "SL_1"})
    assert typo.value.message == (
        "versions= names sl_typo, which the declarations do not declare")
    with pytest.raises(NativeLinkError) as info:
        link(sl_demo["1.0"], header("1.0"), versions={"sl_versioned": "SL_3", "sl_add": "SL_9"})
    assert info.value.message.splitlines()[1:] == [
        "  C2 sl_add: expected sl_add@SL_9, found sl_add@SL_1 (incompatible)",
        "  C2 sl_versioned: expected sl_versioned@SL_3, "
        "found sl_versioned@SL_1, sl_versioned@SL_2 (incompatible)",
    ]


def test_every_missing_symbol_is_listed_at_once(sl_demo: dict[str, Path]) -> None:
    decls = "int sl_add(int a, int b);\nint sl_gone(void);\nvoid sl_lost(int x);\n"
    with pytest.raises(NativeLinkError) as info:
        link(sl_demo["1.0"], decls)
    assert info.value.message.splitlines()[1:] == [
        "  C1 sl_gone: expected a defined function, found missing (incompatible)",
        "  C1 sl_lost: expected a defined function, found missing (incompatible)",
    ]


def test_soname_major_change_is_refused(tmp_path: Path) -> None:
    from native_clib import build_sl_demo

    lib = build_sl_demo("1.0", tmp_path / "so", soname="libsl_demo.so.2")
    renamed = lib.with_name("libsl_demo.so.1")
    lib.rename(renamed)
    with pytest.raises(NativeLinkError) as info:
        link(renamed, "int sl_add(int a, int b);")
    assert info.value.message.splitlines()[1] == (
        "  C1 soname: expected libsl_demo.so.1, found libsl_demo.so.2; "
        "the library's major version changed (incompatible)"
    )


def test_without_manifest_only_symbols_are_checked_and_marked_unverified(tmp_path: Path) -> None:
    from native_clib import build_sl_demo

    lib = build_sl_demo("2.0", tmp_path / "bare")
    with pytest.raises(UnverifiedLinkError) as refused:
        link(lib, "int sl_add(int a, int b); long sl_scale(int value, int factor);")
    assert refused.value.exit_code == 127 and refused.value.symbols == ("sl_add", "sl_scale")
    assert refused.value.message == (
        f"cannot link {lib.name} ({lib}): no siglink manifest and no header= to check sl_add, "
        "sl_scale against; embed one with 'siglink native manifest', pass the library's "
        "header=, or allow_unverified=True to check only that the symbols exist")
    with pytest.warns(UnverifiedLinkWarning) as caught:
        linked = link(lib, "int sl_add(int a, int b); long sl_scale(int value, int factor);",
                      allow_unverified=True)
    assert str(caught[0].message) == (
        f"{lib} carries no siglink manifest and no header= was given: only the presence of "
        "each symbol was checked, not its signature (embed one with 'siglink native "
        "manifest', or pass the library's header)"
    )
    assert linked.source == "none"
    assert linked.verdict.ok and linked.verdict.unverified == ("sl_add", "sl_scale")
    assert linked.sl_add(1, 2) == 3
    # the provider's header, given at link time, finds what the missing manifest hid:
    with pytest.raises(NativeLinkError, match="C4 sl_scale param 2"):
        link(lib, "int sl_add(int a, int b); long sl_scale(int value, int factor);",
             header=header("2.0"))


def test_sidecar_manifest_is_read(tmp_path: Path) -> None:
    from native_clib import build_sl_demo

    from siglink.native import manifest

    lib = build_sl_demo("2.0", tmp_path / "side")
    manifest.write_sidecar(lib, manifest.build(lib, header("2.0")))
    with pytest.raises(NativeLinkError, match="C4 sl_scale"):
        link(lib, header("1.0"))
    assert link(lib, header("2.0")).source == str(lib) + ".siglink.json"


def test_wrong_architecture_is_refused_before_opening(tmp_path: Path) -> None:
    fake = tmp_path / "libarm.so"
    # A 64-bit little-endian ELF header for aarch64 (e_machine 183), nothing else.
    fake.write_bytes(b"\x7fELF\x02\x01\x01" + b"\0" * 9 + (3).to_bytes(2, "little")
                     + (183).to_bytes(2, "little") + b"\0" * 44)
    with pytest.raises(NativeError) as info:
        link(fake, "int f(void);")
    assert info.value.message == (
        f"{fake}: wrong architecture: the library is ELF64 aarch64 (little-endian), "
        "this process is ELF64 x86_64 (little-endian)"
    )
    assert info.value.exit_code == 2


# -- real system libraries --------------------------------------------------------------


@pytest.fixture(scope="module")
def z() -> object:
    if not ZLIB_H.is_file():
        pytest.skip("zlib.h is not installed (apt-get install zlib1g-dev)")
    return link("z", ZLIB_DECLS, header=ZLIB_H)


def test_zlib_checks_against_its_header_and_matches_python(z: object) -> None:
    lib: object = z
    assert lib.verdict.ok and not lib.verdict.unverified  # type: ignore[attr-defined]
    # the consumer spelled typedefs and constness exactly as zlib.h does: nothing to report
    assert lib.verdict.problems == ()  # type: ignore[attr-defined]
    data = b"siglink links by signature" * 50
    for buffer in (data, bytearray(data), memoryview(data), memoryview(bytearray(data))):
        assert lib.crc32(0, buffer, len(data)) == zlib.crc32(data)  # type: ignore[attr-defined]
        assert lib.adler32(1, buffer, len(data)) == zlib.adler32(data)  # type: ignore
    assert lib.zlibVersion().decode() == zlib.ZLIB_RUNTIME_VERSION  # type: ignore


def test_zlib_compress2_and_uncompress_round_trip_with_python(z: object) -> None:
    lib: object = z
    data = bytes(range(256)) * 40
    bound = lib.compressBound(len(data))  # type: ignore[attr-defined]
    out = bytearray(bound)
    size = ctypes.c_ulong(bound)
    assert lib.compress2(out, ctypes.byref(size), data, len(data), 9) == 0  # type: ignore
    assert zlib.decompress(bytes(out[: size.value])) == data
    packed = zlib.compress(data)
    back = bytearray(len(data))
    length = ctypes.c_ulong(len(back))
    assert lib.uncompress(back, ctypes.byref(length), packed, len(packed)) == 0  # type: ignore
    assert bytes(back[: length.value]) == data


def test_zlib_reads_read_only_views_as_exactly_the_bytes_they_show(z: object) -> None:
    """Whole, sliced (any offset), empty, strided, reversed and cast views of bytes."""
    crc32 = z.crc32  # type: ignore[attr-defined]
    data = bytes(range(256)) * 3 + b"tail"
    whole = memoryview(data)
    views = [
        whole, whole[0:0], whole[5:5], whole[len(data):], whole[1:], whole[:-1],
        whole[7:300], whole[255:256], whole[513:], whole[1:len(data) - 1],
        memoryview(whole[10:100]), whole.toreadonly()[3:9],  # a view of a view
        whole[::-1], whole[40:3:-1], whole[::2], whole[1::3],  # not contiguous: copied
        whole.cast("I"), whole.cast("B", (len(data), 1)), whole[:768].cast("I"),  # shapes
        memoryview(b""), memoryview(b"x").cast("B", ()),  # no item; 0-dim (has no len())
        memoryview(b"x")[::-1], memoryview(b"ab")[::-1],
    ]
    for view in views:
        shown = view.tobytes()
        assert view.readonly and len(shown) == view.nbytes
        assert crc32(0, view, view.nbytes) == zlib.crc32(shown), (view, view.nbytes)
        assert crc32(12345, view, view.nbytes) == zlib.crc32(shown, 12345)
    assert crc32(0, whole[9:9], 0) == 0 == zlib.crc32(b"")
    assert data == bytes(range(256)) * 3 + b"tail"  # never written


def test_a_whole_view_of_bytes_is_passed_without_a_copy() -> None:
    """memchr returns a pointer into what it was given: the bytes themselves for a whole
    view (the pointer lives as long as the bytes), the right offset for a slice."""
    with pytest.warns(UnverifiedLinkWarning):
        libc = link("c", "void *memchr(const void *s, int c, unsigned long n);",
                    allow_unverified=True)
    data = bytes(range(200)) + b"end"
    start = ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value
    assert start is not None
    assert libc.memchr(memoryview(data), 150, len(data)) == start + 150
    assert libc.memchr(data, 150, len(data)) == start + 150
    for view in (memoryview(data)[100:190], memoryview(data)[::-1]):
        found = libc.memchr(view, 150, view.nbytes)
        base = libc.memchr(view, view[0], view.nbytes)
        assert found - base == view.tobytes().index(150)
    assert libc.memchr(memoryview(data)[151:], 150, len(data) - 151) is None


def test_zlib_whole_header_as_the_consumers_declarations() -> None:
    lib = link("z", ZLIB_H, header=ZLIB_H)
    assert lib.verdict.identical
    assert lib.Z_OK == 0 and lib.Z_BEST_COMPRESSION == 9 and lib.Z_DEFLATED == 8
    assert not hasattr(lib, "MAX_WBITS")  # zconf.h's, not zlib.h's own
    stream = lib.z_stream()
    assert ctypes.sizeof(stream) == 112 and lib.z_stream.avail_in.offset == 8


def test_including_the_providers_header_declares_its_functions_only() -> None:
    lib = link("z", "#include <stdio.h>\n#include <zlib.h>\n", header=ZLIB_H)
    assert lib.verdict.identical and "crc32" in lib.__dict__ and "printf" not in lib.__dict__
    assert lib.crc32(0, b"abc", 3) == zlib.crc32(b"abc")
    # a function the consumer declares itself must exist; an included one is taken if present
    with pytest.raises(NativeLinkError, match="C1 no_such_function: expected a defined "
                       "function, found missing"):
        link("z", "#include <zlib.h>\nint no_such_function(void);\n", header=ZLIB_H)


def test_zlib_int_to_long_in_a_consumer_is_refused() -> None:
    with pytest.raises(NativeLinkError) as info:
        link("z", "unsigned long compressBound(unsigned int sourceLen);", header=ZLIB_H)
    assert info.value.message.splitlines()[1] == (
        "  C4 compressBound param 1 (sourceLen): expected unsigned int, found uLong "
        "(= unsigned long); size 4 became 8; alignment 4 became 8 (incompatible)"
    )


def test_sqlite_version_of_the_library_python_links() -> None:
    import _sqlite3

    extension = ElfFile.read(_sqlite3.__file__)
    soname = next(n for n in extension.needed if n.startswith("libsqlite3"))
    path, asked = find_library(soname, search=extension.runpath)
    assert asked == soname
    with pytest.warns(UnverifiedLinkWarning):
        lib = link(path, "const char *sqlite3_libversion(void);\n"
                   "int sqlite3_libversion_number(void);", allow_unverified=True)
    assert lib.sqlite3_libversion().decode() == sqlite3.sqlite_version
    major, minor, patch = (int(x) for x in sqlite3.sqlite_version.split("."))
    assert lib.sqlite3_libversion_number() == major * 1_000_000 + minor * 1000 + patch


def test_libc_through_its_own_headers_matches_os_stat(tmp_path: Path) -> None:
    """Struct layouts of real glibc headers (st_atime is a macro for st_atim.tv_sec)."""
    with pytest.warns(UnverifiedLinkWarning):
        libc = link("c", "#include <sys/stat.h>\n", allow_unverified=True)
    target = tmp_path / "sized"
    target.write_bytes(b"x" * 1234)
    st = libc.struct_stat()
    assert libc.stat(str(target).encode(), ctypes.byref(st)) == 0
    expected = target.stat()
    assert (st.st_size, st.st_ino, st.st_mode) == (1234, expected.st_ino, expected.st_mode)
    assert st.st_mtim.tv_sec == int(expected.st_mtime)

