"""Which library class a receiver recorded by :mod:`.usage` is an instance of.

A receiver is a chain rooted at an imported name followed by steps, joined by ``|``::

    flask.Flask                    the object the chain names (a class, a function, a module)
    flask.Flask|()                 the result of calling it (a class: an instance)
    werkzeug.Request|!             an instance of the class an annotation names
    flask.Flask|()|.test_client    a member of that object (a method, an attribute)
    flask.Flask|()|.test_client|() the result of calling that method: its return annotation
    X|!|iter                       what iterating an instance yields (``__iter__``'s annotation)

Steps are followed through the exports of the libraries in use (their return and attribute
annotations): a class named by an annotation is looked up by its path. Anything else (a type
variable, a union of classes, a name no library exports) ends the walk: the receiver is not
evident, and the member names written on it count for every used class instead.

>>> from siglink.contracts.manifest import Export, ExportKind
>>> from siglink.contracts.signature import Signature
>>> client = Export("web.Client", ExportKind.CLASS, members={
...     "get": Export("web.Client.get", ExportKind.METHOD,
...                   signature=Signature.parse("(url: str) -> web.Response")),
... })
>>> app = Export("web.App", ExportKind.CLASS, members={
...     "test_client": Export("web.App.test_client", ExportKind.METHOD,
...                           signature=Signature.parse("() -> web.Client"))})
>>> response = Export("web.Response", ExportKind.CLASS)
>>> exports = {e.path: e for e in (client, app, response)}
>>> receivers = Receivers(exports.get)
>>> export, instance = receivers.resolve("web.App|()|.test_client|()|.get|()")
>>> export.path, instance
('web.Response', True)
>>> receivers.resolve("web.App|()|.missing|()") is None
True

A class attribute holding a callable (a factory's ``Callable[..., R]``) gives an ``R``:

>>> from siglink.contracts.types import parse_type
>>> held = Export("web.Response.upper", ExportKind.ATTRIBUTE,
...               type=parse_type("collections.abc.Callable[..., web.Response]"))
>>> exports["web.Response"] = Export("web.Response", ExportKind.CLASS, members={"upper": held})
>>> export, instance = Receivers(exports.get).resolve("web.Response|!|.upper|()")
>>> export.path, instance
('web.Response', True)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final

from siglink.contracts.manifest import Arguments, Export, ExportKind
from siglink.contracts.types import CALLABLE, TypeRef
from siglink.python.usage import Usage, Use

__all__ = ["ALL", "Receivers", "called_only", "used_members"]


def __dir__() -> list[str]:
    return list(__all__)

_ITERATORS: Final = frozenset({
    "typing.Iterator", "typing.Iterable", "typing.Generator", "collections.abc.Iterator",
    "collections.abc.Iterable", "collections.abc.Generator",
})


class Receivers:
    """Resolves receivers against exports; ``export_of(path)`` finds an export of any library
    the consumer uses (``None`` when no library exports ``path``)."""

    def __init__(self, export_of: Callable[[str], Export | None]) -> None:
        self.export_of = export_of
        self._memo: dict[str, tuple[Export, bool] | None] = {}

    def resolve(self, receiver: str) -> tuple[Export, bool] | None:
        """``(export, instance)``: the export the receiver is, or is an instance of (then
        ``instance`` is true); ``None`` when not evident."""
        if receiver in self._memo:
            return self._memo[receiver]
        head, _, last = receiver.rpartition("|")
        found: tuple[Export, bool] | None
        if not head:
            export = self._export(receiver)
            found = None if export is None else (export, False)
        else:
            found = self._step(self.resolve(head), last)
        self._memo[receiver] = found
        return found

    def _export(self, chain: str) -> Export | None:
        parts = chain.split(".")
        for i in range(len(parts), 0, -1):
            export = self.export_of(".".join(parts[:i]))
            if export is None:
                continue
            for name in parts[i:]:
                member = export.members.get(name)
                if member is None:
                    return None
                export = member
            return export
        return None

    def _step(self, state: tuple[Export, bool] | None, step: str) -> tuple[Export, bool] | None:
        if state is None:
            return None
        export, instance = state
        if step == "!":
            return (export, True) if export.kind is ExportKind.CLASS and not instance else None
        if step == "()":
            if export.kind is ExportKind.CLASS and not instance:
                return export, True
            if not instance and export.kind is ExportKind.ATTRIBUTE and export.type is not None \
                    and export.type.name == CALLABLE and export.type.args:
                return self._instance(export.type.args[-1])
            if instance or not export.kind.callable or export.signature is None:
                return None
            return self._instance(export.signature.returns)
        if step.startswith("."):
            if export.kind is not ExportKind.CLASS:
                return None
            member = export.members.get(step[1:])
            if member is None:
                return None
            if member.kind is ExportKind.ATTRIBUTE and member.type is not None and (
                member.type.name == CALLABLE
            ):
                return member, False  # holds a callable: calling it gives what it returns
            if member.kind in (ExportKind.PROPERTY, ExportKind.ATTRIBUTE):
                return self._instance(member.type)
            return member, False
        if step == "iter" and instance:
            method = export.members.get("__iter__")
            returns = None if method is None or method.signature is None else (
                method.signature.returns)
            if returns is None or returns.name not in _ITERATORS or not returns.args:
                return None
            return self._instance(returns.args[0])
        return None

    def _instance(self, returns: TypeRef | None) -> tuple[Export, bool] | None:
        """An instance of the class an annotation names (``X | None`` counts as ``X``)."""
        if returns is None:
            return None
        if returns.name == "typing.Union":
            others = [a for a in returns.args if a.name != "None"]
            if len(others) != 1:
                return None
            returns = others[0]
        export = self.export_of(returns.name)
        if export is None or export.kind is not ExportKind.CLASS:
            return None
        return export, True


ALL: Final = "*"
"""In a class's used members: every member (the class is iterated, looked up by value...)."""
_WHOLE_ENUM: Final = frozenset({
    "__iter__", "__len__", "__contains__", "__getitem__", "__reversed__", "__call__"})


def used_members(
    usage: Usage, export_of: Callable[[str], Export | None], uses: Iterable[Use],
) -> tuple[dict[str, set[str]], dict[str, list[Arguments]], dict[str, tuple[Export, str]]]:
    """The members a consumer reaches of each library class, by the class's export digest:
    through its instances and operators (a class itself iterated, counted or called with a
    value, an enum, uses every member: :data:`ALL`). Also the evident argument types of the
    calls of each class's methods (by digest) and of each of ``uses`` (by ``use:PATH``), and
    each such class with where the consumer first reaches one of its members (by digest).

    ``export_of(path)`` finds an export of the version each library is read against: the
    version built against (``siglink build``) or the one available at install."""
    receivers = Receivers(export_of)
    found: dict[str, set[str]] = {}
    arguments: dict[str, list[Arguments]] = {}
    classes: dict[str, tuple[Export, str]] = {}

    def typed(kind: str) -> str:
        if "|" not in kind:
            return kind  # a builtin's name, or "" (not evident)
        state = receivers.resolve(kind)
        return state[0].path if state is not None and state[1] else ""

    for receiver, by_member in usage.member_arguments.items():
        state = receivers.resolve(receiver)
        if state is None or state[0].kind is not ExportKind.CLASS or not state[1]:
            continue
        for name, entries in by_member.items():
            arguments.setdefault(state[0].digest, []).extend(
                Arguments(tuple(map(typed, p)), tuple((k, typed(t)) for k, t in kw), name)
                for p, kw in entries)
    for use in uses:
        if use.arguments:
            arguments.setdefault(f"use:{use.path}", []).extend(
                Arguments(tuple(map(typed, p)), tuple((k, typed(t)) for k, t in kw))
                for p, kw in use.arguments)
    for receiver, names in usage.members.items():
        state = receivers.resolve(receiver)
        if state is None or state[0].kind is not ExportKind.CLASS:
            continue
        export, instance = state
        used = found.setdefault(export.digest, set())
        if not instance and export.flavor == "enum" and _WHOLE_ENUM & names.keys():
            used.add(ALL)
        used.update(names)
        where = min(names.values(), key=_location_key)
        if export.digest not in classes or _location_key(where) < _location_key(
                classes[export.digest][1]):
            classes[export.digest] = (export, where)
    return found, arguments, classes


def called_only(usage: Usage, export_of: Callable[[str], Export | None]) -> dict[str, set[str]]:
    """The members of each library class (by the class's export digest) that the consumer
    reaches only by calling them on instances whose type is evident, every argument of every
    call seen (:attr:`Usage.member_arguments` then holds all its calls): their recorded calls
    are complete."""
    receivers = Receivers(export_of)
    called: dict[str, set[str]] = {}
    other: dict[str, set[str]] = {}
    for receiver, names in usage.members.items():
        state = receivers.resolve(receiver)
        if state is None or state[0].kind is not ExportKind.CLASS:
            continue
        digest = state[0].digest
        recorded = usage.member_arguments.get(receiver, {})
        elsewise = {n for n in names if n not in recorded} | (
            usage.member_other.get(receiver, set()) if state[1] else set(names))
        called.setdefault(digest, set()).update(n for n in names if n not in elsewise)
        other.setdefault(digest, set()).update(n for n in names if n in elsewise)
    return {digest: names - other[digest] for digest, names in called.items()}


def _location_key(location: str) -> tuple[str, int]:
    file, _, line = location.rpartition(":")
    return (file, int(line) if line.isdigit() else 0)
