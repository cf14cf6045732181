"""Members reached through a class's own instance attributes (``self.pool = Pool()``, then
``self.pool.get()``), and which member calls are recorded with their arguments."""

from __future__ import annotations

import textwrap

from siglink.python.usage import Usage, analyze_source


def analyzed(source: str) -> Usage:
    return analyze_source(textwrap.dedent(source), "lib.py")


ADAPTER = """
    import dep
    from dep import Pool

    class Adapter:
        def __init__(self, size):
            self.pool = None
            self.pool = Pool(size)
            self.conn: dep.Conn = connect()
            self.other = dep.Thing()
            self.count = 0

        def send(self, url):
            self.pool.urlopen("GET", url=url)
            self.conn.close()
            self.other.touch()
            self.count += 1

        def reset(self):
            self.other = dep.Thing()
            self.pool = None

        @staticmethod
        def helper(self):
            self.pool.not_an_instance()

        def inner(self):
            def later():
                self.pool.in_a_closure()
            return later
    """


def test_attributes_assigned_once_are_followed() -> None:
    usage = analyzed(ADAPTER)
    assert usage.members == {"dep.Pool|()": {"urlopen": "lib.py:14"},
                             "dep.Conn|!": {"close": "lib.py:15"}}
    assert usage.member_arguments["dep.Pool|()"]["urlopen"] == [(("str",), (("url", ""),))]


def test_what_is_not_followed_counts_as_written_names() -> None:
    """Assigned twice (``other``), reached from a staticmethod or a closure: not evident."""
    written = analyzed(ADAPTER).written
    assert {"touch", "not_an_instance", "in_a_closure"} <= written


def test_a_use_before_the_assignment_is_not_followed() -> None:
    usage = analyzed("""
        import dep

        class A:
            def early(self):
                self.pool.get()

            def setup(self):
                self.pool = dep.Pool()
        """)
    assert usage.members == {} and "get" in usage.written


def test_member_calls_unpacking_arguments_record_no_arguments() -> None:
    """``x.f(**kw)`` may pass any keyword: its arguments are not a call shape."""
    usage = analyzed("""
        import dep
        x = dep.P()
        x.f(1, **kw)
        x.g(*args)
        x.h(1, k=2)
        """)
    assert set(usage.members["dep.P|()"]) == {"f", "g", "h"}
    assert usage.member_arguments == {"dep.P|()": {"h": [(("int",), (("k", "int"),))]}}
