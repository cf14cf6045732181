"""Signatures of callables: parameters and return type, canonical text and digest.

See docs/design.md §3.1.

Grammar (Python's own, parsed with :mod:`ast` as ``def _<text>: ...``)::

    signature  := "(" [params] ")" ["->" type]
    params     := what Python accepts between a def's parentheses; defaults are any
                  expression (``...`` when the value is not recorded)

>>> sig = Signature.parse("(a: int, /, b: str = 'x', *args: int, d: bool, c: float, **kw: str)")
>>> str(sig)
'(a: int, /, b: str = ..., *args: int, c: float, d: bool, **kw: str)'
>>> sig.defaults
{'b': "'x'"}
"""

from __future__ import annotations

import ast
import enum
import functools
import hashlib
import inspect
import json
import math
import re
import sys
import types
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final, final

from siglink._text import bad_char
from siglink.errors import BadInputError, SignatureSyntaxError

if TYPE_CHECKING:
    from siglink.contracts.types import TypeContext, TypeRef

__all__ = ["Param", "ParamKind", "Signature"]


class ParamKind(Enum):
    """How an argument can reach a parameter (values read like ``inspect``'s descriptions)."""

    POSITIONAL_ONLY = "positional-only"
    POSITIONAL_OR_KEYWORD = "positional-or-keyword"
    VAR_POSITIONAL = "var-positional"
    KEYWORD_ONLY = "keyword-only"
    VAR_KEYWORD = "var-keyword"

    def __repr__(self) -> str:
        return f"ParamKind.{self.name}"

    @property
    def positional(self) -> bool:
        """Reachable by a positional argument (not ``*args``)."""
        return self is ParamKind.POSITIONAL_ONLY or self is ParamKind.POSITIONAL_OR_KEYWORD

    @property
    def keyword(self) -> bool:
        """Reachable by a keyword argument (not ``**kwargs``)."""
        return self is ParamKind.POSITIONAL_OR_KEYWORD or self is ParamKind.KEYWORD_ONLY

    @property
    def variadic(self) -> bool:
        return self is ParamKind.VAR_POSITIONAL or self is ParamKind.VAR_KEYWORD


_ORDER: Final = {kind: i for i, kind in enumerate(ParamKind)}
_UNKNOWN_DEFAULT: Final = "..."


@final
@dataclass(frozen=True, slots=True)
class Param:
    """One parameter. ``annotation`` is None when the source has none; ``default`` is the
    default value's source text (``None`` when the parameter has no default, ``"..."`` when it
    has one whose value was not recorded).

    >>> Param("b", ParamKind.KEYWORD_ONLY, default="1")
    Param('b', ParamKind.KEYWORD_ONLY, default='1')
    """

    name: str
    kind: ParamKind
    annotation: TypeRef | None = None
    default: str | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.name, str) and self.name.isidentifier()):
            raise BadInputError(f"invalid parameter name {self.name!r}")
        if not isinstance(self.kind, ParamKind):
            raise BadInputError(f"parameter {self.name}: kind must be a ParamKind")
        if self.default is not None and (self.kind.variadic or not isinstance(self.default, str)):
            raise BadInputError(
                f"parameter {self.name}: {self.kind.value} parameters have no default"
                if self.kind.variadic
                else f"parameter {self.name}: default must be source text"
            )

    @property
    def has_default(self) -> bool:
        return self.default is not None

    @property
    def required(self) -> bool:
        """Every call must supply it."""
        return self.default is None and not self.kind.variadic

    def __str__(self) -> str:
        star = "*" if self.kind is ParamKind.VAR_POSITIONAL else (
            "**" if self.kind is ParamKind.VAR_KEYWORD else ""
        )
        text = star + self.name
        if self.annotation is not None:
            text += f": {self.annotation}"
            if self.default is not None:
                text += " = ..."
        elif self.default is not None:
            text += "=..."
        return text

    def __repr__(self) -> str:
        args = [repr(self.name), repr(self.kind)]
        if self.annotation is not None:
            args.append(f"annotation={self.annotation!r}")
        if self.default is not None:
            args.append(f"default={self.default!r}")
        return f"Param({', '.join(args)})"


class _Index:
    """Lookups the checker needs, computed once per signature (signatures are immutable)."""

    __slots__ = (
        "by_name",
        "keyword_names",
        "kwonly",
        "loose",
        "names",
        "pos",
        "pos_index",
        "returns",
        "texts",
        "var_kw",
        "var_pos",
    )

    def __init__(self, params: tuple[Param, ...], returns: TypeRef | None) -> None:
        from siglink.contracts.types import unverified_parts

        # Annotation texts compare faster than types; "loose" ones contain Any, unknown, ...
        self.texts = {p.name: None if p.annotation is None else str(p.annotation) for p in params}
        self.loose = {p.name for p in params
                      if p.annotation is not None and unverified_parts(p.annotation)}
        self.returns = None if returns is None else str(returns)
        self.pos = tuple(p for p in params if p.kind.positional)
        self.pos_index = {p.name: i for i, p in enumerate(self.pos)}
        self.kwonly = tuple(p for p in params if p.kind is ParamKind.KEYWORD_ONLY)
        self.by_name = {p.name: p for p in params if not p.kind.variadic}
        self.names = frozenset(self.by_name)
        self.keyword_names = frozenset(p.name for p in params if p.kind.keyword)
        self.var_pos: Param | None = None
        self.var_kw: Param | None = None
        for p in params:
            if p.kind is ParamKind.VAR_POSITIONAL:
                self.var_pos = p
            elif p.kind is ParamKind.VAR_KEYWORD:
                self.var_kw = p


@final
class Signature:
    """Parameters in order (keyword-only ones sorted by name) and the return type.

    Immutable and hashable; equal signatures have equal canonical text and default values.

    >>> Signature.parse("(x, *, b=2, a=1)")
    Signature.parse('(x, *, a=..., b=...)').with_defaults({'a': '1', 'b': '2'})
    """

    __slots__ = ("_digest", "_hash", "_index", "_text", "params", "returns")

    params: tuple[Param, ...]
    returns: TypeRef | None
    _hash: int | None
    _text: str | None
    _digest: str | None
    _index: _Index | None

    def __init__(self, params: Iterable[Param] = (), returns: TypeRef | None = None) -> None:
        items = tuple(params)
        _validate(items)
        if sum(p.kind is ParamKind.KEYWORD_ONLY for p in items) > 1:
            items = _sort_kwonly(items)
        object.__setattr__(self, "params", items)
        object.__setattr__(self, "returns", returns)
        object.__setattr__(self, "_hash", None)
        object.__setattr__(self, "_text", None)
        object.__setattr__(self, "_digest", None)
        object.__setattr__(self, "_index", None)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Signature is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Signature is immutable: cannot delete {name!r}")

    def __reduce__(self) -> tuple[object, ...]:
        return (Signature, (self.params, self.returns))

    # -- identity ---------------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, Signature):
            return NotImplemented
        return self.params == other.params and self.returns == other.returns

    def __hash__(self) -> int:
        value: int | None = self._hash
        if value is None:
            # Signatures are memo keys of the checker; hashing every param each time is slow.
            value = hash((self.params, self.returns))
            object.__setattr__(self, "_hash", value)
        return value

    def __str__(self) -> str:
        text: str | None = self._text
        if text is None:
            text = _format(self.params, self.returns)
            object.__setattr__(self, "_text", text)
        return text

    def __repr__(self) -> str:
        text = f"Signature.parse({str(self)!r})"
        recorded = {k: v for k, v in self.defaults.items() if v != _UNKNOWN_DEFAULT}
        if recorded:
            text += f".with_defaults({recorded!r})"
        return text

    @property
    def defaults(self) -> dict[str, str]:
        """Each defaulted parameter's default value text, in parameter order."""
        return {p.name: p.default for p in self.params if p.default is not None}

    @property
    def digest(self) -> str:
        """A stable hash of the canonical text and the default values: equal means identical."""
        value: str | None = self._digest
        if value is None:
            data = json.dumps([str(self), list(self.defaults.items())], ensure_ascii=False)
            value = hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()[:32]
            object.__setattr__(self, "_digest", value)
        return value

    @property
    def index(self) -> _Index:
        """Lookups by position and name (computed on first use)."""
        value: _Index | None = self._index
        if value is None:
            value = _Index(self.params, self.returns)
            object.__setattr__(self, "_index", value)
        return value

    # -- building ----------------------------------------------------------------------------

    def with_defaults(self, defaults: Mapping[str, str]) -> Signature:
        """The same signature with default value texts restored (e.g. from a manifest).

        >>> Signature.parse("(a, b=...)").with_defaults({"b": "'x'"}).defaults
        {'b': "'x'"}
        """
        if not defaults:
            return self
        by_name = {p.name: p for p in self.params}
        for name, value in defaults.items():
            param = by_name.get(name)
            if param is None or param.default is None:
                raise BadInputError(
                    f"signature {self}: no parameter {name!r} with a default to set"
                )
            if not isinstance(value, str):
                raise BadInputError(f"signature {self}: default of {name!r} must be text")
        params = [
            Param(p.name, p.kind, p.annotation, defaults[p.name]) if p.name in defaults else p
            for p in self.params
        ]
        return Signature(params, self.returns)

    @classmethod
    def parse(cls, text: str, context: TypeContext | None = None) -> Signature:
        """Parse signature text as written after a function's name.

        :raises SignatureSyntaxError: with a caret under the offending span.

        >>> try:
        ...     Signature.parse("(a, b c)")
        ... except SignatureSyntaxError as e:
        ...     print(e)
        invalid signature: invalid syntax
            (a, b c)
                  ^
        """
        if context is None:
            return _parse_cached(text)
        return _parse(text, context)

    @classmethod
    def from_callable(cls, obj: Callable[..., Any], *, drop_first: bool | None = None) -> Signature:
        """The signature of a live object.

        Functions are read from ``__code__`` (several times faster than ``inspect.signature``);
        builtins, classes, wrapped and partial objects go through :mod:`inspect`. A class gives
        its constructor's parameters and no return type; string annotations resolve in the
        defining module's namespace.
        ``drop_first`` removes ``self``/``cls``; by default it does so for bound methods.

        :raises BadInputError: when the object has no introspectable signature.
        """
        target: Any = obj
        if isinstance(target, (staticmethod, classmethod)):
            if drop_first is None:
                drop_first = isinstance(target, classmethod)
            target = target.__func__
        elif isinstance(target, types.MethodType):
            if drop_first is None:
                drop_first = True
            target = target.__func__
        if (
            type(target) is types.FunctionType
            and "__wrapped__" not in target.__dict__
            and "__signature__" not in target.__dict__
        ):
            return _from_function(target, bool(drop_first))
        return _from_inspect(target, bool(drop_first))


# -- validation and formatting ----------------------------------------------------------------


def _validate(params: tuple[Param, ...]) -> None:
    seen: set[str] = set()
    last = -1
    defaulted: str | None = None
    for p in params:
        if not isinstance(p, Param):
            raise BadInputError(f"signature parameters must be Param objects, not {p!r}")
        order = _ORDER[p.kind]
        if order < last or (order == last and p.kind.variadic):
            raise BadInputError(f"parameter {p.name}: {p.kind.value} parameter out of order")
        last = order
        if p.name in seen:
            raise BadInputError(f"duplicate parameter {p.name!r}")
        seen.add(p.name)
        if p.kind.positional:
            if p.default is not None:
                defaulted = p.name
            elif defaulted is not None:
                raise BadInputError(
                    f"parameter {p.name} without a default follows {defaulted}, which has one"
                )


def _sort_kwonly(params: tuple[Param, ...]) -> tuple[Param, ...]:
    kwonly = sorted((p for p in params if p.kind is ParamKind.KEYWORD_ONLY), key=lambda p: p.name)
    head = [p for p in params if _ORDER[p.kind] < _ORDER[ParamKind.KEYWORD_ONLY]]
    tail = [p for p in params if p.kind is ParamKind.VAR_KEYWORD]
    return (*head, *kwonly, *tail)


def _format(params: tuple[Param, ...], returns: TypeRef | None) -> str:
    parts: list[str] = []
    star_seen = False
    for i, p in enumerate(params):
        if p.kind is ParamKind.VAR_POSITIONAL:
            star_seen = True
        elif p.kind is ParamKind.KEYWORD_ONLY and not star_seen:
            parts.append("*")
            star_seen = True
        parts.append(str(p))
        if p.kind is ParamKind.POSITIONAL_ONLY and (
            i + 1 == len(params) or params[i + 1].kind is not ParamKind.POSITIONAL_ONLY
        ):
            parts.append("/")
    text = f"({', '.join(parts)})"
    if returns is not None:
        text += f" -> {returns}"
    return text


# -- parsing text ------------------------------------------------------------------------------

_PREFIX: Final = "def _"


def _parse(text: str, context: TypeContext | None) -> Signature:
    from siglink.contracts.types import parse_type

    if not isinstance(text, str):
        raise BadInputError(f"signature text must be a string, not {type(text).__name__}")
    bad = bad_char(text)
    if bad is not None:  # ast cannot even encode it; the message shows U+FFFD in its place
        raise SignatureSyntaxError(re.sub("[\ud800-\udfff]", "\ufffd", text), bad,
                                   f"U+{ord(text[bad]):04X} is not a character")
    start = len(text) - len(text.lstrip())
    if not text[start:].startswith("("):
        raise SignatureSyntaxError(text, start, "a signature starts with '('")
    source = f"{_PREFIX}{text}: ..."
    try:
        module = ast.parse(source)
    except SyntaxError as e:
        where, message = _position(source, e.lineno, e.offset), e.msg
        if message == "invalid syntax" and text.count("(") > text.count(")"):
            where, message = len(text.rstrip()), "'(' was never closed"
        elif message == "expected ':'":  # the wrapper's colon: what follows ')' is wrong
            if text.rstrip().endswith("->"):
                where, message = len(text.rstrip()), "missing return type after '->'"
            else:
                message = "unexpected text after the signature"
        raise SignatureSyntaxError(text, min(where, len(text)), message) from None
    fn = module.body[0] if len(module.body) == 1 else None
    if (
        not isinstance(fn, ast.FunctionDef)
        or len(fn.body) != 1
        or fn.body[0].end_lineno != source.count("\n") + 1
        or fn.body[0].end_col_offset != len(source.rpartition("\n")[2].encode())
    ):
        raise SignatureSyntaxError(text, len(text), "unexpected text after the signature")

    def annotation(node: ast.expr | None) -> TypeRef | None:
        if node is None:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return parse_type(node.value, context)
        return parse_type(ast.get_source_segment(source, node) or "", context)

    def default(node: ast.expr | None) -> str | None:
        if node is None:
            return None
        if isinstance(node, ast.Constant) and node.value is Ellipsis:
            return _UNKNOWN_DEFAULT
        return ast.unparse(node)

    args = fn.args
    positional = [*args.posonlyargs, *args.args]
    pos_defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    pos_defaults.extend(args.defaults)
    nodes: list[tuple[ast.arg, ParamKind, ast.expr | None]] = []
    for i, arg in enumerate(positional):
        kind = ParamKind.POSITIONAL_ONLY if i < len(args.posonlyargs) else (
            ParamKind.POSITIONAL_OR_KEYWORD
        )
        nodes.append((arg, kind, pos_defaults[i]))
    if args.vararg is not None:
        nodes.append((args.vararg, ParamKind.VAR_POSITIONAL, None))
    kw_defaults = zip(args.kwonlyargs, args.kw_defaults, strict=True)
    nodes.extend((arg, ParamKind.KEYWORD_ONLY, d) for arg, d in kw_defaults)
    if args.kwarg is not None:
        nodes.append((args.kwarg, ParamKind.VAR_KEYWORD, None))

    seen: set[str] = set()
    params: list[Param] = []
    for arg, kind, node in nodes:
        if arg.arg in seen:
            line = source.split("\n")[arg.lineno - 1]
            column = len(line.encode()[: arg.col_offset].decode(errors="ignore"))  # bytes -> chars
            position = _position(source, arg.lineno, column + 1)
            raise SignatureSyntaxError(text, position, f"duplicate parameter {arg.arg!r}")
        seen.add(arg.arg)
        params.append(Param(arg.arg, kind, annotation(arg.annotation), default(node)))
    return Signature(params, annotation(fn.returns))


@lru_cache(maxsize=4096)
def _parse_cached(text: str) -> Signature:
    return _parse(text, None)


def _position(source: str, lineno: int | None, offset: int | None) -> int:
    """Map a 1-based (line, column) in the generated ``def`` back to an index into the text."""
    lines = source.split("\n")
    line = max(1, min(lineno or 1, len(lines)))
    index = sum(len(s) + 1 for s in lines[: line - 1]) + max(0, (offset or 1) - 1)
    return max(0, min(index - len(_PREFIX), len(source) - len(_PREFIX) - len(": ...")))


# -- live objects ------------------------------------------------------------------------------

_CO_VARARGS: Final = inspect.CO_VARARGS
_CO_VARKEYWORDS: Final = inspect.CO_VARKEYWORDS
_LITERAL_TYPES: Final = (int, float, complex, bool, str, bytes, type(None))
_IDENT: Final = re.compile(r"[A-Za-z_][\w.]*")


def _from_function(fn: types.FunctionType, drop_first: bool) -> Signature:
    code = fn.__code__
    names = code.co_varnames
    npos = code.co_argcount
    nposonly = code.co_posonlyargcount
    nkw = code.co_kwonlyargcount
    defaults = fn.__defaults__ or ()
    kwdefaults = fn.__kwdefaults__ or {}
    raw: dict[str, Any] = fn.__annotations__
    convert = _Annotations(raw, fn)
    first_default = npos - len(defaults)
    params: list[Param] = []
    for i in range(npos):
        name = names[i]
        kind = ParamKind.POSITIONAL_ONLY if i < nposonly else ParamKind.POSITIONAL_OR_KEYWORD
        value = _default_text(defaults[i - first_default]) if i >= first_default else None
        params.append(Param(name, kind, convert(name), value))
    index = npos + nkw
    if code.co_flags & _CO_VARARGS:
        params.append(Param(names[index], ParamKind.VAR_POSITIONAL, convert(names[index])))
        index += 1
    for name in names[npos : npos + nkw]:
        value = _default_text(kwdefaults[name]) if name in kwdefaults else None
        params.append(Param(name, ParamKind.KEYWORD_ONLY, convert(name), value))
    if code.co_flags & _CO_VARKEYWORDS:
        params.append(Param(names[index], ParamKind.VAR_KEYWORD, convert(names[index])))
    if drop_first:
        params = _drop_first(params, fn)
    return Signature(params, convert("return"))


def _from_inspect(obj: Any, drop_first: bool) -> Signature:
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError) as e:
        name = getattr(obj, "__qualname__", None) or repr(obj)
        raise BadInputError(f"{name}: no signature can be read ({e})") from e
    origin = obj
    while isinstance(origin, functools.partial):
        origin = origin.func
    if not isinstance(origin, type):
        origin = inspect.unwrap(origin)
    convert = _Annotations(
        {p.name: p.annotation for p in sig.parameters.values() if p.annotation is not p.empty},
        origin,
    )
    if sig.return_annotation is not sig.empty and not isinstance(obj, type):
        # A class called returns its instance, whatever ``__init__`` is annotated to return:
        # its signature is its constructor's, without a return type (as in manifests).
        convert.raw["return"] = sig.return_annotation
    params = [
        Param(
            p.name,
            ParamKind[p.kind.name],
            convert(p.name),
            None if p.default is p.empty else _default_text(p.default),
        )
        for p in sig.parameters.values()
    ]
    if drop_first:
        params = _drop_first(params, obj)
    return Signature(params, convert("return"))


def _drop_first(params: list[Param], obj: object) -> list[Param]:
    if not params or not params[0].kind.positional:
        name = getattr(obj, "__qualname__", None) or repr(obj)
        raise BadInputError(f"{name}: a method needs a first positional parameter (self/cls)")
    return params[1:]


@lru_cache(maxsize=1024)
def _module_context(module: str) -> TypeContext:
    from siglink.contracts.types import TypeContext

    return TypeContext(module=module)


class _Annotations:
    """Turns annotation objects or strings into types, resolving names in the defining module."""

    __slots__ = ("context", "obj", "raw")

    def __init__(self, raw: dict[str, Any], obj: object) -> None:
        self.raw = raw
        self.obj = obj
        self.context: TypeContext | None = None

    def __call__(self, name: str) -> TypeRef | None:
        if name not in self.raw:
            return None
        from siglink.contracts.types import parse_type

        value = self.raw[name]
        if isinstance(value, str):
            context = self.context
            if context is None:
                # One context for all of the function's string annotations.
                words = " ".join(v for v in self.raw.values() if isinstance(v, str))
                context = self.context = self._context(words)
            return parse_type(value, context)
        module = getattr(self.obj, "__module__", None) or ""
        return parse_type(_annotation_text(value), _module_context(module))

    def _context(self, text: str) -> TypeContext:
        from siglink.contracts.types import TypeContext

        module = getattr(self.obj, "__module__", None) or ""
        namespace: Mapping[str, Any] | None = getattr(self.obj, "__globals__", None)
        if namespace is None:  # a class or a builtin: its module's globals
            owner = sys.modules.get(module)
            namespace = vars(owner) if owner is not None else {}
        names: dict[str, str] = {}
        aliases: dict[str, str] = {}
        for word in _IDENT.findall(text):
            head = word.partition(".")[0]
            if head in names or head not in namespace:
                continue
            value = namespace[head]
            if isinstance(value, types.ModuleType):
                names[head] = value.__name__
            elif hasattr(value, "__args__") or isinstance(value, types.UnionType):
                # ``Key = Union[str, bytes]``: a type alias, expanded by the type parser.
                names[head] = f"{module}.{head}"
                aliases[f"{module}.{head}"] = _annotation_text(value)
            elif isinstance(value, type):
                names[head] = _class_name(value)
            elif getattr(value, "__module__", None) in ("typing", "typing_extensions"):
                names[head] = f"{value.__module__}.{getattr(value, '_name', None) or head}"
        if not names and not aliases:
            return _module_context(module)
        return TypeContext(module=module, names=names, aliases=aliases)


def _class_name(cls: type) -> str:
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def _annotation_text(value: object) -> str:
    if value is None or value is type(None):
        return "None"
    if isinstance(value, type) and not isinstance(value, types.GenericAlias | types.UnionType):
        return _class_name(value)
    return repr(value)


def _default_text(value: object) -> str:
    """A default value as stable source text; ``...`` when it has no stable text."""
    if _is_literal(value):
        return repr(value)
    if isinstance(value, enum.Enum):
        return f"{_class_name(type(value))}.{value.name}"
    if isinstance(value, (type, types.FunctionType, types.BuiltinFunctionType)):
        return f"{value.__module__}.{value.__qualname__}"
    return _UNKNOWN_DEFAULT


def _is_literal(value: object, depth: int = 0) -> bool:
    if type(value) in _LITERAL_TYPES:
        return not (isinstance(value, float) and math.isnan(value))  # nan has no literal
    if depth > 3 or type(value) not in (tuple, list, frozenset, set, dict):
        return False
    if isinstance(value, dict):
        return all(_is_literal(k, depth + 1) and _is_literal(v, depth + 1)
                   for k, v in value.items())
    if isinstance(value, frozenset) or (isinstance(value, set) and not value):
        return False  # frozenset({...}) and set() are calls, not literals
    return all(_is_literal(v, depth + 1) for v in value)  # type: ignore[attr-defined]


def __dir__() -> list[str]:
    return list(__all__)
