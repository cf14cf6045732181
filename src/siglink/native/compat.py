"""The C rules (docs/design.md §3.4): a consumer's declarations against a library's.

C has no runtime types, so the rules demand an exact match up to representation-preserving
changes. Rule ids in verdicts:

====  ====================================================================  ==============
id    change in the library                                                  verdict
====  ====================================================================  ==============
C1    symbol missing, or soname major changed                                break
C2    a symbol recorded with an ELF version not defined under that version   break
C3    parameter count or variadic-ness changed                               break
C4    size, alignment, signedness, int/float class or pointer level changed  break
C5    typedef renamed to an identical type                                   harmless
C6    top-level ``const`` on a by-value parameter                            harmless
C7    ``const`` added to a parameter's pointee (removed: review)             harmless
C8    ``const`` added to a returned pointee (review); removed                harmless
C9    ``restrict`` removed (added: review)                                   harmless
C10   ``void*`` parameter became ``T*`` (review); ``T*`` became ``void*``      harmless
      (returns the other way round)
C11   ``void`` return became a scalar (harmless) or an aggregate (break);
      a value return became ``void`` (break)
C12   parameter renamed                                                      harmless
C13   enum members added, size unchanged (in outputs: review);
      removed or renumbered                                                  break
C14   struct passed by value not identical                                   break
C15   struct by pointer: an offset changed or a field removed, or grown
      while the consumer allocates it                                        break
C16   any change behind an opaque handle                                     harmless
C17   calling convention changed                                             break
C18   integer constant (``#define``) value changed                           review
====  ====================================================================  ==============

The consumer allocates a struct (C15) unless some function returns a pointer to it or fills
a ``T**`` out-parameter: then the library allocates it and may grow it. Floating types compare
by format as well as size (``_Float128`` is not the x87 ``long double``; C4). Members of
anonymous structs and unions are compared where C reaches them, as members of the enclosing
aggregate.

Every position has a direction: a parameter flows from the consumer into the library, a
return from the library into the consumer. Inside a callback the consumer passes, the
directions flip (the library calls the consumer's function), so ``const`` added to a
callback's pointer parameter is the review case of C8 and a callback's ``void`` return that
the library now reads is a break (C11).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from siglink.contracts.verdict import Problem, Severity, Verdict
from siglink.native.cdecl import type_text
from siglink.native.elf import ElfFile

__all__ = ["check_function", "check_library", "ordered"]


def __dir__() -> list[str]:
    return list(__all__)

Json = dict[str, Any]

BREAK = Severity.INCOMPATIBLE
REVIEW = Severity.REVIEW
HARMLESS = Severity.HARMLESS


def _show(t: Json) -> str:
    text = type_text(t)
    full = type_text(t, expand=True)
    return text if text == full else f"{text} (= {full})"


def _major(soname: str) -> str | None:
    m = re.search(r"\.so\.(\d+)", soname)
    return m.group(1) if m else None


def check_library(
    expected: Mapping[str, Any],
    provided: Mapping[str, Any] | None,
    elf: ElfFile,
    *,
    versions: Mapping[str, str] | None = None,
    soname: str | None = None,
) -> Verdict:
    """Check every function ``expected`` declares against ``elf`` and its declarations.

    ``provided`` is the library's declarations (``None``: only symbol presence is checked and
    every function is unverified); ``soname`` is the name the consumer asked for, whose
    major version must match the library's ``DT_SONAME``.
    """
    problems: list[Problem] = []
    unverified: list[str] = []
    if soname and elf.soname and _major(soname) and _major(elf.soname) != _major(soname):
        problems.append(Problem("C1", "soname", soname, elf.soname, BREAK,
                                "the library's major version changed"))
    checker = _Checker(expected, provided or {})
    provided_functions: Mapping[str, Any] = (provided or {}).get("functions", {})
    for name, fn in expected.get("functions", {}).items():
        symbol_name = fn.get("symbol", name)
        symbol = elf.symbols.get(symbol_name)
        if symbol is None or not symbol.function:
            found = "missing" if symbol is None else "not a function"
            problems.append(Problem("C1", name, "a defined function", found, BREAK))
            continue
        wanted = (versions or {}).get(name)
        if wanted is not None and wanted not in symbol.versions:
            have = ", ".join(f"{symbol_name}@{v}" for v in symbol.versions) or "unversioned"
            problems.append(Problem("C2", name, f"{symbol_name}@{wanted}", have, BREAK))
            continue
        if wanted is None and not symbol.linkable:
            have = ", ".join(f"{symbol_name}@{v}" for v in symbol.versions)
            problems.append(Problem("C1", name, "a defined function", f"only {have}", BREAK,
                                    "kept for old binaries; no new link binds it"))
            continue
        offered = provided_functions.get(name) if provided is not None else None
        if offered is None:
            unverified.append(name)
            continue
        problems.extend(checker.function(fn, offered, name))
    problems.extend(checker.structs())
    if provided is not None:
        problems.extend(_constants(expected, provided))
    identical = not problems and not unverified
    return Verdict(ordered(problems), tuple(unverified), identical=identical)


def check_function(
    expected: Mapping[str, Any], provided: Mapping[str, Any], name: str
) -> Verdict:
    """Function ``name`` of one declarations document against another's.

    >>> int_ = {"kind": "int", "name": "int", "size": 4, "align": 4, "signed": True}
    >>> long_ = {"kind": "int", "name": "long", "size": 8, "align": 8, "signed": True}
    >>> def decls(param, t):
    ...     return {"functions": {"f": {"return": int_, "variadic": False,
    ...                                 "params": [{"name": param, "type": t}]}}}
    >>> verdict = check_function(decls("n", int_), decls("count", long_), "f")
    >>> for problem in verdict.problems:
    ...     print(problem.explain())
    C4 f param 1 (n): expected int, found long; size 4 became 8; alignment 4 became 8 (incompatible)
    C12 f param 1 (n): expected n, found count; parameter renamed (harmless)
    """
    checker = _Checker(expected, provided)
    problems = checker.function(expected["functions"][name], provided["functions"][name], name)
    problems += checker.structs()
    return Verdict(ordered(problems), identical=not problems)


_RANK = {BREAK: 0, REVIEW: 1, HARMLESS: 2}


def ordered(problems: Iterable[Problem]) -> tuple[Problem, ...]:
    """Incompatible problems first, then those to review, then harmless ones (each group in
    the order found)."""
    return tuple(sorted(problems, key=lambda p: _RANK[p.severity]))


class _Checker:
    def __init__(self, expected: Mapping[str, Any], provided: Mapping[str, Any]) -> None:
        self.etypes: Mapping[str, Json] = expected.get("types", {})
        self.ftypes: Mapping[str, Json] = provided.get("types", {})
        self.library_allocated = _library_allocated(expected) | _library_allocated(provided)
        self.active: set[tuple[str, str]] = set()
        # Structs reached through pointers: their problems, found once, and where reached.
        self.reached: dict[tuple[str, str, str], tuple[list[Problem], list[str]]] = {}

    def structs(self) -> list[Problem]:
        """The problems of every struct reached through a pointer, each once, naming where
        it was reached (``by_pointer`` defers them here)."""
        where: dict[Problem, list[str]] = {}
        for problems, paths in self.reached.values():
            for p in problems:
                where.setdefault(p, []).extend(paths)
        out: list[Problem] = []
        for p, paths in where.items():
            via = "reached by " + ", ".join(dict.fromkeys(paths))
            note = f"{p.note}; {via}" if p.note else via
            out.append(Problem(p.rule, p.path, p.expected, p.found, p.severity, note))
        return out

    def function(self, e: Json, f: Json, path: str, role: str = "param") -> list[Problem]:
        """``role`` is the direction of the parameters: ``"param"`` for the library's own
        functions, ``"return"`` for a callback the library calls."""
        out: list[Problem] = []
        ecc, fcc = e.get("callconv", "default"), f.get("callconv", "default")
        if ecc != fcc:
            out.append(Problem("C17", path, f"calling convention {ecc}",
                               f"calling convention {fcc}", BREAK))
        eparams, fparams = e["params"], f["params"]
        ev, fv = bool(e.get("variadic")), bool(f.get("variadic"))
        if len(eparams) != len(fparams) or ev != fv:
            out.append(Problem("C3", path, _arity(eparams, ev), _arity(fparams, fv), BREAK))
        else:
            for i, (ep, fp) in enumerate(zip(eparams, fparams, strict=True), start=1):
                label = f"{path} param {i}" + (f" ({ep['name']})" if ep.get("name") else "")
                if ep.get("name") and fp.get("name") and ep["name"] != fp["name"]:
                    out.append(Problem("C12", label, ep["name"], fp["name"], HARMLESS,
                                       "parameter renamed"))
                out.extend(self.value(ep["type"], fp["type"], label, role, parameter=True))
        out.extend(self.returned(e["return"], f["return"], f"{path} return", _flip(role)))
        return out

    def returned(self, e: Json, f: Json, path: str, role: str = "return") -> list[Problem]:
        ek, fk = e["kind"], f["kind"]
        if ek == "void" and fk == "void":
            return []
        aggregate = ("struct", "union", "array")
        if ek == "void" or fk == "void":
            other = f if ek == "void" else e
            if other["kind"] in aggregate:  # returned in memory: a hidden pointer parameter
                return [Problem("C11", path, _show(e), _show(f), BREAK,
                                "an aggregate return is a hidden pointer parameter")]
            # Whoever reads the value must get one: the consumer for the library's own
            # functions, the library for a callback the consumer wrote.
            reader_loses = (ek == "void") == (role == "param")
            if reader_loses:
                reader = "the library" if role == "param" else "the consumer"
                return [Problem("C11", path, _show(e), _show(f), BREAK,
                                f"{reader} reads a value that is not returned")]
            reader = "the consumer" if role == "return" else "the library"
            return [Problem("C11", path, _show(e), _show(f), HARMLESS,
                            f"a scalar return that {reader} ignores")]
        return self.value(e, f, path, role)

    def value(self, e: Json, f: Json, path: str, role: str, *,
              parameter: bool = False) -> list[Problem]:
        """A by-value position: a parameter or a return."""
        out: list[Problem] = []
        if parameter and bool(e.get("const")) != bool(f.get("const")):
            out.append(Problem("C6", path, _show(e), _show(f), HARMLESS,
                               "top-level const on a by-value parameter"))
        if bool(e.get("restrict")) != bool(f.get("restrict")):
            added = bool(f.get("restrict"))
            out.append(Problem("C9", path, _show(e), _show(f), REVIEW if added else HARMLESS,
                               "restrict added" if added else "restrict removed"))
        out.extend(self.same(e, f, path, role))
        return out

    def same(self, e: Json, f: Json, path: str, role: str) -> list[Problem]:
        """Same representation: what C4, C5, C13 and C14 ask of one value."""
        ek, fk = e["kind"], f["kind"]
        if ek == "pointer" or fk == "pointer":
            if ek != fk or _level(e) != _level(f):
                return [Problem("C4", path, _show(e), _show(f), BREAK,
                                f"pointer level {_level(e)} became {_level(f)}")]
            # What the pointee check finds here is shown as the whole types, not the pointees.
            return [_whole(p, path, e, f) for p in self.pointee(e["to"], f["to"], path, role)]
        if ek in ("struct", "union") or fk in ("struct", "union"):
            if ek != fk:
                return [Problem("C14", path, _show(e), _show(f), BREAK)]
            return self.by_value(e, f, path, role)
        if ek == "function" and fk == "function":
            # The callback's parameters flow the other way from the pointer itself.
            return self.function(e, f, f"{path} callback", _flip(role))
        if ek == "array" and fk == "array":
            if e.get("length") != f.get("length"):
                return [Problem("C4", path, _show(e), _show(f), BREAK, "array length changed")]
            return self.same(e["of"], f["of"], path, role)
        out: list[Problem] = []
        scalar = ("int", "bool", "enum")
        eclass = "int" if ek in scalar else ek
        fclass = "int" if fk in scalar else fk
        if eclass != fclass:
            return [Problem("C4", path, _show(e), _show(f), BREAK,
                            f"{_class(ek)} became {_class(fk)}")]
        differences = [
            f"{what} {e.get(key)} became {f.get(key)}"
            for key, what in (("size", "size"), ("align", "alignment"))
            if e.get(key) != f.get(key)
        ]
        if bool(e.get("signed")) != bool(f.get("signed")) and eclass == "int":
            differences.append(f"{_signed(e)} became {_signed(f)}")
        if eclass == "float" and _float_format(e) != _float_format(f):
            differences.append(f"format {_float_format(e)} became {_float_format(f)}")
        if differences:
            return [Problem("C4", path, _show(e), _show(f), BREAK, "; ".join(differences))]
        if ek == "enum" and fk == "enum":
            out.extend(self.enum(e, f, path, role))
        if _spelling(e) != _spelling(f):
            out.append(Problem("C5", path, _show(e), _show(f), HARMLESS,
                               "renamed to an identical type"))
        return out

    def pointee(self, e: Json, f: Json, path: str, role: str) -> list[Problem]:
        out: list[Problem] = []
        econst, fconst = bool(e.get("const")), bool(f.get("const"))
        if econst != fconst:
            shown = (_show_ptr(e), _show_ptr(f))  # the callers show the whole types
            if role == "return":
                out.append(Problem("C8", path, *shown, REVIEW if fconst else HARMLESS,
                                   "const added to the returned pointee" if fconst
                                   else "const removed from the returned pointee"))
            else:
                out.append(Problem("C7", path, *shown, HARMLESS if fconst else REVIEW,
                                   "const added to the pointee" if fconst
                                   else "const removed from the pointee: the library may "
                                   "now write through it"))
        ek, fk = e["kind"], f["kind"]
        if ek == "void" or fk == "void":
            if ek == fk:
                return out
            # Into the library, void* -> T* narrows what it accepts (review; T* -> void*
            # widens it); out of it, T* -> void* loses what the consumer was promised.
            narrowed = (ek == "void") == (role == "param")
            change = "void* became a typed pointer" if ek == "void" else (
                "a typed pointer became void*")
            out.append(Problem("C10", path, _show_ptr(e), _show_ptr(f),
                               REVIEW if narrowed else HARMLESS, change))
            return out
        if ek in ("struct", "union") and fk in ("struct", "union"):
            out.extend(self.by_pointer(e, f, path, role))
            return out
        if ek == "pointer" and fk == "pointer":
            out.extend(self.pointee(e["to"], f["to"], path, role))
            return out
        out.extend(self.same(e, f, path, role))
        return out

    def by_value(self, e: Json, f: Json, path: str, role: str) -> list[Problem]:
        """C14: a struct passed or returned by value must be identical.

        Each difference inside it is reported once, as C14, where it is.
        """
        inner = self.fields(e, f, path, role, by_value=True)
        serious = [p for p in inner if p.severity is not HARMLESS]
        if serious:
            where = f"{path} -> {e['name']}"
            passed = "returned" if path.endswith(" return") else "passed"
            out: list[Problem] = []
            for p in serious:
                if p.rule == "C14" and p.note:
                    note = p.note  # a struct inside this one, already explained
                else:
                    note = f"{_show(e)} {passed} by value is not identical"
                    note += f": {p.note}" if p.note else ""
                out.append(Problem("C14", path if p.path == where else p.path, p.expected,
                                   p.found, BREAK, note))
            return out
        return [p for p in inner if p.rule in ("C5", "C12")][:1]

    def by_pointer(self, e: Json, f: Json, path: str, role: str) -> list[Problem]:
        """C15/C16: a struct reached through a pointer."""
        if e["kind"] != f["kind"]:
            return [Problem("C15", path, _show(e), _show(f), BREAK)]
        etype = self.etypes.get(e["name"])
        ftype = self.ftypes.get(f["name"])
        if etype is None or not etype.get("complete"):
            return []  # opaque to the consumer: whatever changed behind it is safe (C16)
        if ftype is None or not ftype.get("complete"):
            return [Problem("C16", path, f"{e['name']} with fields", f"opaque {f['name']}",
                            REVIEW, "the library no longer declares the fields")]
        key = (e["name"], f["name"], role)
        if key in self.reached:
            self.reached[key][1].append(path)
            return []
        found: list[Problem] = []
        self.reached[key] = (found, [path])
        layout: list[tuple[str, Severity]] = []
        found.extend(self.fields(e, f, e["name"], role, by_value=False, layout=layout))
        esize, fsize = etype["size"], ftype["size"]
        if fsize > esize:
            consumer = e["name"] not in self.library_allocated
            layout.append((f"size {esize}\u2192{fsize}"
                           + (" while the consumer allocates it" if consumer
                              else " (the library allocates it)"),
                           BREAK if consumer else HARMLESS))
        if all(" inserted at " in text for text, _ in layout):
            layout.clear()  # a field added into a union or padding alone changes nothing
        if layout:
            severity = min((sev for _, sev in layout), key=lambda sev: _RANK[sev])
            found.insert(0, Problem("C15", e["name"], _layout(etype, self.etypes),
                                    _layout(ftype, self.ftypes), severity,
                                    "; ".join(text for text, _ in layout)))
        return []

    def fields(self, e: Json, f: Json, path: str, role: str, *, by_value: bool,
               layout: list[tuple[str, Severity]] | None = None) -> list[Problem]:
        """The problems inside an aggregate; with ``layout``, fields removed, inserted or
        moved are described there (for one C15 line) instead of as problems."""
        key = (e["name"], f["name"])
        if key in self.active:
            return []  # a struct that points to itself: checked where it started
        self.active.add(key)
        try:
            return self._fields(e, f, path, role, by_value=by_value, layout=layout)
        finally:
            self.active.discard(key)

    def _fields(self, e: Json, f: Json, path: str, role: str, *, by_value: bool,
                layout: list[tuple[str, Severity]] | None) -> list[Problem]:
        etype = self.etypes.get(e["name"]) or {}
        ftype = self.ftypes.get(f["name"]) or {}
        efields, ffields = _flat(self.etypes, etype), _flat(self.ftypes, ftype)
        out: list[Problem] = []
        where = path if layout is not None else f"{path} -> {e['name']}"
        if not etype.get("complete") or not ftype.get("complete"):
            if by_value and etype.get("size") != ftype.get("size"):
                out.append(Problem("C14", where, f"size {etype.get('size')}",
                                   f"size {ftype.get('size')}", BREAK))
            return out
        found = {fl["name"]: fl for fl in ffields}
        known = {fl["name"] for fl in efields}
        inserted = [(f"field {fl['name']} inserted at offset {_offset(fl)}", HARMLESS)
                    for fl in ffields if fl["name"] not in known]
        for fl in efields:
            other = found.get(fl["name"])
            label = f"{where} field {fl['name']}"
            if other is None:
                if layout is not None:
                    layout.append((f"field {fl['name']} removed", BREAK))
                else:
                    out.append(Problem("C15", label, _show(fl["type"]), "removed", BREAK))
                continue
            if fl.get("offset") != other.get("offset") or fl.get("bit_offset") != other.get(
                "bit_offset"
            ):
                if layout is not None:
                    layout.append((f"{fl['name']} moved {_offset(fl)}\u2192{_offset(other)}",
                                   BREAK))
                else:
                    out.append(Problem("C15", label, f"offset {_offset(fl)}",
                                       f"offset {_offset(other)}", BREAK, "the field moved"))
            if fl.get("bits") != other.get("bits"):
                out.append(Problem("C4", label, f"{fl.get('bits')} bits",
                                   f"{other.get('bits')} bits", BREAK))
            out.extend(p for p in self.same(fl["type"], other["type"], label, role)
                       if p.rule != "C5")
        if layout is not None:
            layout[:0] = inserted
        if by_value:  # one problem for the aggregate's shape: field count, size, alignment
            shape = [(f"{len(efields)} fields", f"{len(ffields)} fields")] if len(
                efields) != len(ffields) else []
            shape += [(f"{what} {etype.get(key)}", f"{what} {ftype.get(key)}")
                      for key, what in (("size", "size"), ("align", "alignment"))
                      if etype.get(key) != ftype.get(key)]
            if shape:
                out.append(Problem("C14", where, " and ".join(a for a, _ in shape),
                                   " and ".join(b for _, b in shape), BREAK))
        return out

    def enum(self, e: Json, f: Json, path: str, role: str) -> list[Problem]:
        emembers = (self.etypes.get(e["name"]) or {}).get("members", {})
        fmembers = (self.ftypes.get(f["name"]) or {}).get("members", {})
        out: list[Problem] = []
        for name, value in emembers.items():
            if name not in fmembers:
                out.append(Problem("C13", f"{path} {e['name']}", f"{name} = {value}", "removed",
                                   BREAK, "enum member removed"))
            elif fmembers[name] != value:
                out.append(Problem("C13", f"{path} {e['name']}", f"{name} = {value}",
                                   f"{name} = {fmembers[name]}", BREAK, "enum member renumbered"))
        added = [n for n in fmembers if n not in emembers]
        if added and fmembers and emembers:
            out.append(Problem("C13", f"{path} {e['name']}", ", ".join(emembers),
                               ", ".join(fmembers), REVIEW if role == "return" else HARMLESS,
                               "members added: " + ", ".join(added)))
        return out


def _constants(expected: Mapping[str, Any], provided: Mapping[str, Any]) -> list[Problem]:
    """C18: an integer constant both sides define with different values (enum members are
    C13's)."""
    members = {name for t in expected.get("types", {}).values() if t.get("kind") == "enum"
               for name in t.get("members", {})}
    theirs: Mapping[str, int] = provided.get("constants", {})
    return [Problem("C18", name, str(value), str(theirs[name]), REVIEW,
                    "integer constant value changed: the consumer compiled the old value in")
            for name, value in expected.get("constants", {}).items()
            if name not in members and name in theirs and theirs[name] != value]


def _library_allocated(decls: Mapping[str, Any]) -> set[str]:
    keys: set[str] = set()
    for fn in decls.get("functions", {}).values():
        ret = fn["return"]
        if ret["kind"] == "pointer" and ret["to"]["kind"] in ("struct", "union"):
            keys.add(ret["to"]["name"])
        for p in fn["params"]:
            t = p["type"]
            if t["kind"] == "pointer" and t["to"]["kind"] == "pointer":
                inner = t["to"]["to"]
                if inner["kind"] in ("struct", "union"):
                    keys.add(inner["name"])
    return keys


def _flip(role: str) -> str:
    return "return" if role == "param" else "param"


def _flat(types: Mapping[str, Json], entry: Json, base: int = 0) -> list[Json]:
    """An aggregate's fields as C reaches them: anonymous members' fields lifted, offsets
    from the start of ``entry``."""
    out: list[Json] = []
    for field in entry.get("fields", ()):
        if field.get("padding"):
            continue
        if field.get("anonymous"):
            inner = types.get(field["type"]["name"]) or {}
            out.extend(_flat(types, inner, base + field["offset"]))
        elif base:
            moved = {**field, "offset": field["offset"] + base}
            if "bit_offset" in field:
                moved["bit_offset"] = field["bit_offset"] + 8 * base
            out.append(moved)
        else:
            out.append(field)
    return out


def _signed(t: Json) -> str:
    return "signed" if t.get("signed") else "unsigned"


# Floating formats by type name. long double is x87 extended precision on x86 and IEEE
# binary128 (or double) elsewhere, so it is named for itself; _Float64x is long double's
# format wherever it exists.
_FLOAT_FORMATS = {
    "float": "binary32", "_Float32": "binary32",
    "double": "binary64", "_Float64": "binary64", "_Float32x": "binary64",
    "long double": "long double", "_Float64x": "long double",
    "_Float128": "binary128", "__float128": "binary128",
    "_Float16": "binary16", "__fp16": "binary16", "__bf16": "bfloat16",
}


def _float_format(t: Json) -> str:
    name = str(t.get("name"))
    return _FLOAT_FORMATS.get(name, name)


def _arity(params: list[Json], variadic: bool) -> str:
    text = f"{len(params)} parameter" + ("" if len(params) == 1 else "s")
    return text + (", variadic" if variadic else "")


def _level(t: Json) -> int:
    level = 0
    while t["kind"] == "pointer":
        level += 1
        t = t["to"]
    return level


def _class(kind: str) -> str:
    return {"int": "integer", "bool": "integer", "enum": "integer", "float": "floating",
            "void": "void", "va_list": "va_list"}.get(kind, kind)


def _spelling(t: Json) -> tuple[Any, ...]:
    return (t.get("typedef"), t.get("name"))


def _show_ptr(t: Json) -> str:
    return f"{_show(t)} *"


def _whole(problem: Problem, path: str, e: Json, f: Json) -> Problem:
    """A problem found in the pointees of ``e`` and ``f`` at ``path``, shown with the whole
    pointer types (``const unsigned char *``, not ``const unsigned char``)."""
    if problem.path != path or problem.rule == "C16":
        return problem  # deeper (a field, a callback), or about the declaration itself
    note = problem.note
    if problem.rule == "C4" and not note.startswith("pointer level"):
        note = f"pointee: {note}" if note else "pointee changed"
    return Problem(problem.rule, path, _show(e), _show(f), problem.severity, note)


def _layout(entry: Json, types: Mapping[str, Json]) -> str:
    """``2 fields in 8 bytes``: an aggregate's shape (the note says what moved)."""
    return f"{len(_flat(types, entry))} fields in {entry.get('size')} bytes"


def _offset(field: Json) -> str:
    if "bit_offset" in field:
        return f"{field['offset']} (bit {field['bit_offset']})"
    return str(field.get("offset"))
