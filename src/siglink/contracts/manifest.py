"""The manifest (``siglink.json``): a unit's exports and imports (docs/design.md §4).

A manifest is a value: build it, serialize it with :meth:`Manifest.to_json`, read it back with
:meth:`Manifest.from_json`. Reading validates everything and names the file on failure. This
module does no I/O; callers read and write the text.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Final

from siglink.contracts.signature import Signature
from siglink.contracts.types import TypeRef
from siglink.errors import ManifestError, SignatureSyntaxError

__all__ = [
    "FORMAT",
    "Arguments",
    "CallShape",
    "Diagnostic",
    "Export",
    "ExportKind",
    "Implementation",
    "Import",
    "Manifest",
    "Unit",
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
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _signature_json(sig: Signature) -> dict[str, Any]:
    data: dict[str, Any] = {"text": str(sig)}
    defaults = {p.name: p.default for p in sig.params if p.default is not None}
    if defaults:
        data["defaults"] = defaults
    return data


def _signature_from_json(data: Any) -> Signature:
    if isinstance(data, str):
        return Signature.parse(data)
    text = data["text"]
    defaults = data.get("defaults", {})
    return Signature.parse(text).with_defaults(defaults)


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
        return data

    def to_json(self) -> dict[str, Any]:
        data = self._body()
        if self.members:
            data["members"] = {k: v.to_json() for k, v in self.members.items()}
        data["digest"] = self.digest
        return data

    @classmethod
    def from_json(cls, path: str, data: Mapping[str, Any]) -> Export:
        from siglink.contracts.types import parse_type

        members = {
            name: cls.from_json(f"{path}.{name}", member)
            for name, member in data.get("members", {}).items()
        }
        signature = data.get("signature")
        return cls(
            path=path,
            kind=ExportKind(data["kind"]),
            module=data.get("module", ""),
            signature=None if signature is None else _signature_from_json(signature),
            overloads=tuple(_signature_from_json(s) for s in data.get("overloads", ())),
            type=None if data.get("type") is None else parse_type(data["type"]),
            members=members,
            bases=tuple(data.get("bases", ())),
            flavor=data.get("flavor"),
            value=data.get("value"),
            optional=bool(data.get("optional", False)),
            reference=data.get("reference"),
            compiled=bool(data.get("compiled", False)),
            location=data.get("location"),
            deprecated=bool(data.get("deprecated", False)),
            kwargs_read=None if data.get("kwargs_read") is None else tuple(
                str(k) for k in data["kwargs_read"]),
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
    def from_json(cls, data: Mapping[str, Any]) -> CallShape:
        return cls(
            int(data.get("positional", 0)),
            tuple(data.get("keywords", ())),
            bool(data.get("star_args", False)),
            bool(data.get("star_kwargs", False)),
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
    def from_json(cls, data: Mapping[str, Any]) -> Arguments:
        return cls(tuple(str(t) for t in data.get("positional", ())),
                   tuple(sorted((str(k), str(t)) for k, t in data.get("keywords", {}).items())),
                   str(data.get("member", "")))


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
    checked (``None``: not recorded, every member is). ``arguments`` holds, per call, the
    static types of the arguments where evident (positional, then keyword name -> type;
    ``""`` for one not evident).
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
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Import:
        path = data["path"]
        expected = data.get("expected")
        return cls(
            path=path,
            expected=None if expected is None else Export.from_json(path, expected),
            built_against=data.get("built_against"),
            calls=tuple(CallShape.from_json(c) for c in data.get("calls", ())),
            calls_complete=bool(data.get("calls_complete", False)),
            attributes=tuple(data.get("attributes", ())),
            dynamic=data.get("dynamic"),
            location=data.get("location"),
            optional=bool(data.get("optional", False)),
            members=None if data.get("members") is None else tuple(
                str(m) for m in data["members"]),
            arguments=tuple(Arguments.from_json(a) for a in data.get("arguments", ())),
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
    def from_json(cls, point: str, data: Mapping[str, Any]) -> Implementation:
        spec = data.get("spec")
        return cls(point, data["object"], None if spec is None else Export.from_json(point, spec),
                   data.get("position"))


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
    def from_json(cls, data: Mapping[str, Any]) -> Diagnostic:
        return cls(str(data["message"]), data.get("file"), data.get("line"))


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
        """Parse manifest JSON; every failure is a :class:`ManifestError` naming ``source``."""
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as e:
            raise ManifestError(f"{source}: not valid JSON ({e})", path=source) from e
        return cls.from_json(data, source=source)

    @classmethod
    def from_json(cls, data: Any, *, source: str = "siglink.json") -> Manifest:
        if not isinstance(data, dict):
            raise ManifestError(f"{source}: a manifest is a JSON object", path=source)
        fmt = data.get("format")
        if not isinstance(fmt, int):
            raise ManifestError(f"{source}: missing or invalid 'format'", path=source)
        if fmt > FORMAT:
            raise ManifestError(
                f"{source}: manifest format {fmt} is newer than this siglink reads "
                f"(format {FORMAT}); upgrade siglink",
                path=source,
            )
        try:
            raw_unit = data["unit"]
            unit = Unit(
                str(raw_unit["name"]),
                str(raw_unit["version"]),
                str(raw_unit.get("kind", "library")),
                str(raw_unit.get("language", "python")),
            )
            if unit.kind not in _UNIT_KINDS:
                raise ValueError(f"unit kind {unit.kind!r} is not one of {', '.join(_UNIT_KINDS)}")
            exports = {p: Export.from_json(p, e) for p, e in data.get("exports", {}).items()}
            imports = {
                lib: tuple(Import.from_json(i) for i in items)
                for lib, items in data.get("imports", {}).items()
            }
            implements = {
                p: Implementation.from_json(p, i) for p, i in data.get("implements", {}).items()
            }
            return cls(
                unit=unit,
                exports=exports,
                imports=imports,
                entry=data.get("entry"),
                implements=implements,
                files=dict(data.get("files", {})),
                requires=tuple(data.get("requires", ())),
                requires_python=data.get("requires_python"),
                top_level=tuple(data.get("top_level", ())),
                diagnostics=tuple(Diagnostic.from_json(d) for d in data.get("diagnostics", ())),
                native=data.get("native"),
                unprovided={
                    m: tuple(Import.from_json(i) for i in items)
                    for m, items in data.get("unprovided", {}).items()
                },
            )
        except ManifestError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            what = f"missing key {e}" if isinstance(e, KeyError) else str(e)
            if isinstance(e, SignatureSyntaxError):  # one line, not the caret diagram
                what = f"invalid signature {e.text!r}: {e.reason} at column {e.position + 1}"
            raise ManifestError(f"{source}: corrupt manifest: {what}", path=source) from e
