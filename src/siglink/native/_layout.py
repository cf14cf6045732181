"""Struct layouts: reproduce the compiler's measured offsets with ctypes, and check them.

>>> field_name({"name": "@3", "anonymous": True}), offset_text({"bit_offset": 9})
('_anon3', 'bit 9')
"""

from __future__ import annotations

import ctypes
from collections.abc import Mapping
from typing import Any

__all__ = ["INTS", "explicit_fields", "field_name", "flat_fields", "layout_ok", "offset_text"]


def __dir__() -> list[str]:
    return list(__all__)


Json = dict[str, Any]

INTS: dict[tuple[int, bool], Any] = {
    (1, True): ctypes.c_byte, (1, False): ctypes.c_ubyte,
    (2, True): ctypes.c_int16, (2, False): ctypes.c_uint16,
    (4, True): ctypes.c_int32, (4, False): ctypes.c_uint32,
    (8, True): ctypes.c_int64, (8, False): ctypes.c_uint64,
}
"""ctypes integer types by (size, signed)."""


def explicit_fields(
    placed: list[tuple[Json, tuple[Any, ...]]], size: int
) -> list[tuple[Any, ...]] | None:
    """Fields at their measured offsets under ``_pack_ = 1``, padded explicitly.

    A run of bit-fields shares one storage unit, the smallest integer that holds the run
    without reaching the next field; ``None`` when there is none.
    """
    out: list[tuple[Any, ...]] = []
    cursor = 0  # bytes
    index = 0
    pads = 0

    def pad(to: int) -> bool:
        nonlocal cursor, pads
        if to < cursor:
            return False
        if to > cursor:
            out.append((f"_siglink_gap{pads}", ctypes.c_ubyte * (to - cursor)))
            pads += 1
        cursor = to
        return True

    while index < len(placed):
        field, entry = placed[index]
        if "bits" not in field:
            if not pad(field["offset"]):
                return None
            out.append(entry)
            cursor += field["size"]
            index += 1
            continue
        run = [placed[index]]
        while index + len(run) < len(placed) and "bits" in placed[index + len(run)][0]:
            run.append(placed[index + len(run)])
        following = placed[index + len(run)][0].get("offset", size) if (
            index + len(run) < len(placed)) else size
        start = run[0][0]["bit_offset"] // 8
        end_bit = max(f["bit_offset"] + f["bits"] for f, _ in run)
        unit = next((n for n in (1, 2, 4, 8)
                     if 8 * (start + n) >= end_bit and start + n <= max(following, start + 1)),
                    None)
        if unit is None or not pad(start):
            return None
        storage = INTS[(unit, False)]
        bit = 8 * start
        for f, e in run:
            if f["bit_offset"] < bit:
                return None
            if f["bit_offset"] > bit:
                out.append((f"_siglink_gap{pads}", storage, f["bit_offset"] - bit))
                pads += 1
            signed = bool(f["type"].get("signed"))
            out.append((e[0], INTS[(unit, signed)], f["bits"]))
            bit = f["bit_offset"] + f["bits"]
        cursor = start + unit
        index += len(run)
    return out


def offset_text(field: Json) -> str:
    if "bit_offset" in field:
        return f"bit {field['bit_offset']}"
    return str(field.get("offset"))


def field_name(field: Json) -> str:
    """The ctypes name of a field: anonymous members are ``_anon<N>`` (in ``_anonymous_``)."""
    name: str = field["name"]
    return "_anon" + name[1:] if field.get("anonymous") else name


def flat_fields(
    types: Mapping[str, Json], info: Json, base: int = 0, *, top: bool = True
) -> list[Json]:
    """Fields with offsets from the start of ``info``, anonymous members' fields lifted
    (ctypes puts them on the enclosing class through ``_anonymous_``; a nested anonymous
    member itself stays on the class that holds it)."""
    out: list[Json] = []
    for field in info.get("fields", ()):
        if field.get("padding"):
            continue
        offset = field.get("offset", 0) + base
        if field.get("anonymous"):
            if top:
                out.append({**field, "name": field_name(field), "offset": offset})
            out.extend(flat_fields(types, types.get(field["type"]["name"], {}), offset,
                                    top=False))
        else:
            moved = {**field, "offset": offset}
            if "bit_offset" in field:
                moved["bit_offset"] = field["bit_offset"] + 8 * base
            out.append(moved)
    return out


def layout_ok(cls: Any, info: Json, flat: list[Json]) -> bool:
    if ctypes.sizeof(cls) > info["size"]:
        return False
    for field in flat:
        descriptor = getattr(cls, field["name"])
        if "bits" in field:
            bit = descriptor.offset * 8 + (descriptor.size & 0xFFFF)
            if (descriptor.size >> 16, bit) != (field["bits"], field["bit_offset"]):
                return False
        elif descriptor.offset != field["offset"] or descriptor.size != field["size"]:
            return False
    return True
