"""What an application uses from libraries, read statically from its source with :mod:`ast`.

Grammar of what is recognized (everything else that touches an imported name is a
non-call use, which makes that name's calls incomplete, docs/design.md §3.5)::

    import a.b            binds a   -> "a"       (a.b.f(...) is the chain "a.b.f")
    import a.b as z       binds z   -> "a.b"
    from a.b import f     binds f   -> "a.b.f"
    from a.b import *     a star import: recorded, dynamic "star"
    z = importlib.import_module("a.b")   binds z -> "a.b"
    getattr(z, "f")       the chain "a.b.f";  getattr(z, name): dynamic "getattr"
    __import__("a") / importlib.import_module("a")   module "a"; non-literal: a warning

A *use* is a maximal attribute chain rooted at a bound name: ``werkzeug.urls.url_quote(x)`` is
one use of ``werkzeug.urls.url_quote``, called with ``CallShape(1)``. Which prefix of a chain is
the library's export is decided later, against a library's manifest (:mod:`siglink.link.build`).

Members are recorded too (:attr:`Usage.members`): what the code reaches on objects whose type is
evident, each object named by a *receiver*, a chain and steps joined by ``|``
(``flask.Flask|()`` for ``Flask(...)``'s result, ``werkzeug.Request|!`` for a parameter annotated
``Request``, ``X|()|.get|()`` for what its ``get()`` returns; :mod:`siglink.python.receivers`
resolves them against the libraries' exports). Operators count as their dunders (``in`` is
``__contains__``, ``for`` ``__iter__``, ``with`` ``__enter__``/``__exit__``, ``len()``
``__len__``...), a subclass of a library class uses what it overrides and what it reaches
through ``self`` and ``super()``. A library's class bound to a class attribute of the code's
own class (``url_map_class = Map``) and called through it (``self.url_map_class()``,
``cls.X``, ``type(self).X``, ``Owner.X``) is called there. Attribute names written on objects
of unknown type go to
:attr:`Usage.written`; the evident types of call arguments to :attr:`Use.arguments` and
:attr:`Usage.member_arguments`.

A use is *optional* (:attr:`Use.optional`) when every occurrence of it is one the code can do
without: inside ``try:`` (its handlers, its ``else:``) when a handler catches ``ImportError``,
``ModuleNotFoundError``, ``AttributeError``, ``Exception`` or everything; under
``if TYPE_CHECKING:``; under ``if FLAG:`` (``else:`` of ``if not FLAG:``) where the module
sets ``FLAG`` true only inside such a ``try`` and otherwise only to ``False``/``None``
(requests' ``has_simplejson``); in either branch of a test of a feature or a version
(``if hasattr(m, "f")``, ``if m.__version__ >= ...``, ``if PYDANTIC_V2``); in an annotation;
``getattr(m, "f", default)``; or through a name bound in any of those places::

    try:
        from m import fast
    except ImportError:
        fast = None

>>> usage = analyze_source("import m\\nm.f(1, k=2)\\n", "app.py")
>>> usage.uses["m.f"].calls
[CallShape(positional=1, keywords=('k',), star_args=False, star_kwargs=False)]
>>> analyze_source("try:\\n    from m import g\\nexcept ImportError:\\n    g = None\\ng(1)\\n",
...                "lib.py").uses["m.g"].optional
True
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from siglink._foreign import LIMIT
from siglink._layout import read_regular
from siglink.contracts.manifest import CallShape
from siglink.errors import BadInputError

__all__ = [
    "DELETED", "STORED", "Usage", "Use", "analyze", "analyze_source", "bound_names",
    "listed_names", "local_modules", "may_bind",
]


def __dir__() -> list[str]:
    return list(__all__)


STORED = "="
"""Suffix of a member name the code assigns (``client.cookie_jar = x``: the members record
``cookie_jar`` and ``cookie_jar=``): an attribute that became a property without a setter
breaks such a use, not a read. Manifests built before :data:`DELETED` record deletions so
too."""
DELETED = "-"
"""Suffix of a member name the code deletes (``del client.cookie_jar``: ``cookie_jar-``): a
property without a deleter breaks that."""

_Arguments = tuple[tuple[str, ...], tuple[tuple[str, str], ...]]
"""A call's argument types: positional, then sorted (keyword, type) pairs."""


@dataclass(slots=True)
class Use:
    """Every occurrence of one dotted chain: the call shapes seen, and whether it was ever used
    other than by a direct call (passed on, stored, returned, decorated with, read) or named
    for its identity (``identity``: ``isinstance``, ``except``, an annotation).
    ``optional`` is true while every occurrence is optional (module docstring); ``location`` is
    then the first one, else the first required one. ``call_sites`` holds where each call
    shape was first seen."""

    path: str
    location: str
    calls: list[CallShape] = field(default_factory=list)
    other: bool = False
    dynamic: str | None = None
    optional: bool = False
    identity: bool = False
    call_sites: dict[CallShape, str] = field(default_factory=dict)
    # Per call site, the evident type of each argument: positional, then (keyword, type);
    # a builtin's name, a receiver (see member_receiver) or "" when not evident.
    arguments: list[_Arguments] = field(default_factory=list)

    def add_call(self, shape: CallShape, location: str = "") -> None:
        if shape not in self.calls:
            self.calls.append(shape)
            self.call_sites[shape] = location or self.location


@dataclass(slots=True)
class Usage:
    """What a set of source files uses: chains, imported modules, warnings."""

    uses: dict[str, Use] = field(default_factory=dict)
    modules: dict[str, str] = field(default_factory=dict)  # module -> first (required) location
    optional_modules: set[str] = field(default_factory=set)  # only ever imported optionally
    warnings: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    # Members reached through objects whose type is evident: receiver -> member -> location.
    # A receiver is a chain and steps joined by "|" (see :func:`member_receiver`).
    members: dict[str, dict[str, str]] = field(default_factory=dict)
    # Attribute names written on objects whose type is not evident: a used library class's
    # member of such a name counts as used ("name=" when also assigned or deleted).
    written: set[str] = field(default_factory=set)
    # Members reached only where the code can do without them (as Use.optional): not
    # checked, as an optional name is not.
    optional_members: dict[str, dict[str, str]] = field(default_factory=dict)

    # How members of evident receivers are called: receiver -> member -> argument types.
    member_arguments: dict[str, dict[str, list[_Arguments]]] = field(default_factory=dict)
    # Members of evident receivers reached otherwise than by a call whose arguments are in
    # member_arguments (read, passed on, an operator, ``*args``): receiver -> names.
    member_other: dict[str, set[str]] = field(default_factory=dict)
    # Class attributes bound to a library's name in a class body (``url_map_class = Map``):
    # attribute name -> the chains. Read on an object of unknown type anywhere
    # (``app.url_map_class``), the chain counts as passed on (see :meth:`settle`).
    aliased: dict[str, set[str]] = field(default_factory=dict)

    def settle(self) -> None:
        """A library object bound to a class attribute (:attr:`aliased`) whose name the code
        also writes on an object of unknown type may be reached there, passed on or called
        in ways not seen: its use is not only the calls recorded through the class."""
        for name in self.aliased.keys() & self.written:
            for chain in self.aliased[name]:
                if chain in self.uses:
                    self.uses[chain].other = True

    def argument(self, receiver: str, name: str, arguments: _Arguments) -> None:
        """Record how member ``name`` of ``receiver`` is called (argument types)."""
        seen = self.member_arguments.setdefault(receiver, {}).setdefault(name, [])
        if arguments not in seen:
            seen.append(arguments)

    def member(self, receiver: str, name: str, location: str, *, optional: bool = False) -> None:
        """Record that member ``name`` of the object ``receiver`` describes is used;
        ``optional`` as :attr:`Use.optional` is (only such uses: :attr:`optional_members`)."""
        if optional:
            if name not in self.members.get(receiver, {}):
                self.optional_members.setdefault(receiver, {}).setdefault(name, location)
            return
        self.members.setdefault(receiver, {}).setdefault(name, location)
        self.optional_members.get(receiver, {}).pop(name, None)

    def module(self, name: str, location: str, *, optional: bool = False) -> None:
        """Record an import of module ``name`` (optional as :attr:`Use.optional` is)."""
        if name not in self.modules:
            self.modules[name] = location
            if optional:
                self.optional_modules.add(name)
        elif not optional and name in self.optional_modules:
            self.optional_modules.discard(name)
            self.modules[name] = location

    def use(self, path: str, location: str, *, optional: bool = False) -> Use:
        found = self.uses.get(path)
        if found is None:
            found = self.uses[path] = Use(path, location, optional=optional)
        elif found.optional and not optional:
            found.optional = False
            found.location = location
        return found

    def merge(self, other: Usage) -> None:
        for path, use in other.uses.items():
            mine = self.use(path, use.location, optional=use.optional)
            for shape in use.calls:
                mine.add_call(shape, use.call_sites.get(shape, use.location))
            for arguments in use.arguments:
                if arguments not in mine.arguments:
                    mine.arguments.append(arguments)
            mine.other = mine.other or use.other
            mine.identity = mine.identity or use.identity
            mine.dynamic = mine.dynamic or use.dynamic
        for module, location in other.modules.items():
            self.module(module, location, optional=module in other.optional_modules)
        self.warnings.extend(other.warnings)
        self.files.extend(other.files)
        for receiver, names in other.members.items():
            for name, location in names.items():
                self.member(receiver, name, location)
        for receiver, names in other.optional_members.items():
            for name, location in names.items():
                self.member(receiver, name, location, optional=True)
        self.written |= other.written
        for receiver, others in other.member_other.items():
            self.member_other.setdefault(receiver, set()).update(others)
        for receiver, by_member in other.member_arguments.items():
            for name, entries in by_member.items():
                for entry in entries:
                    self.argument(receiver, name, entry)
        for name, chains in other.aliased.items():
            self.aliased.setdefault(name, set()).update(chains)
        self.settle()


def _is_private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def _is_dunder(part: str) -> bool:
    return part.startswith("__") and part.endswith("__")


# Attributes every module, class or function has: reading one uses only the object itself.
_IMPLICIT_DUNDERS = frozenset({
    "__all__", "__annotations__", "__builtins__", "__cached__", "__class__", "__dict__",
    "__doc__", "__file__", "__loader__", "__module__", "__name__", "__package__", "__path__",
    "__qualname__", "__spec__", "__wrapped__",
})


def _literal(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _shape(call: ast.Call) -> CallShape:
    positional = sum(1 for a in call.args if not isinstance(a, ast.Starred))
    star_args = any(isinstance(a, ast.Starred) for a in call.args)
    keywords = tuple(sorted({k.arg for k in call.keywords if k.arg is not None}))
    star_kwargs = any(k.arg is None for k in call.keywords)
    return CallShape(positional, keywords, star_args, star_kwargs)


# What a guarded ``try`` catches: a missing module or name is then handled, not fatal.
_GUARDS = frozenset({"ImportError", "ModuleNotFoundError", "AttributeError", "Exception",
                     "BaseException"})


def _catches_missing(handler: ast.ExceptHandler) -> bool:
    kinds = handler.type
    if kinds is None:
        return True
    for kind in kinds.elts if isinstance(kinds, ast.Tuple) else [kinds]:
        name = kind.attr if isinstance(kind, ast.Attribute) else getattr(kind, "id", None)
        if name in _GUARDS:
            return True
    return False


def _import_flags(tree: ast.Module, text: str) -> frozenset[str]:
    """Module-level names set ``True`` only inside a guarded ``try`` (its body or ``else:``)
    and otherwise only to ``False`` or ``None``, nowhere else (no function or class assigns,
    declares ``global`` or defines one): they tell whether an optional import succeeded.
    ``text`` is the module's source, for counting assignments without walking every body.

    >>> code = "ok = False\\ntry:\\n    import m\\n    ok = True\\nexcept ImportError:\\n    pass"
    >>> sorted(_import_flags(ast.parse(code), code))
    ['ok']
    """
    true: set[str] = set()
    falsy: set[str] = set()
    other: set[str] = set()
    seen: dict[str, int] = {}

    def walk(stmts: Iterable[ast.stmt], guarded: bool) -> None:
        for node in stmts:
            if isinstance(node, (ast.Try, ast.TryStar)):
                inner = guarded or any(_catches_missing(h) for h in node.handlers)
                walk((*node.body, *node.orelse), inner)
                for handler in node.handlers:
                    walk(handler.body, guarded)
                walk(node.finalbody, guarded)
            elif isinstance(node, (ast.If, ast.For, ast.AsyncFor, ast.While)):
                walk((*node.body, *node.orelse), guarded)
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                walk(node.body, guarded)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                value = node.value
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    if not isinstance(target, ast.Name):
                        other.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
                        continue
                    seen[target.id] = seen.get(target.id, 0) + 1
                    if not isinstance(value, ast.Constant):
                        other.add(target.id)
                    elif value.value is True:
                        (true if guarded else other).add(target.id)
                    elif value.value is False or value.value is None:
                        falsy.add(target.id)
                    else:
                        other.add(target.id)
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                other.add(node.target.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                other.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                other.update((a.asname or a.name).split(".", 1)[0] for a in node.names)

    walk(tree.body, False)
    flags = set()
    for name in (true & falsy) - other:
        # Assigned (or declared global) anywhere else, in a function or a class: not a flag.
        elsewhere = re.findall(rf"(?<![\w.]){name}[ \t]*(?::[^=\n]*)?=(?!=)", text)
        if len(elsewhere) == seen[name] and not re.search(
                rf"\bglobal\b[^\n]*\b{name}\b|\b{name}[ \t]*:=", text):
            flags.add(name)
    return frozenset(flags)


_IF_NAME = re.compile(r"\bif[ \t]+(?:not[ \t]+)?([A-Za-z_]\w*)[ \t]*:")
_SET_TRUE = re.compile(r"^[ \t]+([A-Za-z_]\w*)[ \t]*(?::[^=\n]*)?=[ \t]*True\b", re.MULTILINE)


def _may_flag(text: str) -> bool:
    """Might the module test an import flag (:func:`_import_flags`)? A name set to ``True``
    in an indented block that an ``if`` tests: a text search, no parse."""
    set_true = frozenset(_SET_TRUE.findall(text))
    return bool(set_true) and not set_true.isdisjoint(_IF_NAME.findall(text))


def _is_type_checking(test: ast.expr) -> bool:
    """``TYPE_CHECKING``, ``typing.TYPE_CHECKING``, ``t.TYPE_CHECKING``."""
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


_VERSIONED = re.compile(r"version|(?:^|_)v\d+(?:_|$)", re.IGNORECASE)


def _is_feature_test(test: ast.expr) -> bool:
    """A condition choosing between what different versions offer: ``hasattr(m, "f")``, or a
    version (``m.__version__ >= ...``, ``sys.version_info``, ``PYDANTIC_V2``)."""
    for node in ast.walk(test):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and (
                node.func.id == "hasattr"):
            return True
        name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)
        if isinstance(name, str) and _VERSIONED.search(name):
            return True
    return False


# Expressions whose value is evidently not a library's object.
_LOCAL_NODES = (ast.Constant, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.JoinedStr,
                ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Lambda)
_LITERAL_KINDS: dict[type[ast.expr], str] = {
    ast.List: "list", ast.ListComp: "list", ast.Dict: "dict", ast.DictComp: "dict",
    ast.Set: "set", ast.SetComp: "set", ast.Tuple: "tuple", ast.JoinedStr: "str",
}
_BUILTIN_NAMES = frozenset(dir(builtins)) - {"super", "type", "getattr"}
_BINARY = {
    ast.Add: "__add__", ast.Sub: "__sub__", ast.Mult: "__mul__", ast.MatMult: "__matmul__",
    ast.Div: "__truediv__", ast.FloorDiv: "__floordiv__", ast.Mod: "__mod__",
    ast.Pow: "__pow__", ast.LShift: "__lshift__", ast.RShift: "__rshift__",
    ast.BitOr: "__or__", ast.BitAnd: "__and__", ast.BitXor: "__xor__",
}
_AUGMENTED = {op: f"__i{name[2:]}" for op, name in _BINARY.items()}
_UNARY = {ast.USub: "__neg__", ast.UAdd: "__pos__", ast.Invert: "__invert__"}
_COMPARISONS = {ast.Lt: "__lt__", ast.LtE: "__le__", ast.Gt: "__gt__", ast.GtE: "__ge__",
                ast.Eq: "__eq__", ast.NotEq: "__ne__"}
_PROTOCOL_BUILTINS = {"len": "__len__", "iter": "__iter__", "next": "__next__",
                      "reversed": "__reversed__", "hash": "__hash__", "abs": "__abs__",
                      "bool": "__bool__", "int": "__int__", "float": "__float__",
                      "bytes": "__bytes__", "aiter": "__aiter__", "anext": "__anext__"}


@dataclass(slots=True)
class _Attributes:
    """A class's instance attributes whose type is followed: those its methods assign
    (``self.x = ...``) exactly once, not counting ``None``; ``kinds`` holds what each was
    assigned, as a receiver, once that assignment has been seen. Which are assigned once is
    read only for a class that assigns a library's object to one (most never do)."""

    node: ast.ClassDef
    kinds: dict[str, str | None] = field(default_factory=dict)
    # Class attributes the class body binds once to a library's name (``url_map_class =
    # Map``): name -> chain. Calling one through the class (``self.url_map_class()``) is a
    # call of the library's object (see _Visitor._class_alias).
    aliases: dict[str, str] = field(default_factory=dict)
    _once: frozenset[str] | None = None
    _stored: frozenset[str] | None = None

    def alias(self, name: str) -> str | None:
        """The library chain class attribute ``name`` holds, unless code in the class also
        assigns or deletes an attribute of that name (then it may hold anything)."""
        chain = self.aliases.get(name)
        if chain is None:
            return None
        if self._stored is None:
            self._stored = frozenset(
                sub.attr for sub in ast.walk(self.node)
                if isinstance(sub, ast.Attribute) and not isinstance(sub.ctx, ast.Load))
        return None if name in self._stored else chain

    def kind(self, name: str) -> str | None:
        """What attribute ``name`` holds, as a receiver; None when not evident."""
        kind = self.kinds.get(name)
        if not kind:
            return None
        if self._once is None:
            self._once = _assigned_once(self.node)
        return kind if name in self._once else None


def _assigned_once(node: ast.ClassDef) -> frozenset[str]:
    """The attributes the methods of class ``node`` assign on their instance parameter
    exactly once (an assignment of ``None`` aside; ``+=``, ``del`` and a tuple target count
    as assignments of something else)."""
    counts: dict[str, int] = {}
    for method in node.body:
        if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) or not (
                method.args.posonlyargs or method.args.args):
            continue
        me = (method.args.posonlyargs or method.args.args)[0].arg
        for sub in ast.walk(method):
            if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) and (
                    sub.value.id == me and not isinstance(sub.ctx, ast.Load)):
                counts[sub.attr] = counts.get(sub.attr, 0) + 1
            elif isinstance(sub, ast.Assign) and isinstance(sub.value, ast.Constant) and (
                    sub.value.value is None):
                for target in sub.targets:
                    if isinstance(target, ast.Attribute) and isinstance(
                            target.value, ast.Name) and target.value.id == me:
                        counts[target.attr] = counts.get(target.attr, 0) - 1
    return frozenset(name for name, count in counts.items() if count == 1)


def _defined_names(stmt: ast.stmt) -> Iterator[str]:
    """The names a class body statement defines."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        yield stmt.name
    elif isinstance(stmt, ast.Assign):
        for target in stmt.targets:
            if isinstance(target, ast.Name):
                yield target.id
    elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        yield stmt.target.id


class _Visitor(ast.NodeVisitor):
    def __init__(self, filename: str, usage: Usage) -> None:
        self.filename = filename
        self.usage = usage
        self.bindings: dict[str, str] = {}
        self.optional_names: set[str] = set()  # names bound where they are optional
        self.optional_depth = 0
        # > 0 while visiting a class named for its identity only (isinstance, except, ...).
        self.identity_depth = 0
        self.imported: list[tuple[str, str, bool]] = []  # ``from m import n``: path, where, opt
        # What each name holds, innermost scope last: a receiver (see member_receiver), ""
        # for an object evidently not a library's (a literal, the code's own class), None
        # when unknown.
        self.scopes: list[dict[str, str | None]] = [{}]
        # Enclosing classes deriving from a library class: (receiver of an instance of the
        # base, the names the class body defines itself).
        self.subclasses: list[tuple[str, frozenset[str]] | None] = []
        # Names telling whether an optional import succeeded (:func:`_import_flags`).
        self.flags: frozenset[str] = frozenset()
        # Per enclosing class, then function (None): the class's instance attributes whose
        # type may be followed (see _Attributes).
        self.owners: list[_Attributes | None] = []
        # In a method: the name of its instance parameter and its class's attributes.
        self.methods: list[tuple[str, _Attributes] | None] = []
        # In a classmethod: the name of its class parameter and its class's attributes.
        self.classmethods: list[tuple[str, _Attributes] | None] = []
        # The module's top-level classes by name, for ``Name.attr`` and subclasses' aliases.
        self.classes: dict[str, _Attributes] = {}
        # The function of the call being visited when its arguments are recorded as a
        # member's (``obj.m(a, k=b)``: no ``*args``, no ``**kw``).
        self.called: ast.expr | None = None

    def finish(self) -> None:
        """A name imported (``from m import n``) but never used still needs to exist: record it
        as a use with no call (a presence check) unless a use of it was seen."""
        for path, where, optional in self.imported:
            prefix = path + "."
            if not any(p == path or p.startswith(prefix) for p in self.usage.uses):
                self.usage.use(path, where, optional=optional)

    # -- helpers ---------------------------------------------------------------------------
    def _where(self, node: ast.AST) -> str:
        return f"{self.filename}:{getattr(node, 'lineno', 0)}"

    def _warn(self, node: ast.AST, message: str) -> None:
        self.usage.warnings.append(f"{self._where(node)}: {message}")

    @contextlib.contextmanager
    def _optional(self, optional: bool = True) -> Iterator[None]:
        """Visit in an optional context (see the module docstring)."""
        self.optional_depth += optional
        try:
            yield
        finally:
            self.optional_depth -= optional

    def _visit_identity(self, node: ast.AST) -> None:
        """Visit ``node``, naming classes for their identity only: ``isinstance(x, K)``,
        ``except K:``, ``type(x) in {K, L}``. Such a use needs the class to exist, not its
        constructor or members: it is not the class passed on (``Use.other``)."""
        self.identity_depth += 1
        try:
            self.visit(node)
        finally:
            self.identity_depth -= 1

    def _visit_annotation(self, node: ast.AST) -> None:
        """An annotation: optional (it may never be evaluated) and naming classes for their
        identity only (nothing calls them through it)."""
        self.identity_depth += 1
        try:
            self._visit_optional([node])
        finally:
            self.identity_depth -= 1

    def _visit_optional(self, nodes: Sequence[ast.AST], optional: bool = True) -> None:
        if not optional:  # the common case, kept cheap
            for node in nodes:
                self.visit(node)
            return
        self.optional_depth += 1
        try:
            for node in nodes:
                self.visit(node)
        finally:
            self.optional_depth -= 1

    def _bind(self, name: str, path: str) -> None:
        if self.bindings.get(name) == path and name not in self.optional_names:
            return  # ``import m.sub`` under TYPE_CHECKING does not make ``m`` optional
        self.bindings[name] = path
        if self.optional_depth:
            self.optional_names.add(name)
        else:
            self.optional_names.discard(name)

    def _is_optional(self, node: ast.AST | None) -> bool:
        """In an optional context, or rooted at a name bound in one."""
        if self.optional_depth:
            return True
        while node is not None:
            if isinstance(node, ast.Name):
                return node.id in self.optional_names
            if isinstance(node, ast.Attribute):
                node = node.value
            elif isinstance(node, ast.Call) and node.args:  # getattr(m, "f")
                node = node.args[0]
            else:
                return False
        return False

    def _chain(self, node: ast.expr) -> str | None:
        """The dotted path of ``node`` when it is rooted at an imported name."""
        if isinstance(node, ast.Name):
            return self.bindings.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self._chain(node.value)
            return None if base is None else f"{base}.{node.attr}"
        if self._is_getattr_literal(node):
            assert isinstance(node, ast.Call)
            base = self._chain(node.args[0])
            name = _literal(node.args[1])
            return None if base is None or name is None else f"{base}.{name}"
        return None

    def _is_getattr_literal(self, node: ast.expr) -> bool:
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and node.func.id not in self.bindings
            and 2 <= len(node.args) <= 3
            and _literal(node.args[1]) is not None
        )

    def _record(
        self, path: str, node: ast.AST, shape: CallShape | None, root: ast.AST | None = None
    ) -> None:
        parts = path.split(".")
        # ``mod.__file__``: a use of the module, which every module has; ``mod.__version__``
        # is a use like any other (a library may stop serving it), and ends the chain.
        for i, part in enumerate(parts[1:], 1):
            if _is_dunder(part):
                keep = i if part in _IMPLICIT_DUNDERS else i + 1
                if keep < len(parts) or part in _IMPLICIT_DUNDERS:
                    shape = None
                parts = parts[:keep]
                break
        path = ".".join(parts)
        use = self.usage.use(path, self._where(node), optional=self._is_optional(root))
        if shape is None:
            use.other = use.other or not self.identity_depth
            use.identity = use.identity or bool(self.identity_depth)
        else:
            use.add_call(shape, self._where(node))
        if use.dynamic is None and any(_is_private(p) for p in parts[1:]):
            use.dynamic = "private"
            self._warn(node, f"private name {path}: not part of the library's contract")

    def _module(self, name: str, node: ast.AST) -> None:
        self.usage.module(name, self._where(node), optional=self.optional_depth > 0)

    # -- imports ---------------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._module(alias.name, node)
            if alias.asname:
                self._bind(alias.asname, alias.name)
            else:
                top = alias.name.split(".", 1)[0]
                self._bind(top, top)
            if any(_is_private(p) for p in alias.name.split(".")[1:]):
                self._record(alias.name, node, None)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or not node.module:
            for alias in node.names:  # relative: the application's own modules
                self.bindings.pop(alias.asname or alias.name, None)
                self.optional_names.discard(alias.asname or alias.name)
            return
        self._module(node.module, node)
        for alias in node.names:
            if alias.name == "*":
                use = self.usage.use(node.module, self._where(node),
                                     optional=self._is_optional(None))
                use.other = True
                use.dynamic = use.dynamic or "star"
                self._warn(node, f"from {node.module} import *: the names used cannot be seen")
                continue
            path = f"{node.module}.{alias.name}"
            self._bind(alias.asname or alias.name, path)
            self.imported.append((path, self._where(node), self._is_optional(None)))
            if any(_is_private(p) for p in path.split(".")[1:]):
                self._record(path, node, None)

    # -- uses ------------------------------------------------------------------------------
    def visit_Assign(self, node: ast.Assign) -> None:
        module = self._import_module_literal(node.value)
        if module is not None and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            self._module(module, node)
            self._bind(node.targets[0].id, module)
            return
        owner = self.owners[-1] if self.owners else None
        if owner is not None and all(isinstance(t, ast.Name) and owner.alias(t.id)
                                     for t in node.targets):
            # ``url_map_class = Map`` in a class body: what the class does with it is
            # recorded where it is reached (_class_alias), not as the class passed on here
            self._visit_identity(node.value)
            for target in node.targets:
                self._assign_target(target, self._type(node.value))
            return
        self.generic_visit(node)
        kind = self._type(node.value)
        unset = isinstance(node.value, ast.Constant) and node.value.value is None
        for target in node.targets:
            if not (unset and self._instance_attribute(target)):  # None: "X | None" is X
                self._assign_target(target, kind)

    def _instance_attribute(self, node: ast.expr) -> tuple[_Attributes, str] | None:
        """``self.x`` in a method: its class's attributes and the name."""
        method = self.methods[-1] if self.methods else None
        if method is None or not isinstance(node, ast.Attribute) or not isinstance(
                node.value, ast.Name) or node.value.id != method[0]:
            return None
        return method[1], node.attr

    def _assign_target(self, target: ast.expr, kind: str | None) -> None:
        attribute = self._instance_attribute(target)
        if attribute is not None:
            attribute[0].kinds[attribute[1]] = kind
        elif isinstance(target, ast.Name):
            if target.id not in self.bindings:
                self._assign_name(target.id, kind)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._assign_target(element.value if isinstance(element, ast.Starred)
                                    else element, None)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.generic_visit(node)
        self._operand(node.target, _AUGMENTED.get(type(node.op), "__add__"))

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.generic_visit(node)
        self._assign_name(node.target.id, self._type(node.value))

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        self._operand(node.iter, "__aiter__" if isinstance(node, ast.AsyncFor) else "__iter__")
        receiver = self._type(node.iter)
        self._assign_target(node.target, f"{receiver}|iter" if receiver and not isinstance(
            node, ast.AsyncFor) else None)
        self.visit(node.target)
        for stmt in (*node.body, *node.orelse):
            self.visit(stmt)

    visit_AsyncFor = visit_For

    def visit_comprehension(self, node: ast.comprehension) -> None:
        self.visit(node.iter)
        self._operand(node.iter, "__aiter__" if node.is_async else "__iter__")
        self._assign_target(node.target, None)
        self.visit(node.target)
        for test in node.ifs:
            self.visit(test)

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        enter, leave = ("__aenter__", "__aexit__") if isinstance(node, ast.AsyncWith) else (
            "__enter__", "__exit__")
        for item in node.items:
            self.visit(item.context_expr)
            receiver = self._type(item.context_expr)
            if receiver:
                self._use_member(receiver, enter, item.context_expr)
                self._use_member(receiver, leave, item.context_expr)
            if item.optional_vars is not None:
                self.visit(item.optional_vars)
                self._assign_target(item.optional_vars,
                                    f"{receiver}|.{enter}|()" if receiver else receiver)
        for stmt in node.body:
            self.visit(stmt)

    visit_AsyncWith = visit_With

    def visit_Compare(self, node: ast.Compare) -> None:
        left = node.left
        if (isinstance(left, ast.Call) and isinstance(left.func, ast.Name)
                and left.func.id == "type" and "type" not in self.bindings
                and len(left.args) == 1 and not left.keywords):
            # ``type(x) is K``, ``type(x) in {K, L}``: classes named for their identity
            self.visit(left)
            for op, right in zip(node.ops, node.comparators, strict=True):
                if isinstance(op, (ast.Is, ast.IsNot, ast.Eq, ast.NotEq)):
                    self._visit_identity(right)
                elif isinstance(op, (ast.In, ast.NotIn)) and isinstance(
                        right, (ast.Set, ast.Tuple, ast.List)):
                    for element in right.elts:
                        self._visit_identity(element)
                else:
                    self.visit(right)
            return
        self.generic_visit(node)
        left = node.left
        for op, right in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, (ast.In, ast.NotIn)):
                self._operand(right, "__contains__")
                owner = self._type(right)
                if owner and owner.endswith(("|!", "|()")):
                    self.usage.argument(owner, "__contains__",
                                        ((self._argument_type(left),), ()))
            elif type(op) in _COMPARISONS:
                self._operand(left, _COMPARISONS[type(op)])
            left = right

    def visit_BinOp(self, node: ast.BinOp) -> None:
        self.generic_visit(node)
        name = _BINARY.get(type(node.op))
        if name is not None:  # on instances: ``X | None`` between classes is an annotation
            for operand, dunder in ((node.left, name), (node.right, f"__r{name[2:]}")):
                receiver = self._type(operand)
                if receiver and "|" in receiver:
                    self._use_member(receiver, dunder, operand)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        self.generic_visit(node)
        name = _UNARY.get(type(node.op))
        if name is not None:
            self._operand(node.operand, name)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Store):
            self._operand(node.value, "__setitem__")
        elif isinstance(node.ctx, ast.Del):
            self._operand(node.value, "__delitem__")
        else:
            self._operand(node.value, "__getitem__")

    def visit_Await(self, node: ast.Await) -> None:
        self.generic_visit(node)
        self._operand(node.value, "__await__")

    # -- optional contexts -----------------------------------------------------------------
    def visit_Try(self, node: ast.Try | ast.TryStar) -> None:
        guarded = any(_catches_missing(h) for h in node.handlers)
        self._visit_optional(node.body, guarded)
        self._visit_optional(node.handlers, guarded)  # the fallback of an optional import
        self._visit_optional(node.orelse, guarded)  # runs only when the guarded body did
        self._visit_optional(node.finalbody, False)

    visit_TryStar = visit_Try

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        negated = isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
        inner = test.operand if isinstance(test, ast.UnaryOp) and negated else test
        if _is_type_checking(inner) or (isinstance(inner, ast.Name) and inner.id in self.flags):
            if not _is_type_checking(inner):
                self.visit(test)
            self._visit_optional(node.body, not negated)
            self._visit_optional(node.orelse, negated)
            return
        self.visit(test)
        feature = _is_feature_test(test)  # both branches: one of them suits this version
        self._visit_optional(node.body, feature)
        self._visit_optional(node.orelse, feature)

    def visit_IfExp(self, node: ast.IfExp) -> None:
        self.visit(node.test)
        self._visit_optional([node.body, node.orelse], _is_feature_test(node.test))

    def visit_arg(self, node: ast.arg) -> None:
        if node.annotation is not None:
            self._visit_annotation(node.annotation)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._visit_optional(node.decorator_list, False)
        self.visit(node.args)
        if node.returns is not None:
            self._visit_annotation(node.returns)
        self._assign_name(node.name, "")
        scope: dict[str, str | None] = {}
        params = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
        owner = self.owners[-1] if self.owners else None
        static = any(isinstance(d, ast.Name) and d.id in ("staticmethod", "classmethod")
                     for d in node.decorator_list)
        self.methods.append((params[0].arg, owner) if owner is not None and params and (
            not static) else None)
        self.classmethods.append((params[0].arg, owner) if owner is not None and params and any(
            isinstance(d, ast.Name) and d.id == "classmethod" for d in node.decorator_list)
            else None)
        self.owners.append(None)
        for arg in params:
            scope[arg.arg] = self._annotation_type(arg.annotation)
        for star in (node.args.vararg, node.args.kwarg):
            if star is not None:
                scope[star.arg] = ""
        subclass = self.subclasses[-1] if self.subclasses else None
        if params and subclass is not None and len(self.scopes) == len(self.subclasses) + 1:
            scope[params[0].arg] = subclass[0]  # self (or cls): the library base's instance
        self.scopes.append(scope)
        self.subclasses.append(None)
        try:
            self._visit_optional(node.body, False)
        finally:
            self.scopes.pop()
            self.subclasses.pop()
            self.owners.pop()
            self.methods.pop()
            self.classmethods.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        scope: dict[str, str | None] = {a.arg: None for a in ast.walk(node.args)
                                        if isinstance(a, ast.arg)}
        self.scopes.append(scope)
        try:
            self.generic_visit(node)
        finally:
            self.scopes.pop()

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        own = frozenset(
            name for stmt in node.body for name in _defined_names(stmt))
        for item in (*node.decorator_list, *(k.value for k in node.keywords)):
            self.visit(item)
        for item in node.bases:
            if "__init__" in own and self._chain(item) is not None:
                # Constructing the class runs its own __init__: the base's constructor is
                # reached only through the calls recorded there (super().__init__(...)).
                self._visit_identity(item)
            else:
                self.visit(item)
        base = next((c for c in map(self._chain, node.bases) if c is not None), None)
        if base is not None:
            receiver = f"{base}|!"
            where = self._where(node)
            for name in own:  # overridden: the library calls it, the class relies on it
                self.usage.member(receiver, name, where)
                self.usage.member_other.setdefault(receiver, set()).add(name)
            self._assign_name(node.name, f"{base}|sub")
            self.subclasses.append((receiver, own))
        else:
            self._assign_name(node.name, "")
            self.subclasses.append(None)
        attributes = _Attributes(node, aliases=self._class_aliases(node))
        if len(self.scopes) == 1:
            self.classes[node.name] = attributes
        for name, chain in attributes.aliases.items():
            self.usage.aliased.setdefault(name, set()).add(chain)
        self.scopes.append({})
        self.owners.append(attributes)
        try:
            for stmt in node.body:
                self.visit(stmt)
        finally:
            self.scopes.pop()
            self.subclasses.pop()
            self.owners.pop()

    def _class_aliases(self, node: ast.ClassDef) -> dict[str, str]:
        """The class attributes ``node``'s body binds once, to a library's name (``X = lib.K``),
        and those it inherits from the module's own classes it derives from."""
        counts: dict[str, int] = {}
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                counts[stmt.name] = counts.get(stmt.name, 0) + 1
                continue
            for sub in ast.walk(stmt):
                if isinstance(sub, ast.Name) and not isinstance(sub.ctx, ast.Load):
                    counts[sub.id] = counts.get(sub.id, 0) + 1
        aliases: dict[str, str] = {}
        for base in node.bases:
            parent = self._own_class(base.id) if isinstance(base, ast.Name) else None
            if parent is not None:
                aliases.update((k, v) for k, v in parent.aliases.items() if k not in counts)
        for stmt in node.body:
            if isinstance(stmt, ast.Assign):
                value, targets = stmt.value, stmt.targets
            elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                value, targets = stmt.value, [stmt.target]
            else:
                continue
            chain = self._chain(value) if isinstance(value, (ast.Name, ast.Attribute)) else None
            for target in targets:
                if chain is not None and isinstance(target, ast.Name) and (
                        counts.get(target.id) == 1):
                    aliases[target.id] = chain
        return aliases

    def _class_alias(self, node: ast.expr) -> str | None:
        """The library chain ``node`` names through a class attribute of the code's own class
        (``self.url_map_class``, ``cls.X``, ``type(self).X``, ``Owner.X``): None when it is
        not one, or the attribute may hold something else."""
        if not isinstance(node, ast.Attribute):
            return None
        base = node.value
        method = self.methods[-1] if self.methods else None
        attributes: _Attributes | None = None
        if isinstance(base, ast.Call) and isinstance(base.func, ast.Name) and (
                base.func.id == "type" and "type" not in self.bindings
                and len(base.args) == 1 and not base.keywords):
            base = base.args[0]
            if method is not None and isinstance(base, ast.Name) and base.id == method[0]:
                attributes = method[1]
        elif isinstance(base, ast.Name):
            klass = self.classmethods[-1] if self.classmethods else None
            if method is not None and base.id == method[0]:
                attributes = method[1]
            elif klass is not None and base.id == klass[0]:
                attributes = klass[1]
            else:
                attributes = self._own_class(base.id)
        return None if attributes is None else attributes.alias(node.attr)

    def _own_class(self, name: str) -> _Attributes | None:
        """The module's own top-level class ``name`` still names, if any."""
        found = self.classes.get(name)
        kind = self._lookup(name) if found is not None else None
        return found if kind is not None and (kind == "" or kind.endswith("|sub")) else None

    # -- what objects are ------------------------------------------------------------------
    def _lookup(self, name: str) -> str | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        chain = self.bindings.get(name)
        if chain is not None:
            return chain
        return "" if name in _BUILTIN_NAMES else None

    def _assign_name(self, name: str, kind: str | None) -> None:
        scope = self.scopes[-1]
        if name in scope and scope[name] != kind:
            scope[name] = None  # bound to different things: not evident
        else:
            scope[name] = kind

    def _annotation_type(self, node: ast.expr | None) -> str | None:
        """The receiver an annotation promises: an instance of a library class, "" for the
        builtins and the code's own names, None when not evident."""
        if node is None:
            return None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):  # X | None
            if isinstance(node.right, ast.Constant) and node.right.value is None:
                return self._annotation_type(node.left)
            return None
        if isinstance(node, ast.Subscript):
            head = self._chain(node.value)
            if head in ("typing.Optional", "typing_extensions.Optional"):
                return self._annotation_type(node.slice)
            return None
        chain = self._chain(node)
        if chain is not None:
            return f"{chain}|!"
        if isinstance(node, ast.Name):
            kind = self._lookup(node.id)
            if kind is not None and kind.endswith("|sub"):
                return f"{kind[:-4]}|!"
            return "" if kind == "" else None
        return None

    def _type(self, node: ast.expr) -> str | None:
        """What ``node`` evaluates to, as a receiver: see :meth:`_lookup`."""
        if isinstance(node, _LOCAL_NODES):
            return ""
        if isinstance(node, ast.Name):
            return self._lookup(node.id)
        if isinstance(node, ast.Attribute):
            chain = self._chain(node) or self._class_alias(node)
            if chain is not None:
                return chain
            attribute = self._instance_attribute(node)
            if attribute is not None and (kind := attribute[0].kind(attribute[1])):
                return kind
            base = self._type(node.value)
            return f"{base}|.{node.attr}" if base else base
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id == "super" and (
                    "super" not in self.bindings):
                subclass = next((c for c in reversed(self.subclasses) if c is not None), None)
                return None if subclass is None else subclass[0]
            func = self._type(node.func)
            if not func:
                return func if func == "" and isinstance(node.func, ast.Name) else None
            if func.endswith("|sub"):
                return f"{func[:-4]}|!"
            return f"{func}|()"
        if isinstance(node, ast.Await):
            return None
        return None

    def _use_member(self, receiver: str | None, name: str, node: ast.AST) -> None:
        """Member ``name`` of the object ``receiver`` describes is used (see :meth:`_type`);
        assigned, also ``name=`` (:data:`STORED`); deleted, ``name-`` (:data:`DELETED`)."""
        ctx = getattr(node, "ctx", None)
        stored = (name + STORED if isinstance(ctx, ast.Store)
                  else name + DELETED if isinstance(ctx, ast.Del) else None)
        if receiver is None:
            self.usage.written.add(name)
            if stored:
                self.usage.written.add(stored)
        elif receiver and not receiver.endswith("|sub"):
            optional = self._is_optional(node)
            self.usage.member(receiver, name, self._where(node), optional=optional)
            if stored:
                self.usage.member(receiver, stored, self._where(node), optional=optional)
            if not optional and (
                    node is not self.called or not receiver.endswith(("|!", "|()"))):
                other = self.usage.member_other.setdefault(receiver, set())
                other.update((name, stored) if stored else (name,))

    def _operand(self, node: ast.expr, dunder: str) -> None:
        """An operator or protocol applied to ``node`` uses its dunder method."""
        receiver = self._type(node)
        if receiver:
            self._use_member(receiver, dunder, node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._visit_annotation(node.annotation)
        self.visit(node.target)
        owner = self.owners[-1] if self.owners else None
        if node.value is not None and owner is not None and isinstance(
                node.target, ast.Name) and owner.alias(node.target.id):
            self._visit_identity(node.value)  # as in visit_Assign
        elif node.value is not None:
            self.visit(node.value)
        if isinstance(node.target, ast.Name) and node.target.id not in self.bindings:
            self._assign_name(node.target.id, self._annotation_type(node.annotation))
        elif (attribute := self._instance_attribute(node.target)) is not None:
            attribute[0].kinds[attribute[1]] = self._annotation_type(node.annotation)

    def _import_module_literal(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Call) and self._chain(node.func) == "importlib.import_module":
            return _literal(node.args[0]) if node.args else None
        return None

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is not None:
            self._visit_identity(node.type)
        for statement in node.body:
            self.visit(statement)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.id if isinstance(func, ast.Name) else None
        if (name in ("isinstance", "issubclass") and name not in self.bindings
                and len(node.args) == 2 and not node.keywords):
            self.visit(node.args[0])
            classes = node.args[1]
            for element in classes.elts if isinstance(classes, ast.Tuple) else [classes]:
                self._visit_identity(element)
            return
        if (name in ("getattr", "__import__") and name not in self.bindings
                and self._dynamic_builtin(node, name)):
            return
        chain = self._chain(func)
        if chain is None and (alias := self._class_alias(func)) is not None:
            # ``self.url_map_class(...)``: a call of the library's object the class holds
            self._record(alias, node, _shape(node))
            if node.args or node.keywords:
                self._arguments(alias, node)
            assert isinstance(func, ast.Attribute)
            self.visit(func.value)
            for arg in node.args:
                self.visit(arg)
            for keyword in node.keywords:
                self.visit(keyword.value)
            return
        if chain == "importlib.import_module":
            self._import_by_name(node, "importlib.import_module")
            for arg in node.args:
                self.visit(arg)
            return
        if chain is not None:
            self._record(chain, node, _shape(node), func)
            if node.args or node.keywords:
                self._arguments(chain, node)
        else:
            plain = isinstance(func, ast.Attribute) and not any(
                isinstance(a, ast.Starred) for a in node.args) and all(
                k.arg is not None for k in node.keywords)
            outer, self.called = self.called, func if plain else None
            self.visit(func)
            self.called = outer
            self._call_protocols(node)
        for arg in node.args:
            self.visit(arg)
        for keyword in node.keywords:
            self.visit(keyword.value)

    def _arguments(self, chain: str, node: ast.Call) -> None:
        """Record the evident type of each argument of a call of ``chain``."""
        use = self.usage.uses.get(chain)
        if use is None or any(isinstance(a, ast.Starred) for a in node.args):
            return
        entry = self._argument_types(node)
        if entry not in use.arguments:
            use.arguments.append(entry)

    def _argument_types(
        self, node: ast.Call
    ) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
        positional = tuple(self._argument_type(a) for a in node.args)
        keywords = tuple(sorted((k.arg, self._argument_type(k.value))
                                for k in node.keywords if k.arg is not None))
        return positional, keywords

    def _argument_type(self, node: ast.expr) -> str:
        """A builtin's name for a literal, a receiver for a library object, else ""."""
        if isinstance(node, ast.Constant):
            value = node.value
            return "None" if value is None else (
                type(value).__name__ if isinstance(value, (bool, int, float, complex, str,
                                                            bytes)) else "")
        kind = _LITERAL_KINDS.get(type(node))
        if kind is not None:
            return kind
        receiver = self._type(node)
        return receiver if receiver and receiver.endswith(("|()", "|!")) else ""

    def _call_protocols(self, node: ast.Call) -> None:
        """``len(x)``, ``iter(x)``... use x's dunder; calling an instance uses ``__call__``;
        ``super().__init__(...)`` calls the library base's constructor."""
        func = node.func
        if isinstance(func, ast.Name) and func.id in _PROTOCOL_BUILTINS and (
            func.id not in self.bindings and len(node.args) == 1
        ):
            self._operand(node.args[0], _PROTOCOL_BUILTINS[func.id])
            return
        if isinstance(func, ast.Attribute) and func.attr == "__init__" and isinstance(
            func.value, ast.Call
        ) and isinstance(func.value.func, ast.Name) and func.value.func.id == "super":
            receiver = self._type(func.value)
            if receiver and receiver.endswith("|!"):
                use = self.usage.use(receiver[:-2], self._where(node),
                                     optional=self._is_optional(None))
                use.add_call(_shape(node), self._where(node))
            return
        receiver = self._type(func)
        if receiver and (receiver.endswith(("|!", "|()"))):
            self._use_member(receiver, "__call__", node)
        elif isinstance(func, ast.Attribute) and not any(
            isinstance(a, ast.Starred) for a in node.args
        ) and all(k.arg is not None for k in node.keywords):
            # a method of an evident receiver: how it is called (each argument seen, so that
            # the entry is also the call's shape)
            owner = self._type(func.value)
            if owner and owner.endswith(("|!", "|()")):
                self.usage.argument(owner, func.attr, self._argument_types(node))

    def _import_by_name(self, node: ast.Call, what: str) -> None:
        """``what(NAME, ...)`` imports module NAME: recorded when NAME is a literal."""
        module = _literal(node.args[0]) if node.args else None
        if module is None:
            self._warn(node, f"{what} with a non-literal name: not checked")
        else:
            self._module(module, node)

    def _dynamic_builtin(self, node: ast.Call, name: str | None) -> bool:
        """``getattr``/``__import__``; True when fully handled here."""
        if name == "__import__":
            self._import_by_name(node, "__import__")
            return False
        if self._is_getattr_literal(node):
            if len(node.args) == 3:  # getattr(m, "f", default): m.f may be missing
                chain = self._chain(node)
                if chain is not None:
                    with self._optional():
                        self._record(chain, node, None)
                    self.visit(node.args[2])
                    return True
            return False  # a static chain: handled as an ordinary use
        base = self._chain(node.args[0]) if node.args else None
        if base is not None:
            use = self.usage.use(base, self._where(node), optional=self._is_optional(node))
            use.other = True
            use.dynamic = use.dynamic or "getattr"
            self._warn(node, f"getattr({base}, ...) with a non-literal name: not checked")
            for arg in node.args[1:]:
                self.visit(arg)
            return True
        return False

    def visit_Attribute(self, node: ast.Attribute) -> None:
        chain = self._chain(node)
        if chain is None and (alias := self._class_alias(node)) is not None:
            self.visit(node.value)
            self._record(alias, node, None)  # read, not called: passed on
            return
        if chain is None:
            self.generic_visit(node)
            receiver = self._type(node.value)
            subclass = next((c for c in reversed(self.subclasses) if c is not None), None)
            if subclass is not None and receiver == subclass[0] and node.attr in subclass[1]:
                return  # the class's own member, reached through self
            self._use_member(receiver, node.attr, node)
        else:  # read, or assigned to (monkeypatched): either way not a plain call
            self._record(chain, node, None, node)

    def visit_Name(self, node: ast.Name) -> None:
        chain = self.bindings.get(node.id)
        if chain is not None and isinstance(node.ctx, ast.Load):
            self._record(chain, node, None, node)


def analyze_source(source: str | bytes, filename: str) -> Usage:
    """The uses in one module's source; a syntax error is a :class:`BadInputError` naming
    ``file:line``."""
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as e:
        line = e.lineno or 0
        raise BadInputError(f"{filename}:{line}: syntax error: {e.msg}", path=filename,
                            line=line) from e
    except ValueError as e:  # NUL bytes
        raise BadInputError(f"{filename}: cannot be parsed: {e}", path=filename) from e
    usage = Usage(files=[filename])
    visitor = _Visitor(filename, usage)
    text = source if isinstance(source, str) else source.decode("latin-1")
    if _may_flag(text):  # cheap first: most modules set no such flag
        visitor.flags = _import_flags(tree, text)
    visitor.visit(tree)
    visitor.finish()
    usage.settle()
    return usage


def local_modules(directory: Path) -> set[str]:
    """Top-level module names an application's own directory provides (``x.py``, ``pkg/``
    holding Python files): first on ``sys.path`` when it runs, so they win over any library.

    THE answer for build and run (:meth:`siglink.link.app.Application.own_modules`); an
    entry that cannot be read is skipped."""
    names: set[str] = set()
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return names
    for entry in entries:
        try:
            if entry.is_file() and entry.name.endswith(".py"):
                names.add(entry.name[:-3])
            elif entry.is_dir() and entry.name.isidentifier() and any(
                    n.endswith(".py") for n in os.listdir(entry.path)):
                names.add(entry.name)
        except OSError:
            continue
    return names


def _module_file(directory: Path, module: str) -> Path | None:
    base = directory.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def analyze(files: Sequence[Path], *, root: Path, follow: bool = False) -> Usage:
    """The uses in ``files`` (paths shown relative to ``root``).

    With ``follow``, the application's own modules under ``root`` that the files import are
    analyzed too, transitively (a script and the helpers beside it).
    """
    usage = Usage()
    seen: set[Path] = set()
    queue: list[Path] = [Path(f).resolve() for f in files]
    local = local_modules(root)
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        try:  # never a plain open: a FIFO named like a module must not hang the build
            source = read_regular(path, LIMIT, whole=True)
        except OSError as e:
            raise BadInputError(f"{path}: cannot be read: {e.strerror}", path=str(path)) from e
        try:
            shown = str(path.relative_to(root.resolve()))
        except ValueError:
            shown = str(path)
        usage.merge(analyze_source(source, shown))
        if follow:
            queue.extend(_local_files(usage.modules, root, local))
    return usage


def _local_files(modules: Iterable[str], root: Path, local: set[str]) -> list[Path]:
    found = []
    for module in modules:
        if module.split(".", 1)[0] in local:
            path = _module_file(root, module)
            if path is not None:
                found.append(path.resolve())
    return found


# -- what a module binds ----------------------------------------------------------------------

_DYNAMIC_BINDING = re.compile(rb"__getattr__|import\s+\*|globals\s*\(|vars\s*\(|sys\.modules")


def may_bind(source: bytes, name: str) -> bool:
    """Can a module whose source is ``source`` have the attribute ``name``? False only when the
    text never spells the name and binds nothing dynamically (a quick test before
    :func:`bound_names`, which parses).

    >>> may_bind(b"def f(): ...\\n", "g"), may_bind(b"def g(): ...\\n", "g")
    (False, True)
    >>> may_bind(b"def __getattr__(name): ...\\n", "g")
    True
    """
    if re.search(rb"(?<![\w])" + re.escape(name.encode()) + rb"(?![\w])", source):
        return True
    return _DYNAMIC_BINDING.search(source) is not None


_DELEGATES = frozenset({"getattr", "import_module", "__import__"})


def bound_names(
    source: str | bytes, star: Callable[[str, int], frozenset[str] | None] | None = None,
    module_source: Callable[[str, int], bytes | None] | None = None,
) -> frozenset[str] | None:
    """The names a module's source binds at its top level, in any branch (``def``, ``class``,
    assignments, imports, ``global`` in a function), for telling whether it has an attribute;
    ``None`` when it may have any (``from x import *`` that ``star(module, level)`` cannot
    list, ``globals()[...] =`` or ``globals().update``, ``vars()`` without argument, replacing
    itself in ``sys.modules[__name__]``, a module ``__getattr__`` forwarding names, a syntax
    error).

    A module ``__getattr__`` (a ``def``, or one a factory defines and returns, the factory
    a top-level ``def`` or imported from a module ``module_source(module, level)`` reads) that
    only compares its argument with literals serves those names: the identifier-like string
    literals of the function and of the module-level containers it reads count as bound.

    >>> sorted(bound_names("import a.b\\nif X:\\n    def f(): ...\\nelse:\\n    g = h = 1\\n"))
    ['a', 'f', 'g', 'h']
    >>> bound_names("from m import *\\n") is None
    True
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    names: set[str] = set()
    pending: list[ast.AST] = list(tree.body)
    getattr_def: ast.FunctionDef | ast.AsyncFunctionDef | None = None
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            if node.name == "__getattr__" and not isinstance(node, ast.ClassDef):
                getattr_def = node
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    listed = None if star is None or not isinstance(node, ast.ImportFrom) else (
                        star(node.module or "", node.level))
                    if listed is None:
                        return None
                    names.update(listed)
                    continue
                names.add(alias.asname or alias.name.split(".", 1)[0])
            continue
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                pending.append(child)
            elif isinstance(child, ast.ExceptHandler):
                names.update([child.name] if child.name else [])
                pending.extend(child.body)
            else:
                for sub in ast.walk(child):
                    if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                        names.add(sub.id)
                    elif isinstance(sub, ast.alias):
                        names.add(sub.asname or sub.name.split(".", 1)[0])
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            names.update(node.names)
        elif _namespace_write(node):
            return None
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) and (
                isinstance(node.value, ast.Attribute) and node.value.attr == "modules"
                and isinstance(node.slice, ast.Name) and node.slice.id == "__name__"):
            return None  # sys.modules[__name__] = another object
    if getattr_def is None and "__getattr__" in names:
        getattr_def = _factory_getattr(tree, module_source)
        if getattr_def is None:
            return None  # __getattr__ = something not read statically
    if getattr_def is not None:
        if not getattr_def.args.args:
            return None
        param = getattr_def.args.args[0].arg
        for node in ast.walk(getattr_def):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if called in _DELEGATES and any(isinstance(n, ast.Name) and n.id == param
                                            for a in node.args for n in ast.walk(a)):
                return None  # getattr(other, name), import_module(f".{name}")
        read = {n.id for n in ast.walk(getattr_def) if isinstance(n, ast.Name)}
        scopes: list[ast.AST] = [getattr_def, *(
            n.value for n in tree.body if isinstance(n, (ast.Assign, ast.AnnAssign))
            and n.value is not None and any(isinstance(t, ast.Name) and t.id in read for t in (
                n.targets if isinstance(n, ast.Assign) else [n.target])))]
        # a branch that only warns (or imports) and falls through serves nothing itself
        silent = {id(n) for i in ast.walk(getattr_def) if isinstance(i, ast.If) and all(
            isinstance(b, (ast.Expr, ast.Import, ast.ImportFrom, ast.Pass)) for b in i.body)
            for n in ast.walk(i.test)}
        names.update(node.value for scope in scopes for node in ast.walk(scope)
                     if isinstance(node, ast.Constant) and isinstance(node.value, str)
                     and node.value.isidentifier() and id(node) not in silent)
    return frozenset(names)


def listed_names(source: str | bytes) -> frozenset[str] | Literal[False] | None:
    """A module's ``__all__`` as ``from m import *`` reads it: the names, ``None`` when it is
    computed in a way not followed statically, ``False`` when the module defines none.

    >>> sorted(listed_names("__all__ = ['a'] + ['b']\\n")), listed_names("x = 1\\n")
    (['a', 'b'], False)
    """
    from siglink.python._dunder_all import evaluate_all

    text = source.decode("utf-8", "replace") if isinstance(source, bytes) else source
    listed = evaluate_all(text, lambda _: None)
    if listed.names is not None:
        return frozenset(listed.names)
    return None if listed.unreadable_line is not None else False


def _namespace_write(node: ast.AST) -> bool:
    """``globals()[k] = v``, ``globals().update(...)``, ``vars()`` without argument (the
    module's namespace): may bind any name. ``vars(obj)`` and reading ``globals()`` do not."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and (
            node.func.id == "vars" and not node.args):
        return True
    target = node.value if isinstance(node, (ast.Subscript, ast.Attribute)) else None
    if not (isinstance(target, ast.Call) and isinstance(target.func, ast.Name)
            and target.func.id in ("globals", "vars")):
        return False
    if isinstance(node, ast.Subscript):
        return isinstance(node.ctx, (ast.Store, ast.Del))
    return isinstance(node, ast.Attribute) and node.attr in (
        "update", "setdefault", "__setitem__", "pop", "clear")


def _factory_getattr(
    tree: ast.Module, module_source: Callable[[str, int], bytes | None] | None = None,
) -> ast.FunctionDef | None:
    """``__getattr__ = make(...)`` where ``make`` is a top-level function (of this module, or
    imported by ``from m import make`` from a module ``module_source`` reads) defining one
    ``def __getattr__`` and returning it (attrs): that nested function, else None."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__getattr__" for t in node.targets):
            call = node.value
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
                return None
            name = call.func.id
            home = tree
            origin = next((i for i in tree.body if isinstance(i, ast.ImportFrom) and any(
                (a.asname or a.name) == name and a.name == name for a in i.names)), None)
            if origin is not None and module_source is not None:
                text = module_source(origin.module or "", origin.level)
                try:
                    home = ast.parse(text) if text is not None else tree
                except (SyntaxError, ValueError):
                    return None
            make = next((d for d in home.body if isinstance(d, ast.FunctionDef)
                         and d.name == name), None)
            inner = [] if make is None else [d for d in ast.walk(make) if isinstance(
                d, ast.FunctionDef) and d.name == "__getattr__"]
            return inner[0] if len(inner) == 1 else None
    return None
