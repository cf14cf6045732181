"""The compatibility checker: what a provider offers against what a consumer expects (DESIGN §3.3).

:func:`check` compares two signatures by the rules P2-P20 and P24, :func:`check_export` whole
exports (P1, R6, P21-P23, classes and attributes), :func:`diff_manifests` two releases.
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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from siglink.contracts._typeshed_graph import generic_params
from siglink.contracts._typeshed_graph import subtype as _subtype
from siglink.contracts.manifest import CallShape, Export, ExportKind, Manifest
from siglink.contracts.signature import Param, ParamKind, Signature, _Index
from siglink.contracts.types import (
    NONE,
    ClassGraph,
    Decision,
    TypeRef,
    parse_type,
    unverified_parts,
)
from siglink.contracts.verdict import Problem, Severity, Verdict
from siglink.errors import BadInputError

__all__ = [
    "POLICIES",
    "Policy",
    "ReleaseDiff",
    "call_text",
    "check",
    "check_export",
    "class_graph",
    "clear_cache",
    "diff_manifests",
]

Policy = Literal["signature", "semver", "strict"]
POLICIES: Final = ("signature", "semver", "strict")
"""``semver`` checks signatures as ``signature`` does (versions are the linker's business);
``strict`` also breaks on a changed default value (P9)."""

_BREAK: Final = Severity.INCOMPATIBLE
_REVIEW: Final = Severity.REVIEW
_OK: Final = Severity.HARMLESS
_IDENTICAL: Final = Verdict(identical=True)
_YES: Final = Decision.YES
_NO: Final = Decision.NO

_POSITIONAL_ONLY: Final = ParamKind.POSITIONAL_ONLY
_STANDARD: Final = ParamKind.POSITIONAL_OR_KEYWORD
_KEYWORD_ONLY: Final = ParamKind.KEYWORD_ONLY


# -- when a recorded call exercises a problem (usage mode, DESIGN §3.5) ------------------------

# A "use" says which calls a problem affects: ("passed", index, name) is exercised by a call
# that fills positional ``index`` or passes keyword ``name``; ("omitted", index, name) by a call
# that does neither; ("extra", names) by a keyword outside ``names``; None by every call.
_Use = tuple[str, int | None, str | None, frozenset[str]] | None
_NO_NAMES: Final[frozenset[str]] = frozenset()


def _passed(index: int | None, name: str | None) -> _Use:
    return ("passed", index, name, _NO_NAMES)


def _omitted(index: int | None, name: str | None) -> _Use:
    return ("omitted", index, name, _NO_NAMES)


def _exercised(use: _Use, call: CallShape) -> bool:
    if use is None:
        return True
    how, index, name, names = use
    if how == "passed":
        return (index is not None and (call.positional > index or call.star_args)) or (
            name is not None and (name in call.keywords or call.star_kwargs)
        )
    if how == "omitted":
        # Unpacked arguments may or may not supply it: count them as omitting it.
        return (index is None or call.positional <= index) and (
            name is None or name not in call.keywords
        )
    return call.star_kwargs or any(k not in names for k in call.keywords)


class _Findings:
    """Problems, the calls that would exercise each, and unverified parts, as they are found."""

    __slots__ = ("problems", "unverified", "uses")

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.uses: list[_Use] = []
        self.unverified: list[str] = []

    def add(  # noqa: PLR0917 (hot path: positional calls)
        self,
        rule: str,
        path: str,
        expected: object,
        found: object,
        severity: Severity,
        note: str = "",
        use: _Use = None,
    ) -> None:
        self.problems.append(Problem(rule, path, str(expected), str(found), severity, note))
        self.uses.append(use)

    def verdict(self) -> Verdict:
        return Verdict(tuple(self.problems), tuple(dict.fromkeys(self.unverified)))


# -- types -------------------------------------------------------------------------------------

_NO_CLASSES: Final = ClassGraph()


def _is_subtype(sub: TypeRef, sup: TypeRef, classes: ClassGraph | None) -> Decision:
    """:func:`~siglink.contracts.types.is_subtype`, without its lazy import (a hot path)."""
    return _subtype(sub, sup, _NO_CLASSES if classes is None else classes)


def _argument_type(  # noqa: PLR0917
    out: _Findings,
    path: str,
    expected: TypeRef | None,
    provided: TypeRef | None,
    classes: ClassGraph | None,
    use: _Use,
    rule: str = "P11",
) -> None:
    """A value the consumer passes in: the provider must accept it (contravariance)."""
    if expected is None or provided is None:
        out.unverified.append(f"{path}: no annotation")
        return
    if expected == provided:
        if unverified_parts(expected):
            out.unverified.append(f"{path}: {expected}")
        return
    decision = _is_subtype(expected, provided, classes)
    if decision is _YES:
        if rule == "P11":
            out.add("P10", path, expected, provided, _OK, "parameter type widened")
    elif decision is _NO:
        note = "parameter type narrowed" if rule == "P11" else "an incompatible type"
        out.add(rule, path, expected, provided, _BREAK, note, use)
    else:
        out.unverified.append(f"{path}: {expected} vs {provided}")


def _result_type(
    out: _Findings,
    path: str,
    expected: TypeRef | None,
    provided: TypeRef | None,
    classes: ClassGraph | None,
) -> None:
    """A value the consumer receives: it must be usable as promised (covariance)."""
    if expected is None or provided is None:
        out.unverified.append(f"{path}: no annotation")
        return
    if expected == provided:
        if unverified_parts(expected):
            out.unverified.append(f"{path}: {expected}")
        return
    if expected == NONE:
        # Built against ``None``, the consumer never used the result (P14).
        out.add("P14", path, expected, provided, _OK, "a None return became a value")
        return
    decision = _is_subtype(provided, expected, classes)
    if decision is _YES:
        out.add("P12", path, expected, provided, _OK, "narrowed")
    elif decision is _NO:
        note = "a value return became None" if provided == NONE else "widened"
        out.add("P13", path, expected, provided, _BREAK, note)
    else:
        out.unverified.append(f"{path}: {expected} vs {provided}")


# -- parameters --------------------------------------------------------------------------------


def _kind(p: Param) -> str:
    return p.kind.value


def _pair(  # noqa: PLR0917
    out: _Findings,
    e: Param,
    p: Param,
    index: int | None,
    strict: bool,
    classes: ClassGraph | None,
    ei: _Index,
    pi: _Index,
) -> None:
    """Defaults and types of a parameter both signatures have (``index``: its position in E)."""
    name = e.name
    keyword = None if e.kind is _POSITIONAL_ONLY else name
    e_default = e.default
    p_default = p.default
    if e_default is not None:
        if p_default is None:
            out.add("P8", f"param {name}", f"{name}={e_default}", p.name, _BREAK,
                    "default removed", _omitted(index, keyword))
        elif e_default not in (p_default, "...") and p_default != "...":
            out.add("P9", f"param {name}", e_default, p_default, _BREAK if strict else _REVIEW,
                    "default value changed", _omitted(index, keyword))
    elif p_default is not None:
        out.add("P7", f"param {name}", name, f"{p.name}={p_default}", _OK,
                "required parameter got a default")
    text = ei.texts[name]
    if text is not None and text == pi.texts[p.name]:
        # The common case: the type did not change. Only Any & co. leave something unverified.
        if name in ei.loose:
            out.unverified.append(f"param {name}: {text}")
        return
    _argument_type(out, f"param {name}", e.annotation, p.annotation, classes,
                   _passed(index, keyword))


def _structure(
    expected: Signature, provided: Signature, strict: bool, classes: ClassGraph | None
) -> _Findings:
    """Rules P2-P20 and P24 for one pair of signatures."""
    out = _Findings()
    ei = expected.index
    pi = provided.index
    epos = ei.pos
    ppos = pi.pos
    e_star = ei.var_pos
    e_kw = ei.var_kw
    p_star = pi.var_pos
    p_kw = pi.var_kw
    n_epos = len(epos)
    n_ppos = len(ppos)
    e_names = ei.names
    p_names = pi.names
    p_by_name = pi.by_name
    settled: set[str] = set()  # parameters of ``provided`` already accounted for

    # 1. Every positional slot of the expected signature.
    for i, e in enumerate(epos):
        p = ppos[i] if i < n_ppos else None
        if p is not None and p.name == e.name:
            settled.add(p.name)
            if e.kind is not p.kind:
                _positional_kind(out, e, p, e_kw is not None)
            _pair(out, e, p, i, strict, classes, ei, pi)
            continue
        if p is not None and e.name not in p_names and p.name not in e_names:
            settled.add(p.name)
            path = f"param {e.name}"
            if e.kind is _POSITIONAL_ONLY:
                out.add("P15", path, e.name, p.name, _OK, "positional-only parameter renamed")
                if p.kind is not _POSITIONAL_ONLY:
                    _positional_kind(out, e, p, e_kw is not None)
            else:
                out.add("P16", path, e.name, p.name, _BREAK,
                        "a keyword-callable parameter was renamed", _passed(None, e.name))
            _pair(out, e, p, i, strict, classes, ei, pi)
            continue
        path = f"param {e.name}"
        if p is None and e.name not in p_names:
            keyword = e.name if e.kind.keyword else None
            if p_star is not None and (keyword is None or p_kw is not None):
                out.add("P6", path, e, "absent", _OK, f"absorbed by *{p_star.name}")
                _argument_type(out, path, e.annotation, p_star.annotation, classes,
                               _passed(i, None), "P6")
                if keyword is not None and p_kw is not None:
                    _argument_type(out, path, e.annotation, p_kw.annotation, classes,
                                   _passed(None, keyword), "P6")
            else:
                out.add("P6", path, e, "absent", _BREAK, "parameter removed", _passed(i, keyword))
            continue
        q = p_by_name.get(e.name)
        if p is None and q is not None and q.kind is _KEYWORD_ONLY:
            settled.add(q.name)
            out.add("P18", path, _kind(e), _kind(q), _BREAK,
                    "positional calls no longer reach it", _passed(i, None))
            _pair(out, e, q, None, strict, classes, ei, pi)
            continue
        out.add("P4", path, f"position {i + 1}: {e.name}",
                f"position {i + 1}: {p.name if p is not None else 'nothing'}",
                _BREAK, "positional parameters inserted or reordered", _passed(i, None))
        if q is not None:
            settled.add(q.name)

    # 2. Positional parameters only the provided signature has.
    for j in range(n_epos, n_ppos):
        p = ppos[j]
        if p.name in settled:
            continue
        old = ei.by_name.get(p.name)
        path = f"param {p.name}"
        if old is not None:
            settled.add(p.name)
            if old.kind is _KEYWORD_ONLY:
                if p.kind is _POSITIONAL_ONLY:
                    out.add("P18", path, _kind(old), _kind(p), _BREAK,
                            "keyword calls no longer reach it", _passed(None, old.name))
                elif e_star is not None:
                    out.add("P17", path, _kind(old), _kind(p), _BREAK,
                            f"arguments that went to *{e_star.name} now land here",
                            _passed(j, None))
                else:
                    out.add("P17", path, _kind(old), _kind(p), _OK)
                _pair(out, old, p, None, strict, classes, ei, pi)
            continue
        if p.default is None:
            out.add("P3", path, "absent", p, _BREAK, "required parameter added",
                    _omitted(j if e_star is not None else None, p.name if p.kind.keyword else None))
        elif e_star is not None:
            if e_kw is not None and p.kind.keyword:
                out.add("P2", path, "absent", p, _BREAK,
                        f"a positional argument that went to *{e_star.name} now lands here, "
                        f"and collides with {p.name}= passed through **{e_kw.name}",
                        _passed(j, p.name))
            else:
                out.add("P2", path, "absent", p, _REVIEW,
                        f"a positional argument that went to *{e_star.name} now lands here",
                        _passed(j, None))
        else:
            out.add("P2", path, "absent", p, _OK, "parameter with a default added")
        if e_kw is not None and p.kind.keyword:
            _argument_type(out, path, e_kw.annotation, p.annotation, classes,
                           _passed(None, p.name))

    # 3. Keyword-only parameters of the expected signature.
    for e in ei.kwonly:
        p = p_by_name.get(e.name)
        path = f"param {e.name}"
        if p is None:
            if p_kw is not None:
                out.add("P6", path, e, "absent", _OK, f"absorbed by **{p_kw.name}")
                _argument_type(out, path, e.annotation, p_kw.annotation, classes,
                               _passed(None, e.name), "P6")
            else:
                out.add("P6", path, e, "absent", _BREAK, "parameter removed",
                        _passed(None, e.name))
        elif p.kind is _KEYWORD_ONLY:
            settled.add(p.name)
            _pair(out, e, p, None, strict, classes, ei, pi)
        elif p.name not in settled:
            settled.add(p.name)
            out.add("P4", path, _kind(e), f"position {pi.pos_index[p.name] + 1}", _BREAK,
                    "now also filled by positional arguments", _passed(None, e.name))

    # 4. Keyword-only parameters only the provided signature has.
    for p in pi.kwonly:
        if p.name in settled or p.name in e_names:
            continue
        path = f"param {p.name}"
        if p.default is None:
            out.add("P3", path, "absent", p, _BREAK, "required parameter added",
                    _omitted(None, p.name))
        else:
            out.add("P2", path, "absent", p, _OK, "keyword-only parameter with a default added")
        if e_kw is not None:
            _argument_type(out, path, e_kw.annotation, p.annotation, classes,
                           _passed(None, p.name))

    # 5. *args and **kwargs.
    if e_star is not None:
        path = f"param *{e_star.name}"
        if p_star is None:
            out.add("P20", path, e_star, "absent", _BREAK, "*args removed", _passed(n_epos, None))
        else:
            _variadic_type(out, path, e_star, p_star, classes, _passed(n_epos, None))
    elif p_star is not None:
        out.add("P19", f"param *{p_star.name}", "absent", p_star, _OK, "*args added")
    if e_kw is not None:
        path = f"param **{e_kw.name}"
        use: _Use = ("extra", None, None, ei.keyword_names)
        if p_kw is None:
            out.add("P20", path, e_kw, "absent", _BREAK, "**kwargs removed", use)
        else:
            _variadic_type(out, path, e_kw, p_kw, classes, use)
    elif p_kw is not None:
        out.add("P19", f"param **{p_kw.name}", "absent", p_kw, _OK, "**kwargs added")

    if ei.returns is None or ei.returns != pi.returns:
        _result_type(out, "return", expected.returns, provided.returns, classes)
    elif expected.returns is not None and unverified_parts(expected.returns):
        out.unverified.append(f"return: {ei.returns}")
    return out


def _positional_kind(out: _Findings, e: Param, p: Param, e_has_kwargs: bool) -> None:
    path = f"param {e.name}"
    if e.kind is _POSITIONAL_ONLY:
        if e_has_kwargs:
            out.add("P17", path, _kind(e), _kind(p), _BREAK,
                    f"{p.name}= passed through **kwargs now collides with the positional argument",
                    _passed(None, p.name))
        else:
            out.add("P17", path, _kind(e), _kind(p), _OK)
    else:
        out.add("P18", path, _kind(e), _kind(p), _BREAK, "keyword calls no longer reach it",
                _passed(None, e.name))


def _variadic_type(  # noqa: PLR0917
    out: _Findings, path: str, e: Param, p: Param, classes: ClassGraph | None, use: _Use
) -> None:
    if e.annotation is None or p.annotation is None or e.annotation == p.annotation:
        _argument_type(out, path, e.annotation, p.annotation, classes, use)
        return
    decision = _is_subtype(e.annotation, p.annotation, classes)
    if decision is _YES:
        out.add("P10", path, e.annotation, p.annotation, _OK, "widened")
    elif decision is _NO:
        out.add("P20", path, e.annotation, p.annotation, _BREAK, "narrowed", use)
    else:
        out.unverified.append(f"{path}: {e.annotation} vs {p.annotation}")


# -- recorded calls ----------------------------------------------------------------------------


def call_text(call: CallShape) -> str:
    """``f(_, _, key=_, *_)`` for ``CallShape(2, ("key",), star_args=True)``."""
    parts = ["_"] * call.positional + [f"{k}=_" for k in call.keywords]
    if call.star_args:
        parts.append("*_")
    if call.star_kwargs:
        parts.append("**_")
    return f"f({', '.join(parts)})"


def _bind_call(out: _Findings, call: CallShape, sig: Signature) -> None:
    """Does a recorded call bind under ``sig``? Each failure is one problem."""
    si = sig.index
    text = call_text(call)
    n = call.positional
    if n > len(si.pos) and si.var_pos is None:
        out.add("P6", "param *args", text, sig, _BREAK,
                f"the call passes {n} positional arguments, the signature takes {len(si.pos)}")
    keywords = set(call.keywords)
    for k in call.keywords:
        p = si.by_name.get(k)
        index = si.pos_index.get(k)
        if p is not None and p.kind.keyword:
            if index is not None and index < n:
                out.add("P4", f"param {k}", text, sig, _BREAK,
                        f"{k} is given both by position and by keyword")
        elif si.var_kw is None:
            rule = "P18" if p is not None else "P16"
            out.add(rule, f"param {k}", text, sig, _BREAK, f"the call passes {k}= by keyword")
    for i, p in enumerate(si.pos):
        if p.default is None and i >= n and not call.star_args and not (
            p.kind.keyword and (p.name in keywords or call.star_kwargs)
        ):
            out.add("P3", f"param {p.name}", text, sig, _BREAK, "the call does not pass it")
    for p in si.kwonly:
        if p.default is None and p.name not in keywords and not call.star_kwargs:
            out.add("P3", f"param {p.name}", text, sig, _BREAK, "the call does not pass it")
    if call.star_args or call.star_kwargs:
        out.unverified.append(f"call {text}: unpacked arguments")


def _apply_calls(
    out: _Findings,
    provided: Signature,
    calls: Sequence[CallShape],
    calls_complete: bool,
) -> bool:
    """Downgrade problems no recorded call exercises (when calls are complete), then check that
    every recorded call binds. Returns whether anything was downgraded."""
    downgraded = False
    if calls_complete:
        for k, (problem, use) in enumerate(zip(out.problems, out.uses, strict=True)):
            if problem.severity is _BREAK and use is not None and not any(
                _exercised(use, call) for call in calls
            ):
                note = "usage-compatible: no recorded call exercises it"
                if problem.note:
                    note = f"{problem.note}; {note}"
                out.problems[k] = Problem(problem.rule, problem.path, problem.expected,
                                          problem.found, _REVIEW, note)
                downgraded = True
    # Where the contract check found a break, failing calls only restate it; otherwise a call
    # that does not bind was already invalid against the expected signature (or there was none).
    broken = any(p.severity is _BREAK for p in out.problems)
    seen: set[str] = set()
    for call in calls:
        bound = _Findings()
        _bind_call(bound, call, provided)
        for problem in bound.problems:
            if not broken and problem.path not in seen:
                seen.add(problem.path)
                out.problems.append(problem)
                out.uses.append(None)
        out.unverified.extend(bound.unverified)
    return downgraded


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


def _check_policy(policy: str) -> None:
    if policy not in POLICIES:
        raise BadInputError(f"unknown policy {policy!r}: expected one of {', '.join(POLICIES)}")


def check(
    expected: Signature | str,
    provided: Signature | str,
    *,
    policy: str = "signature",
    calls: Sequence[CallShape] | None = None,
    calls_complete: bool = False,
    classes: ClassGraph | None = None,
) -> Verdict:
    """Is ``provided`` compatible with the ``expected`` signature a consumer recorded?

    ``calls`` are the consumer's recorded call shapes: each must bind under ``provided``; with
    ``calls_complete``, problems no recorded call exercises are downgraded to review and the
    verdict is usage-compatible (DESIGN §3.5).

    >>> verdict = check("(a: int, /, b: str)", "(a: int, b: str)")
    >>> verdict.ok, verdict.unverified
    (True, ('return: no annotation',))
    >>> verdict = check("(a: int, b: str)", "(a: int, c: str)", calls=[CallShape(2)],
    ...                 calls_complete=True)
    >>> verdict.ok, verdict.usage_compatible, verdict.problems[0].severity.value
    (True, True, 'review')
    """
    if policy not in POLICIES:  # before the fast path: a bad policy is always an error
        _check_policy(policy)
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
            downgraded = _apply_calls(out, provided, key[3] or (), calls_complete)
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


def _public(name: str) -> bool:
    return not name.startswith("_") or (name.startswith("__") and name.endswith("__"))


def class_graph(exports: Iterable[Export]) -> ClassGraph:
    """Every class's recorded bases, keyed by its export path and its defining module's name."""
    bases: dict[str, tuple[str, ...]] = {}

    def visit(export: Export) -> None:
        if export.kind is ExportKind.CLASS:
            bases[export.path] = export.bases
            if export.module:
                bases.setdefault(f"{export.module}.{export.name}", export.bases)
            for member in export.members.values():
                visit(member)

    for export in exports:
        visit(export)
    return ClassGraph(bases)


def check_export(
    expected: Export | None,
    provided: Export | None,
    *,
    policy: str = "signature",
    calls: Sequence[CallShape] | None = None,
    calls_complete: bool = False,
    classes: ClassGraph | None = None,
    direction: str = "in",
) -> Verdict:
    """Is the ``provided`` export compatible with the ``expected`` one a consumer recorded?

    ``expected=None`` (a consumer that recorded only how it calls the name) checks the call
    shapes alone and marks the verdict unverified. ``direction="out"`` is for exports the
    library calls back into the consumer (callbacks, overridden methods): variance flips.
    Paths in the verdict are relative to the export (``param b``, ``member grow``; the empty
    path for the export itself, as in P1 and R6): ``verdict.prefixed(path)`` names them.
    User classes in annotations relate through ``classes``; without it, only the classes the
    provided export holds are known (pass ``class_graph(manifest.exports.values())`` to relate
    every class of the library).
    """
    _check_policy(policy)
    if direction not in ("in", "out"):
        raise BadInputError(f"unknown direction {direction!r}: expected 'in' or 'out'")
    if provided is None:
        what = "renamed, moved or removed"
        return Verdict((Problem("P1", "", _describe(expected), "absent", _BREAK, what),))
    if expected is None:
        return _calls_only(provided, calls or ())
    if expected.digest == provided.digest:
        return _IDENTICAL
    if classes is None:
        classes = class_graph([provided])
    return _Exports(policy, classes, direction).compare(expected, provided, calls,
                                                         calls_complete)


def _calls_only(provided: Export, calls: Sequence[CallShape]) -> Verdict:
    out = _Findings()
    out.unverified.append("signature: not recorded by the consumer, only its calls checked")
    if calls:
        signatures = provided.overloads or (
            () if provided.signature is None else (provided.signature,)
        )
        if not provided.kind.callable and provided.kind is not ExportKind.CLASS:
            out.add("R6", "", "callable", provided.kind.value, _BREAK, "the consumer calls it")
        elif not signatures:
            out.unverified.append("signature: not recorded by the provider")
        else:
            _bind_calls(out, calls, signatures)
    return out.verdict()


def _bind_calls(
    out: _Findings, calls: Sequence[CallShape], signatures: Sequence[Signature]
) -> None:
    """Bind each call to the signatures (overloads) in turn, up to the first that takes it;
    the closest attempt's findings (fewest problems, the earliest among equals) go to ``out``."""
    for call in calls:
        attempts = []
        for sig in signatures:
            attempt = _Findings()
            _bind_call(attempt, call, sig)
            attempts.append(attempt)
            if not attempt.problems:
                break
        best = min(attempts, key=lambda a: len(a.problems))
        out.problems.extend(best.problems)
        out.unverified.extend(best.unverified)


@dataclass(slots=True)
class _Exports:
    """Compares whole exports; one instance per top-level comparison."""

    policy: str
    classes: ClassGraph
    direction: str

    def compare(
        self,
        expected: Export,
        provided: Export,
        calls: Sequence[CallShape] | None = None,
        calls_complete: bool = False,
    ) -> Verdict:
        if expected.digest == provided.digest:
            return _IDENTICAL
        if expected.kind is not provided.kind:
            problem = Problem("R6", "", expected.kind.value, provided.kind.value, _BREAK,
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
        return self._check(expected.signature, provided.signature, calls, calls_complete)

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
                parts.append(Verdict((Problem("P21", path, str(sig), found, _BREAK,
                                              "no provided overload accepts these calls"),)))
                continue
            best = min(fitting, key=lambda v: (len(v.reviews), len(v.problems)))
            if not best.identical:
                parts.append(best.prefixed(path))
        if calls:
            covered = _Findings()
            _bind_calls(covered, calls, offered)
            parts.append(covered.verdict())
        parts.append(self._implementation(expected.signature, provided.signature))
        merged = Verdict.merge(parts)
        return Verdict(merged.problems, merged.unverified, merged.usage_compatible)

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
            out.add("R6", "", flavor or "class", provided.flavor or "class", severity,
                    "class flavor changed")
            if severity is _BREAK:
                return out.verdict()
        if self.direction == "in" and expected.bases != provided.bases:
            self._bases(out, expected, provided)
        if flavor != "typeddict" and (expected.signature is not None or calls):
            if expected.signature is None or provided.signature is None:
                out.unverified.append("constructor: signature not recorded")
            else:
                parts.append(self._check(expected.signature, provided.signature, calls,
                                         calls_complete).prefixed("constructor"))
        if flavor == "enum":
            self._enum(out, expected, provided)
        elif flavor == "typeddict":
            self._typeddict(out, expected, provided)
        elif flavor == "namedtuple":
            self._namedtuple(out, expected, provided)
        for name, member in expected.members.items():
            if not _public(name) or _handled(flavor, member):
                continue
            other = provided.members.get(name)
            path = f"member {name}"
            if other is None:
                out.add("P1", path, _describe(member), "absent", _BREAK,
                        "renamed, moved or removed")
                continue
            parts.append(self.compare(member, other).prefixed(path))
        merged = Verdict.merge([out.verdict(), *parts])
        return Verdict(merged.problems, merged.unverified, merged.usage_compatible)

    def _bases(self, out: _Findings, expected: Export, provided: Export) -> None:
        """A class that no longer derives from a base it had (directly or through its other
        bases) is no longer usable as that base: annotations, ``isinstance`` and ``except``
        clauses written for the base reject its instances. What the consumer receives is
        wider than promised: P13, at path ``bases``. Added bases are harmless (not reported).
        """
        new = [parse_type(b) for b in provided.bases if b not in _INERT_BASES]
        found = f"({', '.join(provided.bases)})"
        for base in expected.bases:
            if base in _INERT_BASES or base in provided.bases:
                continue
            old = parse_type(base)
            decisions = [_is_subtype(b, old, self.classes) for b in new]
            if _YES in decisions:
                continue
            if all(_known(b, self.classes) for b in new):
                out.add("P13", "bases", base, found, _BREAK,
                        f"no longer a subclass of {base}")
            else:
                out.unverified.append(f"bases: {base} vs {found}")

    def _enum(self, out: _Findings, expected: Export, provided: Export) -> None:
        """P23: removed or renumbered members break; added ones are fine going in, a review
        coming out (the consumer may not handle them)."""
        old = {n: m for n, m in expected.members.items() if m.kind is ExportKind.ATTRIBUTE}
        new = {n: m for n, m in provided.members.items() if m.kind is ExportKind.ATTRIBUTE}
        for name, member in old.items():
            other = new.get(name)
            path = f"member {name}"
            if other is None:
                out.add("P23", path, member.value or name, "absent", _BREAK, "enum member removed")
            elif member.value != other.value and None not in (member.value, other.value):
                out.add("P23", path, member.value, other.value, _BREAK, "enum value changed")
        for name, member in new.items():
            if name not in old:
                severity = _OK if self.direction == "in" else _REVIEW
                out.add("P23", f"member {name}", "absent", member.value or name, severity,
                        "enum member added")

    def _typeddict(self, out: _Findings, expected: Export, provided: Export) -> None:
        """P22 for TypedDicts, following the typing spec's structural assignability: the
        dict flows from ``source`` (who builds it) to ``target`` (who reads it)."""
        old = {n: m for n, m in expected.members.items() if m.kind is ExportKind.ATTRIBUTE}
        new = {n: m for n, m in provided.members.items() if m.kind is ExportKind.ATTRIBUTE}
        inward = self.direction == "in"
        source, target = (old, new) if inward else (new, old)
        for name, key in target.items():
            path = f"key {name}"
            have = source.get(name)
            if have is None:
                if not key.optional:
                    out.add("P22", path, "absent" if inward else "required",
                            "required" if inward else "absent", _BREAK,
                            "required key added" if inward else "required key removed")
                else:
                    # The typing spec rejects this too; at run time a missing optional key
                    # is what the reader must handle anyway.
                    out.add("P22", path, "absent" if inward else "optional",
                            "optional" if inward else "absent", _OK,
                            "optional key added" if inward else "optional key removed")
                continue
            if have.optional and not key.optional:
                out.add("P22", path, _required(old[name]), _required(new[name]), _BREAK,
                        "the reader needs a key the builder may leave out")
            elif key.optional and not have.optional:
                out.add("P22", path, _required(old[name]), _required(new[name]), _REVIEW,
                        "required-ness changed (the typing spec rejects it; safe at run time)")
            self._invariant(out, path, old[name].type, new[name].type)
        for name in source:
            if name not in target:
                severity = _REVIEW if inward else _OK
                out.add("P22", f"key {name}", "present" if inward else "absent",
                        "absent" if inward else "present", severity,
                        "key removed: the library no longer reads it" if inward
                        else "key added")

    def _invariant(
        self, out: _Findings, path: str, expected: TypeRef | None, provided: TypeRef | None
    ) -> None:
        if expected is None or provided is None:
            out.unverified.append(f"{path}: no annotation")
            return
        if expected == provided:
            if unverified_parts(expected):
                out.unverified.append(f"{path}: {expected}")
            return
        there = _is_subtype(expected, provided, self.classes)
        back = _is_subtype(provided, expected, self.classes)
        if there is _NO or back is _NO:
            out.add("P22", path, expected, provided, _BREAK,
                    "a mutable key's value type must stay the same")
        elif there is not _YES or back is not _YES:
            out.unverified.append(f"{path}: {expected} vs {provided}")

    def _namedtuple(self, out: _Findings, expected: Export, provided: Export) -> None:
        """P22: a NamedTuple's fields are positions; their order is fixed."""
        old = [n for n, m in expected.members.items() if m.kind is ExportKind.ATTRIBUTE]
        new = [n for n, m in provided.members.items() if m.kind is ExportKind.ATTRIBUTE]
        if new[: len(old)] != old:
            out.add("P22", "fields", f"({', '.join(old)})", f"({', '.join(new)})", _BREAK,
                    "NamedTuple field order is fixed")
        elif len(new) > len(old):
            out.add("P22", "fields", f"({', '.join(old)})", f"({', '.join(new)})", _REVIEW,
                    "fields added: unpacking and len() change")


_INERT_BASES: Final = frozenset(
    f"{module}.{name}" for module in ("typing", "typing_extensions")
    for name in ("Generic", "Protocol")
) | {"object", "builtins.object", "abc.ABC"}


def _known(t: TypeRef, classes: ClassGraph, depth: int = 0) -> bool:
    """Are all of a class's ancestors recorded (so that "not a subclass" is a fact)?"""
    if t.is_unknown or depth > 32:
        return False
    if generic_params(t.name) is not None or t.name == "object":
        return True
    return t.name in classes and all(_known(b, classes, depth + 1)
                                     for b in classes.bases(t.name))


def _some(sig: Signature | None) -> tuple[Signature, ...]:
    return () if sig is None else (sig,)


def _required(key: Export) -> str:
    return "optional" if key.optional else "required"


def _handled(flavor: str | None, member: Export) -> bool:
    """Members a flavor's own rules already compared."""
    return flavor in ("enum", "typeddict") and member.kind is ExportKind.ATTRIBUTE


# -- releases ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReleaseDiff:
    """Every export of an old release against a new one (``siglink diff``).

    ``removed`` and ``incompatible`` break consumers; ``compatible`` lists changed exports that
    do not (their verdicts may carry reviews); ``added`` holds new exports (verdict ``None``).
    """

    removed: list[tuple[str, Verdict | None]] = field(default_factory=list)
    incompatible: list[tuple[str, Verdict | None]] = field(default_factory=list)
    compatible: list[tuple[str, Verdict | None]] = field(default_factory=list)
    added: list[tuple[str, Verdict | None]] = field(default_factory=list)

    @property
    def breaking(self) -> bool:
        """Does the new release break a consumer of the old one?"""
        return bool(self.removed or self.incompatible)

    @property
    def reviews(self) -> list[tuple[str, Verdict | None]]:
        """Compatible changes that still deserve a look."""
        return [(p, v) for p, v in self.compatible if v is not None and v.reviews]


def diff_manifests(old: Manifest, new: Manifest, *, policy: str = "signature") -> ReleaseDiff:
    """Compare every export of ``old`` with the same path in ``new``.

    User classes relate through the new release's recorded bases. Every problem's path starts
    with its export's path (``P1 lib.g``, ``P16 lib.h param a``).
    """
    _check_policy(policy)
    classes = class_graph(new.exports.values())
    diff = ReleaseDiff()
    for path, export in sorted(old.exports.items()):
        other = new.exports.get(path)
        if other is None:
            verdict = check_export(export, None, policy=policy)
            diff.removed.append((path, verdict.prefixed(path)))
            continue
        verdict = check_export(export, other, policy=policy, classes=classes)
        if verdict.identical:
            continue
        (diff.compatible if verdict.ok else diff.incompatible).append(
            (path, verdict.prefixed(path)))
    diff.added.extend((path, None) for path in sorted(new.exports) if path not in old.exports)
    return diff


def __dir__() -> list[str]:
    return list(__all__)
