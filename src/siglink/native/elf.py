"""A small ELF reader: what siglink needs from a shared library, read with :mod:`struct`.

Reads the ELF header (class, byte order, machine), the section headers, the dynamic symbol
table (``.dynsym``/``.dynstr``) with GNU symbol versions (``.gnu.version`` and
``.gnu.version_d``), the dynamic section (``DT_SONAME``, ``DT_NEEDED``, ``DT_RUNPATH``) and
any named section's bytes (siglink embeds its manifest in ``.siglink``).

>>> elf = ElfFile.read("/lib/x86_64-linux-gnu/libz.so.1")  # doctest: +SKIP
>>> elf.symbols["crc32"].versions  # doctest: +SKIP
('ZLIB_1.2.0',)
"""

from __future__ import annotations

import os
import platform
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

from siglink.errors import NativeError

__all__ = [
    "MACHINES",
    "ElfError",
    "ElfFile",
    "Symbol",
    "check_loadable",
    "host_machine",
    "read_header",
]


def __dir__() -> list[str]:
    return list(__all__)

MACHINES: Final = {
    3: "i386",
    8: "mips",
    20: "ppc",
    21: "ppc64",
    22: "s390",
    40: "arm",
    62: "x86_64",
    183: "aarch64",
    243: "riscv",
    258: "loongarch",
}
"""``e_machine`` values and their names (the ones Linux runs on)."""

_HOST_MACHINES: Final = {
    "x86_64": 62,
    "amd64": 62,
    "i386": 3,
    "i486": 3,
    "i586": 3,
    "i686": 3,
    "aarch64": 183,
    "arm64": 183,
    "riscv64": 243,
    "ppc64le": 21,
    "ppc64": 21,
    "s390x": 22,
    "loongarch64": 258,
}

_SHT_DYNSYM: Final = 11
_SHT_DYNAMIC: Final = 6
_SHT_GNU_VERDEF: Final = 0x6FFFFFFD
_SHT_GNU_VERSYM: Final = 0x6FFFFFFF
_DT_NEEDED: Final = 1
_DT_SONAME: Final = 14
_DT_RPATH: Final = 15
_DT_RUNPATH: Final = 29
_STT_FUNC: Final = 2
_STT_GNU_IFUNC: Final = 10
_VERSYM_HIDDEN: Final = 0x8000


class ElfError(NativeError):
    """A file that is not a readable ELF shared object, or one for another machine."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


@dataclass(frozen=True, slots=True)
class Symbol:
    """A defined dynamic symbol: its kind and every ELF version it is defined under.

    ``default`` is the version a plain ``dlsym`` finds (``sym@@V``), or ``None`` for an
    unversioned symbol; ``versions`` lists all of them (``sym@V1``, ``sym@@V2``).
    """

    name: str
    function: bool
    default: str | None = None
    versions: tuple[str, ...] = ()

    @property
    def linkable(self) -> bool:
        """A plain ``dlsym`` finds it: unversioned, or with a default version (``@@``).

        A symbol left only under hidden versions (``sym@OLD``) serves old binaries only.

        >>> Symbol("crc32", True, "ZLIB_1.2.0", ("ZLIB_1.2.0",)).linkable
        True
        >>> Symbol("old_api", True, None, ("LIB_1.0",)).linkable
        False
        """
        return self.default is not None or not self.versions


@dataclass(frozen=True, slots=True)
class ElfFile:
    """What siglink reads from one ELF file."""

    path: str
    elf_class: int  # 32 or 64
    byteorder: str  # "little" or "big"
    machine: int
    soname: str | None = None
    needed: tuple[str, ...] = ()
    runpath: tuple[str, ...] = ()
    symbols: dict[str, Symbol] = field(default_factory=dict)
    sections: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (offset, size)

    @property
    def machine_name(self) -> str:
        return MACHINES.get(self.machine, f"machine {self.machine}")

    @property
    def description(self) -> str:
        """``ELF64 x86_64 (little-endian)``.

        >>> ElfFile("libdemo.so", 64, "little", 62).description
        'ELF64 x86_64 (little-endian)'
        """
        return f"ELF{self.elf_class} {self.machine_name} ({self.byteorder}-endian)"

    def section(self, name: str) -> bytes | None:
        """The bytes of section ``name``, or ``None`` when the file has none."""
        where = self.sections.get(name)
        if where is None:
            return None
        with open(self.path, "rb") as f:
            f.seek(where[0])
            return f.read(where[1])

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> ElfFile:
        """Read ``path``; :class:`ElfError` names the file when it is not ELF or is damaged."""
        path = os.fspath(path)
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            raise ElfError(f"{path}: no such file", path=path) from None
        except OSError as e:
            raise ElfError(f"{path}: cannot read ({e.strerror})", path=path) from None
        try:
            return _parse(path, data)
        except (struct.error, IndexError, UnicodeDecodeError, ValueError) as e:
            raise ElfError(f"{path}: damaged ELF file ({e})", path=path) from e


def read_header(path: str) -> tuple[int, str, int]:
    """``(class, byteorder, machine)`` from the first 20 bytes; cheap, for refusing early."""
    try:
        with open(path, "rb") as f:
            head = f.read(20)
    except FileNotFoundError:
        raise ElfError(f"{path}: no such file", path=path) from None
    except OSError as e:
        raise ElfError(f"{path}: cannot read ({e.strerror})", path=path) from None
    return _ident(path, head)


def _ident(path: str, head: bytes) -> tuple[int, str, int]:
    if len(head) < 20 or head[:4] != b"\x7fELF":
        raise ElfError(f"{path}: not an ELF file", path=path)
    if head[4] not in (1, 2) or head[5] not in (1, 2):
        raise ElfError(f"{path}: damaged ELF header (class {head[4]}, data {head[5]})", path=path)
    elf_class = 32 if head[4] == 1 else 64
    byteorder: Literal["little", "big"] = "little" if head[5] == 1 else "big"
    machine = int.from_bytes(head[18:20], byteorder)
    return elf_class, byteorder, machine


def host_machine() -> tuple[int, str, int | None]:
    """This interpreter's ``(class, byteorder, e_machine)``; the machine is ``None`` if unknown."""
    elf_class = 64 if sys.maxsize > 2**32 else 32
    return elf_class, sys.byteorder, _HOST_MACHINES.get(platform.machine().lower())


def check_loadable(path: str) -> tuple[int, str, int]:
    """Refuse, before anything opens it, a file this process cannot load.

    >>> check_loadable("/etc/hostname")  # doctest: +SKIP
    Traceback (most recent call last):
    siglink.native.elf.ElfError: /etc/hostname: not an ELF file
    """
    elf_class, byteorder, machine = read_header(path)
    host_class, host_order, host_mach = host_machine()
    name = MACHINES.get(machine, f"machine {machine}")
    host_name = MACHINES.get(host_mach or -1, platform.machine())
    found = f"ELF{elf_class} {name} ({byteorder}-endian)"
    wanted = f"ELF{host_class} {host_name} ({host_order}-endian)"
    if (elf_class, byteorder) != (host_class, host_order) or (
        host_mach is not None and machine != host_mach
    ):
        raise ElfError(
            f"{path}: wrong architecture: the library is {found}, this process is {wanted}",
            path=path,
        )
    return elf_class, byteorder, machine


def _cstr(table: bytes, offset: int) -> str:
    end = table.index(b"\0", offset)
    return table[offset:end].decode("utf-8", "surrogateescape")  # names are bytes in ELF


@dataclass(frozen=True, slots=True)
class _Format:
    """How one ELF class and byte order lays out the records :func:`_parse` reads."""

    elf_class: int
    e: str  # struct's byte-order prefix
    sym: str
    sym_size: int
    dyn: str
    dyn_size: int

    @classmethod
    def of(cls, elf_class: int, byteorder: str) -> _Format:
        e = "<" if byteorder == "little" else ">"
        if elf_class == 64:
            return cls(64, e, e + "IBBHQQ", 24, e + "qQ", 16)
        return cls(32, e, e + "IIIBBH", 16, e + "iI", 8)


# A section header as read: (name, type, flags, addr, offset, size, link, info, addralign,
# entsize).
_Section = tuple[int, ...]


def _parse(path: str, data: bytes) -> ElfFile:
    elf_class, byteorder, machine = _ident(path, data[:20])
    fmt = _Format.of(elf_class, byteorder)
    headers, shstrndx = _section_headers(data, fmt)
    soname, needed, runpath = _dynamic(data, headers, fmt)
    return ElfFile(
        path=path,
        elf_class=elf_class,
        byteorder=byteorder,
        machine=machine,
        soname=soname,
        needed=tuple(needed),
        runpath=tuple(runpath),
        symbols=_symbols(data, headers, fmt),
        sections=_sections(data, headers, shstrndx),
    )


def _section_headers(data: bytes, fmt: _Format) -> tuple[list[_Section], int]:
    """The section headers, and the index of the one holding their names."""
    e = fmt.e
    if fmt.elf_class == 64:
        (shoff,) = struct.unpack_from(e + "Q", data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from(e + "HHH", data, 0x3A)
        shdr = e + "IIQQQQIIQQ"
    else:
        (shoff,) = struct.unpack_from(e + "I", data, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from(e + "HHH", data, 0x2E)
        shdr = e + "IIIIIIIIII"
    headers = [struct.unpack_from(shdr, data, shoff + i * shentsize) for i in range(shnum)]
    return headers, shstrndx


def _body(data: bytes, headers: list[_Section], index: int) -> bytes:
    sh = headers[index]
    return data[sh[4] : sh[4] + sh[5]]


def _sections(
    data: bytes, headers: list[_Section], shstrndx: int
) -> dict[str, tuple[int, int]]:
    """Section name → (offset, size), named through the section-name string table."""
    if not headers or shstrndx >= len(headers):
        return {}
    names = _body(data, headers, shstrndx)
    if not names:
        return {}
    return {_cstr(names, sh[0]): (sh[4], sh[5]) for sh in headers}


def _dynamic(
    data: bytes, headers: list[_Section], fmt: _Format
) -> tuple[str | None, list[str], list[str]]:
    """``DT_SONAME``, ``DT_NEEDED`` and ``DT_RUNPATH``/``DT_RPATH`` of the dynamic section."""
    soname: str | None = None
    needed: list[str] = []
    runpath: list[str] = []
    for sh in headers:
        if sh[1] != _SHT_DYNAMIC:
            continue
        strtab = _body(data, headers, sh[6])
        raw = data[sh[4] : sh[4] + sh[5]]
        for off in range(0, len(raw) - fmt.dyn_size + 1, fmt.dyn_size):
            tag, val = struct.unpack_from(fmt.dyn, raw, off)
            if tag == 0:
                break
            if tag == _DT_SONAME:
                soname = _cstr(strtab, val)
            elif tag == _DT_NEEDED:
                needed.append(_cstr(strtab, val))
            elif tag in (_DT_RUNPATH, _DT_RPATH):
                runpath.extend(p for p in _cstr(strtab, val).split(":") if p)
    return soname, needed, runpath


def _versions(
    data: bytes, headers: list[_Section], fmt: _Format
) -> tuple[int, bytes, dict[int, str]]:
    """The ``.dynsym`` section's index, ``.gnu.version`` and the version definitions."""
    verdefs: dict[int, str] = {}
    versym: bytes = b""
    dynsym_index = -1
    for index, sh in enumerate(headers):
        if sh[1] == _SHT_DYNSYM:
            dynsym_index = index
        elif sh[1] == _SHT_GNU_VERSYM:
            versym = _body(data, headers, index)
        elif sh[1] == _SHT_GNU_VERDEF:
            strtab = _body(data, headers, sh[6])
            raw = _body(data, headers, index)
            off = 0
            for _ in range(sh[7]):  # sh_info: number of definitions
                _v, flags, ndx, cnt, _h, aux, nxt = struct.unpack_from(
                    fmt.e + "HHHHIII", raw, off)
                if cnt and not flags & 1:  # VER_FLG_BASE names the file itself
                    (name_off,) = struct.unpack_from(fmt.e + "I", raw, off + aux)
                    verdefs[ndx] = _cstr(strtab, name_off)
                if not nxt:
                    break
                off += nxt
    return dynsym_index, versym, verdefs


def _symbols(data: bytes, headers: list[_Section], fmt: _Format) -> dict[str, Symbol]:
    """The defined global symbols of ``.dynsym``, with their ELF versions."""
    dynsym_index, versym, verdefs = _versions(data, headers, fmt)
    symbols: dict[str, Symbol] = {}
    if dynsym_index < 0:
        return symbols
    strtab = _body(data, headers, headers[dynsym_index][6])
    raw = _body(data, headers, dynsym_index)
    for i in range(1, len(raw) // fmt.sym_size):
        fields = struct.unpack_from(fmt.sym, raw, i * fmt.sym_size)
        if fmt.elf_class == 64:
            name_off, info, _other, shndx, _value, _size = fields
        else:
            name_off, _value, _size, info, _other, shndx = fields
        if shndx == 0:  # undefined: an import, not an export
            continue
        binding = info >> 4
        if binding not in (1, 2, 10):  # GLOBAL, WEAK, GNU_UNIQUE
            continue
        name = _cstr(strtab, name_off)
        kind = info & 0xF
        function = kind in (_STT_FUNC, _STT_GNU_IFUNC)
        version: str | None = None
        hidden = False
        if versym and 2 * i + 2 <= len(versym):
            (vs,) = struct.unpack_from(fmt.e + "H", versym, 2 * i)
            hidden = bool(vs & _VERSYM_HIDDEN)
            version = verdefs.get(vs & 0x7FFF)
        old = symbols.get(name)
        versions = old.versions if old else ()
        if version is not None and version not in versions:
            versions = (*versions, version)
        default = old.default if old else None
        if not hidden:
            default = version
        symbols[name] = Symbol(name, function or bool(old and old.function), default, versions)
    return symbols
