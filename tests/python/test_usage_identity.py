"""Classes named for their identity only (``isinstance``, ``issubclass``, ``except``,
``type(x) is K``, ``type(x) in {K, L}``) are uses that need the class to exist, not the class
passed on: their calls elsewhere stay complete, so only those calls are checked."""

from __future__ import annotations

import pytest

from siglink.python.usage import analyze_source

IDENTITY = [
    "isinstance(v, K)",
    "isinstance(v, (int, K))",
    "issubclass(type(v), lib.K)",
    "type(v) is K",
    "type(v) == lib.K",
    "type(v) in {str, K}",
    "type(v) not in (str, lib.K)",
]


@pytest.mark.parametrize("test", IDENTITY)
def test_a_class_named_for_its_identity_is_not_passed_on(test: str) -> None:
    source = f"import lib\nfrom lib import K\n\ndef f(v):\n    if {test}:\n        return K(v)\n"
    use = analyze_source(source, "app.py").uses["lib.K"]
    assert not use.other and use.identity
    assert [c.positional for c in use.calls] == [1]


def test_a_class_only_called_is_not_named_for_its_identity() -> None:
    use = analyze_source("from lib import K\nraise K(1)\n", "app.py").uses["lib.K"]
    assert not use.identity and not use.other


def test_an_except_clause_names_the_class_for_its_identity() -> None:
    source = ("from lib import Gone, Other\n\ntry:\n    pass\nexcept (Gone, Other):\n"
              "    pass\nexcept Gone as e:\n    print(e)\n")
    uses = analyze_source(source, "app.py").uses
    assert not uses["lib.Gone"].other and not uses["lib.Other"].other
    assert uses["lib.Gone"].identity and uses["lib.Other"].identity


@pytest.mark.parametrize("use", ["f(K)", "x = [K]", "type(v) in make(K)", "isinstance(K, t)",
                                 "type(v) < K"])
def test_a_class_passed_on_still_is(use: str) -> None:
    source = f"from lib import K\n\ndef g(v, f, make, t):\n    {use}\n"
    assert analyze_source(source, "app.py").uses["lib.K"].other


def test_an_annotation_names_the_class_for_its_identity() -> None:
    source = ("from lib import K\n\ndef f(v: K) -> K:\n    x: K = K(v)\n    return x\n")
    use = analyze_source(source, "app.py").uses["lib.K"]
    assert not use.other and use.identity
    assert [c.positional for c in use.calls] == [1]
