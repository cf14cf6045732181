"""A shared library's manifest: build it from a header, embed it, find it again.

The manifest is an ordinary :class:`~siglink.contracts.manifest.Manifest` with
``unit.language == "c"`` whose ``native`` field holds the declarations document of
:mod:`siglink.native.cdecl`, restricted to the functions the library defines, plus what the
ELF file says::

    "native": {..declarations.., "soname": "libz.so.1", "machine": "x86_64",
               "class": 64, "byteorder": "little"}

and each function gains ``"version"`` (the ELF version a plain lookup binds, or null) and
``"versions"`` (every version it is defined under). It lives in the ``.siglink`` section of
the ``.so`` (added with ``objcopy``), or beside it as ``LIB.so.siglink.json``.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from siglink._files import write_atomic
from siglink.contracts.manifest import Manifest, Unit
from siglink.errors import ManifestError, NativeError
from siglink.native.cdecl import describe
from siglink.native.elf import ElfFile, check_loadable

__all__ = [
    "SECTION", "SIDECAR_SUFFIX", "build", "coverage", "embed", "embed_target", "read",
    "sidecar_path", "write_sidecar",
]


def __dir__() -> list[str]:
    return list(__all__)

SECTION: Final = ".siglink"
SIDECAR_SUFFIX: Final = ".siglink.json"


def build(
    library: str | os.PathLike[str],
    header: str | os.PathLike[str],
    *,
    include_dirs: Sequence[str] = (),
    defines: Sequence[str] = (),
    name: str | None = None,
    version: str | None = None,
    cache: bool = True,
) -> Manifest:
    """The manifest of ``library``: every function ``header`` declares and the library defines."""
    path = os.fspath(library)
    check_loadable(path)  # the probe measures with this machine's compiler
    elf = ElfFile.read(path)
    defined = {s.name for s in elf.symbols.values() if s.function and s.linkable}
    decls = describe(
        header, text=False, include_dirs=include_dirs, defines=defines, only=defined, cache=cache
    )
    if not decls["functions"]:
        raise NativeError(
            f"{header}: declares none of the {len(defined)} functions {path} exports; refused "
            "(is it this library's header?)"
        )
    for fname, fn in decls["functions"].items():
        symbol = elf.symbols[fn.get("symbol", fname)]
        fn["version"] = symbol.default
        if symbol.versions:
            fn["versions"] = list(symbol.versions)
    native: dict[str, Any] = {
        **decls,
        "soname": elf.soname,
        "machine": elf.machine_name,
        "class": elf.elf_class,
        "byteorder": elf.byteorder,
    }
    guessed_name, guessed_version = _guess(Path(path).name, elf.soname)
    unit = Unit(name or guessed_name, version or guessed_version, kind="library", language="c")
    return Manifest(unit=unit, native=native)


def coverage(library: str | os.PathLike[str], manifest: Manifest) -> tuple[int, int]:
    """How many of the functions ``library`` exports ``manifest`` declares, and of how many."""
    elf = ElfFile.read(os.fspath(library))
    defined = {s.name for s in elf.symbols.values() if s.function and s.linkable}
    functions = (manifest.native or {}).get("functions", {})
    return len(defined & {fn.get("symbol", name) for name, fn in functions.items()}), len(defined)


def _guess(filename: str, soname: str | None) -> tuple[str, str]:
    """``libz.so.1.2.13`` gives ``("z", "1.2.13")``."""
    base = soname or filename
    m = re.match(r"(?:lib)?(.+?)\.so(?:\.(.*))?$", filename)
    n = re.match(r"(?:lib)?(.+?)\.so(?:\.(.*))?$", base)
    name = (n or m).group(1) if (n or m) else base  # type: ignore[union-attr]
    version = (m.group(2) if m and m.group(2) else None) or (n.group(2) if n else None) or "0"
    return name, version


def sidecar_path(library: str | os.PathLike[str]) -> Path:
    """``LIB.so.siglink.json`` beside the library.

    >>> sidecar_path("/opt/lib/libz.so.1").as_posix()
    '/opt/lib/libz.so.1.siglink.json'
    """
    return Path(os.fspath(library) + SIDECAR_SUFFIX)


def write_sidecar(library: str | os.PathLike[str], manifest: Manifest) -> Path:
    """Write the manifest beside ``library``."""
    target = sidecar_path(library)
    try:
        target.write_text(manifest.dumps())
    except OSError as e:
        raise NativeError(f"{target}: cannot write the manifest ({e.strerror})") from None
    return target


def embed_target(
    library: str | os.PathLike[str], output: str | os.PathLike[str] | None = None
) -> Path:
    """The file :func:`embed` will write: ``output``, or the real file behind ``library``
    (a symlink is followed, and left in place).

    :raises NativeError: when this user cannot replace that file (its directory must be
        writable for the atomic rename), suggesting ``-o OUT`` or ``--sidecar``.
    """
    if output is not None:
        return Path(os.fspath(output))
    source = os.fspath(library)
    target = Path(os.path.realpath(source))
    directory = target.parent
    writable = os.access(target, os.W_OK)
    if target.is_file() and not (writable and os.access(directory, os.W_OK | os.X_OK)):
        blocked = directory if writable else target
        sidecar_dir = sidecar_path(source).parent
        alternatives = "-o OUT to write a modified copy"
        if os.access(sidecar_dir, os.W_OK | os.X_OK):
            alternatives += " or --sidecar to write the manifest beside it"
        raise NativeError(f"{target}: cannot modify the library in place ({blocked} is not "
                          f"writable by this user); use {alternatives}")
    return target


def embed(
    library: str | os.PathLike[str], manifest: Manifest, *, output: str | os.PathLike[str] | None
) -> Path:
    """Put the manifest into the ``.siglink`` section of ``library`` (in place) or of a copy.

    In place, a symlink is followed: the real file is rewritten atomically (a temporary file
    in its directory, then a rename, keeping its mode) and the link is left as it was.
    ``output``'s missing parent directories are created. Returns the file written.
    """
    objcopy = shutil.which("objcopy")
    if objcopy is None:
        raise NativeError("objcopy (binutils) is not installed; use --sidecar instead")
    source = os.fspath(library)
    present = SECTION in ElfFile.read(source).sections
    target = embed_target(source, output)
    with tempfile.TemporaryDirectory(prefix="siglink-embed-") as tmp:
        data = Path(tmp, "siglink.json")
        data.write_text(manifest.dumps())
        staged = Path(tmp, "lib.so")
        action = "--update-section" if present else "--add-section"
        cmd = [objcopy, f"{action}", f"{SECTION}={data}"]
        if not present:
            cmd += ["--set-section-flags", f"{SECTION}=readonly,contents"]
        result = subprocess.run(
            [*cmd, source, str(staged)], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise NativeError(f"{source}: objcopy failed: {result.stderr.strip()}")
        # Write beside the target, then rename: a process that has the old file mapped keeps
        # it, and no reader ever sees half a library.
        try:
            if output is not None:
                target.parent.mkdir(parents=True, exist_ok=True)  # -o out/lib.so makes out/
            # the real file's mode (os.stat follows a symlink)
            write_atomic(target, staged.read_bytes(), mode=stat.S_IMODE(os.stat(source).st_mode))
        except OSError as e:
            raise NativeError(f"{target}: cannot write the library ({e.strerror})") from None
    return target


def read(library: str | os.PathLike[str]) -> tuple[Manifest, str] | None:
    """The manifest of ``library`` and where it was found (``"embedded"`` or the sidecar path),
    or ``None`` when it carries none."""
    path = os.fspath(library)
    elf = ElfFile.read(path)
    data = elf.section(SECTION)
    if data is not None:
        return _loads(data, f"{path} [{SECTION}]"), "embedded"
    for candidate in (sidecar_path(path), sidecar_path(os.path.realpath(path))):
        if candidate.is_file():
            return _loads(candidate.read_bytes(), str(candidate)), str(candidate)
    return None


def _loads(data: bytes, source: str) -> Manifest:
    manifest = Manifest.loads(data, source=source)
    native = manifest.native
    if manifest.unit.language != "c" or not isinstance(native, dict):
        raise ManifestError(f"{source}: not a C library's manifest (no 'native' part)",
                            path=source)
    if not isinstance(native.get("functions"), dict) or native.get("schema") != 1:
        raise ManifestError(f"{source}: unreadable 'native' part (schema {native.get('schema')})",
                            path=source)
    return manifest
