"""C declarations to the declarations document: one run over pycparser's AST.

:class:`Builder` converts each declaration wanted into a TYPE document (the schema in
:mod:`siglink.native.cdecl`), collecting every scalar, struct, union and enum it reaches;
:func:`siglink.native._measure.probe` then measures them all with one compiled program.

>>> quals({"kind": "int", "name": "char"}, ["const", "volatile"])
{'kind': 'int', 'name': 'char', 'const': True, 'volatile': True}
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Final

from pycparser import c_ast, c_generator, c_parser

from siglink._text import inert
from siglink.native._cpp import (
    PRELUDE,
    SHIM_TYPES,
    HeaderError,
    caret,
    rename,
    scalar_name,
    strip_gnu,
)
from siglink.native._macros import evaluate
from siglink.native._measure import fill, probe

__all__ = ["SCHEMA", "Builder"]


def __dir__() -> list[str]:
    return list(__all__)


SCHEMA: Final = 1

Json = dict[str, Any]


class Builder:
    """One run over a parsed translation unit: convert, then measure with one probe."""

    def __init__(self, header: Path, display: str, tmp: str, cc: str, flags: list[str]) -> None:
        self.header = header
        self.display = display
        self.tmp = tmp
        self.cc = cc
        self.flags = flags
        self.typedef_nodes: dict[str, Any] = {}
        self.tag_nodes: dict[str, Any] = {}
        self.typedef_memo: dict[str, Json] = {}
        self.aggregates: dict[str, tuple[Any, str | None, str]] = {}  # key -> node, expr, loc
        self.enum_members: dict[str, list[str]] = {}
        self.loose_enumerators: list[str] = []
        self.scalars: set[str] = set()
        self.pending: list[str] = []
        self.fields: dict[str, list[Json]] = {}
        self.anonymous: dict[str, str] = {}  # anonymous member's key -> enclosing key
        self.included: set[str] = set()

    # -- locations -------------------------------------------------------------------
    def where(self, node: Any) -> str:
        coord = getattr(node, "coord", None)
        if coord is None:
            return self.display
        name = rename(str(coord.file), self.header, self.display)
        return f"{Path(name).name if name != self.display else name}:{coord.line}"

    def own(self, node: Any) -> bool:
        """Declared in the header itself (or under a ``#line`` of its own), not included."""
        coord = getattr(node, "coord", None)
        if coord is None:
            return False
        name = str(coord.file)
        return name == str(self.header) or (
            name not in self.included and not name.startswith("<")
        )

    # -- building ----------------------------------------------------------------------
    def build(
        self, preprocessed: str, only: set[str] | None, own_only: bool, also: set[str]
    ) -> Json:
        """The declarations document of ``preprocessed`` (``cc -E`` output): parse, collect
        the declarations wanted, convert them, measure every type with one probe."""
        # Linemarkers with flag 1 enter an included file; everything else is the header's own
        # (cgo's headers rename parts of themselves with #line).
        self.included = set(re.findall(r'^# \d+ "(.*)" 1(?: \d)*$', preprocessed, re.M))
        text, callconv, labels = strip_gnu(preprocessed)
        unit = self._parse(text)
        functions, own_typedefs, own_tags = self._declarations(unit, only, own_only, also,
                                                                labels)
        out_functions = self._functions(functions, labels, callconv)
        typedefs = {name: self.typedef(name) for name in own_typedefs}
        for key in own_tags:
            self._reference(key, None)
        while self.pending:
            self._fields(self.pending.pop())
        layout = probe(self)
        document: Json = {
            "schema": SCHEMA,
            "header": self.display,
            "pointer": layout["pointer"],
            "functions": out_functions,
            "types": self._types(layout),
            "typedefs": typedefs,
            "constants": self._constants(layout, own_tags),
        }
        fill(document, layout)
        return document

    def _parse(self, text: str) -> Any:
        """pycparser's AST, or a :class:`HeaderError` naming ``file:line`` with a caret."""
        parser = c_parser.CParser()
        try:
            return parser.parse(PRELUDE + "\n" + text, str(self.header))
        except AssertionError as e:
            # pycparser 3 asserts on unbalanced scopes ('}' with no '{') instead of raising
            # ParseError: its own parse failure, on input it rejects
            raise HeaderError(f"{self.display}: cannot parse C declarations: unbalanced "
                              "braces", path=self.display) from e
        except c_parser.ParseError as e:
            m = re.match(r"(.*?):(\d+)(?::(\d+))?: (.*)", str(e))
            if m is None:
                reason = rename(str(e), self.header, self.display).removeprefix(
                    f"{self.display}: ")
                raise HeaderError(f"{self.display}: cannot parse C declarations: {reason}",
                                  path=self.display) from None
            source, line, column = m.group(1), int(m.group(2)), int(m.group(3) or 0)
            name = rename(source, self.header, self.display)
            where = f"{name if name == self.display else Path(name).name}:{line}"
            reason = m.group(4)
            if reason.startswith("before: "):
                reason = f"unexpected {reason.removeprefix('before: ')!r}"
                if re.fullmatch(r"'[A-Za-z_]\w*'", reason.split(" ", 1)[1]):
                    reason += " (is a type name before it undeclared?)"
            raise HeaderError(
                f"{inert(where)}: cannot parse C declarations: {inert(reason)}"
                f"{caret(source, line, column)}",
                path=self.display, line=line, multiline=True,
            ) from None

    def _declarations(
        self, unit: Any, only: set[str] | None, own_only: bool, also: set[str],
        labels: dict[str, str],
    ) -> tuple[dict[str, Any], list[str], list[str]]:
        """The functions wanted (by name), and the header's own typedef names and tags."""
        functions: dict[str, Any] = {}
        own_typedefs: list[str] = []
        own_tags: list[str] = []
        for node in unit.ext:
            decl = node.decl if isinstance(node, c_ast.FuncDef) else node
            self._collect_tags(decl)
            if isinstance(decl, c_ast.Typedef):
                self.typedef_nodes[decl.name] = decl.type
                if self.own(decl):
                    own_typedefs.append(decl.name)
            elif isinstance(decl, c_ast.Decl):
                if isinstance(decl.type, c_ast.FuncDecl) and "static" not in decl.storage:
                    symbol = labels.get(decl.name, decl.name)
                    if only is not None and symbol not in only:
                        continue
                    if own_only and not self.own(decl) and symbol not in also:
                        continue
                    functions[decl.name] = decl
                elif decl.name is None and self.own(decl):
                    inner = decl.type
                    if isinstance(inner, c_ast.Struct | c_ast.Union | c_ast.Enum) and inner.name:
                        own_tags.append(self._tag_key(inner))
        return functions, own_typedefs, own_tags

    def _functions(self, functions: dict[str, Any], labels: dict[str, str],
                   callconv: dict[str, str]) -> dict[str, Json]:
        out: dict[str, Json] = {}
        for name, decl in functions.items():
            fn = self.convert(decl.type, None)
            fn.pop("kind", None)
            fn["location"] = self.where(decl)
            if name in labels and labels[name] != name:
                fn["symbol"] = labels[name]
            if name in callconv:
                fn["callconv"] = callconv[name]
            out[name] = fn
        return out

    def _types(self, layout: Json) -> dict[str, Json]:
        """Every struct, union and enum reached, with its measured layout."""
        types: dict[str, Json] = {}
        for key, (node, _expr, loc) in self.aggregates.items():
            entry = layout.get(key)
            if isinstance(node, c_ast.Enum):
                members = {m: layout["enumerators"][m] for m in self.enum_members.get(key, [])}
                types[key] = {"kind": "enum", **(entry or {}), "members": members,
                              "location": loc}
            elif node is None or node.decls is None or entry is None:
                types[key] = {"kind": key.split(" ", 1)[0], "complete": False}
            else:
                types[key] = {"kind": key.split(" ", 1)[0], "complete": True, **entry,
                              "location": loc}
        return types

    def _constants(self, layout: Json, own_tags: list[str]) -> dict[str, int]:
        """The header's own enumerators: loose ones and those of its own tagged enums."""
        constants = {
            name: layout["enumerators"][name]
            for name in self.loose_enumerators
            if name in layout["enumerators"]
        }
        for key in own_tags:
            for name in self.enum_members.get(key, []):
                constants[name] = layout["enumerators"][name]
        return constants

    def _collect_tags(self, node: Any) -> None:
        for child in walk(node):
            if isinstance(child, c_ast.Struct | c_ast.Union) and child.decls is not None:
                if child.name:
                    self.tag_nodes.setdefault(self._tag_key(child), child)
            elif isinstance(child, c_ast.Enum) and child.values is not None:
                names = [e.name for e in child.values.enumerators]
                if child.name:
                    self.tag_nodes.setdefault(self._tag_key(child), child)
                    self.enum_members[self._tag_key(child)] = names
                elif self.own(child):
                    self.loose_enumerators.extend(names)

    @staticmethod
    def _tag_key(node: Any) -> str:
        kind = {c_ast.Struct: "struct", c_ast.Union: "union", c_ast.Enum: "enum"}[type(node)]
        return f"{kind} {node.name}"

    def _reference(self, key: str, node: Any, expr: str | None = None) -> None:
        if key in self.aggregates:
            return
        defined = self.tag_nodes.get(key, node)
        if defined is not None and not getattr(defined, "name", None):
            defined = node
        self.aggregates[key] = (defined, expr if expr is not None else key, self.where(defined))
        if isinstance(defined, c_ast.Struct | c_ast.Union) and defined.decls is not None:
            self.pending.append(key)

    def typedef(self, name: str) -> Json:
        if name not in self.typedef_memo:
            node = self.typedef_nodes[name]
            converted = self.convert(node, f"(*({name}*)0)", anon=f"@{name}")
            self.typedef_memo[name] = {**converted, "typedef": name}
        return self.typedef_memo[name]

    def convert(self, node: Any, expr: str | None, anon: str | None = None) -> Json:
        """A pycparser type node as a TYPE document (sizes filled in later)."""
        if isinstance(node, c_ast.Decl | c_ast.Typename):
            return self.convert(node.type, expr, anon)
        if isinstance(node, c_ast.PtrDecl):
            inner = self.convert(node.type, None if expr is None else f"*({expr})", anon)
            return quals({"kind": "pointer", "to": inner}, node.quals)
        if isinstance(node, c_ast.ArrayDecl):
            inner = self.convert(node.type, None if expr is None else f"({expr})[0]", anon)
            result: Json = {"kind": "array", "of": inner}
            if isinstance(node.dim, c_ast.Constant) and node.dim.type == "int":
                result["length"] = int(node.dim.value.rstrip("uUlL"), 0)
            elif node.dim is None:
                result["length"] = 0
            return quals(result, node.dim_quals)
        if isinstance(node, c_ast.FuncDecl):
            params: list[Json] = []
            variadic = False
            for param in node.args.params if node.args is not None else ():
                if isinstance(param, c_ast.EllipsisParam):
                    variadic = True
                    continue
                ptype = self.convert(param, None)
                if ptype["kind"] == "void" and not pointerish(param):
                    continue  # f(void)
                if ptype["kind"] == "array":  # parameters of array type are pointers
                    ptype = {"kind": "pointer", "to": ptype["of"]}
                elif ptype["kind"] == "function":
                    ptype = {"kind": "pointer", "to": ptype}
                params.append({"name": getattr(param, "name", None), "type": ptype})
            ret = self.convert(node.type, None)
            return {"kind": "function", "return": ret, "params": params, "variadic": variadic}
        if isinstance(node, c_ast.TypeDecl):
            inner = node.type
            if isinstance(inner, c_ast.IdentifierType):
                names = inner.names
                if len(names) == 1 and names[0] in SHIM_TYPES:
                    result = {"kind": SHIM_TYPES[names[0]], "name": names[0]}
                    self.scalars.add(names[0])
                elif len(names) == 1 and names[0] in self.typedef_nodes:
                    result = dict(self.typedef(names[0]))
                else:
                    name, kind = scalar_name(names)
                    result = {"kind": kind, "name": name}
                    if kind != "void":
                        self.scalars.add(name)
            elif isinstance(inner, c_ast.Struct | c_ast.Union | c_ast.Enum):
                if inner.name:
                    key = self._tag_key(inner)
                    self._reference(key, inner)
                else:
                    kind = self._tag_key(inner).split(" ")[0]
                    key = f"{kind} {anon or '@' + self.where(inner)}"
                    typeof = None if expr is None else f"__typeof__({expr})"
                    self._reference(key, inner, expr=typeof)
                    if isinstance(inner, c_ast.Enum) and inner.values is not None:
                        self.enum_members[key] = [e.name for e in inner.values.enumerators]
                result = {"kind": key.split(" ")[0], "name": key}
            else:
                raise HeaderError(f"{self.where(node)}: unsupported type {type(inner).__name__}")
            return quals(result, node.quals)
        raise HeaderError(f"{self.where(node)}: unsupported declaration {type(node).__name__}")

    def _fields(self, key: str) -> None:
        node, expr, _loc = self.aggregates[key]
        fields: list[Json] = []
        for index, decl in enumerate(node.decls):
            if decl.name is None:
                inner = decl.type
                if decl.bitsize is not None:
                    # An unnamed bit-field: padding that moves the next one (binding needs
                    # it; checking does not, since the named fields' positions are measured).
                    width = evaluate(c_generator.CGenerator().visit(decl.bitsize), {}, 0)
                    if width is None:
                        raise HeaderError(f"{self.where(decl)}: unsupported width of an "
                                          f"unnamed bit-field in {key}", path=self.display)
                    fields.append({"name": f"@{index}", "padding": True, "bits": width,
                                   "type": self.convert(decl.type, None)})
                    continue
                if getattr(inner, "name", None) is not None:
                    continue  # a tag declared in passing: no member
                if not isinstance(inner, c_ast.Struct | c_ast.Union) or inner.decls is None:
                    raise HeaderError(
                        f"{self.where(decl)}: unsupported unnamed member of {key}",
                        path=self.display,
                    )
                # C11 anonymous struct/union: its members are reached as members of the
                # enclosing aggregate, so they are measured through the outermost one.
                kind = "union" if isinstance(inner, c_ast.Union) else "struct"
                member = f"{kind} @{key.split(' ', 1)[1].lstrip('@')}.{index}"
                self.aggregates[member] = (inner, expr, self.where(inner))
                self.anonymous[member] = key
                self.pending.append(member)
                fields.append({"name": f"@{index}", "anonymous": True,
                               "type": {"kind": kind, "name": member}})
                continue
            base = None if expr is None else f"(({expr}*)0)->{decl.name}"
            ftype = self.convert(decl.type, base, anon=f"@{key.split(' ', 1)[1]}.{decl.name}")
            field: Json = {"name": decl.name, "type": ftype}
            if decl.bitsize is not None:
                field["bits"] = -1
            fields.append(field)
        self.fields[key] = fields



def pointerish(param: Any) -> bool:
    return isinstance(getattr(param, "type", None), c_ast.PtrDecl | c_ast.ArrayDecl)


def quals(result: Json, quals: Sequence[str]) -> Json:
    for q in quals:
        if q in ("const", "volatile", "restrict"):
            result[q] = True
    return result


def walk(node: Any) -> Iterable[Any]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(child for _name, child in current.children())
