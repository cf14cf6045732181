"""The signature rules P2-P20 and P24, and binding recorded calls (docs/design.md §3.3, §3.5).

The engine behind :func:`siglink.contracts.compat.check`, which memoizes it and turns its
findings into a verdict; the export rules reuse its type rules and call binding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from siglink.contracts._typeshed_graph import subtype as _subtype
from siglink.contracts.manifest import CallShape
from siglink.contracts.rules import Rule
from siglink.contracts.signature import Param, ParamKind, Signature, _Index
from siglink.contracts.types import NONE, ClassGraph, Decision, TypeRef, unverified_parts
from siglink.contracts.verdict import Problem, Severity, Verdict

_BREAK: Final = Severity.INCOMPATIBLE
_REVIEW: Final = Severity.REVIEW
_OK: Final = Severity.HARMLESS
_YES: Final = Decision.YES
_NO: Final = Decision.NO

_POSITIONAL_ONLY: Final = ParamKind.POSITIONAL_ONLY
_STANDARD: Final = ParamKind.POSITIONAL_OR_KEYWORD
_KEYWORD_ONLY: Final = ParamKind.KEYWORD_ONLY



# -- when a recorded call exercises a problem (usage mode, docs/design.md §3.5) ---------------

# A "use" says which calls a problem affects: ("passed", index, name) is exercised by a call
# that fills positional ``index`` or passes keyword ``name``; ("omitted", index, name) by a call
# that does neither; ("extra", names) by a keyword outside ``names``; None by every call.
_Use = tuple[str, int | None, str | None, frozenset[str]] | None
_NO_NAMES: Final[frozenset[str]] = frozenset()


def _passed(index: int | None, name: str | None) -> _Use:
    return ("passed", index, name, _NO_NAMES)


def _omitted(index: int | None, name: str | None) -> _Use:
    return ("omitted", index, name, _NO_NAMES)


# How a recorded call reaches a problem: not at all, only through the arguments it forwards
# (``f(a, *args, **kwargs)``: its own callers' arguments, of unknown number and names), or
# through what it writes itself.
_UNREACHED: Final = 0
_FORWARDED: Final = 1
_EXPLICIT: Final = 2


def _exercised(use: _Use, call: CallShape) -> int:
    """Whether ``call`` exercises a problem of this ``use``: :data:`_EXPLICIT`,
    :data:`_FORWARDED` (only an unpacked ``*args``/``**kwargs`` could) or
    :data:`_UNREACHED`."""
    if use is None:
        return _EXPLICIT
    how, index, name, names = use
    if how == "passed":
        if (index is not None and call.positional > index) or (
                name is not None and name in call.keywords):
            return _EXPLICIT
        return _FORWARDED if (index is not None and call.star_args) or (
            name is not None and call.star_kwargs) else _UNREACHED
    if how == "omitted":
        if (index is not None and call.positional > index) or (
                name is not None and name in call.keywords):
            return _UNREACHED
        # Unpacked arguments may or may not supply it.
        return _FORWARDED if (index is not None and call.star_args) or (
            name is not None and call.star_kwargs) else _EXPLICIT
    if any(k not in names for k in call.keywords):
        return _EXPLICIT
    return _FORWARDED if call.star_kwargs else _UNREACHED


class _Findings:
    """Problems, the calls that would exercise each, and unverified parts, as they are found."""

    __slots__ = ("problems", "unverified", "uses")

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.uses: list[_Use] = []
        self.unverified: list[str] = []

    def add(  # noqa: PLR0917 (hot path: positional calls)
        self,
        rule: Rule,
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


def _to_compare(
    out: _Findings, path: str, expected: TypeRef | None, provided: TypeRef | None
) -> tuple[TypeRef, TypeRef] | None:
    """The pair of types still to compare, or ``None`` when the cases every comparison shares
    decide: a missing annotation (P24, unverified) and identical types (fine; unverified where
    they hold ``Any``, ``unknown`` or a TypeVar)."""
    if expected is None or provided is None:
        out.unverified.append(f"{path}: no annotation")
        return None
    if expected == provided:
        if unverified_parts(expected):
            out.unverified.append(f"{path}: {expected}")
        return None
    return expected, provided


def _argument_type(  # noqa: PLR0917
    out: _Findings,
    path: str,
    expected: TypeRef | None,
    provided: TypeRef | None,
    classes: ClassGraph | None,
    use: _Use,
    rule: Rule = Rule.P11,
) -> None:
    """A value the consumer passes in: the provider must accept it (contravariance)."""
    pair = _to_compare(out, path, expected, provided)
    if pair is None:
        return
    expected, provided = pair
    decision = _is_subtype(expected, provided, classes)
    if decision is _YES:
        if rule is Rule.P11:
            out.add(Rule.P10, path, expected, provided, _OK, "parameter type widened")
    elif decision is _NO:
        note = "parameter type narrowed" if rule is Rule.P11 else "an incompatible type"
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
    pair = _to_compare(out, path, expected, provided)
    if pair is None:
        return
    expected, provided = pair
    if expected == NONE:
        # Built against ``None``, the consumer never used the result (P14).
        out.add(Rule.P14, path, expected, provided, _OK, "a None return became a value")
        return
    decision = _is_subtype(provided, expected, classes)
    if decision is _YES:
        out.add(Rule.P12, path, expected, provided, _OK, "narrowed")
    elif decision is _NO:
        note = "a value return became None" if provided == NONE else "widened"
        out.add(Rule.P13, path, expected, provided, _BREAK, note)
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
            out.add(Rule.P8, f"param {name}", f"{name}={e_default}", p.name, _BREAK,
                    "default removed", _omitted(index, keyword))
        elif e_default not in (p_default, "...") and p_default != "...":
            out.add(Rule.P9, f"param {name}", e_default, p_default, _BREAK if strict else _REVIEW,
                    "default value changed", _omitted(index, keyword))
    elif p_default is not None:
        out.add(Rule.P7, f"param {name}", name, f"{p.name}={p_default}", _OK,
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
    settled: set[str] = set()  # parameters of ``provided`` already accounted for
    _expected_positional(out, ei, pi, settled, strict=strict, classes=classes)
    _added_positional(out, ei, pi, settled, strict=strict, classes=classes)
    _expected_keyword_only(out, ei, pi, settled, strict=strict, classes=classes)
    _added_keyword_only(out, ei, pi, settled, classes)
    _variadics(out, ei, pi, classes)
    if ei.returns is None or ei.returns != pi.returns:
        _result_type(out, "return", expected.returns, provided.returns, classes)
    elif expected.returns is not None and unverified_parts(expected.returns):
        out.unverified.append(f"return: {ei.returns}")
    return out


def _expected_positional(
    out: _Findings, ei: _Index, pi: _Index, settled: set[str], *, strict: bool,
    classes: ClassGraph | None,
) -> None:
    """Step 1: every positional slot of the expected signature."""
    ppos = pi.pos
    e_kw = ei.var_kw
    p_star = pi.var_pos
    p_kw = pi.var_kw
    n_ppos = len(ppos)
    e_names = ei.names
    p_names = pi.names
    p_by_name = pi.by_name
    for i, e in enumerate(ei.pos):
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
                out.add(Rule.P15, path, e.name, p.name, _OK, "positional-only parameter renamed")
                if p.kind is not _POSITIONAL_ONLY:
                    _positional_kind(out, e, p, e_kw is not None)
            else:
                out.add(Rule.P16, path, e.name, p.name, _BREAK,
                        "a keyword-callable parameter was renamed", _passed(None, e.name))
            _pair(out, e, p, i, strict, classes, ei, pi)
            continue
        path = f"param {e.name}"
        if p is None and e.name not in p_names:
            keyword = e.name if e.kind.keyword else None
            if p_star is not None and (keyword is None or p_kw is not None):
                out.add(Rule.P6, path, e, "absent", _OK, f"absorbed by *{p_star.name}")
                _argument_type(out, path, e.annotation, p_star.annotation, classes,
                               _passed(i, None), Rule.P6)
                if keyword is not None and p_kw is not None:
                    _argument_type(out, path, e.annotation, p_kw.annotation, classes,
                                   _passed(None, keyword), Rule.P6)
            else:
                out.add(Rule.P6, path, e, "absent", _BREAK, "parameter removed",
                        _passed(i, keyword))
            continue
        q = p_by_name.get(e.name)
        if p is None and q is not None and q.kind is _KEYWORD_ONLY:
            settled.add(q.name)
            out.add(Rule.P18, path, _kind(e), _kind(q), _BREAK,
                    "positional calls no longer reach it", _passed(i, None))
            _pair(out, e, q, None, strict, classes, ei, pi)
            continue
        out.add(Rule.P4, path, f"position {i + 1}: {e.name}",
                f"position {i + 1}: {p.name if p is not None else 'nothing'}",
                _BREAK, "positional parameters inserted or reordered", _passed(i, None))
        if q is not None:
            settled.add(q.name)


def _added_positional(
    out: _Findings, ei: _Index, pi: _Index, settled: set[str], *, strict: bool,
    classes: ClassGraph | None,
) -> None:
    """Step 2: positional parameters only the provided signature has."""
    ppos = pi.pos
    e_star = ei.var_pos
    e_kw = ei.var_kw
    for j in range(len(ei.pos), len(ppos)):
        p = ppos[j]
        if p.name in settled:
            continue
        old = ei.by_name.get(p.name)
        path = f"param {p.name}"
        if old is not None:
            settled.add(p.name)
            if old.kind is _KEYWORD_ONLY:
                if p.kind is _POSITIONAL_ONLY:
                    out.add(Rule.P18, path, _kind(old), _kind(p), _BREAK,
                            "keyword calls no longer reach it", _passed(None, old.name))
                elif e_star is not None:
                    out.add(Rule.P17, path, _kind(old), _kind(p), _BREAK,
                            f"arguments that went to *{e_star.name} now land here",
                            _passed(j, None))
                else:
                    out.add(Rule.P17, path, _kind(old), _kind(p), _OK)
                _pair(out, old, p, None, strict, classes, ei, pi)
            continue
        if p.default is None:
            out.add(Rule.P3, path, "absent", p, _BREAK, "required parameter added",
                    _omitted(j if e_star is not None else None, p.name if p.kind.keyword else None))
        elif e_star is not None:
            if e_kw is not None and p.kind.keyword:
                out.add(Rule.P2, path, "absent", p, _BREAK,
                        f"a positional argument that went to *{e_star.name} now lands here, "
                        f"and collides with {p.name}= passed through **{e_kw.name}",
                        _passed(j, p.name))
            else:
                out.add(Rule.P2, path, "absent", p, _REVIEW,
                        f"a positional argument that went to *{e_star.name} now lands here",
                        _passed(j, None))
        else:
            out.add(Rule.P2, path, "absent", p, _OK, "parameter with a default added")
        if e_kw is not None and p.kind.keyword:
            _argument_type(out, path, e_kw.annotation, p.annotation, classes,
                           _passed(None, p.name))


def _expected_keyword_only(
    out: _Findings, ei: _Index, pi: _Index, settled: set[str], *, strict: bool,
    classes: ClassGraph | None,
) -> None:
    """Step 3: keyword-only parameters of the expected signature."""
    p_kw = pi.var_kw
    for e in ei.kwonly:
        p = pi.by_name.get(e.name)
        path = f"param {e.name}"
        if p is None:
            if p_kw is not None:
                out.add(Rule.P6, path, e, "absent", _OK, f"absorbed by **{p_kw.name}")
                _argument_type(out, path, e.annotation, p_kw.annotation, classes,
                               _passed(None, e.name), Rule.P6)
            else:
                out.add(Rule.P6, path, e, "absent", _BREAK, "parameter removed",
                        _passed(None, e.name))
        elif p.kind is _KEYWORD_ONLY:
            settled.add(p.name)
            _pair(out, e, p, None, strict, classes, ei, pi)
        elif p.name not in settled:
            settled.add(p.name)
            out.add(Rule.P4, path, _kind(e), f"position {pi.pos_index[p.name] + 1}", _BREAK,
                    "now also filled by positional arguments", _passed(None, e.name))


def _added_keyword_only(
    out: _Findings, ei: _Index, pi: _Index, settled: set[str], classes: ClassGraph | None
) -> None:
    """Step 4: keyword-only parameters only the provided signature has."""
    e_kw = ei.var_kw
    for p in pi.kwonly:
        if p.name in settled or p.name in ei.names:
            continue
        path = f"param {p.name}"
        if p.default is None:
            out.add(Rule.P3, path, "absent", p, _BREAK, "required parameter added",
                    _omitted(None, p.name))
        else:
            out.add(Rule.P2, path, "absent", p, _OK, "keyword-only parameter with a default added")
        if e_kw is not None:
            _argument_type(out, path, e_kw.annotation, p.annotation, classes,
                           _passed(None, p.name))


def _variadics(out: _Findings, ei: _Index, pi: _Index, classes: ClassGraph | None) -> None:
    """Step 5: *args and **kwargs."""
    e_star = ei.var_pos
    e_kw = ei.var_kw
    p_star = pi.var_pos
    p_kw = pi.var_kw
    n_epos = len(ei.pos)
    if e_star is not None:
        path = f"param *{e_star.name}"
        if p_star is None:
            out.add(Rule.P20, path, e_star, "absent", _BREAK, "*args removed",
                    _passed(n_epos, None))
        else:
            _variadic_type(out, path, e_star, p_star, classes, _passed(n_epos, None))
    elif p_star is not None:
        out.add(Rule.P19, f"param *{p_star.name}", "absent", p_star, _OK, "*args added")
    if e_kw is not None:
        path = f"param **{e_kw.name}"
        use: _Use = ("extra", None, None, ei.keyword_names)
        if p_kw is None:
            out.add(Rule.P20, path, e_kw, "absent", _BREAK, "**kwargs removed", use)
        else:
            _variadic_type(out, path, e_kw, p_kw, classes, use)
    elif p_kw is not None:
        out.add(Rule.P19, f"param **{p_kw.name}", "absent", p_kw, _OK, "**kwargs added")


def _positional_kind(out: _Findings, e: Param, p: Param, e_has_kwargs: bool) -> None:
    path = f"param {e.name}"
    if e.kind is _POSITIONAL_ONLY:
        if e_has_kwargs:
            out.add(Rule.P17, path, _kind(e), _kind(p), _BREAK,
                    f"{p.name}= passed through **kwargs now collides with the positional argument",
                    _passed(None, p.name))
        else:
            out.add(Rule.P17, path, _kind(e), _kind(p), _OK)
    else:
        out.add(Rule.P18, path, _kind(e), _kind(p), _BREAK, "keyword calls no longer reach it",
                _passed(None, e.name))


def _variadic_type(  # noqa: PLR0917
    out: _Findings, path: str, e: Param, p: Param, classes: ClassGraph | None, use: _Use
) -> None:
    if e.annotation is None or p.annotation is None or e.annotation == p.annotation:
        _argument_type(out, path, e.annotation, p.annotation, classes, use)
        return
    decision = _is_subtype(e.annotation, p.annotation, classes)
    if decision is _YES:
        out.add(Rule.P10, path, e.annotation, p.annotation, _OK, "widened")
    elif decision is _NO:
        out.add(Rule.P20, path, e.annotation, p.annotation, _BREAK, "narrowed", use)
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
        out.add(Rule.P6, "param *args", text, sig, _BREAK,
                f"the call passes {n} positional arguments, the signature takes {len(si.pos)}")
    keywords = set(call.keywords)
    for k in call.keywords:
        p = si.by_name.get(k)
        index = si.pos_index.get(k)
        if p is not None and p.kind.keyword:
            if index is not None and index < n:
                out.add(Rule.P4, f"param {k}", text, sig, _BREAK,
                        f"{k} is given both by position and by keyword")
        elif si.var_kw is None:
            rule = Rule.P18 if p is not None else Rule.P16
            out.add(rule, f"param {k}", text, sig, _BREAK, f"the call passes {k}= by keyword")
    for i, p in enumerate(si.pos):
        if p.default is None and i >= n and not call.star_args and not (
            p.kind.keyword and (p.name in keywords or call.star_kwargs)
        ):
            out.add(Rule.P3, f"param {p.name}", text, sig, _BREAK, "the call does not pass it")
    for p in si.kwonly:
        if p.default is None and p.name not in keywords and not call.star_kwargs:
            out.add(Rule.P3, f"param {p.name}", text, sig, _BREAK, "the call does not pass it")
    if call.star_args or call.star_kwargs:
        out.unverified.append(f"call {text}: unpacked arguments")


def _apply_calls(
    out: _Findings,
    provided: Signature,
    calls: Sequence[CallShape],
    calls_complete: bool,
    strict: bool = False,
) -> bool:
    """Downgrade problems no recorded call exercises (when calls are complete), and those only
    the arguments a call forwards (``*args``, ``**kwargs``) could reach to unverified (review;
    kept a break under ``strict``), then check that every recorded call binds. Returns whether
    anything was downgraded."""
    downgraded = False
    if calls_complete:
        for k, (problem, use) in enumerate(zip(out.problems, out.uses, strict=True)):
            if problem.severity is not _BREAK or use is None:
                continue
            reach = max((_exercised(use, call) for call in calls), default=_UNREACHED)
            if reach == _EXPLICIT or (reach == _FORWARDED and strict):
                continue
            note = "usage-compatible: no recorded call exercises it"
            if reach == _FORWARDED:
                note = ("usage-compatible, unverified: only the arguments the consumer "
                        "forwards from its own callers (*args, **kwargs) could reach it")
                out.unverified.append(f"{problem.path}: reached only by forwarded arguments")
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
