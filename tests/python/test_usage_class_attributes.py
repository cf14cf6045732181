"""A library's class held in the consumer's own class attribute (``url_map_class = Map``) and
called through the class (``self.url_map_class()``), and a subclass whose ``__init__``
forwards its callers' arguments to the library base."""

from __future__ import annotations

import textwrap

from siglink.contracts.manifest import CallShape
from siglink.python.usage import Usage, analyze_source


def analyzed(source: str, *more: str) -> Usage:
    usage = analyze_source(textwrap.dedent(source), "app.py")
    for n, other in enumerate(more):
        usage.merge(analyze_source(textwrap.dedent(other), f"other{n}.py"))
    return usage


APP = """
    from werkzeug.routing import Map, Rule
    from werkzeug.exceptions import Aborter
    import werkzeug.test

    class App:
        url_map_class = Map
        url_rule_class = Rule
        aborter_class: type = Aborter
        client_class = werkzeug.test.Client

        def __init__(self):
            self.url_map = self.url_map_class()
            self.url_map.add(1)

        def add(self, rule, **options):
            return self.url_rule_class(rule, methods=["GET"], **options)

        @classmethod
        def make_aborter(cls):
            return cls.aborter_class()

        def client(self):
            return type(self).client_class(self, True)
    """


def test_calls_through_the_class_attribute_are_calls_of_the_library_class() -> None:
    usage = analyzed(APP)
    assert usage.uses["werkzeug.routing.Map"].calls == [CallShape(0)]
    assert usage.uses["werkzeug.routing.Rule"].calls == [
        CallShape(1, ("methods",), star_kwargs=True)]
    assert usage.uses["werkzeug.routing.Rule"].arguments == [(("",), (("methods", "list"),))]
    assert usage.uses["werkzeug.exceptions.Aborter"].calls == [CallShape(0)]
    assert usage.uses["werkzeug.test.Client"].calls == [CallShape(2)]
    assert not any(usage.uses[p].other for p in (
        "werkzeug.routing.Map", "werkzeug.routing.Rule", "werkzeug.exceptions.Aborter",
        "werkzeug.test.Client"))


def test_the_result_is_an_instance_of_the_library_class() -> None:
    """``self.url_map = self.url_map_class()`` gives ``self.url_map`` the type Map."""
    usage = analyzed(APP)
    assert usage.members["werkzeug.routing.Map|()"] == {"add": "app.py:14"}
    assert "add" not in usage.written


def test_through_the_class_name_and_an_own_subclass() -> None:
    usage = analyzed("""
        from lib import K
        class Base:
            k_class = K
        class Sub(Base):
            def make(self):
                return self.k_class(1)
        def build():
            return Base.k_class(1, 2)
        """)
    assert usage.uses["lib.K"].calls == [CallShape(1), CallShape(2)]
    assert not usage.uses["lib.K"].other


def test_read_without_calling_it_is_passed_on() -> None:
    usage = analyzed("""
        from lib import K
        class A:
            k_class = K
            def get(self):
                return self.k_class
        """)
    assert usage.uses["lib.K"].other


def test_read_on_an_object_of_unknown_type_anywhere_is_passed_on() -> None:
    """``app.k_class`` in another module may be the attribute: its calls there are unseen."""
    usage = analyzed("""
        from lib import K
        class A:
            k_class = K
            def make(self):
                return self.k_class()
        """, """
        def elsewhere(app):
            return app.k_class("unseen", "arguments")
        """)
    assert usage.uses["lib.K"].other


def test_assigned_elsewhere_is_not_followed() -> None:
    """An attribute the class's code also assigns may hold anything when called."""
    usage = analyzed("""
        from lib import K
        class A:
            k_class = K
            def configure(self, other):
                self.k_class = other
            def make(self):
                return self.k_class()
        """)
    assert usage.uses["lib.K"].other
    assert usage.uses["lib.K"].calls == []


def test_bound_twice_in_the_class_body_is_passed_on() -> None:
    usage = analyzed("""
        from lib import K, L
        class A:
            k_class = K
            if True:
                k_class = L
            def make(self):
                return self.k_class()
        """)
    assert usage.uses["lib.K"].other and usage.uses["lib.K"].calls == []


def test_a_subclass_defining_init_reaches_the_base_constructor_only_through_super() -> None:
    """``class B(lib.Base)`` with its own ``__init__``: constructing ``B`` runs that
    ``__init__``, so the calls recorded there (``super().__init__(path, *args, **kwargs)``)
    are the base constructor's complete record; without one, ``B(...)`` calls the base's
    constructor wherever it is called, and the base counts as passed on."""
    usage = analyzed("""
        import lib
        class B(lib.Base):
            def __init__(self, app, path="/", *args, **kwargs):
                super().__init__(path, *args, **kwargs)
        class C(lib.Other):
            pass
        """)
    base = usage.uses["lib.Base"]
    assert base.calls == [CallShape(1, star_args=True, star_kwargs=True)]
    assert not base.other
    assert usage.uses["lib.Other"].other


def test_assigned_and_deleted_members_are_marked() -> None:
    """``name=`` beside ``name`` when the code assigns the member, ``name-`` when it deletes
    it (an attribute that became a property without a setter or deleter breaks that, not a
    read)."""
    usage = analyzed("""
        from lib import Client
        c = Client()
        print(c.jar)
        c.mode = 1
        del c.cache
        unknown().hook = None
        del unknown().gone
        """)
    assert set(usage.members["lib.Client|()"]) == {"jar", "mode", "mode=", "cache", "cache-"}
    assert {"hook", "hook=", "gone", "gone-"} <= usage.written


def test_members_reached_only_optionally_are_not_checked() -> None:
    """In a branch of a feature test (``hasattr``), as an optional name is: Flask 2.2's test
    client reads ``cookie_jar`` only where Werkzeug < 2.3 lacks ``_add_cookies_to_wsgi``."""
    usage = analyzed("""
        from lib import Client
        class Mine(Client):
            def go(self):
                if hasattr(self, "_add_cookies_to_wsgi"):
                    self._add_cookies_to_wsgi({})
                else:
                    self.cookie_jar.inject_wsgi({})
                self.open("/")
        """)
    assert set(usage.members["lib.Client|!"]) == {"go", "open"}
    assert "cookie_jar" in usage.optional_members["lib.Client|!"]
