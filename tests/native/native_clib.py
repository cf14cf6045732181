"""Helpers for the native tests: compile sl_demo (kept beside this file in clib/)."""

from __future__ import annotations

import subprocess
from pathlib import Path

CLIB = Path(__file__).parent / "clib"
VERSIONS = {"1.0": "v1_0", "1.1": "v1_1", "2.0": "v2_0"}


def build_sl_demo(version: str, dest: Path, *, soname: str | None = None) -> Path:
    """Compile sl_demo ``version`` into ``dest/libsl_demo.so`` (no manifest)."""
    source = CLIB / VERSIONS[version]
    dest.mkdir(parents=True, exist_ok=True)
    major = version.split(".", maxsplit=1)[0]
    out = dest / "libsl_demo.so"
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-O1", "-Wall", "-Werror",
         f"-Wl,-soname,{soname or f'libsl_demo.so.{major}'}",
         f"-Wl,--version-script={CLIB / 'sl_demo.map'}",
         "-o", str(out), str(source / "sl_demo.c")],
        check=True,
    )
    return out


def header(version: str) -> Path:
    return CLIB / VERSIONS[version] / "sl_demo.h"


def build_sl_layout(dest: Path) -> Path:
    """Compile sl_layout (clib/layout) into ``dest/libsl_layout.so``."""
    dest.mkdir(parents=True, exist_ok=True)
    out = dest / "libsl_layout.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-Wall", "-Werror",
                    f"-Wl,--version-script={CLIB / 'layout' / 'sl_layout.map'}",
                    "-o", str(out), str(CLIB / "layout" / "sl_layout.c")], check=True)
    return out


LAYOUT_H = CLIB / "layout" / "sl_layout.h"
