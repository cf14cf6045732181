"""The manifest (``siglink.json``): a unit's exports and imports (docs/design.md §4).

A manifest is a value: build it, serialize it with :meth:`Manifest.to_json`, read it back with
:meth:`Manifest.from_json`. Reading validates everything and names the file on failure. This
module does no I/O; callers read and write the text.

>>> manifest = Manifest(Unit("demo", "1.0"), requires=("attrs>=23",))
>>> again = Manifest.loads(manifest.dumps())
>>> again.unit, again.requires
(Unit(name='demo', version='1.0', kind='library', language='python'), ('attrs>=23',))
>>> again.digest == manifest.digest
True
>>> Manifest.loads('{"format": 1, "unit": {"name": "demo", "version": "1", "kind": "tool"}}',
...                source="demo/siglink.json")
Traceback (most recent call last):
siglink.errors.ManifestError: demo/siglink.json: corrupt manifest: $.unit.kind: 'tool' is not ...
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Final

from siglink._json import kind as json_kind
from siglink._text import bad_char, is_os_text, problem
from siglink.contracts.signature import Signature
from siglink.contracts.types import TypeRef
from siglink.errors import BadInputError, ManifestError, SignatureSyntaxError

__all__ = [
    "FORMAT",
    "RELIES_ON",
    "Arguments",
    "CallShape",
    "Diagnostic",
    "Export",
    "ExportKind",
    "Implementation",
    "Import",
    "Manifest",
    "Unit",
    "protocols_of",
]


def __dir__() -> list[str]:
    return list(__all__)

FORMAT: Final = 1
"""The manifest format this siglink writes; readers refuse a newer one."""


class ExportKind(Enum):
    """What an export is; a change of kind breaks (R6)."""

    FUNCTION = "function"
    ASYNC_FUNCTION = "async-function"
    CLASS = "class"
    METHOD = "method"
    ASYNC_METHOD = "async-method"
    CLASSMETHOD = "classmethod"
    STATICMETHOD = "staticmethod"
    PROPERTY = "property"
    ATTRIBUTE = "attribute"
    EXTENSION_POINT = "extension-point"

    @property
    def callable(self) -> bool:
        return self not in (ExportKind.PROPERTY, ExportKind.ATTRIBUTE)


def _digest(data: object) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # surrogatepass: an application's file name that is not UTF-8 still has a digest
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class _Invalid(Exception):
    """A value of the wrong shape at JSON path ``at`` (made a :class:`ManifestError` with the
    file's name by the reader that knows it)."""

    def __init__(self, at: str, what: str) -> None:
        super().__init__(f"{at}: {what}")
        self.at = at
        self.what = what


_MAX_TEXT: Final = 1 << 20
"""The longest string a manifest may hold (a signature or type text: ``_MAX_SIGNATURE``)."""
_MAX_SIGNATURE: Final = 1 << 16
_MAX_DEPTH: Final = 32
"""Classes nested in classes deeper than this are refused (no recursion to exhaust)."""


_SURROGATE_ESCAPE: Final = re.compile(r"\\u(?:[dD][89a-fA-F]|0000)")
_SURROGATE_ESCAPE_BYTES: Final = re.compile(rb"\\u(?:[dD][89a-fA-F]|0000)")
"""JSON escapes of a lone surrogate or of NUL (JSON allows neither character unescaped)."""
_OS_TEXT: Final = frozenset({"location", "entry", "file", "message", "header", "soname"})
"""Fields that name files (and messages that quote them): an application's file name may hold
bytes that are not UTF-8, which JSON carries as ``\\udc80``-``\\udcff``."""


def _invalid_text(data: Any) -> _Invalid | None:
    """The first key or string of parsed JSON ``data`` that is not valid Unicode (a lone
    surrogate) or holds NUL (which no name or path does: the OS refuses it in a path),
    outside the fields that name files (:data:`_OS_TEXT`, ``$.files``' keys, ``$.unit.name``)
    where a surrogate for a byte that is not UTF-8 is allowed."""
    todo: list[tuple[str, str, Any]] = [("$", "", data)]
    while todo:
        at, name, value = todo.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key or (bad_char(key) is not None
                                     and not (at == "$.files" and is_os_text(key))):
                    return _Invalid(at, f"key {json.dumps(key[:80])} is not valid text")
                todo.append((_key(at, key), key, item))
        elif isinstance(value, list):
            todo.extend((f"{at}[{i}]", name, item) for i, item in enumerate(value))
        elif isinstance(value, str) and "\x00" in value:
            return _Invalid(at, f"not valid text (NUL at position {value.index(chr(0)) + 1})")
        elif isinstance(value, str) and bad_char(value) is not None:
            if (name in _OS_TEXT or at == "$.unit.name") and is_os_text(value):
                continue
            return _Invalid(at, problem(value) or "")
    return None


def _key(at: str, key: str) -> str:
    """``$.exports`` + ``textkit.wrap`` → ``$.exports["textkit.wrap"]`` (``.name`` when plain)."""
    if key.isidentifier():
        return f"{at}.{key}"
    return f"{at}[{json.dumps(key[:80], ensure_ascii=bad_char(key) is not None)}]"


def _obj(value: Any, at: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _Invalid(at, f"expected an object, found {json_kind(value)}")
    return value


def _list(value: Any, at: str) -> list[Any]:
    if not isinstance(value, list):
        raise _Invalid(at, f"expected an array, found {json_kind(value)}")
    return value


def _str(value: Any, at: str, limit: int = _MAX_TEXT) -> str:
    if not isinstance(value, str):
        raise _Invalid(at, f"expected a string, found {json_kind(value)}")
    if len(value) > limit:
        raise _Invalid(at, f"a string of {len(value)} characters (at most {limit})")
    return value


def _opt_str(data: Mapping[str, Any], key: str, at: str) -> str | None:
    value = data.get(key)
    return None if value is None else _str(value, _key(at, key))


def _bool(data: Mapping[str, Any], key: str, at: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise _Invalid(_key(at, key), f"expected true or false, found {json_kind(value)}")
    return value


def _opt_bool(data: Mapping[str, Any], key: str, at: str) -> bool | None:
    """A boolean that may be absent or null: not known."""
    return None if data.get(key) is None else _bool(data, key, at)


def _int(value: Any, at: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 1 << 31:
        raise _Invalid(at, f"expected a non-negative integer, found {json_kind(value)}")
    return value


def _strings(data: Mapping[str, Any], key: str, at: str) -> tuple[str, ...]:
    where = _key(at, key)
    return tuple(_str(v, f"{where}[{i}]") for i, v in enumerate(_list(data.get(key, []), where)))


def protocols_of(data: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """A manifest's ``protocols`` table (path -> member -> type text), checked.

    :raises ManifestError: naming the JSON path of the first value of the wrong shape.
    """
    try:
        return _protocols(data)
    except _Invalid as e:
        raise ManifestError(f"corrupt protocols: {e}") from None


def _protocols(data: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    where = "$.protocols"
    return {_str(path, where): {_str(name, _key(where, path)): _str(text, _key(_key(where, path),
                                                                              name))
                                for name, text in _obj(members, _key(where, path)).items()}
            for path, members in _obj(data.get("protocols", {}), where).items()}


def _required(data: Mapping[str, Any], key: str, at: str) -> Any:
    if key not in data:
        raise _Invalid(at, f"missing key {key!r}")
    return data[key]


def _signature_json(sig: Signature) -> dict[str, Any]:
    data: dict[str, Any] = {"text": str(sig)}
    defaults = {p.name: p.default for p in sig.params if p.default is not None}
    if defaults:
        data["defaults"] = defaults
    return data


def _signature_from_json(data: Any, at: str = "$") -> Signature:
    if isinstance(data, str):
        text, defaults, where = data, {}, at
    else:
        if not isinstance(data, dict):
            raise _Invalid(at, f"expected a string or an object, found {json_kind(data)}")
        body = data
        where = _key(at, "text")
        text = _str(_required(body, "text", at), where, _MAX_SIGNATURE)
        defaults = {name: _str(value, _key(_key(at, "defaults"), name))
                    for name, value in _obj(body.get("defaults", {}), _key(at, "defaults")).items()}
    _str(text, where, _MAX_SIGNATURE)
    try:
        return Signature.parse(text).with_defaults(defaults)
    except SignatureSyntaxError as e:  # one line, not the caret diagram
        raise _Invalid(where, f"invalid signature {e.text[:200]!r}: {e.reason} at column "
                              f"{e.position + 1}") from None
    except BadInputError as e:
        raise _Invalid(at, e.message) from None


@dataclass(frozen=True, slots=True, eq=False)
class Export:
    """A public name of a library, with everything its compatibility depends on.

    ``signature`` is set for callables (a class: its constructor, without ``self``);
    ``type`` for attributes and properties; ``members`` for classes (keyed by member name,
    in definition order, which is significant for NamedTuples); ``flavor`` marks records
    (``dataclass``, ``attrs``, ``namedtuple``, ``typeddict``), ``enum`` and ``protocol``;
    ``value`` is an enum member's or constant's value text; ``reference`` names the
    ``distribution:module.qualname`` of an object re-exported from another distribution.
    ``location`` (``file:line``) is for messages only and is not part of the digest.
    ``deprecated`` marks a name a module's ``__getattr__`` serves with a warning;
    ``kwargs_read`` lists the keys a callable's body visibly reads from its ``**kwargs``
    (``kwargs.get("x")``; ``"**"`` when it passes them on), ``None`` when not read.
    ``setter`` and ``deleter`` say whether a property takes assignment (``obj.x = v``) and
    deletion (``del obj.x``); ``None`` when not known (an older manifest, a compiled
    descriptor that does not tell).
    """

    path: str
    kind: ExportKind
    module: str = ""
    signature: Signature | None = None
    overloads: tuple[Signature, ...] = ()
    type: TypeRef | None = None
    members: Mapping[str, Export] = field(default_factory=dict)
    bases: tuple[str, ...] = ()
    flavor: str | None = None
    value: str | None = None
    optional: bool = False
    reference: str | None = None
    compiled: bool = False
    location: str | None = None
    deprecated: bool = False
    kwargs_read: tuple[str, ...] | None = None
    setter: bool | None = None
    deleter: bool | None = None
    digest: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.digest:
            object.__setattr__(self, "digest", _digest(self._canonical()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Export) and other.digest == self.digest

    def __hash__(self) -> int:
        return hash(self.digest)

    @property
    def name(self) -> str:
        return self.path.rpartition(".")[2]

    def _canonical(self) -> dict[str, Any]:
        data = self._body()
        data.pop("location", None)
        data.pop("compiled", None)
        data["members"] = {k: v.digest for k, v in self.members.items()}
        return data

    def _body(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind.value}
        if self.module:
            data["module"] = self.module
        if self.signature is not None:
            data["signature"] = _signature_json(self.signature)
        if self.overloads:
            data["overloads"] = [_signature_json(s) for s in self.overloads]
        if self.type is not None:
            data["type"] = str(self.type)
        if self.bases:
            data["bases"] = list(self.bases)
        for key in ("flavor", "value", "reference", "location"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        if self.optional:
            data["optional"] = True
        if self.compiled:
            data["compiled"] = True
        if self.deprecated:
            data["deprecated"] = True
        if self.kwargs_read is not None:
            data["kwargs_read"] = list(self.kwargs_read)
        for key in ("setter", "deleter"):  # absent: not known (older manifests)
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data

    def to_json(self) -> dict[str, Any]:
        data = self._body()
        if self.members:
            data["members"] = {k: v.to_json() for k, v in self.members.items()}
        data["digest"] = self.digest
        return data

    @classmethod
    def from_json(cls, path: str, data: Mapping[str, Any]) -> Export:
        """Read an export back.

        :raises ManifestError: naming the JSON path of the first value of the wrong shape.
        """
        try:
            return cls._read(path, data, "$", 0)
        except _Invalid as e:
            raise ManifestError(f"corrupt export {path}: {e}") from None

    @classmethod
    def _read(cls, path: str, data: Any, at: str, depth: int) -> Export:
        from siglink.contracts.types import parse_type

        if depth > _MAX_DEPTH:
            raise _Invalid(at, f"classes nested deeper than {_MAX_DEPTH} levels")
        data = _obj(data, at)
        kind_text = _str(_required(data, "kind", at), _key(at, "kind"), 40)
        try:
            kind = ExportKind(kind_text)
        except ValueError:
            raise _Invalid(_key(at, "kind"), f"{kind_text!r} is not one of "
                           f"{', '.join(k.value for k in ExportKind)}") from None
        where = _key(at, "members")
        members = {
            name: cls._read(f"{path}.{name}", member, _key(where, name), depth + 1)
            for name, member in _obj(data.get("members", {}), where).items()
        }
        signature = data.get("signature")
        where = _key(at, "overloads")
        overloads = tuple(_signature_from_json(s, f"{where}[{i}]")
                          for i, s in enumerate(_list(data.get("overloads", []), where)))
        type_text = _opt_str(data, "type", at)
        if type_text is not None and len(type_text) > _MAX_SIGNATURE:
            raise _Invalid(_key(at, "type"), f"a type of {len(type_text)} characters")
        return cls(
            path=path,
            kind=kind,
            module=_opt_str(data, "module", at) or "",
            signature=None if signature is None
            else _signature_from_json(signature, _key(at, "signature")),
            overloads=overloads,
            type=None if type_text is None else parse_type(type_text),
            members=members,
            bases=_strings(data, "bases", at),
            flavor=_opt_str(data, "flavor", at),
            value=_opt_str(data, "value", at),
            optional=_bool(data, "optional", at),
            reference=_opt_str(data, "reference", at),
            compiled=_bool(data, "compiled", at),
            location=_opt_str(data, "location", at),
            deprecated=_bool(data, "deprecated", at),
            kwargs_read=None if data.get("kwargs_read") is None
            else _strings(data, "kwargs_read", at),
            setter=_opt_bool(data, "setter", at),
            deleter=_opt_bool(data, "deleter", at),
        )


@dataclass(frozen=True, slots=True)
class CallShape:
    """How a call site passes arguments: ``f(a, b, key=c, *rest)`` is
    ``CallShape(2, ("key",), star_args=True)``."""

    positional: int = 0
    keywords: tuple[str, ...] = ()
    star_args: bool = False
    star_kwargs: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "positional": self.positional,
            "keywords": list(self.keywords),
            "star_args": self.star_args,
            "star_kwargs": self.star_kwargs,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], at: str = "$") -> CallShape:
        data = _obj(data, at)
        return cls(
            _int(data.get("positional", 0), _key(at, "positional")),
            _strings(data, "keywords", at),
            _bool(data, "star_args", at),
            _bool(data, "star_kwargs", at),
        )


@dataclass(frozen=True, slots=True)
class Arguments:
    """The evident types of one call's arguments: ``f(1, key=Version("1"))`` is
    ``Arguments(("int",), (("key", "packaging.version.Version"),))``; ``""`` for an argument
    whose type is not evident. ``member`` names the method called (``""``: the import
    itself; ``"__contains__"`` for ``x in obj``)."""

    positional: tuple[str, ...] = ()
    keywords: tuple[tuple[str, str], ...] = ()
    member: str = ""

    def types(self, names: tuple[str, ...]) -> dict[str, str]:
        """Parameter name -> argument type, the positional ones named by ``names`` in order."""
        bound = dict(zip(names, self.positional, strict=False))
        bound.update(self.keywords)
        return bound

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"positional": list(self.positional),
                                "keywords": dict(self.keywords)}
        if self.member:
            data["member"] = self.member
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any], at: str = "$") -> Arguments:
        data = _obj(data, at)
        where = _key(at, "keywords")
        keywords = _obj(data.get("keywords", {}), where)
        return cls(_strings(data, "positional", at),
                   tuple(sorted((k, _str(t, _key(where, k))) for k, t in keywords.items())),
                   _opt_str(data, "member", at) or "")


RELIES_ON: Final = "__bases__:"
"""In :attr:`Import.members`, ``__bases__:B``: the consumer relies on the class deriving from
its ancestor ``B`` (it names ``B`` for identity, or passes an instance where ``B`` is annotated);
a plain ``__bases__``: it reads the bases themselves, and relies on every one."""


@dataclass(frozen=True, slots=True)
class Import:
    """A name a consumer uses from a library: what it expected and how it calls it.

    ``expected`` is the export as the consumer was built against it (``None`` for a
    third-party consumer that recorded only call shapes). ``calls_complete`` is true when
    every use of the name was a direct call seen statically (docs/design.md §3.5).
    ``dynamic`` marks a use that static analysis could not resolve (``getattr``,
    ``__import__``, a private name).
    ``optional`` marks a use the consumer can do without (a guarded import, a type-checking or
    annotation-only use): recorded, never checked. ``members`` (a class) lists the members the
    consumer reaches, through the name, its instances and its operators: only those are
    checked (``None``: not recorded, every member is), ``name=`` for one it assigns and
    ``name-`` for one it deletes, and the ancestors it relies on
    (:data:`RELIES_ON`). ``arguments`` holds, per call, the
    static types of the arguments where evident (positional, then keyword name -> type;
    ``""`` for one not evident). ``written`` names those of ``members`` the consumer may
    reach by a name written on an object of unknown type (and otherwise only by the calls of
    ``called``): how they are called there is not known, so only what breaks every use of
    one (gone, no longer callable) refuses it. ``called`` names those of ``members`` the
    consumer only calls on evident instances, every call in ``arguments``: their calls are
    complete (usage mode, docs/design.md §3.5).
    """

    path: str
    expected: Export | None = None
    built_against: str | None = None
    calls: tuple[CallShape, ...] = ()
    calls_complete: bool = False
    attributes: tuple[str, ...] = ()
    dynamic: str | None = None
    location: str | None = None
    optional: bool = False
    members: tuple[str, ...] | None = None
    arguments: tuple[Arguments, ...] = ()
    written: tuple[str, ...] = ()
    called: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"path": self.path}
        if self.expected is not None:
            data["expected"] = self.expected.to_json()
        if self.built_against is not None:
            data["built_against"] = self.built_against
        data["calls"] = [c.to_json() for c in self.calls]
        data["calls_complete"] = self.calls_complete
        if self.attributes:
            data["attributes"] = list(self.attributes)
        if self.dynamic is not None:
            data["dynamic"] = self.dynamic
        if self.location is not None:
            data["location"] = self.location
        if self.optional:
            data["optional"] = True
        if self.members is not None:
            data["members"] = list(self.members)
        if self.arguments:
            data["arguments"] = [a.to_json() for a in self.arguments]
        if self.written:
            data["written"] = list(self.written)
        if self.called:
            data["called"] = list(self.called)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Import:
        """Read an import back.

        :raises ManifestError: naming the JSON path of the first value of the wrong shape.
        """
        try:
            return cls._read(data, "$")
        except _Invalid as e:
            raise ManifestError(f"corrupt import: {e}") from None

    @classmethod
    def _read(cls, data: Any, at: str) -> Import:
        data = _obj(data, at)
        path = _str(_required(data, "path", at), _key(at, "path"))
        expected = data.get("expected")
        where = _key(at, "calls")
        return cls(
            path=path,
            expected=None if expected is None
            else Export._read(path, expected, _key(at, "expected"), 0),
            built_against=_opt_str(data, "built_against", at),
            calls=tuple(CallShape.from_json(c, f"{where}[{i}]")
                        for i, c in enumerate(_list(data.get("calls", []), where))),
            calls_complete=_bool(data, "calls_complete", at),
            attributes=_strings(data, "attributes", at),
            dynamic=_opt_str(data, "dynamic", at),
            location=_opt_str(data, "location", at),
            optional=_bool(data, "optional", at),
            members=None if data.get("members") is None else _strings(data, "members", at),
            arguments=tuple(
                Arguments.from_json(a, f"{_key(at, 'arguments')}[{i}]")
                for i, a in enumerate(_list(data.get("arguments", []), _key(at, "arguments")))),
            written=_strings(data, "written", at),
            called=_strings(data, "called", at),
        )


@dataclass(frozen=True, slots=True)
class Implementation:
    """A plugin's implementation of a host's extension point, and the spec it was built against."""

    point: str
    obj: str
    spec: Export | None = None
    position: str | None = None  # "first" | "last": asks to be called before/after the others

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"object": self.obj}
        if self.spec is not None:
            data["spec"] = self.spec.to_json()
        if self.position is not None:
            data["position"] = self.position
        return data

    @classmethod
    def from_json(cls, point: str, data: Mapping[str, Any], at: str = "$") -> Implementation:
        data = _obj(data, at)
        spec = data.get("spec")
        return cls(point, _str(_required(data, "object", at), _key(at, "object")),
                   None if spec is None else Export._read(point, spec, _key(at, "spec"), 0),
                   _opt_str(data, "position", at))


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """Something extraction could not read, with where: ``pkg/mod.py:12: invalid syntax``."""

    message: str
    file: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = self.file or ""
        if self.file and self.line is not None:
            where += f":{self.line}"
        return f"{where}: {self.message}" if where else self.message

    def to_json(self) -> dict[str, Any]:
        return {"message": self.message, "file": self.file, "line": self.line}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], at: str = "$") -> Diagnostic:
        data = _obj(data, at)
        line = data.get("line")
        return cls(_str(_required(data, "message", at), _key(at, "message")),
                   _opt_str(data, "file", at),
                   None if line is None else _int(line, _key(at, "line")))


@dataclass(frozen=True, slots=True)
class Unit:
    """Who a manifest describes."""

    name: str
    version: str
    kind: str = "library"  # library | application | plugin
    language: str = "python"  # python | c

    def to_json(self) -> dict[str, str]:
        return {
            "name": self.name,
            "version": self.version,
            "kind": self.kind,
            "language": self.language,
        }


_UNIT_KINDS: Final = ("library", "application", "plugin")


@dataclass(frozen=True, slots=True, eq=False)
class Manifest:
    """A unit's manifest. ``imports`` maps a normalized distribution name to what is used
    from it. ``native`` carries a C library's declarations (owned by :mod:`siglink.native`)."""

    unit: Unit
    exports: Mapping[str, Export] = field(default_factory=dict)
    imports: Mapping[str, tuple[Import, ...]] = field(default_factory=dict)
    entry: str | None = None
    implements: Mapping[str, Implementation] = field(default_factory=dict)
    files: Mapping[str, str] = field(default_factory=dict)
    requires: tuple[str, ...] = ()
    requires_python: str | None = None
    top_level: tuple[str, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    native: Mapping[str, Any] | None = None
    # An application's uses of top-level modules no library in the store provided when it was
    # built (module -> uses, recorded as a third-party consumer's: chains and call shapes).
    unprovided: Mapping[str, tuple[Import, ...]] = field(default_factory=dict)
    # Where an application makes every DeprecationWarning an error (its pytest configuration,
    # ``[tool.siglink] warnings``): a use served with a deprecation warning then fails.
    warnings_error: str | None = None
    # The library's Protocol classes, exported or not (a private or typing-only name that
    # annotations use): path -> member -> type text (a method as a ``Callable``), so that
    # they relate structurally (docs/design.md §3.2).
    protocols: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"format": FORMAT, "unit": self.unit.to_json()}
        data["exports"] = {path: e.to_json() for path, e in sorted(self.exports.items())}
        data["imports"] = {
            lib: [i.to_json() for i in imports] for lib, imports in sorted(self.imports.items())
        }
        if self.entry is not None:
            data["entry"] = self.entry
        if self.implements:
            data["implements"] = {p: i.to_json() for p, i in sorted(self.implements.items())}
        data["files"] = dict(sorted(self.files.items()))
        if self.requires:
            data["requires"] = list(self.requires)
        if self.requires_python is not None:
            data["requires_python"] = self.requires_python
        if self.top_level:
            data["top_level"] = list(self.top_level)
        if self.diagnostics:
            data["diagnostics"] = [d.to_json() for d in self.diagnostics]
        if self.native is not None:
            data["native"] = self.native
        if self.unprovided:
            data["unprovided"] = {
                m: [i.to_json() for i in items] for m, items in sorted(self.unprovided.items())
            }
        if self.warnings_error is not None:
            data["warnings_error"] = self.warnings_error
        if self.protocols:
            data["protocols"] = {p: dict(sorted(m.items()))
                                 for p, m in sorted(self.protocols.items())}
        return data

    def dumps(self) -> str:
        """The manifest as JSON text, stable for equal manifests."""
        return json.dumps(self.to_json(), indent=1, sort_keys=False) + "\n"

    @property
    def digest(self) -> str:
        """A digest of the whole manifest, for caching plans."""
        return _digest(self.to_json())

    @classmethod
    def loads(cls, text: str | bytes, *, source: str = "siglink.json") -> Manifest:
        """Parse manifest JSON; every failure is a :class:`ManifestError` naming ``source``
        and, for a value of the wrong shape, its JSON path (``$.exports["m.f"].kind``)."""
        try:
            data = json.loads(text)
        except RecursionError:
            raise ManifestError(f"{source}: not a manifest: JSON nested too deeply",
                                path=source) from None
        except (ValueError, UnicodeDecodeError) as e:
            raise ManifestError(f"{source}: not valid JSON ({e})", path=source) from e
        if isinstance(text, str):
            suspect = bool(_SURROGATE_ESCAPE.search(text)) or bad_char(text) is not None
        else:  # json reads UTF-16 and UTF-32 too, where the escape's bytes differ
            suspect = (bool(_SURROGATE_ESCAPE_BYTES.search(text))
                       or json.detect_encoding(text) != "utf-8")
        if suspect:
            invalid = _invalid_text(data)  # only then: names and signatures must be text
            if invalid is not None:
                raise ManifestError(f"{source}: corrupt manifest: {invalid}", path=source)
        return cls.from_json(data, source=source)

    @classmethod
    def from_json(cls, data: Any, *, source: str = "siglink.json") -> Manifest:
        """Read a manifest from parsed JSON (see :meth:`loads`)."""
        if not isinstance(data, dict):
            raise ManifestError(f"{source}: a manifest is a JSON object", path=source)
        fmt = data.get("format")
        if not isinstance(fmt, int) or isinstance(fmt, bool):
            raise ManifestError(f"{source}: missing or invalid 'format'", path=source)
        if fmt > FORMAT:
            raise ManifestError(
                f"{source}: manifest format {fmt} is newer than this siglink reads "
                f"(format {FORMAT}); upgrade siglink",
                path=source,
            )
        try:
            return cls._read(data)
        except _Invalid as e:
            raise ManifestError(f"{source}: corrupt manifest: {e}", path=source) from None
        except RecursionError:  # a parser below (types) nested too deep: no bad value to name
            raise ManifestError(f"{source}: corrupt manifest: nested too deeply",
                                path=source) from None

    @classmethod
    def _read(cls, data: Mapping[str, Any]) -> Manifest:
        raw_unit = _obj(_required(data, "unit", "$"), "$.unit")
        unit = Unit(
            _str(_required(raw_unit, "name", "$.unit"), "$.unit.name", 1000),
            _str(_required(raw_unit, "version", "$.unit"), "$.unit.version", 1000),
            _opt_str(raw_unit, "kind", "$.unit") or "library",
            _opt_str(raw_unit, "language", "$.unit") or "python",
        )
        if unit.kind not in _UNIT_KINDS:
            raise _Invalid("$.unit.kind", f"{unit.kind[:40]!r} is not one of "
                                          f"{', '.join(_UNIT_KINDS)}")
        exports = {p: Export._read(p, e, _key("$.exports", p), 0)
                   for p, e in _obj(data.get("exports", {}), "$.exports").items()}
        implements = {p: Implementation.from_json(p, i, _key("$.implements", p))
                      for p, i in _obj(data.get("implements", {}), "$.implements").items()}
        files = {_str(k, "$.files"): _str(v, _key("$.files", k))
                 for k, v in _obj(data.get("files", {}), "$.files").items()}
        where = "$.diagnostics"
        native = data.get("native")
        return cls(
            unit=unit,
            exports=exports,
            imports=cls._uses(data, "imports"),
            entry=_opt_str(data, "entry", "$"),
            implements=implements,
            files=files,
            requires=_strings(data, "requires", "$"),
            requires_python=_opt_str(data, "requires_python", "$"),
            top_level=_strings(data, "top_level", "$"),
            diagnostics=tuple(Diagnostic.from_json(d, f"{where}[{i}]")
                              for i, d in enumerate(_list(data.get("diagnostics", []), where))),
            native=None if native is None else _obj(native, "$.native"),
            unprovided=cls._uses(data, "unprovided"),
            warnings_error=_opt_str(data, "warnings_error", "$"),
            protocols=_protocols(data),
        )

    @staticmethod
    def _uses(data: Mapping[str, Any], key: str) -> dict[str, tuple[Import, ...]]:
        """``imports`` or ``unprovided``: name → list of imports."""
        uses: dict[str, tuple[Import, ...]] = {}
        for name, items in _obj(data.get(key, {}), f"$.{key}").items():
            where = _key(f"$.{key}", name)
            uses[name] = tuple(Import._read(item, f"{where}[{i}]")
                               for i, item in enumerate(_list(items, where)))
        return uses
