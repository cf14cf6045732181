"""Declarations from headers: shims for glibc's GNU extensions, layouts from the compiler."""

from __future__ import annotations

from pathlib import Path

import pytest

from siglink.native.cdecl import HeaderError, describe, type_text
from siglink.native.elf import ElfError, ElfFile


def test_glibc_headers_parse_through_the_gnu_shims() -> None:
    decls = describe("#include <stdio.h>\n#include <stdlib.h>\n#include <stdarg.h>\n"
                     "int my_printf(const char *restrict fmt, ...);\n"
                     "int my_vprintf(const char *fmt, va_list ap);\n", text=True, own_only=True)
    assert list(decls["functions"]) == ["my_printf", "my_vprintf"]  # only its own
    printf = decls["functions"]["my_printf"]
    assert printf["variadic"] is True
    assert type_text(printf["params"][0]["type"]) == "const char * restrict"
    ap = decls["functions"]["my_vprintf"]["params"][1]["type"]
    assert ap["typedef"] == "va_list"


def test_zlib_types_are_resolved_and_measured() -> None:
    decls = describe("/usr/include/zlib.h", text=False, own_only=True)
    crc32 = decls["functions"]["crc32"]
    buf = crc32["params"][1]["type"]
    assert buf["kind"] == "pointer" and buf["size"] == 8
    assert buf["to"] == {"kind": "int", "name": "unsigned char", "typedef": "Bytef",
                         "const": True, "size": 1, "align": 1, "signed": False}
    assert crc32["return"]["typedef"] == "uLong" and crc32["return"]["size"] == 8
    stream = decls["types"]["struct z_stream_s"]
    offsets = {f["name"]: f["offset"] for f in stream["fields"]}
    assert (stream["size"], offsets["avail_in"], offsets["total_in"], offsets["state"]) == (
        112, 8, 16, 56)
    assert decls["types"]["struct internal_state"] == {"kind": "struct", "complete": False}
    assert decls["constants"]["Z_BEST_COMPRESSION"] == 9
    assert decls["constants"]["Z_VERSION_ERROR"] == -6
    assert decls["functions"]["gzprintf"]["variadic"] is True


def test_layout_attributes_and_bitfields_come_from_the_compiler() -> None:
    decls = describe("""
        struct packed { char a; int b; short c; } __attribute__((packed));
        struct aligned { char a; int b __attribute__((aligned(16))); };
        struct bits { unsigned a : 3; unsigned b : 7; int c; };
        #define TWICE(x) ((x) * 2)
        #define LIMIT (1 << 10)
        #define NEGATIVE -0x10
        #define NOT_INT "text"
        enum big { SMALL = 1, HUGE = 0x100000000 };
        int use(struct packed *p, struct aligned *a, struct bits *b, enum big e);
    """, text=True)
    types = decls["types"]
    packed = {f["name"]: f["offset"] for f in types["struct packed"]["fields"]}
    assert packed == {"a": 0, "b": 1, "c": 5} and types["struct packed"]["size"] == 7
    aligned = {f["name"]: f["offset"] for f in types["struct aligned"]["fields"]}
    assert aligned == {"a": 0, "b": 16} and types["struct aligned"]["size"] == 32
    bits = {f["name"]: (f.get("bits"), f.get("bit_offset")) for f in types["struct bits"]["fields"]}
    assert bits == {"a": (3, 0), "b": (7, 3), "c": (None, None)}
    assert types["enum big"]["size"] == 8 and types["enum big"]["members"]["HUGE"] == 2**32
    # own #defines that are integer constant expressions, and the own enums' members
    assert decls["constants"] == {"LIMIT": 1024, "NEGATIVE": -16, "SMALL": 1, "HUGE": 2**32}


def test_parse_error_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.h"
    bad.write_text("int fine(void);\nint also_fine(int);\nint broken(int x;\n")
    with pytest.raises(HeaderError) as info:
        describe(bad, text=False)
    assert info.value.message.startswith("bad.h:3: cannot parse C declarations: ")
    assert info.value.line == 3 and info.value.exit_code == 2
    with pytest.raises(HeaderError, match=r"^<declarations>:1: cannot parse"):
        describe("int x(;", text=True)


def test_elf_reader_on_non_elf_and_damaged_files(tmp_path: Path) -> None:
    text = tmp_path / "text.so"
    text.write_bytes(b"#!/bin/sh\n" * 4)
    with pytest.raises(ElfError, match="not an ELF file"):
        ElfFile.read(text)
    from siglink.native import find_library

    damaged = tmp_path / "damaged.so"
    damaged.write_bytes(Path(find_library("z")[0]).read_bytes()[:30000])  # headers cut off
    with pytest.raises(ElfError, match="damaged ELF file"):
        ElfFile.read(damaged)


def test_elf_reader_on_libz() -> None:
    from siglink.native import find_library

    path, soname = find_library("z")
    elf = ElfFile.read(path)
    assert soname == elf.soname == "libz.so.1"
    assert elf.description == "ELF64 x86_64 (little-endian)"
    assert elf.symbols["crc32_z"].default == "ZLIB_1.2.9" and elf.symbols["crc32"].function
    assert "libc.so.6" in elf.needed


def test_glibc_layouts_the_parser_cannot_see_come_from_the_compiler() -> None:
    """Members renamed by macros, flexible arrays, vector and mode attributes on typedefs."""
    decls = describe("#include <signal.h>\n#include <sys/socket.h>\n"
                     "typedef float v4 __attribute__((vector_size(16)));\n"
                     "typedef int tiny __attribute__((mode(QI)));\n"
                     "int on_signal(int sig, const struct sigaction *action);\n"
                     "int on_message(struct cmsghdr *header);\n"
                     "v4 vadd(v4 a, tiny b);\n", text=True, own_only=True)
    sigaction = decls["types"]["struct sigaction"]
    # <signal.h> has `#define sa_handler __sigaction_handler.sa_handler`
    assert [f["name"] for f in sigaction["fields"]][:2] == ["__sigaction_handler", "sa_mask"]
    cmsghdr = {f["name"]: f for f in decls["types"]["struct cmsghdr"]["fields"]}
    assert (cmsghdr["__cmsg_data"]["offset"], cmsghdr["__cmsg_data"]["size"]) == (16, 0)
    vadd = decls["functions"]["vadd"]
    assert (vadd["return"]["kind"], vadd["return"]["size"]) == ("vector", 16)
    tiny = vadd["params"][1]["type"]
    assert (tiny["kind"], tiny["size"], tiny["signed"]) == ("int", 1, True)
