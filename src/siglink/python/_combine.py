"""One export for a name bound by alternative imports: what every alternative accepts.

``try: from ._speedups import escape`` / ``except ImportError: from ._native import escape``
binds ``escape`` to whichever imports. A consumer may only rely on calls that both accept: the
compiled ``escape`` takes its argument positionally only, so the export's ``s`` becomes
positional-only although the pure-Python fallback would take ``escape(s=...)``.

:func:`meet` computes that signature: parameter by parameter, a way of passing an argument
(by position, by keyword) survives only when every alternative offers it; a parameter is
required when any alternative requires it; ``*args``/``**kwargs`` survive only when all have
them. Types come from the first alternative that annotates a parameter (a compiled module has
none). When no signature accepts only common calls (an alternative requires an argument that
another cannot take), :func:`meet` returns ``None``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from siglink.contracts.manifest import Export, ExportKind
from siglink.contracts.signature import Param, ParamKind, Signature
from siglink.errors import BadInputError

__all__ = ["combine", "meet"]


def meet(first: Signature, other: Signature) -> Signature | None:
    """The signature accepting exactly the calls both accept (as far as one signature can say
    it), typed from ``first`` where it is annotated, else from ``other``; ``None`` when the two
    have no such common form.

    >>> str(meet(Signature.parse("(s: int) -> str"), Signature.parse("(arg, /)")))
    '(s: int, /) -> str'
    >>> str(meet(Signature.parse("(a, b=1, *, c=2)"), Signature.parse("(a, b, /, **kw)")))
    '(a, b, /, *, c=...)'
    >>> meet(Signature.parse("(a)"), Signature.parse("(a, b)")) is None
    True
    """
    other_positional = [p for p in other.params if p.kind.positional]
    other_by_name = {p.name: (i, p) for i, p in enumerate(other.params)}
    other_args = any(p.kind is ParamKind.VAR_POSITIONAL for p in other.params)
    other_kwargs = any(p.kind is ParamKind.VAR_KEYWORD for p in other.params)
    covered: set[str] = set()
    params: list[Param] = []
    positional_open = True  # once an argument cannot go by position, none after it can
    index = 0
    for p in first.params:
        if p.kind.variadic:
            if (p.kind is ParamKind.VAR_POSITIONAL and other_args) or (
                p.kind is ParamKind.VAR_KEYWORD and other_kwargs
            ):
                params.append(p)
            continue
        slot = other_positional[index] if p.kind.positional and index < len(
            other_positional) else None
        by_position = p.kind.positional and positional_open and (
            slot is not None or other_args)
        named = other_by_name.get(p.name)
        if named is not None and named[1].kind.keyword:
            same_slot = not named[1].kind.positional or (
                slot is not None and slot.name == p.name)
            by_keyword = p.kind.keyword and same_slot
        else:
            by_keyword = p.kind.keyword and other_kwargs and (
                named is None or not named[1].kind.positional)
        if p.kind.positional:
            index += 1
        counterpart = slot if by_position and slot is not None else (
            named[1] if named is not None and (by_keyword or named[1].kind.keyword) else None)
        if counterpart is not None:
            covered.add(counterpart.name)
        required = p.required or (counterpart is not None and counterpart.required)
        if not (by_position or by_keyword):
            if required:
                return None
            positional_open = positional_open and not p.kind.positional
            continue
        if not by_position:
            positional_open = False
        kind = (ParamKind.POSITIONAL_OR_KEYWORD if by_position and by_keyword
                else ParamKind.POSITIONAL_ONLY if by_position else ParamKind.KEYWORD_ONLY)
        annotation = p.annotation if p.annotation is not None else (
            counterpart.annotation if counterpart is not None else None)
        params.append(Param(p.name, kind, annotation, None if required else p.default))
    if any(q.required and q.name not in covered for q in other.params):
        return None
    params = _order(params)
    returns = first.returns if first.returns is not None else other.returns
    try:
        return Signature(params=params, returns=returns)
    except BadInputError:
        return None


def _order(params: list[Param]) -> list[Param]:
    """Make the parameter list valid: positional-only ones before the others (an earlier one
    becomes positional-only too), and no default before a required positional parameter."""
    kinds = [p.kind for p in params]
    last_only = max((i for i, k in enumerate(kinds) if k is ParamKind.POSITIONAL_ONLY),
                    default=-1)
    out = []
    for i, p in enumerate(params):
        only = i < last_only and p.kind is ParamKind.POSITIONAL_OR_KEYWORD
        out.append(dataclasses.replace(p, kind=ParamKind.POSITIONAL_ONLY) if only else p)
    required_seen = False
    for i in range(len(out) - 1, -1, -1):
        p = out[i]
        if not p.kind.positional:
            continue
        if p.default is None:
            required_seen = True
        elif required_seen:
            out[i] = dataclasses.replace(p, default=None)
    order = {kind: n for n, kind in enumerate(ParamKind)}
    return sorted(out, key=lambda p: order[p.kind])


def combine(exports: Sequence[Export]) -> tuple[Export, bool]:
    """One export from the alternatives' exports (the preferred alternative first): the
    signatures met, a class's common methods met; ``(export, combined)``, where ``combined``
    is false when the signatures had no common form and the preferred export (the one that
    runs when it imports) was kept as it is."""
    typed = sorted(exports, key=lambda e: e.compiled)  # annotations from source come first
    base = typed[0]
    signature = base.signature
    for export in typed[1:]:
        if export.kind is not base.kind and not (
            {export.kind, base.kind} <= {ExportKind.FUNCTION, ExportKind.CLASS}
        ):
            return exports[0], False
        if signature is None or export.signature is None:
            continue  # unknown: the other alternatives say what they can
        signature = meet(signature, export.signature)
        if signature is None:
            return exports[0], False
    members = dict(base.members)
    for name, member in base.members.items():
        current = member
        for export in typed[1:]:
            other = export.members.get(name)
            if other is None or current.signature is None or other.signature is None:
                continue
            met = meet(current.signature, other.signature)
            if met is not None:
                current = dataclasses.replace(current, signature=met, digest="")
        members[name] = current
    compiled = any(e.compiled for e in exports)
    if signature == base.signature and members == dict(base.members):
        return dataclasses.replace(base, compiled=compiled), True
    return dataclasses.replace(base, signature=signature, members=members, compiled=compiled,
                               digest=""), True
