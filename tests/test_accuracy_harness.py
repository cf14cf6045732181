"""The accuracy harness's own machinery (benchmarks/accuracy/run.py): real child interpreters
in the sandbox, real wheels, siglink's real recorder and linker. The harness's figures are
measured, not asserted; what is asserted is that its oracle and its comparison are right on a
pair whose truth is known."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from siglink.demo.wheels import make_wheel

HARNESS = Path(__file__).resolve().parent.parent / "benchmarks" / "accuracy"
CACHE = Path(os.environ.get("SIGLINK_TEST_CACHE", Path.home() / ".cache" / "siglink-tests"))

OLD = '''
def same(a, b=1, *, flag=False):
    return a


def loses_keyword(a, *, strict=False):
    return a


class Thing:
    def __init__(self, name, size=0):
        self.name = name


def shifted(a, b=1):
    return a

VALUE = 3
'''

NEW = '''
def same(a, b=1, *, flag=False):
    return a


def loses_keyword(a):
    return a


class Thing:
    def __init__(self, name, size=0):
        self.name = name


def shifted(a, inserted=0, b=1):
    return a
'''


def _harness() -> ModuleType:
    spec = importlib.util.spec_from_file_location("accuracy_run", HARNESS / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["accuracy_run"] = module
    spec.loader.exec_module(module)
    return module


def _run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    wheels = tmp_path / "wheels"
    old = make_wheel(wheels, "acctoy", "1.0", {"acctoy/__init__.py": OLD})
    new = make_wheel(wheels, "acctoy", "1.1", {"acctoy/__init__.py": NEW})
    corpus = tmp_path / "corpus.toml"
    corpus.write_text(
        "[[project]]\n"
        'name = "acctoy"\n'
        'versions = ["1.0", "1.1"]\n'
        f'wheels = {{"1.0" = "{old}", "1.1" = "{new}"}}\n\n'
        "[[project]]\n"
        'name = "iniconfig"\n'
        'versions = ["1.1.1", "2.0.0"]\n',
        encoding="utf-8")
    code = _harness().main(["--corpus", str(corpus), "--json", "--all",
                            "--cache", str(CACHE / "accuracy")])
    assert code == 0
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    return report


@pytest.mark.network
@pytest.mark.slow
def test_oracle_and_linker_on_a_known_pair(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    report = _run(tmp_path, capsys)
    assert report["failures"] == []
    assert report["projects"] == 2 and report["pairs"] == 2
    assert report["sandbox"] in ("bwrap", "unshare")
    toy = {(o["path"], o["use"]): o for o in report["outcomes"] if o["project"] == "acctoy"}

    # An unchanged function: every call shape of the old signature binds, and siglink agrees.
    same = {use: o for (path, use), o in toy.items() if path == "acctoy.same"}
    assert set(same) == {"from acctoy import same", "same(_)", "same(_, _)", "same(_, b=_)",
                         "same(_, flag=_)", "same(a=_)"}
    assert all(o["runtime_ok"] and o["siglink_ok"] for o in same.values())

    # A removed keyword: Python's own binding fails, and siglink refuses the call that passes
    # it; the calls that do not pass it still bind and are still accepted.
    removed = toy[("acctoy.loses_keyword", "loses_keyword(_, strict=_)")]
    assert not removed["runtime_ok"]
    assert "unexpected keyword argument 'strict'" in removed["runtime_error"]
    assert not removed["siglink_ok"] and removed["verdict"] == "agree"
    kept = toy[("acctoy.loses_keyword", "loses_keyword(_)")]
    assert kept["runtime_ok"] and kept["siglink_ok"]

    # A removed name: it no longer resolves, and siglink refuses it (P1).
    gone = toy[("acctoy.VALUE", "from acctoy import VALUE")]
    assert not gone["runtime_ok"]
    assert gone["runtime_error"] == "ImportError: cannot import name 'VALUE' from 'acctoy'"
    assert not gone["siglink_ok"] and gone["rules"] == ["P1"]

    # An inserted parameter: the call still binds, but its second argument now lands in
    # another parameter (a changed meaning, which is a failure); siglink refuses it (P4).
    moved = toy[("acctoy.shifted", "shifted(_, _)")]
    assert not moved["runtime_ok"] and moved["verdict"] == "agree"
    assert moved["runtime_error"] == "changed meaning: argument 2 now binds to inserted (was b)"
    assert "P4" in moved["rules"]
    assert toy[("acctoy.shifted", "shifted(_, b=_)")]["runtime_ok"]

    # A class: its constructor's shapes, bound through inspect.signature(cls).
    assert toy[("acctoy.Thing", "Thing(_, size=_)")]["runtime_ok"]

    # The real project was measured too, and the totals add up.
    assert any(o["project"] == "iniconfig" for o in report["outcomes"])
    assert report["uses"] == len(report["outcomes"])
    assert report["agree"] + report["false_links"] + report["false_refusals"] == report["uses"]


def test_call_shapes_follow_the_signature() -> None:
    import inspect

    spec = importlib.util.spec_from_file_location("accuracy_oracle", HARNESS / "_oracle.py")
    assert spec is not None and spec.loader is not None
    oracle = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(oracle)

    def f(a: int, /, b: int, c: int = 0, *args: int, d: int, e: int = 0, **kw: int) -> None:
        pass

    shapes = oracle.call_shapes(inspect.signature(f))
    assert shapes == [
        (2, ("d",)), (3, ("d",)), (4, ("d",)),   # positional prefixes, defaults omitted first
        (2, ("c", "d")), (2, ("d", "e")),        # each optional parameter by keyword
        (1, ("b", "d")),                         # the required ones by keyword
        (2, ("d", oracle.EXTRA_KEYWORD)),        # a keyword into **kw
    ]
