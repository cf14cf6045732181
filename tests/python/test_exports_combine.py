"""``meet``: the signature of a name bound by alternative imports accepts only the calls
every alternative accepts. Checked against Python itself: every call form valid for the met
signature binds on both alternatives, compiled as real functions."""

from __future__ import annotations

import inspect
import itertools

import pytest

from siglink.contracts.signature import Signature
from siglink.python._combine import meet

CASES = [
    # (first, other, met)
    ("(s: int) -> str", "(arg, /)", "(s: int, /) -> str"),
    ("(a, b=1, *, c=2)", "(a, b, /, **kw)", "(a, b, /, *, c=...)"),
    ("(a: int, b: str = ...)", "(a, b=None)", "(a: int, b: str = ...)"),
    ("(a, b=1)", "(*args)", "(a, b=..., /)"),
    ("(a, b=1)", "(*args, **kwargs)", "(a, b=...)"),
    ("(a, *args, **kw)", "(a, *args)", "(a, *args)"),
    ("(a, *, key=None)", "(a, /)", "(a, /)"),
    ("(a, b=1, c=2)", "(a, c=2)", "(a, b=..., /)"),  # by position only: names differ
    ("(x)", "(y)", "(x, /)"),
    ("()", "()", "()"),
]


@pytest.mark.parametrize(("first", "other", "met"), CASES)
def test_meet(first: str, other: str, met: str) -> None:
    result = meet(Signature.parse(first), Signature.parse(other))
    assert result is not None
    assert str(result) == str(Signature.parse(met))


@pytest.mark.parametrize(("first", "other"), [
    ("(a)", "(a, b)"),        # the other alternative needs an argument the first never takes
    ("(a, /)", "(*, a)"),     # one takes it only by position, the other only by keyword
    ("(*, a)", "(b, /)"),
])
def test_no_common_form(first: str, other: str) -> None:
    assert meet(Signature.parse(first), Signature.parse(other)) is None


def _function(text: str) -> inspect.Signature:
    namespace: dict[str, object] = {}
    exec(f"def f{text.partition(' -> ')[0]}: pass", namespace)
    return inspect.signature(namespace["f"])  # type: ignore[arg-type]


def _calls(sig: inspect.Signature) -> list[tuple[tuple[int, ...], dict[str, int]]]:
    """Call forms: each count of positional arguments with each set of keywords."""
    names = [p.name for p in sig.parameters.values()
             if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    forms = []
    for n in range(len(names) + 2):
        for k in range(len(names) + 1):
            for keys in itertools.combinations(names, k):
                forms.append((tuple(range(n)), {key: 0 for key in keys}))
    return forms


@pytest.mark.parametrize(("first", "other", "met"), CASES)
def test_every_call_the_met_signature_accepts_binds_on_both(
    first: str, other: str, met: str
) -> None:
    result = meet(Signature.parse(first), Signature.parse(other))
    assert result is not None
    joint = _function(str(result))
    alternatives = [_function(first), _function(other)]
    accepted = 0
    for args, kwargs in _calls(joint):
        try:
            joint.bind(*args, **kwargs)
        except TypeError:
            continue
        accepted += 1
        for alternative in alternatives:
            alternative.bind(*args, **kwargs)  # raises if an alternative refuses the call
    assert accepted > 0
