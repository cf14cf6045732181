"""griffe's model of a library → :class:`~siglink.contracts.manifest.Export` values.

Functions, classes (constructor, members inherited through the MRO, bases), methods of each kind,
properties, attributes, records (dataclass, attrs, NamedTuple, TypedDict), enums and overloads.
Exports are built once per defining path and memoized; a re-export is the same value at another
path.
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
import inspect
import sys
import textwrap
from collections.abc import Mapping
from typing import Final

import griffe

from siglink.contracts.manifest import Export, ExportKind
from siglink.contracts.signature import Param, ParamKind, Signature
from siglink.contracts.types import CALLABLE, ELLIPSIS, TypeContext, TypeRef, parse_type
from siglink.errors import BadInputError
from siglink.python._annotations import LOOKUP_ERRORS, AliasTable, render
from siglink.python._extension_points import DECLARERS, IMPLEMENTERS

__all__ = ["Builder", "builtin_callable", "kwargs_keys", "module_file", "relocate"]

_KINDS: Final = {
    griffe.ParameterKind.positional_only: ParamKind.POSITIONAL_ONLY,
    griffe.ParameterKind.positional_or_keyword: ParamKind.POSITIONAL_OR_KEYWORD,
    griffe.ParameterKind.var_positional: ParamKind.VAR_POSITIONAL,
    griffe.ParameterKind.keyword_only: ParamKind.KEYWORD_ONLY,
    griffe.ParameterKind.var_keyword: ParamKind.VAR_KEYWORD,
}
_VARIADIC: Final = (ParamKind.VAR_POSITIONAL, ParamKind.VAR_KEYWORD)
_ENUM_BASES: Final = frozenset(
    f"enum.{n}" for n in ("Enum", "IntEnum", "StrEnum", "Flag", "IntFlag", "ReprEnum")
)
_NAMEDTUPLE_BASES: Final = frozenset({"typing.NamedTuple", "typing_extensions.NamedTuple"})
# ``class P(namedtuple("P", "x y"))``: a base made by the collections factory.
_NAMEDTUPLE_FACTORY: Final = "collections.namedtuple"
_TYPEDDICT_BASES: Final = frozenset({"typing.TypedDict", "typing_extensions.TypedDict"})
_PROTOCOL_BASES: Final = frozenset({"typing.Protocol", "typing_extensions.Protocol"})
# Bases that add nothing to a constructor: a class with only these still takes no arguments.
_INERT_BASES: Final = frozenset(
    {"object", "builtins.object", "abc.ABC", "typing.Generic", "typing_extensions.Generic",
     *_PROTOCOL_BASES}
)
_EXCEPTIONS: Final = frozenset(
    name for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
)
# attrs' decorators and field makers by their public names, and by the paths where attrs
# defines them (what its own classes, ``attr.VersionInfo``, use).
_ATTRS_DECORATORS: Final = frozenset(
    {"attr.s", "attr.attrs", "attr.attributes", "attr.define", "attr.mutable", "attr.frozen",
     "attr.dataclass", "attrs.define", "attrs.mutable", "attrs.frozen",
     "attr._make.attrs", "attr._make._attrs", "attr._next_gen.define",
     "attr._next_gen.mutable", "attr._next_gen.frozen"}
)
_ATTRS_FIELDS: Final = frozenset(
    {"attr.ib", "attr.attrib", "attr.attr", "attr.field", "attrs.field",
     "attr._make.attrib", "attr._next_gen.field"}
)
_ATTRS_FACTORY: Final = frozenset({"attr.Factory", "attrs.Factory", "attr._make.Factory"})
# Decorators of another distribution known to return the function they decorate.
_MARKERS: Final = DECLARERS | IMPLEMENTERS
_NOT_REQUIRED: Final = frozenset({"typing.NotRequired", "typing_extensions.NotRequired"})
_CONSTRUCTOR_DUNDERS: Final = frozenset(
    {"__init__", "__new__", "__init_subclass__", "__post_init__", "__class_getitem__",
     "__attrs_post_init__", "__attrs_pre_init__", "__repr__", "__str__", "__getattr__",
     "__setattr__", "__delattr__", "__getattribute__", "__reduce__", "__reduce_ex__",
     "__getstate__", "__setstate__", "__copy__", "__deepcopy__", "__sizeof__", "__dir__",
     "__format__", "__subclasshook__", "__del__", "__set_name__"}
)


def module_file(module: griffe.Module) -> str | None:
    """The module's file as it sits in a wheel (``pkg/sub/mod.py``), wherever it was read from.

    Derived from the dotted path, so no temporary directory or absolute path of the machine
    that read it ever reaches a manifest. ``None`` for a namespace package (no single file).
    """
    filepath = module.filepath
    if isinstance(filepath, list):
        return None
    depth = module.path.count(".") + 1 + (filepath.stem == "__init__")
    return "/".join(filepath.parts[-depth:])


def relocate(export: Export, path: str) -> Export:
    """The same export (same digest) at another path.

    Members keep the paths where they are defined: a method inherited by a hundred classes is
    one value, and a member's digest does not depend on its path.
    """
    if export.path == path:
        return export
    return dataclasses.replace(export, path=path, digest=export.digest)


class Builder:
    """Builds exports from griffe objects of one library, memoized by defining path."""

    def __init__(self, table: AliasTable) -> None:
        self.table = table
        # Classes of compiled modules by path: a Python class inheriting from one gets its
        # members (``yaml.CLoader`` from ``yaml._yaml.CParser``).
        self.compiled: Mapping[str, Export] = {}
        self._exports: dict[int, Export] = {}
        self._contexts: dict[int, TypeContext] = {}
        self._types: dict[tuple[int, str], TypeRef] = {}
        self._typevars: frozenset[str] | None = None
        self._mros: dict[int, list[griffe.Class]] = {}
        self._base_cache: dict[int, list[str]] = {}
        self._flavors: dict[int, str | None] = {}
        self._members: dict[int, dict[str, Export]] = {}
        self._modules: dict[int, tuple[str, str | None]] = {}
        # The library's top-level packages, and each class whose own base in them could not
        # be read (class path -> base path), for the reader's diagnostics.
        self.packages: frozenset[str] = frozenset()
        self.unread: dict[str, str] = {}
        # Paths whose runtime callable is not what the ``def``/``class`` says (see
        # :class:`~siglink.python._bindings.Bindings`): their signatures are unverified.
        self.uncertain: frozenset[str] | set[str] = frozenset()
        self.patched: frozenset[str] | set[str] = frozenset()
        self._lines: dict[object, list[str]] = {}

    # -- types -------------------------------------------------------------------------------

    def context(self, module: griffe.Module) -> TypeContext:
        """How annotation text rendered for ``module`` is read.

        :func:`render` already qualified every name through the module's imports and expanded
        the library's aliases, so the context only says which qualified names are TypeVars.
        """
        ctx = self._contexts.get(id(module))
        if ctx is None:
            if self._typevars is None:
                self._typevars = frozenset(self.table.typevars)
            ctx = TypeContext(module=module.path, typevars=self._typevars)
            self._contexts[id(module)] = ctx
        return ctx

    def _where(self, obj: griffe.Object) -> tuple[str, str | None]:
        """The defining module's path and file (relative to the search path), memoized."""
        module = obj.module
        info = self._modules.get(id(module))
        if info is None:
            info = self._modules[id(module)] = (module.path, module_file(module))
        return info

    def _module_path(self, obj: griffe.Object) -> str:
        return self._where(obj)[0]

    def _location(self, obj: griffe.Object) -> str | None:
        rel = self._where(obj)[1]
        return f"{rel}:{obj.lineno}" if rel and obj.lineno else rel

    def type_of(self, expr: str | griffe.Expr | None, module: griffe.Module) -> TypeRef | None:
        """A parsed, normalized annotation (``None`` when there is none)."""
        if expr is None:
            return None
        text = render(expr, self.table)
        key = (id(module), text)
        found = self._types.get(key)
        if found is None:
            found = parse_type(text, self.context(module))
            self._types[key] = found
        return found

    # -- signatures --------------------------------------------------------------------------

    def signature(self, func: griffe.Function, *, drop_first: bool = False) -> Signature:
        """The function's signature; ``drop_first`` leaves out a method's ``self``/``cls``."""
        module = func.module
        params: list[Param] = []
        items = list(func.parameters)
        if drop_first and items and _KINDS[items[0].kind] not in _VARIADIC:
            items = items[1:]
        for p in items:
            kind = _KINDS[p.kind]
            default = None if kind in _VARIADIC or p.default is None else str(p.default)
            params.append(Param(p.name, kind, self.type_of(p.annotation, module), default))
        returns = self.type_of(func.returns, module) if func.returns is not None else None
        return Signature(params=tuple(params), returns=returns)

    # -- exports -----------------------------------------------------------------------------

    def export(self, obj: griffe.Object) -> Export | None:
        """The export for a function, class, attribute or type alias at its defining path."""
        found = self._exports.get(id(obj))
        if found is not None:
            return found
        if isinstance(obj, griffe.Function):
            export: Export | None = self._function(obj)
        elif isinstance(obj, griffe.Class):
            export = self._class(obj)
        elif isinstance(obj, griffe.Attribute):
            export = self._builtin(obj) or self._attribute(obj, obj.path)
        elif isinstance(obj, griffe.TypeAlias):
            export = Export(path=obj.path, kind=ExportKind.ATTRIBUTE,
                            module=self._module_path(obj),
                            value=render(obj.value, self.table) if obj.value else None,
                            location=self._location(obj), flavor="alias")
        else:
            return None
        if export is not None:
            self._exports[id(obj)] = export
        return export

    def _function(self, func: griffe.Function, *, member_of: str | None = None) -> Export:
        labels = func.labels
        path = func.path if member_of is None else f"{member_of}.{func.name}"
        is_async = "async" in labels
        if member_of is None:
            kind = ExportKind.ASYNC_FUNCTION if is_async else ExportKind.FUNCTION
            drop = False
        elif "staticmethod" in labels:
            kind, drop = ExportKind.STATICMETHOD, False
        elif "classmethod" in labels:
            kind, drop = ExportKind.CLASSMETHOD, True
        else:
            kind = ExportKind.ASYNC_METHOD if is_async else ExportKind.METHOD
            drop = True
        signature: Signature | None = None
        overloads: tuple[Signature, ...] = ()
        if not ((member_of is None and func.path in self.uncertain)
                or self._foreign_decorator(func)):
            signature = self.signature(func, drop_first=drop)
            overloads = tuple(self.signature(o, drop_first=drop) for o in func.overloads or ())
        return Export(
            path=path,
            kind=kind,
            module=self._module_path(func),
            signature=signature,
            overloads=overloads,
            location=self._location(func),
            kwargs_read=self.kwargs_read(func),
        )

    def _foreign_decorator(self, func: griffe.Function) -> bool:
        """A decorator from another distribution (``@click.command(...)``,
        ``@LocalProxy``): what it returns may be anything (a ``click.Command``), so the
        ``def``'s signature is not known to be what callers call. The standard library's
        and ``typing_extensions``' decorators, the library's own, and siglink's markers
        (``@siglink.extension_point``, which return the function) are read as before."""
        for decorator in func.decorators:
            try:
                path = decorator.callable_path
            except LOOKUP_ERRORS:
                continue
            top = path.partition(".")[0]
            if "." in path and top not in self.packages and top not in sys.stdlib_module_names \
                    and top != "typing_extensions" and path not in _MARKERS:
                return True
        return False

    def kwargs_read(self, func: griffe.Function) -> tuple[str, ...] | None:
        """The keys ``func``'s body visibly reads from its ``**kwargs`` (sorted; ``"**"`` when
        it also passes them on or uses them otherwise); ``None`` without ``**kwargs`` or
        without a readable body (a stub)."""
        star = next((p.name for p in func.parameters
                     if p.kind is griffe.ParameterKind.var_keyword), None)
        filepath = func.filepath
        if star is None or isinstance(filepath, list) or filepath.suffix != ".py" or (
            func.lineno is None or func.endlineno is None
        ):
            return None
        lines = self._lines.get(filepath)
        if lines is None:
            try:
                lines = filepath.read_text(encoding="utf-8-sig").splitlines()
            except (OSError, UnicodeDecodeError):
                lines = []
            self._lines[filepath] = lines
        return kwargs_keys("\n".join(lines[func.lineno - 1:func.endlineno]), star)

    def _builtin(self, attr: griffe.Attribute) -> Export | None:
        """A module attribute bound to a builtin callable (``visible_prompt_func = input``,
        ``exec_ = getattr(builtins, "exec")``) as the function or class that runs, with the
        running interpreter's signature for it (its annotation is what the author meant;
        calls bind against the builtin)."""
        name = builtin_callable(attr)
        if name is None:
            return None
        found = getattr(builtins, name)
        try:
            text: str | None = str(inspect.signature(found))
        except (TypeError, ValueError):  # a builtin without a text signature
            text = None
        signature = None
        if text is not None:
            try:
                signature = Signature.parse(text, self.context(attr.module))
            except BadInputError:
                signature = None
        return Export(
            path=attr.path,
            kind=ExportKind.CLASS if isinstance(found, type) else ExportKind.FUNCTION,
            module=self._module_path(attr),
            signature=signature,
            location=self._location(attr),
        )

    def _attribute(self, attr: griffe.Attribute, path: str, *, value: bool = False) -> Export:
        kind = ExportKind.PROPERTY if "property" in attr.labels else ExportKind.ATTRIBUTE
        setter = deleter = None
        if kind is ExportKind.PROPERTY:
            # griffe labels a property ``writable``/``deletable`` for ``@x.setter``/
            # ``@x.deleter``. A cached property writes the instance's ``__dict__``: assignment
            # works; deletion only once the value was computed.
            cached = "cached" in attr.labels
            setter = cached or "writable" in attr.labels
            deleter = None if cached else "deletable" in attr.labels
        annotation = attr.annotation
        optional = False
        if isinstance(annotation, griffe.ExprSubscript) and (
            annotation.canonical_path in _NOT_REQUIRED
        ):
            annotation, optional = annotation.slice, True
        flavor = _typing_flavor(attr)
        made: TypeRef | None = None
        if flavor is not None:
            annotation = None
        elif annotation is None and isinstance(attr.value, griffe.ExprCall):
            made = self._made_callable(attr, attr.value)
        elif annotation is None and "module-attribute" in attr.labels:
            annotation = _literal_type(attr.value)
        return Export(
            path=path,
            kind=kind,
            module=self._module_path(attr),
            type=made or self.type_of(annotation, attr.module),
            value=str(attr.value) if value and attr.value is not None else None,
            optional=optional,
            location=self._location(attr),
            flavor=flavor,
            setter=setter,
            deleter=deleter,
        )

    def protocol_members(self, cls: griffe.Class) -> dict[str, str] | None:
        """The members of ``cls`` when it is a Protocol (its own and its Protocol bases'):
        name -> type text, a method as the ``Callable`` it is once bound (``Callable[...,
        R]`` when its parameters are not all plain positional ones), a property as what it
        returns, a settable attribute or property (with a setter) as ``=TYPE``; None for
        another class."""
        lineage = [cls, *self._mro(cls)]
        if self._flavor(cls, lineage) != "protocol":
            return None
        members: dict[str, str] = {}
        for klass in reversed([k for k in lineage
                               if self._flavor(k, [k, *self._mro(k)]) == "protocol"]):
            for name, member in klass.members.items():
                if name in _NOT_PROTOCOL_MEMBERS or (
                    name.startswith("_") and not (name.startswith("__") and name.endswith("__"))
                ):
                    continue
                if isinstance(member, griffe.Function) and "property" in member.labels:
                    returns = self.signature(member, drop_first=True).returns
                    members[name] = str(returns or TypeRef("typing.Any"))
                elif isinstance(member, griffe.Function):
                    members[name] = str(_bound_callable(self.signature(member, drop_first=True)))
                elif isinstance(member, griffe.Attribute) and member.annotation is not None:
                    found = self.type_of(member.annotation, member.module)
                    if found is not None:  # settable (invariant) unless a read-only property
                        members[name] = str(found) if "property" in member.labels and (
                            "writable" not in member.labels) else f"={found}"
        return members

    def _made_callable(self, attr: griffe.Attribute, call: griffe.ExprCall) -> TypeRef | None:
        """The type of ``x = factory(...)`` when ``factory`` is a function whose return
        annotation is a ``Callable`` (``capitalize = _simple_escaping_wrapper("capitalize")``
        with ``-> t.Callable[..., "Markup"]``): the value is that callable; else ``None``."""
        try:
            factory = call.function.canonical_path
            found = attr.modules_collection[factory]
            if isinstance(found, griffe.Alias):
                found = found.final_target
        except (*LOOKUP_ERRORS, AttributeError, TypeError):
            return None
        if not isinstance(found, griffe.Function) or found.returns is None:
            return None
        returns = self.type_of(found.returns, found.module)
        return returns if returns is not None and returns.name == CALLABLE else None

    # -- classes -----------------------------------------------------------------------------

    def _class(self, cls: griffe.Class) -> Export:
        lineage = [cls, *self._mro(cls)]
        flavor = self._flavor(cls, lineage)
        members: dict[str, Export] = {}
        for klass in reversed(lineage):
            for base in reversed(self._bases(klass)):
                compiled = self.compiled.get(base)
                if compiled is not None and compiled.kind is ExportKind.CLASS:
                    members.update(compiled.members)
            members.update(self._own_members(klass))
        members = _access_overridden(members, lineage)
        if flavor == "typeddict" and cls.keywords.get("total") == "False":
            members = {n: dataclasses.replace(m, optional=True, digest="")
                       if m.kind is ExportKind.ATTRIBUTE else m for n, m in members.items()}
        if flavor == "attrs":
            signature = self._attrs_signature(cls, lineage)
        elif flavor == "namedtuple":
            signature = self._namedtuple_signature(lineage)
        elif flavor == "typeddict":
            signature = self._field_signature(cls, keyword_only=True)
        elif flavor == "enum":
            signature = None
        else:
            signature = self._constructor(cls, lineage)
        if cls.path in self.patched:  # ``K.__new__ = ...`` after the class statement
            signature = None
        public = self.table.public
        bases = tuple(public.get(b, b) for b in self._bases(cls))
        init = next((k.members[n] for k in lineage for n in ("__init__", "__new__")
                     if n in k.members), None)
        return Export(
            path=cls.path,
            kind=ExportKind.CLASS,
            module=self._module_path(cls),
            signature=signature,
            members=members,
            bases=bases,
            flavor=flavor,
            location=self._location(cls),
            kwargs_read=self.kwargs_read(init) if isinstance(init, griffe.Function) and (
                signature is not None) else None,
        )

    def _foreign(self, cls: griffe.Class, path: str) -> bool:
        """Whether ``path`` (in the library's own package) reaches another distribution's or
        the standard library's object through an alias on the way: ``pkg.compat.cookielib
        .CookieJar`` where ``pkg.compat`` does ``from http import cookiejar as cookielib``."""
        obj: griffe.Object | griffe.Alias = cls.package
        for part in path.split(".")[1:]:
            member = obj.members.get(part) if not obj.is_alias else None
            if member is None:
                return False
            if member.is_alias:
                target = member.target_path if isinstance(member, griffe.Alias) else ""
                return target.partition(".")[0] not in self.packages
            obj = member
        return False

    def _mro(self, cls: griffe.Class) -> list[griffe.Class]:
        """The class's resolvable ancestors, C3-linearized, memoized (griffe recomputes)."""
        key = id(cls)
        found = self._mros.get(key)
        if found is not None:
            return found
        self._mros[key] = []  # a cycle in broken code ends here
        bases: list[griffe.Class] = []
        for written in cls.bases:
            base = written.left if isinstance(written, griffe.ExprSubscript) else written
            if not isinstance(base, (griffe.ExprName, griffe.ExprAttribute)):
                continue
            try:
                resolved = base.resolved if isinstance(base, griffe.ExprName) else (
                    base.last.resolved)
            except (*LOOKUP_ERRORS, TypeError):  # a parent that resolved to None
                resolved = None
            if isinstance(resolved, griffe.Class) and resolved is not cls:
                bases.append(resolved)
            elif (resolved is None and base.canonical_path.partition(".")[0] in self.packages
                  and not self._foreign(cls, base.canonical_path)):
                # The library's own base that could not be read: what the class inherits
                # from it is unknown (unverified at link time, never "absent").
                self.unread.setdefault(cls.path, base.canonical_path)
        try:
            mro = griffe.c3linear_merge(*[[b, *self._mro(b)] for b in bases], bases)
        except ValueError:
            mro = []
        self._mros[key] = mro
        return mro

    def _bases(self, cls: griffe.Class) -> list[str]:
        key = id(cls)
        found = self._base_cache.get(key)
        if found is None:
            found = self._base_cache[key] = _own_bases(cls)
        return found

    def _flavor(self, cls: griffe.Class, lineage: list[griffe.Class]) -> str | None:
        key = id(cls)
        if key in self._flavors:
            return self._flavors[key]
        names = {path for klass in lineage for path in self._bases(klass)}
        flavor: str | None = None
        if names & _ENUM_BASES:
            flavor = "enum"
        elif names & _NAMEDTUPLE_BASES or _NAMEDTUPLE_FACTORY in names:
            flavor = "namedtuple"
        elif names & _TYPEDDICT_BASES:
            flavor = "typeddict"
        elif any(_attrs_options(k) is not None for k in lineage):
            flavor = "attrs"
        elif "dataclass" in cls.labels:
            flavor = "dataclass"
        elif set(self._bases(cls)) & _PROTOCOL_BASES:
            flavor = "protocol"
        self._flavors[key] = flavor
        return flavor

    def _own_members(self, cls: griffe.Class) -> dict[str, Export]:
        """Exports of the public members ``cls`` defines itself (at their defining paths;
        a subclass shares them)."""
        key = id(cls)
        found = self._members.get(key)
        if found is not None:
            return found
        members: dict[str, Export] = {}
        self._members[key] = members
        lineage = [cls, *self._mro(cls)]
        enum = self._flavor(cls, lineage) == "enum"
        values = self._enum_values(cls, lineage) if enum else {}
        for name, member in cls.members.items():
            if name.startswith("_") and not (
                name.startswith("__") and name.endswith("__") and name not in _CONSTRUCTOR_DUNDERS
            ):
                continue
            if isinstance(member, griffe.Function):
                members[name] = self._function(member, member_of=cls.path)
            elif isinstance(member, griffe.Attribute):
                if name.startswith("__"):
                    continue
                is_enum_member = enum and "property" not in member.labels and (
                    member.value is not None)
                export = self._attribute(member, f"{cls.path}.{name}", value=is_enum_member)
                if is_enum_member:
                    own = parse_type(self.table.public.get(cls.path, cls.path),
                                     self.context(cls.module))
                    export = dataclasses.replace(export, type=own, value=values.get(
                        name, export.value), digest="")
                members[name] = export
            elif isinstance(member, griffe.Class):
                nested = self.export(member)
                if nested is not None:
                    members[name] = nested
        return members

    def _enum_values(self, cls: griffe.Class, lineage: list[griffe.Class]) -> dict[str, str | None]:
        """The values ``enum.auto()`` gives the members of ``cls``, as Python computes them:
        the last integer plus one (``Enum``, ``IntEnum``), the next power of two (``Flag``,
        ``IntFlag``), the lower-cased name (``StrEnum``), or what a class's own
        ``_generate_next_value_`` returns when it visibly returns ``name`` (or its
        ``lower()``/``upper()``). ``None`` for a value that cannot be told statically."""
        rule = self._next_value_rule(lineage)
        values: dict[str, str | None] = {}
        last: list[int] = []
        for name, member in cls.members.items():
            if not isinstance(member, griffe.Attribute) or member.value is None or (
                "property" in member.labels or name.startswith("_")
            ):
                continue
            value = member.value
            if isinstance(value, griffe.ExprCall) and value.function.canonical_path == (
                "enum.auto"
            ) and not value.arguments:
                if rule == "flag":
                    top = max(last, default=0)
                    number = 1 if top < 1 else 1 << top.bit_length()
                    values[name] = str(number)
                    last.append(number)
                elif rule == "int":
                    number = last[-1] + 1 if last else 1
                    values[name] = str(number)
                    last.append(number)
                elif rule in ("name", "lower", "upper"):
                    text = name.lower() if rule == "lower" else (
                        name.upper() if rule == "upper" else name)
                    values[name] = repr(text)
                else:
                    values[name] = None
                continue
            try:
                literal = ast.literal_eval(str(value))
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                continue
            if isinstance(literal, int) and not isinstance(literal, bool):
                last.append(literal)
        return values

    def _next_value_rule(self, lineage: list[griffe.Class]) -> str | None:
        """How ``auto()`` computes a value for this enum (see :meth:`_enum_values`)."""
        for klass in lineage:
            custom = klass.members.get("_generate_next_value_")
            if isinstance(custom, griffe.Function):
                return _returned_name(custom)
        bases = {path for klass in lineage for path in self._bases(klass)}
        if bases & {"enum.Flag", "enum.IntFlag"}:
            return "flag"
        if "enum.StrEnum" in bases:
            return "lower"
        return "int"

    def _defined_constructor(self, lineage: list[griffe.Class]) -> Signature | None:
        """The first ``__init__`` or ``__new__`` the class or an ancestor in the library
        defines, without ``self``/``cls`` (what ``inspect.signature`` of the class shows)."""
        for klass in lineage:
            for name in ("__init__", "__new__"):
                member = klass.members.get(name)
                if isinstance(member, griffe.Function):
                    return _without_return(self.signature(member, drop_first=True))
        return None

    def _constructor(self, cls: griffe.Class, lineage: list[griffe.Class]) -> Signature | None:
        defined = self._defined_constructor(lineage)
        if defined is not None:
            return defined
        # Nothing defined in the library: the constructor comes from a base outside it.
        inside = {klass.path for klass in lineage}
        outside = [p for klass in lineage for p in self._bases(klass)
                   if p not in inside and p not in _INERT_BASES]
        if not outside:
            return Signature()
        if all(p.rpartition(".")[2] in _EXCEPTIONS and p.rpartition(".")[0] in ("", "builtins")
               for p in outside):
            any_ = parse_type("object", self.context(cls.module))
            return Signature(params=(Param("args", ParamKind.VAR_POSITIONAL, any_),))
        return None

    def _namedtuple_signature(self, lineage: list[griffe.Class]) -> Signature | None:
        """A NamedTuple's constructor: a ``__new__`` (or ``__init__``) the class defines,
        else its fields, from the class that derives from ``NamedTuple`` (class form) or from
        the call that makes its base (``typing.NamedTuple("Url", [("scheme", str), ...])``,
        ``collections.namedtuple("P", "x y", defaults=(0,))``). ``None`` when the fields are
        computed."""
        defined = self._defined_constructor(lineage)
        if defined is not None:
            return defined
        for klass in lineage:
            for written in klass.bases:
                if isinstance(written, griffe.ExprCall):
                    try:
                        factory = written.function.canonical_path
                    except LOOKUP_ERRORS:
                        continue
                    if factory in _NAMEDTUPLE_BASES or factory == _NAMEDTUPLE_FACTORY:
                        return self._factory_fields(written, klass.module,
                                                    typed=factory != _NAMEDTUPLE_FACTORY)
            if set(self._bases(klass)) & _NAMEDTUPLE_BASES:
                return self._field_signature(klass, keyword_only=False)
        return None

    def _factory_fields(
        self, call: griffe.ExprCall, module: griffe.Module, *, typed: bool
    ) -> Signature | None:
        """The fields of ``NamedTuple(name, [(field, type), ...])`` (or ``NamedTuple(name,
        field=type)``) and of ``namedtuple(name, "a b" | ["a", "b"], defaults=(...))``."""
        positional = [a for a in call.arguments if not isinstance(a, griffe.ExprKeyword)]
        keywords = {a.name: a.value for a in call.arguments if isinstance(a, griffe.ExprKeyword)}
        spec = positional[1] if len(positional) > 1 else keywords.pop(
            "fields" if typed else "field_names", None)
        fields: list[tuple[str, str | griffe.Expr | None]] = []
        if typed and spec is None:  # NamedTuple("P", x=int, y=str)
            fields = [(k, v) for k, v in keywords.items() if k not in ("defaults", "module")]
        elif isinstance(spec, (griffe.ExprList, griffe.ExprTuple)):
            for element in spec.elements:
                if typed and isinstance(element, griffe.ExprTuple) and (
                    len(element.elements) == 2
                ):
                    name, annotation = element.elements
                    fields.append((_string(name) or "", annotation))
                elif not typed:
                    fields.append((_string(element) or "", None))
                else:
                    return None
        elif not typed and isinstance(spec, str) and _string(spec) is not None:
            fields = [(n, None) for n in (_string(spec) or "").replace(",", " ").split()]
        else:
            return None
        if not fields or not all(n.isidentifier() for n, _ in fields):
            return None
        defaults: list[str] = []
        given = keywords.get("defaults")
        if given is not None and not typed:
            if not isinstance(given, (griffe.ExprList, griffe.ExprTuple)):
                return None
            defaults = [str(d) for d in given.elements]
        cut = len(fields) - len(defaults)
        return Signature(params=tuple(
            Param(name, ParamKind.POSITIONAL_OR_KEYWORD,
                  self.type_of(annotation, module) if annotation is not None else None,
                  defaults[i - cut] if i >= cut else None)
            for i, (name, annotation) in enumerate(fields)))

    def _field_signature(self, cls: griffe.Class, *, keyword_only: bool) -> Signature:
        kind = ParamKind.KEYWORD_ONLY if keyword_only else ParamKind.POSITIONAL_OR_KEYWORD
        params = []
        for name, member in cls.members.items():
            if isinstance(member, griffe.Attribute) and member.annotation is not None and (
                "property" not in member.labels
            ):
                default = None if member.value is None else str(member.value)
                annotation = member.annotation
                if keyword_only and isinstance(annotation, griffe.ExprSubscript) and (
                    annotation.canonical_path in _NOT_REQUIRED
                ):
                    annotation, default = annotation.slice, "..."
                if keyword_only and isinstance(cls.keywords, dict) and (
                    cls.keywords.get("total") == "False"
                ):
                    default = "..."
                params.append(Param(name, kind, self.type_of(annotation, cls.module), default))
        if keyword_only:
            params.sort(key=lambda p: p.name)
        return Signature(params=tuple(params), returns=None)

    def _attrs_signature(self, cls: griffe.Class, lineage: list[griffe.Class]) -> Signature | None:
        if "__init__" in cls.members:
            member = cls.members["__init__"]
            if isinstance(member, griffe.Function):
                return _without_return(self.signature(member, drop_first=True))
        fields: dict[str, Param] = {}
        for klass in reversed(lineage):
            options = _attrs_options(klass)
            if options is None:
                continue
            fields.update(self._attrs_fields(klass, options))
        positional = [p for p in fields.values() if p.kind is not ParamKind.KEYWORD_ONLY]
        keyword = sorted((p for p in fields.values() if p.kind is ParamKind.KEYWORD_ONLY),
                         key=lambda p: p.name)
        return Signature(params=(*positional, *keyword), returns=None)

    def _attrs_fields(self, cls: griffe.Class, options: Mapping[str, str]) -> dict[str, Param]:
        auto = options.get("auto_attribs")
        fields: dict[str, Param] = {}
        # attrs' rule for auto_attribs=None: annotated names are fields unless some attr.ib()
        # is unannotated.
        explicit = any(
            isinstance(m, griffe.Attribute) and m.annotation is None
            and _attrs_field_call(m) is not None
            for m in cls.members.values()
        )
        for name, member in cls.members.items():
            if not isinstance(member, griffe.Attribute) or "property" in member.labels:
                continue
            call = _attrs_field_call(member)
            if call is None:
                annotated = member.annotation is not None and "ClassVar" not in str(
                    member.annotation)
                if not annotated or auto == "False" or (auto is None and explicit):
                    continue
                if not options.get("_modern") and auto != "True":
                    continue
                args: dict[str, str | griffe.Expr] = {}
                default: str | None = None if member.value is None else str(member.value)
                if isinstance(member.value, griffe.ExprCall) and (
                    member.value.function.canonical_path in _ATTRS_FACTORY
                ):
                    default = _factory_default(member.value)
            else:
                args = _call_args(call)
                default = _attrs_default(args)
            if args.get("init") == "False":
                continue
            kw_only = args.get("kw_only", options.get("kw_only")) == "True"
            alias = args.get("alias")
            param_name = str(alias).strip("'\"") if alias is not None else name.lstrip("_")
            annotation = member.annotation if member.annotation is not None else args.get("type")
            fields[name] = Param(
                param_name,
                ParamKind.KEYWORD_ONLY if kw_only else ParamKind.POSITIONAL_OR_KEYWORD,
                self.type_of(annotation, cls.module),
                default,
            )
        return fields


_KWARGS_READERS: Final = frozenset({"get", "pop", "setdefault", "__getitem__", "__contains__"})


def kwargs_keys(source: str, star: str) -> tuple[str, ...] | None:
    """The keys a function's source reads from its ``**star`` dict: ``star.get("x")``,
    ``star.pop("x")``, ``star["x"]``, ``"x" in star``; with ``"**"`` when ``star`` is used in
    any other way (passed on, iterated, copied), since any key may then be consumed.

    >>> kwargs_keys("def f(**kw):\\n    a = kw.pop('a', 1)\\n    return g(**kw)\\n", "kw")
    ('**', 'a')
    >>> kwargs_keys("def f(**kw):\\n    return 'b' in kw and kw['c']\\n", "kw")
    ('b', 'c')
    """
    try:
        tree = ast.parse(textwrap.dedent(source))
    except (SyntaxError, ValueError):
        return None
    node = tree.body[0] if tree.body else None
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    keys: set[str] = set()
    readers: set[int] = set()  # the ``star`` names already explained as key reads
    for sub in ast.walk(node):
        key: object = None
        target: ast.AST | None = None
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and (
            sub.func.attr in _KWARGS_READERS and sub.args
        ):
            target, key = sub.func.value, getattr(sub.args[0], "value", None)
        elif isinstance(sub, ast.Subscript):
            target, key = sub.value, getattr(sub.slice, "value", None)
        elif isinstance(sub, ast.Compare) and len(sub.ops) == 1 and isinstance(
            sub.ops[0], (ast.In, ast.NotIn)
        ):
            target, key = sub.comparators[0], getattr(sub.left, "value", None)
        if isinstance(target, ast.Name) and target.id == star and isinstance(key, str):
            keys.add(key)
            readers.add(id(target))
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and sub.id == star and id(sub) not in readers:
            keys.add("**")
            break
    return tuple(sorted(keys))


_TYPE_VARIABLES: Final = frozenset(
    f"{module}.{name}" for module in ("typing", "typing_extensions")
    for name in ("TypeVar", "ParamSpec", "TypeVarTuple"))
_ALIAS_HEADS: Final = ("typing.", "typing_extensions.", "collections.abc.")


def _typing_flavor(attr: griffe.Attribute) -> str | None:
    """``typevar`` for ``T = TypeVar("T")`` (and ParamSpec, TypeVarTuple), ``alias`` for a
    type alias (``X: TypeAlias = ...``, ``X = Union[...]``, ``X = Callable[...]``): typing
    objects, which a release may drop without breaking a caller of anything."""
    value = attr.value
    if isinstance(value, griffe.ExprCall) and value.function.canonical_path in _TYPE_VARIABLES:
        return "typevar"
    annotation = attr.annotation
    if isinstance(annotation, (griffe.ExprName, griffe.ExprAttribute)) and (
        annotation.canonical_path.rpartition(".")[2] == "TypeAlias"
    ):
        return "alias"
    if annotation is None and isinstance(value, griffe.ExprSubscript) and (
        value.left.canonical_path.startswith(_ALIAS_HEADS)
        if isinstance(value.left, (griffe.ExprName, griffe.ExprAttribute)) else False
    ):
        return "alias"
    return None


def _returned_name(func: griffe.Function) -> str | None:
    """``name``, ``lower`` or ``upper`` when ``_generate_next_value_(name, ...)`` is one
    ``return`` of its first parameter (or its ``lower()``/``upper()``), else ``None``."""
    filepath = func.filepath
    if isinstance(filepath, list) or func.lineno is None or func.endlineno is None:
        return None
    try:
        lines = filepath.read_text(encoding="utf-8-sig").splitlines()
        tree = ast.parse(textwrap.dedent("\n".join(lines[func.lineno - 1:func.endlineno])))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return None
    node = tree.body[0] if tree.body else None
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or not node.args.args:
        return None
    body = [s for s in node.body if not (isinstance(s, ast.Expr)
                                         and isinstance(s.value, ast.Constant))]
    first = node.args.args[0].arg
    if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
        return None
    value = body[0].value
    if isinstance(value, ast.Name) and value.id == first:
        return "name"
    called = value.func if isinstance(value, ast.Call) and not value.args else None
    if isinstance(called, ast.Attribute) and isinstance(called.value, ast.Name) and (
        called.value.id == first and called.attr in ("lower", "upper")
    ):
        return called.attr
    return None


_LITERAL_TYPES: Final = (bool, int, float, complex, str, bytes)


def _literal_type(value: str | griffe.Expr | None) -> str | None:
    """The type of an unannotated module attribute whose value is a literal (``LIMIT = 10``:
    ``int``), as a type checker infers it; ``None`` for anything else (``x = None`` is usually
    a placeholder, a container's item type is a guess)."""
    if value is None:
        return None
    text = str(value)
    if len(text) > 500:
        return None
    try:
        literal = ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    kind = type(literal)
    return kind.__name__ if kind in _LITERAL_TYPES else None


_NOT_PROTOCOL_MEMBERS: Final = frozenset({
    "__init__", "__new__", "__init_subclass__", "__class_getitem__", "__subclasshook__",
    "__slots__", "__module__", "__qualname__", "__doc__", "__annotations__", "__dict__"})


def _bound_callable(sig: Signature) -> TypeRef:
    """A bound method's signature as a ``Callable`` type: ``(a: int, /) -> str`` is
    ``Callable[[int], str]``; one with defaults, keyword-only or variadic parameters is
    ``Callable[..., R]``."""
    returns = sig.returns or TypeRef("typing.Any")
    plain = all(p.kind in (ParamKind.POSITIONAL_ONLY, ParamKind.POSITIONAL_OR_KEYWORD)
                and p.default is None for p in sig.params)
    if not plain:
        return TypeRef(CALLABLE, (ELLIPSIS, returns))
    params = tuple(p.annotation or TypeRef("typing.Any") for p in sig.params)
    return parse_type(f"collections.abc.Callable[[{', '.join(map(str, params))}], {returns}]")


def _without_return(sig: Signature) -> Signature:
    """A constructor's signature as the class is called: what it returns is the instance."""
    return sig if sig.returns is None else Signature(params=sig.params, returns=None)


def _own_bases(cls: griffe.Class) -> list[str]:
    paths = []
    for written in cls.bases:
        base = written.left if isinstance(written, griffe.ExprSubscript) else written
        if isinstance(base, griffe.Expr):
            try:
                paths.append(_through_aliases(base.canonical_path, cls))
            except LOOKUP_ERRORS:
                paths.append(str(base))
        else:
            paths.append(str(base))
    return paths


def builtin_callable(attr: griffe.Attribute) -> str | None:
    """The name of the builtin function or class a module attribute is bound to
    (``visible_prompt_func = input``, ``exec_ = getattr(builtins, "exec")``), else ``None``."""
    if "module-attribute" not in attr.labels:
        return None
    name = _builtin_name(attr)
    if name is None or not callable(getattr(builtins, name, None)) or (
        name in attr.module.members
    ):
        return None
    return name


def _builtin_name(attr: griffe.Attribute) -> str | None:
    """``input`` for ``x = input``, ``exec`` for ``x = getattr(builtins, "exec")`` (or
    ``getattr(six.moves.builtins, "exec")``), else ``None``."""
    value = attr.value
    if isinstance(value, griffe.ExprName):
        return value.name if value.name.isidentifier() else None
    if isinstance(value, griffe.ExprCall) and str(value.function) == "getattr" and len(
        value.arguments) == 2:
        holder, name = value.arguments
        if isinstance(holder, (griffe.ExprName, griffe.ExprAttribute)) and (
            str(holder).rpartition(".")[2] in ("builtins", "__builtin__")
        ):
            text = _string(name)
            return text if text and text.isidentifier() else None
    return None


def _string(value: str | griffe.Expr) -> str | None:
    """The text of a string literal as griffe renders it (``'scheme'``), else ``None``."""
    if not isinstance(value, str):
        return None
    try:
        literal = ast.literal_eval(value)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return literal if isinstance(literal, str) else None


# The bases whose identity decides a class's flavor (see ``Builder._flavor``).
_FLAVOR_PATHS: Final = frozenset(
    {*_ENUM_BASES, *_NAMEDTUPLE_BASES, *_TYPEDDICT_BASES, *_PROTOCOL_BASES})
_FLAVOR_NAMES: Final = frozenset(path.rpartition(".")[2] for path in _FLAVOR_PATHS)


def _through_aliases(path: str, cls: griffe.Class) -> str:
    """A flavor-deciding base followed through the library's re-exports to what it names:
    attrs' ``class AttrsInstance(Protocol)`` with ``from ._compat import Protocol`` derives
    from ``typing.Protocol``, not from ``attr._compat.Protocol``."""
    if path.rpartition(".")[2] not in _FLAVOR_NAMES or path in _FLAVOR_PATHS:
        return path
    collection = cls.modules_collection
    for _ in range(8):
        try:
            found = collection.get_member(path)
        except LOOKUP_ERRORS:
            return path
        if not isinstance(found, griffe.Alias):
            return path
        path = found.target_path
    return path


def _attrs_options(cls: griffe.Class) -> dict[str, str] | None:
    for decorator in cls.decorators:
        try:
            path = decorator.callable_path
        except LOOKUP_ERRORS:
            continue
        if path in _ATTRS_DECORATORS:
            value = decorator.value
            options = {k: str(v) for k, v in _call_args(value).items()} if isinstance(
                value, griffe.ExprCall) else {}
            if path.rpartition(".")[2] in ("define", "mutable", "frozen"):
                options["_modern"] = "True"
            if path == "attr.dataclass":
                options.setdefault("auto_attribs", "True")
            return options
    return None


def _attrs_field_call(attr: griffe.Attribute) -> griffe.ExprCall | None:
    value = attr.value
    if isinstance(value, griffe.ExprCall):
        try:
            path = value.function.canonical_path
        except LOOKUP_ERRORS:
            return None
        if path in _ATTRS_FIELDS:
            return value
    return None


def _call_args(call: griffe.ExprCall) -> dict[str, str | griffe.Expr]:
    args: dict[str, str | griffe.Expr] = {}
    for argument in call.arguments:
        if isinstance(argument, griffe.ExprKeyword):
            args[argument.name] = argument.value
    return args


def _attrs_default(args: Mapping[str, str | griffe.Expr]) -> str | None:
    if "factory" in args:
        return f"{args['factory']}()"
    default = args.get("default")
    if default is None:
        return None
    if isinstance(default, griffe.ExprCall) and default.function.canonical_path in _ATTRS_FACTORY:
        return _factory_default(default)
    return str(default)


def _factory_default(call: griffe.ExprCall) -> str:
    return f"{call.arguments[0]}()" if call.arguments else "...()"


def _access_overridden(members: dict[str, Export], lineage: list[griffe.Class]
                       ) -> dict[str, Export]:
    """A class (or an ancestor read here) defining ``__setattr__``/``__delattr__`` decides
    itself what assigning or deleting a member does: a property without a setter/deleter
    may then take it after all, so that is not known (``None``)."""
    hooks = {name for klass in lineage for name in ("__setattr__", "__delattr__")
             if name in klass.members}
    if not hooks:
        return members
    return {name: dataclasses.replace(
                member,
                setter=None if "__setattr__" in hooks and member.setter is False
                else member.setter,
                deleter=None if "__delattr__" in hooks and member.deleter is False
                else member.deleter,
                digest="")
            if member.kind is ExportKind.PROPERTY and False in (member.setter, member.deleter)
            else member
            for name, member in members.items()}
