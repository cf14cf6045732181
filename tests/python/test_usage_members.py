"""Member-level usage: what the code reaches on objects whose type is evident, the names it
writes on others, and the evident types of arguments (siglink.python.usage)."""

from __future__ import annotations

import textwrap

import pytest

from siglink.python.usage import analyze_source


def members(source: str) -> dict[str, list[str]]:
    usage = analyze_source(textwrap.dedent(source), "app.py")
    return {receiver: sorted(names) for receiver, names in usage.members.items()}


@pytest.mark.parametrize(("source", "expected"), [
    ("from lib import K\nk = K()\nk.run(1)\n", {"lib.K|()": ["run"]}),
    ("import lib\ndef f(k: lib.K) -> None:\n    k.size\n", {"lib.K|!": ["size"]}),
    ("import lib\ndef f(k: lib.K | None) -> None:\n    k.size\n", {"lib.K|!": ["size"]}),
    ("from lib import K\nk: K = make()\nk.size\n", {"lib.K|!": ["size"]}),
    ("from lib import K\nwith K() as k:\n    k.read()\n",
     {"lib.K|()": ["__enter__", "__exit__"], "lib.K|()|.__enter__|()": ["read"]}),
    ("from lib import K\nfor x in K():\n    x.name\n",
     {"lib.K|()": ["__iter__"], "lib.K|()|iter": ["name"]}),
    ("from lib import K\nk = K()\n1 in k\nk[0]\nk[1] = 2\nlen(k)\nk + 1\n-k\nk()\n",
     {"lib.K|()": ["__add__", "__call__", "__contains__", "__getitem__", "__len__", "__neg__",
                   "__setitem__"]}),
    ("from lib import K\nK().client().get('/')\n",
     {"lib.K|()": ["client"], "lib.K|()|.client|()": ["get"]}),
    ("from lib import Base\nclass Mine(Base):\n    def run(self):\n"
     "        self.helper()\n        self.size\n        super().close()\n"
     "    def helper(self): ...\n",
     {"lib.Base|!": ["close", "helper", "run", "size"]}),
    # the code's own objects and literals are evident, and not a library's
    ("x = [1]\nx.append(2)\nclass C:\n    pass\nC().z\n", {}),
])
def test_members(source: str, expected: dict[str, list[str]]) -> None:
    assert members(source) == expected


def test_names_written_on_objects_of_unknown_type() -> None:
    usage = analyze_source("import lib\ndef f(k):\n    return k.put(1) + k.size\n", "app.py")
    assert usage.written == {"put", "size"}
    assert usage.members == {}


def test_a_rebound_name_is_not_evident() -> None:
    usage = analyze_source("from lib import K, L\nx = K()\nx = L()\nx.go()\n", "app.py")
    assert usage.members == {}
    assert usage.written == {"go"}


def test_argument_types() -> None:
    usage = analyze_source(textwrap.dedent("""
        from lib import f, V, S
        f(1, "a", [2], key=V("1"), other=g())
        S(">1").contains(V("2"))
        V("3") in S(">2")
        """), "app.py")
    assert usage.uses["lib.f"].arguments == [
        (("int", "str", "list"), (("key", "lib.V|()"), ("other", "")))]
    assert usage.member_arguments == {"lib.S|()": {
        "contains": [(("lib.V|()",), ())], "__contains__": [(("lib.V|()",), ())]}}


def test_super_init_is_a_call_of_the_base_constructor() -> None:
    usage = analyze_source(textwrap.dedent("""
        from lib import Base
        class Mine(Base):
            def __init__(self):
                super().__init__(1, flag=True)
        """), "app.py")
    [call] = usage.uses["lib.Base"].calls
    assert (call.positional, call.keywords) == (1, ("flag",))


@pytest.mark.parametrize(("source", "other"), [
    # only called, every argument seen: the recorded calls are all of them
    ("from lib import K\nk = K()\nk.run(1)\nk.run(x=2)\nK().client().get('/')\n", {}),
    # read, passed on, called with *args / **kw, or through the class: calls not all known
    ("from lib import K\nk = K()\nk.run(1)\nf = k.run\n", {"lib.K|()": ["run"]}),
    ("from lib import K\nk = K()\nk.run(*a)\nk.stop(**kw)\n", {"lib.K|()": ["run", "stop"]}),
    ("from lib import K\nk = K()\nlen(k)\n", {"lib.K|()": ["__len__"]}),
    ("from lib import K\nK.run(k, 1)\n", {}),
    # a subclass's override: the library calls it, how is not recorded here
    ("from lib import Base\nclass Mine(Base):\n    def run(self, x): ...\n",
     {"lib.Base|!": ["run"]}),
    # a call nested in the receiver does not hide the outer one
    ("from lib import K\nK().client(K().make(1)).get('/')\n", {}),
])
def test_members_reached_otherwise_than_by_calls(source: str, other: dict[str, list[str]]
                                                 ) -> None:
    usage = analyze_source(textwrap.dedent(source), "app.py")
    assert {r: sorted(n) for r, n in usage.member_other.items()} == other


def test_members_only_called_have_complete_calls() -> None:
    """``called_only``: members reached only by calls on evident instances, each call's
    arguments recorded; an override, a read, a ``*args`` call or the class's own attribute
    do not count."""
    from siglink.contracts.manifest import Export, ExportKind
    from siglink.contracts.signature import Signature
    from siglink.python.receivers import called_only

    members = {n: Export(f"lib.K.{n}", ExportKind.METHOD, signature=Signature.parse("(a)"))
               for n in ("run", "stop", "read", "size", "make")}
    k = Export("lib.K", ExportKind.CLASS, signature=Signature.parse("()"), members=members)
    usage = analyze_source(textwrap.dedent("""
        from lib import K
        k = K()
        k.run(1)
        k.stop(*args)
        k.read(2)
        f = k.read
        class Mine(K):
            def size(self, a): ...
        K.make
        """), "app.py")
    assert called_only(usage, {"lib.K": k}.get) == {k.digest: {"run"}}
