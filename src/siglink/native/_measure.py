"""Measuring declarations with the compiler: one probe program prints every size, alignment,
offset, bit position and enumerator value the declarations document needs.

The probe is compiled with the consumer's own ``-I``/``-D`` flags and run; its rows are
``TAG VALUES...`` where TAG indexes what was asked (:func:`probe`). :func:`fill` then puts
the sizes into every TYPE of the document.

>>> document = {"functions": {"f": {"return": {"kind": "pointer", "to": {"kind": "void"}},
...                                 "params": []}}, "typedefs": {}, "types": {}}
>>> fill(document, {"pointer": {"size": 8, "align": 8}, "scalars": {}, "typedefs": {}})
>>> document["functions"]["f"]["return"]["size"]
8
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pycparser import c_ast

from siglink.native._cpp import HeaderError, rename, self_kind

if TYPE_CHECKING:
    from siglink.native._builder import Builder

__all__ = ["fill", "probe"]


def __dir__() -> list[str]:
    return list(__all__)


Json = dict[str, Any]
Tag = tuple[Any, ...]


class _Probe:
    """The probe's C statements and, for each printed row, what it measures."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.tags: list[Tag] = []

    def emit(self, tag: Tag, fmt: str, *args: str) -> None:
        self.lines.append(f'  __builtin_printf("{len(self.tags)} {fmt}\\n", {", ".join(args)});')
        self.tags.append(tag)

    def bits(self, tag: Tag, expr: str, name: str) -> None:
        """A bit-field's position: set all its bits in a zeroed object, find them."""
        self.lines.append(
            f"  {{ union {{ {expr} s; unsigned char b[sizeof({expr})]; }} u;"
            f" __builtin_memset(&u, 0, sizeof u); u.s.{name} = ~0;"
            f" siglink_bits(u.b, sizeof u.b, {len(self.tags)}); }}"
        )
        self.tags.append(tag)


def probe(b: Builder) -> Json:
    """Measure everything ``b`` collected: the layout document ``fill`` reads."""
    asked = _Probe()
    asked.emit(("pointer",), "%zu %zu", "sizeof(void*)", "_Alignof(void*)")
    _scalars(b, asked)
    enumerators = _aggregates(b, asked)
    for name in dict.fromkeys(enumerators):
        asked.emit(("enumerator", name), "%lld", f"(long long)({name})")
    # A typedef's own size and alignment: attributes the parser never sees
    # (vector_size, mode, aligned) change them.
    for name, t in b.typedef_memo.items():
        if t["kind"] in ("int", "float", "bool", "complex"):
            asked.emit(("typedef", name), "%zu %zu", f"sizeof({name})", f"_Alignof({name})")
    output = _run(b, _source(b, asked.lines))
    return _layout(b, output, asked.tags)


def _scalars(b: Builder, asked: _Probe) -> None:
    for name in sorted(b.scalars):
        if self_kind(name) == "int":
            asked.emit(("scalar", name), "%zu %zu %d", f"sizeof({name})", f"_Alignof({name})",
                       f"(int)((({name})-1) < ({name})0)")
        else:
            asked.emit(("scalar", name), "%zu %zu 0", f"sizeof({name})", f"_Alignof({name})")


def _aggregates(b: Builder, asked: _Probe) -> list[str]:
    """Ask for every enum's and aggregate's size and every field's place; the enumerators
    to measure."""
    enumerators: list[str] = list(b.loose_enumerators)
    for key, (node, expr, _loc) in b.aggregates.items():
        if expr is None or node is None:
            continue
        if isinstance(node, c_ast.Enum):
            if node.values is None and key not in b.enum_members:
                continue
            asked.emit(("enum", key), "%zu %zu %d", f"sizeof({expr})", f"_Alignof({expr})",
                       f"(int)((({expr})-1) < ({expr})0)")
            enumerators.extend(b.enum_members.get(key, []))
            continue
        fields = b.fields.get(key)
        if fields is None:
            continue
        anonymous = key in b.anonymous
        if not anonymous:
            asked.emit(("aggregate", key), "%zu %zu", f"sizeof({expr})", f"_Alignof({expr})")
        for index, field in enumerate(fields):
            name = field["name"]
            if field.get("anonymous") or field.get("padding"):
                continue  # placed from its own members (_place_anonymous), or unnamed
            if anonymous and "bits" not in field:
                asked.emit(("field", key, index), "%zu %zu %zu",
                           f"__builtin_offsetof({expr}, {name})",
                           f"sizeof((({expr}*)0)->{name})", f"__alignof__((({expr}*)0)->{name})")
            elif "bits" in field:
                asked.bits(("bits", key, index), expr, name)
            else:
                flexible = field["type"].get("kind") == "array" and not field["type"].get(
                    "length", 1)
                asked.emit(("field", key, index), "%zu %zu",
                           f"__builtin_offsetof({expr}, {name})",
                           "(size_t)0" if flexible else f"sizeof((({expr}*)0)->{name})")
    return enumerators


def _source(b: Builder, lines: list[str]) -> str:
    # Headers rename members with macros (``#define sa_handler __sigaction_handler...``,
    # ``#define st_atime st_atim.tv_sec``); the probe means the members themselves.
    members = sorted({f["name"] for fields in b.fields.values() for f in fields
                      if not f["name"].startswith("@")})
    return (
        f'#include "{b.header}"\n'
        + "".join(f"#undef {name}\n" for name in members)
        + "#include <stddef.h>\n"
        "static void siglink_bits(const unsigned char *b, unsigned long n, int tag) {\n"
        "  long first = -1, count = 0;\n"
        "  for (unsigned long i = 0; i < 8 * n; i++)\n"
        "    if (b[i / 8] >> (i % 8) & 1) { if (first < 0) first = (long)i; count++; }\n"
        '  __builtin_printf("%d %ld %ld\\n", tag, first, count);\n'
        "}\n"
        "int main(void) {\n" + "\n".join(lines) + "\n  return 0;\n}\n"
    )


def _run(b: Builder, source: str) -> str:
    """Compile and run the probe; its output."""
    probe_c = Path(b.tmp, "siglink_probe.c")
    probe_c.write_text(source, errors="surrogateescape")  # the header's path, as the OS has it
    exe = Path(b.tmp, "siglink_probe")
    compiled = subprocess.run(
        [b.cc, "-std=gnu11", "-w", *b.flags, "-o", str(exe), str(probe_c)],
        capture_output=True, text=True, errors="surrogateescape", check=False,
    )
    if compiled.returncode != 0:
        errors = [ln for ln in compiled.stderr.splitlines() if "error" in ln]
        first = rename(errors[0] if errors else compiled.stderr.strip(), b.header, b.display)
        raise HeaderError(f"{b.display}: the compiler rejects the declarations: {first}",
                          path=b.display)
    ran = subprocess.run([str(exe)], capture_output=True, text=True, errors="replace",
                         check=False)
    if ran.returncode != 0:
        raise HeaderError(f"{b.display}: the layout probe failed (exit {ran.returncode})")
    return ran.stdout


def _layout(b: Builder, output: str, tags: list[Tag]) -> Json:
    """The probe's rows as the layout document."""
    layout: Json = {"scalars": {}, "enumerators": {}, "typedefs": {}}
    aggregates: dict[str, Json] = {}
    for key in b.anonymous:
        if key in b.fields:
            aggregates[key] = layout[key] = {
                "size": 0, "align": 1, "fields": [dict(f) for f in b.fields[key]]}
    for row in output.splitlines():
        position, *values = row.split()
        tag = tags[int(position)]
        nums = [int(v) for v in values]
        if tag[0] == "pointer":
            layout["pointer"] = {"size": nums[0], "align": nums[1]}
        elif tag[0] == "scalar":
            layout["scalars"][tag[1]] = {"size": nums[0], "align": nums[1],
                                         "signed": bool(nums[2])}
        elif tag[0] == "enum":
            layout[tag[1]] = {"size": nums[0], "align": nums[1], "signed": bool(nums[2])}
        elif tag[0] == "aggregate":
            aggregates[tag[1]] = {"size": nums[0], "align": nums[1],
                                  "fields": [dict(f) for f in b.fields[tag[1]]]}
            layout[tag[1]] = aggregates[tag[1]]
        elif tag[0] == "field":
            field = aggregates[tag[1]]["fields"][tag[2]]
            field["offset"], field["size"] = nums[:2]
            if len(nums) > 2:
                field["align"] = nums[2]
        elif tag[0] == "bits":
            field = aggregates[tag[1]]["fields"][tag[2]]
            first_bit, count = nums
            field["bits"], field["bit_offset"] = count, first_bit
            field["offset"] = first_bit // 8
        elif tag[0] == "enumerator":
            layout["enumerators"][tag[1]] = nums[0]
        elif tag[0] == "typedef":
            layout["typedefs"][tag[1]] = {"size": nums[0], "align": nums[1]}
    _place_anonymous(b.anonymous, aggregates, layout)
    return layout


def _place_anonymous(anonymous: Iterable[str], aggregates: dict[str, Json], layout: Json) -> None:
    """Lay out anonymous members from their fields' offsets in the enclosing aggregate.

    Their fields were measured through the outermost aggregate (``offsetof`` reaches
    them by name); an anonymous member starts where its first field does, its alignment
    is its fields' largest, and its size is rounded up to that alignment.
    """
    members = [k for k in anonymous if k in aggregates]
    if not members:
        return

    def start(key: str) -> int:
        first = next(f for f in aggregates[key]["fields"] if not f.get("padding"))
        if first.get("anonymous"):
            return start(first["type"]["name"])
        return int(first["offset"])

    starts = {key: start(key) for key in members
              if any(not f.get("padding") for f in aggregates[key]["fields"])}
    for key, entry in aggregates.items():
        base = starts.get(key, 0)
        for field in entry["fields"]:
            if field.get("padding"):
                continue
            if field.get("anonymous"):
                field["offset"] = starts[field["type"]["name"]] - base
            elif base:
                field["offset"] -= base
                if "bit_offset" in field:
                    field["bit_offset"] -= 8 * base

    def align(field: Json) -> int:
        if "align" in field:
            return int(field.pop("align"))
        name = field["type"].get("name")
        info = layout["scalars"].get(name) or layout.get(name) or {}
        return int(info.get("align", 1))

    def place(key: str) -> None:
        entry = aggregates[key]
        if entry["size"]:
            return
        end, largest = 0, 1
        for field in entry["fields"]:
            if field.get("padding"):
                continue
            if field.get("anonymous"):
                place(field["type"]["name"])
                field["size"] = aggregates[field["type"]["name"]]["size"]
            if "bits" in field:
                stop = -(-(field["bit_offset"] + field["bits"]) // 8)
            else:
                stop = field["offset"] + field["size"]
            end, largest = max(end, stop), max(largest, align(field))
        entry["align"] = largest
        entry["size"] = -(-end // largest) * largest

    for key in members:
        place(key)
    for entry in aggregates.values():
        for field in entry["fields"]:
            field.pop("align", None)
            if field.get("anonymous"):
                field["size"] = aggregates[field["type"]["name"]]["size"]



def fill(document: Json, layout: Json) -> None:
    """Put the compiler's sizes into every TYPE of ``document``."""
    pointer = layout["pointer"]
    seen: set[int] = set()

    def visit(t: Json) -> None:
        if id(t) in seen:
            return
        seen.add(id(t))
        kind = t.get("kind")
        if kind in ("int", "float", "bool", "complex", "va_list"):
            info = layout["scalars"].get(t["name"])
            if info is not None:
                t["size"], t["align"] = info["size"], info["align"]
                if kind == "int":
                    t["signed"] = info["signed"]
            own = layout["typedefs"].get(t.get("typedef"))
            if own is not None and (own["size"], own["align"]) != (t.get("size"), t.get("align")):
                if own["size"] != t.get("size") and not (kind == "int" and own["size"] in (
                        1, 2, 4, 8)):
                    t["kind"] = "vector"  # vector_size: not the scalar it was written as
                t["size"], t["align"] = own["size"], own["align"]
        elif kind == "pointer":
            t["size"], t["align"] = pointer["size"], pointer["align"]
            visit(t["to"])
        elif kind == "enum":
            info = layout.get(t["name"])
            if info is not None:
                t["size"], t["align"], t["signed"] = info["size"], info["align"], info["signed"]
        elif kind in ("struct", "union"):
            info = layout.get(t["name"])
            if info is not None:
                t["size"], t["align"] = info["size"], info["align"]
        elif kind == "array":
            visit(t["of"])
            size = t["of"].get("size")
            if "length" not in t and size:
                t["length"] = -1
        elif kind == "function":
            visit(t["return"])
            for p in t["params"]:
                visit(p["type"])
        for key in ("return",):
            if key in t and kind != "function":
                visit(t[key])

    for fn in document["functions"].values():
        visit(fn["return"])
        for p in fn["params"]:
            visit(p["type"])
    for t in document["typedefs"].values():
        visit(t)
    for entry in document["types"].values():
        for field in entry.get("fields", ()):
            visit(field["type"])
            if field["type"].get("kind") == "array" and field["type"].get("length", -1) < 0:
                elem = field["type"]["of"].get("size")
                if elem:
                    field["type"]["length"] = field["size"] // elem
