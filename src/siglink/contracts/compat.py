"""The compatibility checker: what a provider offers against what a consumer expects.

See docs/design.md §3.3.

:func:`check` compares two signatures by the rules P2-P20 and P24, :func:`check_export` whole
exports (P1, R6, P21-P23, classes and attributes); :mod:`siglink.contracts.diff` builds on them
to compare two releases.
Every result is a :class:`~siglink.contracts.verdict.Verdict`: data, not a boolean.

Beyond the table: a class that loses a base (directly or through its other bases) is P13 at
``bases`` (its instances are no longer usable as that base); with overloads, a change of the
implementation's own signature is a review at ``implementation ...`` (only untyped callers
reach it). See docs/design-notes.md.

>>> check("(a: int, b: str = ...) -> None", "(a: float, b: str = ..., c: int = ...) -> None").ok
True
>>> print(check("(a: int, b: str) -> None", "(a: int, c: str) -> None").explain())
P16 param b: expected b, found c; a keyword-callable parameter was renamed (incompatible)
"""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from siglink.contracts._record_rules import _RecordRules
from siglink.contracts._signature_rules import (
    _BREAK,
    _OK,
    _REVIEW,
    _apply_calls,
    _argument_type,
    _bind_call,
    _Findings,
    _result_type,
    _structure,
    call_text,
)
from siglink.contracts._typeref import CALLABLE, CONCATENATE, ELLIPSIS, TYPEVAR, UNION
from siglink.contracts.manifest import RELIES_ON, Arguments, CallShape, Export, ExportKind
from siglink.contracts.policy import POLICIES, Policy, is_policy, policy_of
from siglink.contracts.rules import Rule
from siglink.contracts.signature import Param, ParamKind, Signature
from siglink.contracts.types import (
    ClassGraph,
    Decision,
    TypeRef,
    is_subtype,
    parse_type,
)
from siglink.contracts.verdict import Problem, Verdict
from siglink.errors import BadInputError

__all__ = [
    "POLICIES",
    "Direction",
    "Policy",
    "as_function",
    "call_text",
    "check",
    "check_export",
    "class_graph",
    "clear_cache",
]


Direction = Literal["in", "out"]
"""Which way values flow through an export: ``in`` to the library (what a consumer calls),
``out`` to the consumer (callbacks, methods the library calls back): variance flips."""

_IDENTICAL: Final = Verdict(identical=True)


# -- check -------------------------------------------------------------------------------------

_Key = tuple[str, str, str, tuple[CallShape, ...] | None, bool]
_MEMO: dict[_Key, Verdict] = {}
# Verdicts under a class graph, per graph: hashing a big graph on every check would cost more
# than the check. The entry keeps its graph alive, so the id cannot be reused meanwhile.
_GRAPH_MEMOS: dict[int, tuple[ClassGraph, dict[_Key, Verdict]]] = {}
_MEMO_LIMIT: Final = 65536


def clear_cache() -> None:
    """Forget memoized verdicts (benchmarks, tests)."""
    _MEMO.clear()
    _GRAPH_MEMOS.clear()


def _memo(classes: ClassGraph | None) -> dict[_Key, Verdict]:
    if classes is None:
        return _MEMO
    entry = _GRAPH_MEMOS.get(id(classes))
    if entry is None or entry[0] is not classes:
        if len(_GRAPH_MEMOS) >= 64:
            _GRAPH_MEMOS.clear()
        entry = (classes, {})
        _GRAPH_MEMOS[id(classes)] = entry
    return entry[1]


def _signature(value: Signature | str, role: str) -> Signature:
    if isinstance(value, Signature):
        return value
    if isinstance(value, str):
        return Signature.parse(value)
    raise BadInputError(f"{role} signature must be a Signature or text, not {type(value).__name__}")


def check(
    expected: Signature | str,
    provided: Signature | str,
    *,
    policy: Policy = "signature",
    calls: Sequence[CallShape] | None = None,
    calls_complete: bool = False,
    classes: ClassGraph | None = None,
) -> Verdict:
    """Is ``provided`` compatible with the ``expected`` signature a consumer recorded?

    ``calls`` are the consumer's recorded call shapes: each must bind under ``provided``; with
    ``calls_complete``, problems no recorded call exercises are downgraded to review and the
    verdict is usage-compatible (docs/design.md §3.5).

    >>> verdict = check("(a: int, /, b: str)", "(a: int, b: str)")
    >>> verdict.ok, verdict.unverified
    (True, ('return: no annotation',))
    >>> verdict = check("(a: int, b: str)", "(a: int, c: str)", calls=[CallShape(2)],
    ...                 calls_complete=True)
    >>> verdict.ok, verdict.usage_compatible, verdict.problems[0].severity.value
    (True, True, 'review')
    """
    if not is_policy(policy):  # before the fast path: a bad policy is always an error
        policy_of(policy)
    if type(expected) is not Signature:
        expected = _signature(expected, "expected")
    if type(provided) is not Signature:
        provided = _signature(provided, "provided")
    digest = expected.digest
    if digest == provided.digest:
        return _IDENTICAL
    key: _Key = (
        digest,
        provided.digest,
        policy,
        None if calls is None else tuple(calls),
        calls_complete,
    )
    memo = _MEMO if classes is None else _memo(classes)
    verdict = memo.get(key)
    if verdict is None:
        out = _structure(expected, provided, policy == "strict", classes)
        downgraded = False
        if calls is not None:
            downgraded = _apply_calls(out, provided, key[3] or (), calls_complete,
                                      policy == "strict")
        verdict = Verdict(tuple(out.problems), tuple(dict.fromkeys(out.unverified)), downgraded)
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
        memo[key] = verdict
    return verdict


# -- exports -----------------------------------------------------------------------------------

_RECORD_FLAVORS: Final = frozenset({"enum", "typeddict", "namedtuple", "protocol"})


def _describe(export: Export | None) -> str:
    if export is None:
        return "absent"
    if export.signature is not None:
        return f"{export.kind.value} {export.signature}"
    if export.type is not None:
        return f"{export.kind.value}: {export.type}"
    return export.kind.value


def as_function(export: Export) -> Export:
    """An attribute typed ``Callable[[A, B], R]`` as the function it holds: ``(A, B, /) -> R``
    (``Callable[..., R]`` takes anything); any other export unchanged."""
    t = export.type
    if export.kind is not ExportKind.ATTRIBUTE or t is None or t.name != CALLABLE or not t.args:
        return export
    *params, returns = t.args
    if len(params) == 1 and (params[0] == ELLIPSIS or params[0].name in (TYPEVAR, CONCATENATE)):
        sig = Signature(params=(Param("args", ParamKind.VAR_POSITIONAL),
                                Param("kwargs", ParamKind.VAR_KEYWORD)), returns=returns)
    else:
        sig = Signature(
            params=tuple(Param(f"p{i}", ParamKind.POSITIONAL_ONLY, arg)
                         for i, arg in enumerate(params)),
            returns=returns)
    return dataclasses.replace(export, kind=ExportKind.FUNCTION, type=None, signature=sig,
                               digest="")


_METHODS: Final = frozenset({ExportKind.METHOD, ExportKind.ASYNC_METHOD})


def _holds_callable(export: Export) -> bool:
    """An attribute whose type is a ``Callable``."""
    return export.kind is ExportKind.ATTRIBUTE and export.type is not None and (
        export.type.name == CALLABLE)


def _as_method(export: Export, kind: ExportKind) -> Export:
    """A class attribute holding a callable as the method callers see: ``(*args, **kwargs)
    -> R`` (whether the callable binds the instance, as a function does, is not known, so
    neither is the shape of its calls); any other export unchanged."""
    if not _holds_callable(export):
        return export
    assert export.type is not None
    sig = Signature(params=(Param("args", ParamKind.VAR_POSITIONAL),
                            Param("kwargs", ParamKind.VAR_KEYWORD)),
                    returns=export.type.args[-1] if export.type.args else None)
    return dataclasses.replace(export, kind=kind, type=None, signature=sig, digest="")


def _shape_unknown(verdict: Verdict) -> Verdict:
    """What was a callable of unknown shape (``Callable[..., R]``) gives no parameters to
    compare: a parameter finding is unverified (review; the calls, when complete, decide)."""
    if verdict.ok:
        return verdict
    note = "the callable it was has no known parameters"
    problems = tuple(
        dataclasses.replace(p, severity=_REVIEW, note=f"{p.note}; {note}" if p.note else note)
        if p.severity is _BREAK and p.path.startswith("param ") else p
        for p in verdict.problems)
    return Verdict(problems, (*verdict.unverified, f"parameters: {note}"),
                   verdict.usage_compatible)


def _public(name: str) -> bool:
    return not name.startswith("_") or (name.startswith("__") and name.endswith("__"))


def class_graph(exports: Iterable[Export],
                protocols: Mapping[str, Mapping[str, str]] | None = None) -> ClassGraph:
    """Every class's recorded bases, keyed by its export path and its defining module's name,
    and the members of the Protocols ``protocols`` (:attr:`Manifest.protocols`) names; a
    top-level class exported under another path than where it is defined is one class by both
    names (``werkzeug.datastructures.Headers`` is ``...datastructures.headers.Headers``)."""
    bases: dict[str, tuple[str, ...]] = {}
    aliases: dict[str, str] = {}

    def visit(export: Export, top: bool) -> None:
        if export.kind is ExportKind.CLASS:
            bases[export.path] = export.bases
            if export.module:
                defined = f"{export.module}.{export.name}"
                bases.setdefault(defined, export.bases)
                if top and defined != export.path:
                    aliases[export.path] = defined
            for member in export.members.values():
                visit(member, False)

    for export in exports:
        visit(export, True)
    return ClassGraph(bases, protocols or {}, aliases)


def _identified(classes: ClassGraph, expected: Export) -> ClassGraph:
    """``classes`` knowing also the name where the version built against defined the class
    ``expected`` (which the consumer reaches by ``expected.path``): an annotation of that
    version naming it there names the class the candidate exports at the same path."""
    if expected.kind is not ExportKind.CLASS or not expected.module:
        return classes
    defined = f"{expected.module}.{expected.name}"
    if defined == expected.path or defined in classes or expected.path not in classes:
        return classes
    return classes.aliased({defined: expected.path})


def check_export(
    expected: Export | None,
    provided: Export | None,
    *,
    policy: Policy = "signature",
    calls: Sequence[CallShape] | None = None,
    calls_complete: bool = False,
    classes: ClassGraph | None = None,
    direction: Direction = "in",
    members: Iterable[str] | None = None,
    arguments: Sequence[Arguments] = (),
    written: Iterable[str] = (),
    called: Iterable[str] = (),
    consumer: bool = False,
) -> Verdict:
    """Is the ``provided`` export compatible with the ``expected`` one a consumer recorded?

    ``members`` (a class) names the members the consumer uses: only those are compared
    (``None``: every member). ``arguments`` are the evident types of the consumer's
    arguments: a narrowed parameter type (P11) that admits every one is no break for it.
    ``written`` names the members used only by a name written on an object of unknown type:
    how they are called is unknown, so only what breaks every use of one refuses it
    (:func:`_calls_unknown`). ``called`` names the members whose calls ``arguments`` holds
    completely: they are checked in usage mode (§3.5). ``consumer`` says the question is the
    linker's, for one consumer's recorded use (§3.6), not the contract's (``diff``, plugins):
    then a narrowed parameter type whose arguments are not all known is unverified.

    ``expected=None`` (a consumer that recorded only how it calls the name) checks the call
    shapes alone and marks the verdict unverified. ``direction="out"`` is for exports the
    library calls back into the consumer (callbacks, overridden methods): variance flips.
    Paths in the verdict are relative to the export (``param b``, ``member grow``; the empty
    path for the export itself, as in P1 and R6): ``verdict.prefixed(path)`` names them.
    User classes in annotations relate through ``classes``; without it, only the classes the
    provided export holds are known (pass ``class_graph(manifest.exports.values())`` to relate
    every class of the library).
    """
    policy_of(policy)
    if direction not in ("in", "out"):
        raise BadInputError(f"unknown direction {direction!r}: expected 'in' or 'out'")
    if provided is None:
        what = "renamed, moved or removed"
        return Verdict((Problem(Rule.P1, "", _describe(expected), "absent", _BREAK, what),))
    if expected is None:
        return _calls_only(provided, calls or (), strict=policy == "strict")
    used = None if members is None else frozenset(members)
    if expected.digest == provided.digest:
        # The class is unchanged, but an ancestor it relies on may have left its bases' tree
        return _ancestry(expected, provided, used, classes, direction=direction, policy=policy)
    if classes is None:
        classes = class_graph([provided])
    classes = _identified(classes, expected)
    evidence: dict[str, list[Arguments]] = {}
    for entry in arguments:
        evidence.setdefault(entry.member, []).append(entry)
    verdict = _Exports(policy, classes, direction, used, evidence, frozenset(written),
                       frozenset(called), consumer=consumer).compare(
        expected, provided, calls, calls_complete)
    if calls_complete and calls is not None and not calls and not used and (
        used is not None or expected.kind is not ExportKind.CLASS
    ) and policy != "strict":
        return _imported_only(verdict)
    return verdict


def _ancestry(expected: Export, provided: Export, used: frozenset[str] | None,
              classes: ClassGraph | None, *, direction: Direction, policy: Policy) -> Verdict:
    """An unchanged class against the ancestors the consumer relies on (:data:`RELIES_ON`):
    one its bases no longer derive from is P13, as for a class whose own bases changed."""
    relied = frozenset(m.removeprefix(RELIES_ON) for m in used or () if m.startswith(RELIES_ON))
    if not relied or direction != "in" or expected.kind is not ExportKind.CLASS:
        return _IDENTICAL
    out = _Findings()
    _Exports(policy, classes or class_graph([provided]), direction)._bases(
        out, expected, provided, relied)
    return out.verdict() if out.problems or out.unverified else _IDENTICAL


def _imported_only(verdict: Verdict) -> Verdict:
    """A name the consumer imports and never calls, reads nor passes on (complete, empty
    calls; no member reached): only its presence can matter at run time, so whatever else
    changed is review (under ``strict`` the contract decides)."""
    if verdict.ok:
        return verdict
    note = "usage-compatible: imported only, nothing the consumer does observes it"
    problems = tuple(
        dataclasses.replace(p, severity=_REVIEW, note=f"{p.note}; {note}" if p.note else note)
        if p.severity is _BREAK else p for p in verdict.problems)
    return Verdict(problems, verdict.unverified, True)


def _calls_only(provided: Export, calls: Sequence[CallShape], *, strict: bool) -> Verdict:
    out = _Findings()
    out.unverified.append("signature: not recorded by the consumer, only its calls checked")
    if calls:
        provided = as_function(provided)
        signatures = provided.overloads or (
            () if provided.signature is None else (provided.signature,)
        )
        if not provided.kind.callable and provided.kind is not ExportKind.CLASS:
            out.add(Rule.R6, "", "callable", provided.kind.value, _BREAK, "the consumer calls it")
        elif not signatures:
            out.unverified.append("signature: not recorded by the provider")
        elif provided.overloads:
            _bind_overloaded(out, calls, provided, strict)
            return _merged(out.verdict(), _runs(calls, provided))
        else:
            _bind_calls(out, calls, signatures)
    return out.verdict()


def _implementation_of(export: Export) -> Signature | None:
    """The signature Python binds a call to: the implementation beside the overloads, unless
    it was read from a stub (``.pyi``) or not at all (compiled code), where only the
    overloads are known."""
    where = (export.location or "").rpartition(":")[0] or (export.location or "")
    return None if where.endswith(".pyi") else export.signature


_OUTSIDE: Final = ("no overload accepts the call, the implementation binds it: it runs, "
                   "outside the typed overloads")


def _bind_overloaded(
    out: _Findings, calls: Sequence[CallShape], provided: Export, strict: bool
) -> None:
    """Each recorded call against an overload set. Python runs the implementation: a call no
    overload accepts but the implementation binds is no run-time failure, so it is P21 of
    severity review (a type checker would reject it; incompatible under ``strict``). Where
    no implementation is known (stubs, compiled code) the overloads decide; a call the
    implementation does not bind is reported by :func:`_runs`."""
    implementation = _implementation_of(provided)
    offered = provided.overloads
    for call in calls:
        best = _closest_binding(call, offered)
        if best.problems and implementation is not None:
            runs = _Findings()
            _bind_call(runs, call, implementation)
            if not runs.problems:
                out.add(Rule.P21, "overload", call_text(call), implementation,
                        _BREAK if strict else _REVIEW, _OUTSIDE)
                out.unverified.extend(runs.unverified)
                continue
        out.problems.extend(best.problems)
        out.unverified.extend(best.unverified)


def _meaning(calls: Sequence[CallShape], before: Signature | None,
             after: Signature | None) -> Verdict:
    """A recorded call whose positional arguments land in other parameters of the
    implementation than they did in the version built against changes meaning at run time:
    P4, a break. The same parameter is the one of the same name; a renamed positional-only
    one at the same place (P15); or, for a parameter gone, ``*args`` (P6 absorbed). Keywords
    always land by name."""
    if before is None or after is None or before.digest == after.digest:
        return _IDENTICAL
    was_index, now_index = before.index, after.index
    out = _Findings()
    for call in calls:
        for i in range(call.positional):
            was = was_index.pos[i] if i < len(was_index.pos) else None
            now = now_index.pos[i] if i < len(now_index.pos) else None
            if was is None or (now is None and now_index.var_pos is None):
                continue  # went to *args before, or does not bind now: other rules
            if now is None:
                moved = was.name in now_index.names
            else:
                moved = was.name != now.name and not (
                    was.kind is ParamKind.POSITIONAL_ONLY
                    and was.name not in now_index.names and now.name not in was_index.names)
            if moved:
                lands = now.name if now is not None else f"*{now_index.var_pos.name}"  # type: ignore[union-attr]
                out.add(Rule.P4, f"implementation param {was.name}", call_text(call), after,
                        _BREAK, f"argument {i + 1} lands in {lands} instead of {was.name}: "
                        "the call changes meaning")
    return out.verdict()


def _merged(first: Verdict, second: Verdict) -> Verdict:
    if second.identical or not (second.problems or second.unverified):
        return first
    merged = Verdict.merge([first, second])
    return Verdict(merged.problems, merged.unverified, first.usage_compatible)


def _runs(calls: Sequence[CallShape], provided: Export) -> Verdict:
    """Overloads are what type checkers see; the implementation is what runs: a recorded call
    it does not bind fails at run time whatever the overloads promise."""
    implementation = provided.signature
    if implementation is None:
        return Verdict()
    out = _Findings()
    _bind_calls(out, calls, (implementation,))
    return Verdict(tuple(dataclasses.replace(p, path=f"implementation {p.path}".strip())
                         for p in out.problems if p.severity is _BREAK),
                   tuple(out.unverified))


def _admitted(verdict: Verdict, expected: Signature, provided: Signature,
              entries: Sequence[Arguments], classes: ClassGraph, *,
              complete: bool = True) -> Verdict:
    """A narrowed parameter type (P11) judged by the consumer's evident arguments: no break
    when the new type admits every one (review), still a break when one is visibly
    excluded, and usage-compatible but unverified when an argument's type is not evident.

    Not ``complete`` (the callable is passed on, stored, reached through an object: some of
    its calls are not recorded): what those calls pass is not known, and Python does not
    check annotations when it binds a call, so a narrowing no recorded argument visibly
    contradicts is review with an unverified note (under ``strict`` the contract decides).

    >>> sig = lambda text: Signature.parse(text)
    >>> narrowed = Verdict((Problem(Rule.P11, "param x", "int | str", "int", _BREAK, "narrowed"),))
    >>> out = _admitted(narrowed, sig("(x: int | str)"), sig("(x: int)"), (), ClassGraph({}),
    ...                 complete=False)
    >>> out.problems[0].severity.value, out.unverified
    ('review', ('param x: parameter type narrowed; the arguments passed are not all known',))
    >>> out = _admitted(narrowed, sig("(x: int | str)"), sig("(x: int)"),
    ...                 (Arguments(("str",)),), ClassGraph({}), complete=False)
    >>> out.problems[0].severity.value
    'incompatible'
    """
    names = tuple(p.name for p in expected.params if p.kind.positional)
    problems = list(verdict.problems)
    unverified = list(verdict.unverified)
    changed = False
    for n, problem in enumerate(problems):
        name = problem.path.removeprefix("param ")
        if problem.rule is not Rule.P11 or problem.severity is not _BREAK:
            continue
        param = provided.index.by_name.get(name)
        if param is None and name in names:  # renamed: the parameter at the same position
            param = _positional(provided, names.index(name))
        if param is None or param.annotation is None:
            continue
        given = [t for entry in entries if (t := entry.types(names).get(name)) is not None]
        if not given and complete:
            continue  # no recorded call passes it: the contract decides
        wanted = param.annotation
        fits = [None if not t else is_subtype(parse_type(t), wanted, classes) for t in given]
        if any(f is Decision.NO for f in fits):
            continue
        note = "every argument the consumer passes still fits"
        if not complete:
            note = "the consumer's calls are not all known"
            unverified.append(f"{problem.path}: parameter type narrowed; the arguments passed "
                              "are not all known")
        elif None in fits or any(f is Decision.UNVERIFIED for f in fits):
            note = "the consumer's arguments are not all evident"
            unverified.append(f"{problem.path}: argument types not all evident")
        problems[n] = dataclasses.replace(problem, severity=_REVIEW,
                                          note=f"{problem.note}; {note}")
        changed = True
    if not changed:
        return verdict
    return Verdict(tuple(problems), tuple(unverified), True)


def _positional(sig: Signature, n: int) -> Param | None:
    """The parameter of ``sig`` a call's ``n``-th positional argument lands in (not ``*args``)."""
    params = sig.index.pos
    return params[n] if n < len(params) else None


def _keywords(verdict: Verdict, calls: Sequence[CallShape], expected: Signature,
              provided: Export) -> Verdict:
    """What a keyword that the old signature named and the new one leaves to ``**kwargs``
    means at run time: it still binds, and means something only if the body reads it
    (:attr:`Export.kwargs_read`, recorded at extraction). A removed parameter whose key the
    body reads is no break (review); a passed keyword it never reads is P6."""
    sig = provided.signature
    if sig is None or sig.index.var_kw is None or (verdict.identical and not calls):
        return verdict
    read = provided.kwargs_read
    problems = list(verdict.problems)
    if read is not None:
        for n, p in enumerate(problems):
            name = p.path.removeprefix("param ")
            if p.rule is Rule.P6 and p.severity is _BREAK and (name in read or "**" in read):
                how = "reads it from" if name in read else "passes on"
                problems[n] = dataclasses.replace(
                    p, severity=_REVIEW, note=f"{p.note}; the body {how} **kwargs")
    out = _Findings()
    for call in calls:
        for k in call.keywords:
            if k in sig.index.by_name or k not in expected.index.by_name or any(
                p.path == f"param {k}" and p.severity is _BREAK for p in problems
            ):
                continue  # still named, went to **kwargs before too, or already a break
            if read is None:
                out.unverified.append(f"param {k}: now taken by **kwargs, which may not read it")
            elif "**" in read and k not in read:
                out.unverified.append(f"param {k}: now taken by **kwargs, passed on unread")
            elif k not in read:
                out.add(Rule.P6, f"param {k}", call_text(call), str(sig), _BREAK,
                        f"the call passes {k}=, which only **kwargs takes now, and the body "
                        "never reads it")
    if not out.problems and not out.unverified and problems == list(verdict.problems):
        return verdict
    return Verdict((*problems, *out.problems), (*verdict.unverified, *out.unverified),
                   verdict.usage_compatible)


def _bind_calls(
    out: _Findings, calls: Sequence[CallShape], signatures: Sequence[Signature]
) -> None:
    """Bind each call to the signatures (overloads) in turn, up to the first that takes it;
    the closest attempt's findings (fewest problems, the earliest among equals) go to ``out``."""
    for call in calls:
        best = _closest_binding(call, signatures)
        out.problems.extend(best.problems)
        out.unverified.extend(best.unverified)


def _closest_binding(call: CallShape, signatures: Sequence[Signature]) -> _Findings:
    """Bind ``call`` to each of ``signatures`` in turn, up to the first that takes it: the
    closest attempt's findings (fewest problems, the earliest among equals)."""
    attempts = []
    for sig in signatures:
        attempt = _Findings()
        _bind_call(attempt, call, sig)
        attempts.append(attempt)
        if not attempt.problems:
            break
    return min(attempts, key=lambda a: len(a.problems))


@dataclass(slots=True)
class _Exports(_RecordRules):
    """Compares whole exports; one instance per top-level comparison."""

    policy: Policy
    classes: ClassGraph
    direction: Direction
    used: frozenset[str] | None = None  # the members compared at the top level (None: all)
    # Evident argument types of the consumer's calls, by member ("": the export itself).
    evidence: Mapping[str, list[Arguments]] = dataclasses.field(default_factory=dict)
    # The members used only by a name written on an object of unknown type (top level).
    written: frozenset[str] = frozenset()
    # The members whose calls ``evidence`` holds completely (top level).
    called: frozenset[str] = frozenset()
    member: str = ""  # the member being compared ("": the export itself)
    consumer: bool = False  # one consumer's recorded use is checked (the linker), see check_export
    guessed: bool = False  # that member is used only by a name written (see ``written``)

    def compare(
        self,
        expected: Export,
        provided: Export,
        calls: Sequence[CallShape] | None = None,
        calls_complete: bool = False,
    ) -> Verdict:
        if expected.digest == provided.digest:
            return _IDENTICAL
        if expected.kind is not provided.kind and ExportKind.FUNCTION in (
            expected.kind, provided.kind
        ):
            expected, provided = as_function(expected), as_function(provided)
        if expected.kind is not provided.kind and {expected.kind, provided.kind} & _METHODS and (
            _holds_callable(expected) or _holds_callable(provided)
        ):  # a method <-> a class attribute holding a callable (a factory's result)
            kind = expected.kind if expected.kind in _METHODS else provided.kind
            verdict = self.compare(_as_method(expected, kind), _as_method(provided, kind),
                                   calls, calls_complete)
            if _holds_callable(expected) and not calls_complete and self.policy != "strict":
                return _shape_unknown(verdict)
            return verdict
        if expected.kind is not provided.kind:
            problem = Problem(Rule.R6, "", expected.kind.value, provided.kind.value, _BREAK,
                              "kind changed")
            return Verdict((problem,))
        kind = expected.kind
        if kind is ExportKind.CLASS or (kind is ExportKind.EXTENSION_POINT and expected.members):
            return self._class(expected, provided, calls, calls_complete)
        if kind.callable:
            return self._callable(expected, provided, calls, calls_complete)
        out = _Findings()
        self._attribute(out, "type", expected.type, provided.type)
        return out.verdict()

    # callables -----------------------------------------------------------------------------

    def _check(
        self,
        expected: Signature,
        provided: Signature,
        calls: Sequence[CallShape] | None,
        calls_complete: bool,
    ) -> Verdict:
        if self.direction == "in":
            return check(expected, provided, policy=self.policy, calls=calls,
                         calls_complete=calls_complete, classes=self.classes)
        # The library calls the consumer's implementation: every call the new library makes
        # must bind to what the consumer wrote against the old one. Report from the
        # consumer's side: "expected" is still what the consumer recorded.
        flipped = check(provided, expected, policy=self.policy, classes=self.classes)
        return Verdict(
            tuple(Problem(p.rule, p.path, p.found, p.expected, p.severity, p.note)
                  for p in flipped.problems),
            flipped.unverified,
            flipped.usage_compatible,
            flipped.identical,
        )

    def _callable(
        self,
        expected: Export,
        provided: Export,
        calls: Sequence[CallShape] | None,
        calls_complete: bool,
    ) -> Verdict:
        if expected.overloads or provided.overloads:
            return self._overloads(expected, provided, calls, calls_complete)
        if expected.signature is None or provided.signature is None:
            return Verdict(unverified=("signature: not recorded",))
        verdict = self._check(expected.signature, provided.signature, calls, calls_complete)
        verdict = _keywords(verdict, calls or (), expected.signature, provided)
        entries = self.evidence.get(self.member, ())
        if entries and (self.member or calls_complete):
            verdict = _admitted(verdict, expected.signature, provided.signature, entries,
                                self.classes)
        elif (self.consumer and not calls_complete and self.direction == "in"
              and self.policy != "strict" and not self.guessed):  # guessed: _calls_unknown
            verdict = _admitted(verdict, expected.signature, provided.signature, entries,
                                self.classes, complete=False)
        return verdict

    def _overloads(
        self,
        expected: Export,
        provided: Export,
        calls: Sequence[CallShape] | None,
        calls_complete: bool,
    ) -> Verdict:
        """P21: each expected overload must be covered by some provided one."""
        wanted = expected.overloads or _some(expected.signature)
        offered = provided.overloads or _some(provided.signature)
        if not wanted or not offered:
            return Verdict(unverified=("signature: not recorded",))
        parts: list[Verdict] = []
        for n, sig in enumerate(wanted, 1):
            path = f"overload {n}" if len(wanted) > 1 else "overload"
            candidates = [self._check(sig, other, None, False) for other in offered]
            fitting = [v for v in candidates if v.ok]
            if not fitting:
                found = " | ".join(map(str, offered))
                if self._split_covers(sig, offered):
                    parts.append(Verdict((Problem(
                        Rule.P21, path, str(sig), found, _OK,
                        "split across overloads that together accept every call"),)))
                    continue
                severity, note = _BREAK, "no provided overload accepts these calls"
                if calls_complete and not calls:  # imported only: never called
                    severity = _REVIEW
                    note += "; usage-compatible: the consumer never calls it"
                elif calls_complete and calls and self._calls_fit(
                        calls, offered,
                        None if self.policy == "strict" else _implementation_of(provided)):
                    severity = _REVIEW
                    note += "; usage-compatible: every recorded call binds to one"
                parts.append(Verdict((Problem(Rule.P21, path, str(sig), found, severity,
                                              note),),
                                     ("overloads: the recorded calls' argument types are "
                                      "not checked",) if severity is _REVIEW else ()))
                continue
            best = min(fitting, key=lambda v: (len(v.reviews), len(v.problems)))
            if not best.identical:
                parts.append(best.prefixed(path))
        if calls:
            covered = _Findings()
            if provided.overloads:
                _bind_overloaded(covered, calls, provided, self.policy == "strict")
            else:
                _bind_calls(covered, calls, offered)
            parts.append(covered.verdict())
            parts.append(_runs(calls, provided))
            parts.append(_meaning(calls, _implementation_of(expected),
                                  _implementation_of(provided)))
        parts.append(self._implementation(expected.signature, provided.signature))
        merged = Verdict.merge(parts)
        return Verdict(merged.problems, merged.unverified, merged.usage_compatible)

    def _split_covers(self, sig: Signature, offered: Sequence[Signature]) -> bool:
        """Does a set of overloads accept every call ``sig`` accepts, though none alone does?
        Each union-typed parameter of ``sig`` is split into its members (up to 64 cases); every
        case must be accepted by some overload (results checked as usual)."""
        cases: list[Signature] = [sig]
        for i, param in enumerate(sig.params):
            members = param.annotation.args if param.annotation is not None and (
                param.annotation.name == UNION) else ()
            if not members:
                continue
            cases = [Signature((
                *case.params[:i], dataclasses.replace(param, annotation=member),
                *case.params[i + 1:]), case.returns) for case in cases for member in members]
            if len(cases) > 64:
                return False
        if len(cases) == 1:
            return False
        return all(any(self._check(case, other, None, False).ok for other in offered)
                   for case in cases)

    def _calls_fit(self, calls: Sequence[CallShape], offered: Sequence[Signature],
                   runs: Signature | None) -> bool:
        """Does every recorded call bind, by shape and evident argument types, to some
        overload? A call whose shape no overload takes fits when the implementation ``runs``
        binds it (it runs, outside the typed overloads); one whose shape some overload takes
        but whose evident argument types none admits does not."""
        entries = self.evidence.get(self.member, ())
        for call in calls:
            ok = False
            shaped = False
            for sig in offered:
                bound = _Findings()
                _bind_call(bound, call, sig)
                if bound.problems:
                    continue
                shaped = True
                names = tuple(p.name for p in sig.params if p.kind.positional)
                ok = all(
                    not t or (param := sig.index.by_name.get(k)) is None
                    or param.annotation is None
                    or is_subtype(parse_type(t), param.annotation, self.classes) is not (
                        Decision.NO)
                    for entry in entries for k, t in entry.types(names).items())
                if ok:
                    break
            if not ok and not shaped and runs is not None:
                bound = _Findings()
                _bind_call(bound, call, runs)
                ok = not bound.problems
            if not ok:
                return False
        return True

    def _implementation(self, expected: Signature | None, provided: Signature | None) -> Verdict:
        """Overloads are the typed contract; the implementation's signature is what untyped
        callers reach at run time. What breaks there (``as_bytes=`` no longer accepted) is
        worth a look, not a refusal: severity review, under ``implementation``."""
        if expected is None or provided is None or expected.digest == provided.digest:
            return _IDENTICAL
        found = self._check(expected, provided, None, False)
        problems = tuple(
            Problem(p.rule, f"implementation {p.path}", p.expected, p.found, _REVIEW,
                    f"{p.note}; only untyped callers reach it" if p.note
                    else "only untyped callers reach it")
            for p in found.problems if p.severity is not _OK
        )
        return Verdict(problems)

    def _unread_base(self, provided: Export) -> str | None:
        """A base of ``provided`` whose members are unknown here (another distribution's, the
        standard library's, one the reader could not read), else None."""
        for written in provided.bases:
            base = written.partition("[")[0]
            if base not in _KNOWN_BASES and base not in _EXCEPTION_NAMES and (
                base not in self.classes
            ):
                return base
        return None

    # values --------------------------------------------------------------------------------

    def _attribute(
        self, out: _Findings, path: str, expected: TypeRef | None, provided: TypeRef | None
    ) -> None:
        """A value the consumer reads (covariant); flipped when the library reads it."""
        if self.direction == "in":
            _result_type(out, path, expected, provided, self.classes)
        else:
            _argument_type(out, path, expected, provided, self.classes, None)

    # classes and records -------------------------------------------------------------------

    def _class(
        self,
        expected: Export,
        provided: Export,
        calls: Sequence[CallShape] | None,
        calls_complete: bool,
    ) -> Verdict:
        out = _Findings()
        parts: list[Verdict] = []
        flavor = expected.flavor
        if flavor != provided.flavor:
            severity = _BREAK if {flavor, provided.flavor} & _RECORD_FLAVORS else _OK
            if provided.flavor == "protocol" and self.direction == "in" and calls is not None:
                # The linker knows the consumer's calls: only calling a Protocol fails.
                if calls:
                    out.add(Rule.R7, "", flavor or "class", "protocol", _BREAK,
                            "the consumer calls it; a Protocol cannot be instantiated")
                    return out.verdict()
                severity = _REVIEW
            out.add(Rule.R6, "", flavor or "class", provided.flavor or "class", severity,
                    "class flavor changed")
            if severity is _BREAK:
                return out.verdict()
        if self.direction == "in":
            # A lost base matters to a consumer that relies on it (Import.members: RELIES_ON)
            relied = None if self.used is None or "__bases__" in self.used else frozenset(
                m.removeprefix(RELIES_ON) for m in self.used if m.startswith(RELIES_ON))
            if (relied is None and expected.bases != provided.bases) or relied:
                self._bases(out, expected, provided, relied)
        if flavor != "typeddict" and (expected.signature is not None or calls):
            if expected.signature is None or provided.signature is None:
                out.unverified.append("constructor: signature not recorded")
            else:
                built = _keywords(
                    self._check(expected.signature, provided.signature, calls, calls_complete),
                    calls or (), expected.signature, provided)
                entries = self.evidence.get("", ()) if not self.member else ()
                if entries and calls_complete:
                    built = _admitted(built, expected.signature, provided.signature, entries,
                                      self.classes)
                elif (self.consumer and not calls_complete and self.direction == "in"
                      and self.policy != "strict"):
                    built = _admitted(built, expected.signature, provided.signature, entries,
                                      self.classes, complete=False)
                parts.append(built.prefixed("constructor"))
        if flavor == "enum":
            self._enum(out, expected, provided, self.used)
        elif flavor == "typeddict":
            self._typeddict(out, expected, provided)
        elif flavor == "namedtuple":
            self._namedtuple(out, expected, provided)
        used, self.used = self.used, None  # nested classes are compared whole
        written, self.written = self.written, frozenset()
        called, self.called = self.called, frozenset()
        for name, member in expected.members.items():
            if not _public(name) or _handled(flavor, member) or (
                used is not None and name not in used
            ):
                continue
            other = provided.members.get(name)
            path = f"member {name}"
            if other is None and name in _OBJECT_DEFAULTS:
                # object's own method serves the same calls (__ne__ inverts __eq__)
                out.add(Rule.P1, path, _describe(member), "inherited from object", _OK,
                        "no longer overridden; object provides it")
                continue
            if other is None:
                unread = self._unread_base(provided)
                if unread is not None:  # the member may well come from it
                    out.unverified.append(f"{path}: not found, and base {unread} was not read")
                else:
                    out.add(Rule.P1, path, _describe(member), "absent", _BREAK,
                            "renamed, moved or removed")
                continue
            if {member.kind, other.kind} == _CALLABLE_ON_CLASS:
                # classmethod <-> staticmethod: callers see the same callable (cls is bound);
                # worth a look (a subclass no longer gets its own cls), not a refusal
                out.add(Rule.R6, path, member.kind.value, other.kind.value, _REVIEW,
                        "kind changed; callers see the same signature")
                other = dataclasses.replace(other, kind=member.kind, digest="")
            elif {member.kind, other.kind} == _VALUE_KINDS and used is not None and (
                    self.direction == "in"):
                writes = _writes(name, used)
                if member.kind is ExportKind.ATTRIBUTE and writes:
                    # only a name written on an object of unknown type: maybe not this class's
                    guess = name in written and self.policy != "strict"
                    lacking, unknown = _lacking(other, writes)
                    if lacking or unknown:
                        note = (f"kind changed; the consumer {_verbs(writes)} it, and the "
                                f"property has no {' or '.join(lacking)}" if lacking else
                                "kind changed; the consumer assigns or deletes it, which a "
                                "property takes only with a setter or deleter (not recorded)")
                        out.add(Rule.R6, path, member.kind.value, other.kind.value,
                                _REVIEW if guess else _BREAK,
                                note + (f"; {_CALLS_UNKNOWN}" if guess else ""))
                        if guess:
                            out.unverified.append(f"{path}: {_CALLS_UNKNOWN}")
                        continue
                    out.add(Rule.R6, path, member.kind.value, other.kind.value, _OK,
                            f"kind changed; the consumer {_verbs(writes)} it, and the property "
                            f"has a {' and a '.join(_NEEDS[w] for w in writes)}")
                else:
                    # a property reads as the attribute did, and an attribute serves every use
                    # of a property: what is read is compared
                    out.add(Rule.R6, path, member.kind.value, other.kind.value, _OK,
                            "kind changed; the consumer only reads it" if member.kind is (
                                ExportKind.ATTRIBUTE) else "kind changed; an attribute serves "
                            "every use of a property")
                other = dataclasses.replace(other, kind=member.kind, digest="")
            elif member.kind is other.kind is ExportKind.PROPERTY and self.direction == "in":
                self._access(out, path, member, other, used, guessed=name in written)
            shapes = None if name not in called else tuple(dict.fromkeys(
                CallShape(len(a.positional), tuple(k for k, _ in a.keywords))
                for a in self.evidence.get(name, ())))
            outer, self.member = self.member, name
            self.guessed = name in written and name not in called
            try:
                found = self.compare(member, other, shapes, shapes is not None)
            finally:
                self.member, self.guessed = outer, False
            if name in written and name in called:  # also reached where its calls are unknown
                found = Verdict(found.problems, (*found.unverified, _CALLS_UNKNOWN),
                                found.usage_compatible)
            elif name in written:
                found = _calls_unknown(found, member, other, self.policy)
            parts.append(found.prefixed(path))
        merged = Verdict.merge([out.verdict(), *parts])
        return Verdict(merged.problems, merged.unverified, merged.usage_compatible)



    def _access(self, out: _Findings, path: str, expected: Export, provided: Export,
                used: frozenset[str] | None, *, guessed: bool) -> None:
        """A property that lost its setter or deleter (R6): a break for a consumer that
        assigns or deletes it (review when that is only a name written on an object of
        unknown type); for the contract (``used`` is ``None``: ``diff``), a break when the
        version compared recorded one, since any consumer that assigns or deletes it fails."""
        name = path.removeprefix("member ")
        writes = _WRITES if used is None else _writes(name, used)
        if used is None:  # the contract: only what the older version is known to take
            writes = tuple(w for w in writes if getattr(expected, _NEEDS[w]) is True)
        lacking, unknown = _lacking(provided, writes)
        guess = guessed and used is not None and self.policy != "strict"
        for what in lacking:
            who = ("a consumer that {} it fails" if used is None else "the consumer {} it")
            note = (f"the property lost its {what}; " + who.format(_verbs((_WRITE_OF[what],)))
                    + (f"; {_CALLS_UNKNOWN}" if guess else ""))
            out.add(Rule.R6, path, f"property with a {what}", f"property without a {what}",
                    _REVIEW if guess else _BREAK, note)
        if guess and lacking:
            out.unverified.append(f"{path}: {_CALLS_UNKNOWN}")
        out.unverified.extend(f"{path}: whether the property still has a {what} is not "
                              "recorded" for what in unknown
                              if getattr(expected, what) is True)


_STORED: Final = "="  # a used member's suffix when the consumer assigns it
_DELETED: Final = "-"  # ... when it deletes it (manifests built before this record "=" for both)
_WRITES: Final = (_STORED, _DELETED)
_NEEDS: Final = {_STORED: "setter", _DELETED: "deleter"}
_WRITE_OF: Final = {"setter": _STORED, "deleter": _DELETED}


def _writes(name: str, used: frozenset[str]) -> tuple[str, ...]:
    """How the consumer writes member ``name``: :data:`_STORED` (assigns), :data:`_DELETED`."""
    return tuple(w for w in _WRITES if f"{name}{w}" in used)


def _verbs(writes: Sequence[str]) -> str:
    return " and ".join("assigns" if w == _STORED else "deletes" for w in writes)


def _lacking(provided: Export, writes: Sequence[str]) -> tuple[list[str], list[str]]:
    """What ``writes`` need of the property ``provided`` (``setter``, ``deleter``) that it is
    known to lack, and that is not known (an older manifest, a compiled descriptor)."""
    needs = [_NEEDS[w] for w in writes]
    return ([n for n in needs if getattr(provided, n) is False],
            [n for n in needs if getattr(provided, n) is None])


_CALLABLE_ON_CLASS: Final = frozenset({ExportKind.CLASSMETHOD, ExportKind.STATICMETHOD})
_VALUE_KINDS: Final = frozenset({ExportKind.ATTRIBUTE, ExportKind.PROPERTY})
_CALLS_UNKNOWN: Final = ("used only by a name written on an object of unknown type: how it is "
                         "called is unknown")


def _calls_unknown(verdict: Verdict, expected: Export, provided: Export,
                   policy: Policy) -> Verdict:
    """The verdict on a member the consumer uses only by writing its name on an object of
    unknown type (``Import.written``): no call of it is known, so a finding that depends on
    how it is called (a parameter, a type, an overload) is unverified (review, incompatible
    under ``strict``). A finding that breaks every use stays: the member gone (P1, found
    before this), or no longer callable (R6: a method now a plain value).

    >>> method = Export("m.K.f", ExportKind.METHOD, signature=Signature.parse("(a: int) -> None"))
    >>> renamed = Export("m.K.f", ExportKind.METHOD, signature=Signature.parse("(b: int) -> None"))
    >>> found = check_export(method, renamed)
    >>> _calls_unknown(found, method, renamed, "signature").ok
    True
    >>> _calls_unknown(found, method, renamed, "strict").ok
    False
    >>> value = Export("m.K.f", ExportKind.ATTRIBUTE, type=parse_type("int"))
    >>> found = check_export(method, value)
    >>> _calls_unknown(found, method, value, "signature").ok
    False
    """
    if verdict.ok or policy == "strict":
        return verdict
    stops = (expected.kind.callable or expected.kind is ExportKind.CLASS) and not _may_call(
        provided)
    problems = tuple(
        p if p.severity is not _BREAK or (p.rule is Rule.R6 and not p.path and stops)
        else dataclasses.replace(p, severity=_REVIEW,
                                 note=f"{p.note}; {_CALLS_UNKNOWN}" if p.note else _CALLS_UNKNOWN)
        for p in verdict.problems)
    return Verdict(problems, (*verdict.unverified, _CALLS_UNKNOWN), verdict.usage_compatible)


def _may_call(export: Export) -> bool:
    """Can the export be called: a callable or a class, or a value of unknown or callable
    type."""
    if export.kind.callable or export.kind is ExportKind.CLASS:
        return True
    if export.kind is not ExportKind.ATTRIBUTE:
        return False
    return export.type is None or export.type.name in (CALLABLE, "typing.Callable")
# Dunders whose inherited ``object`` version serves every call an override served, with the
# same meaning where one can be counted on (``__ne__`` is ``not __eq__``).
_OBJECT_DEFAULTS: Final = frozenset({
    "__ne__", "__repr__", "__str__", "__format__", "__sizeof__", "__dir__",
    "__init_subclass__", "__subclasshook__", "__reduce__", "__reduce_ex__", "__getstate__"})
_EXCEPTION_NAMES: Final = frozenset(
    prefix + name for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
    for prefix in ("", "builtins."))
# Bases whose members are all known (none beyond what the class lists).
_KNOWN_BASES: Final = frozenset({
    "object", "builtins.object", "abc.ABC", "typing.Generic", "typing_extensions.Generic",
    "typing.Protocol", "typing_extensions.Protocol", "enum.Enum", "enum.IntEnum",
    "enum.StrEnum", "enum.Flag", "enum.IntFlag", "typing.NamedTuple", "typing.TypedDict",
    "typing_extensions.TypedDict", "typing_extensions.NamedTuple",
})


def _some(sig: Signature | None) -> tuple[Signature, ...]:
    return () if sig is None else (sig,)



def _handled(flavor: str | None, member: Export) -> bool:
    """Members a flavor's own rules already compared."""
    return flavor in ("enum", "typeddict") and member.kind is ExportKind.ATTRIBUTE



def __dir__() -> list[str]:
    return list(__all__)
