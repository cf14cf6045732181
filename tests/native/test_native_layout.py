"""Layouts real headers use, bound with ctypes exactly where gcc puts every field.

sl_layout (clib/layout) has C11 anonymous structs and unions, unnamed and packed bit-fields,
a member aligned beyond ctypes' rules, and a function ctypes cannot call (``__int128``).
"""

from __future__ import annotations

import ctypes
import subprocess
from pathlib import Path

import pytest
from native_clib import LAYOUT_H, build_sl_layout

from siglink.errors import NativeError
from siglink.native import (
    Library,
    NativeLinkError,
    UnverifiedLinkError,
    UnverifiedLinkWarning,
    link,
)
from siglink.native import manifest as native_manifest

MEMBERS = {
    "struct sl_event": ["kind", "x", "y", "value", "tag", "weight"],
    "struct sl_aligned": ["c", "v"],
    "sl_tagged": ["tag", "number", "bytes"],
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lib = build_sl_layout(tmp_path_factory.mktemp("sl_layout"))
    native_manifest.embed(lib, native_manifest.build(lib, LAYOUT_H), output=None)
    return lib


@pytest.fixture(scope="module")
def gcc_says(tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    """``offsetof`` and ``sizeof`` of every member, from gcc itself."""
    tmp = tmp_path_factory.mktemp("offsets")
    lines = []
    for type_name, members in MEMBERS.items():
        lines.append(f'printf("{type_name} %zu\\n", sizeof({type_name}));')
        lines += [f'printf("{type_name}.{m} %zu\\n", offsetof({type_name}, {m}));'
                  for m in members]
    probe = tmp / "offsets.c"
    probe.write_text(f'#include "{LAYOUT_H}"\n#include <stdio.h>\n#include <stddef.h>\n'
                     "int main(void) {\n" + "\n".join(lines) + "\nreturn 0;\n}\n")
    subprocess.run(["gcc", "-o", str(tmp / "offsets"), str(probe)], check=True)
    out = subprocess.run([str(tmp / "offsets")], capture_output=True, text=True, check=True)
    rows = (row.rsplit(" ", 1) for row in out.stdout.splitlines())
    return {name: int(value) for name, value in rows}


def _ctypes_says(lib: Library) -> dict[str, int]:
    classes = {"struct sl_event": lib.sl_event, "struct sl_aligned": lib.sl_aligned,
               "sl_tagged": lib.sl_tagged}
    said: dict[str, int] = {}
    for type_name, members in MEMBERS.items():
        cls = classes[type_name]
        said[type_name] = ctypes.sizeof(cls)
        said.update({f"{type_name}.{m}": getattr(cls, m).offset for m in members})
    return said


def test_every_member_is_where_gcc_puts_it(built: Path, gcc_says: dict[str, int]) -> None:
    lib = link(built, LAYOUT_H)
    assert lib.verdict.identical and lib.source == "embedded"
    assert _ctypes_says(lib) == gcc_says
    # members of anonymous structs and unions are read as members of the enclosing struct
    assert (gcc_says["struct sl_event.x"], gcc_says["struct sl_event.value"]) == (8, 8)
    assert gcc_says["struct sl_event.tag"] == 17  # right after the bit-field's byte
    assert gcc_says["struct sl_aligned.v"] == 16


def test_anonymous_members_and_bit_fields_carry_the_librarys_values(built: Path) -> None:
    lib = link(built, LAYOUT_H)
    event = lib.sl_event()
    lib.sl_event_fill(event, 1)
    assert (event.kind, event.x, event.y, event.urgent, event.tag, event.weight) == (
        1, 3, 4, 1, ord("t"), 300)
    lib.sl_event_fill(event, 2)
    assert (event.code, event.mods) == (0xABC, 0x5A)
    event.mods = 1
    assert lib.sl_event_sum(event) == 2 + 1 + ord("t") + 300 + 0xABC + 1
    lib.sl_event_fill(event, 3)
    assert event.value == 2.5 and lib.sl_event_sum(event) == 3 + 1 + ord("t") + 300 + 25
    tagged = lib.sl_tag(77)  # a struct with an anonymous union, returned by value
    assert (tagged.tag, tagged.number) == (ord("n"), 77)
    aligned = lib.sl_aligned(c=1, v=41)
    assert lib.sl_aligned_get(aligned) == 42


def test_a_function_ctypes_cannot_call_is_named_and_the_rest_is_bound(built: Path) -> None:
    lib = link(built, LAYOUT_H)
    reason = f"{built}: cannot bind sl_wide param 1 (x): ctypes has no __int128 (16 bytes)"
    assert lib.unbound == {"sl_wide": reason}
    with pytest.raises(NativeError) as info:
        lib.sl_wide  # noqa: B018
    assert info.value.message == reason
    assert lib.sl_tag(1).number == 1


def test_a_moved_member_of_an_anonymous_union_is_refused(built: Path) -> None:
    moved = LAYOUT_H.read_text().replace("struct { int x, y; };", "struct { int y, x; };")
    with pytest.raises(NativeLinkError) as info:
        link(built, moved)
    assert info.value.symbols == ("sl_event_fill", "sl_event_sum")
    lines = info.value.message.splitlines()[1:]
    assert lines == [  # the struct's layout once, naming every function reaching it
        "  C15 struct sl_event: expected 9 fields in 24 bytes, found 9 fields in 24 bytes; "
        "y moved 8\u219212; x moved 12\u21928; "
        "reached by sl_event_fill param 1 (e), sl_event_sum param 1 (e) (incompatible)"
    ]


def test_a_symbol_kept_only_for_old_binaries_binds_only_by_its_version(built: Path) -> None:
    with pytest.raises(NativeLinkError) as info:
        link(built, "int sl_old(void);")
    assert info.value.message.splitlines()[1:] == [
        "  C1 sl_old: expected a defined function, found only sl_old@LAYOUT_1; "
        "kept for old binaries; no new link binds it (incompatible)"
    ]
    # The library's manifest records the default versions only: the old one is unverified.
    with pytest.raises(UnverifiedLinkError) as refused:
        link(built, "int sl_old(void);", versions={"sl_old": "LAYOUT_1"})
    assert refused.value.symbols == ("sl_old",)
    with pytest.warns(UnverifiedLinkWarning, match="do not declare sl_old"):
        old = link(built, "int sl_old(void);", versions={"sl_old": "LAYOUT_1"},
                   allow_unverified=True)
    assert old.sl_old() == 7
