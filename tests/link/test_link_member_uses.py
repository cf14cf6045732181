"""How a class member is used decides what of its changes matter (DESIGN §3.6). One used
only by a name written on an object of unknown type may be reached, but nothing tells how
it is called: what depends on the calls is unverified (accepted, refused under ``strict``);
what breaks every use (the member gone, no longer callable) still refuses. One only ever
called on evident instances has all its calls recorded: they decide (usage mode). Each case
builds, plans and runs the application."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from linkfixtures import (
    build_app,
    install,
    make_app,
    make_wheel,
    plan_json,
    refusals,
    run,
    siglink,
    versions,
)


def written(app: Path, path: str) -> list[str]:
    """The members of ``path`` the manifest records as used only through the fallback."""
    manifest = json.loads(app.with_suffix(".siglink.json").read_text(encoding="utf-8"))
    [found] = [i for items in manifest["imports"].values() for i in items if i["path"] == path]
    return list(found.get("written", ()))


SHELF_1 = """
class Shelf:
    def __init__(self) -> None:
        self.items: list[str] = []

    def put(self, item: str) -> None:
        self.items.append(item)

    def count(self) -> int:
        return len(self.items)
"""
# 2.0: put's parameter renamed (P16 for a caller passing it by keyword); count removed.
SHELF_2 = """
class Shelf:
    def __init__(self) -> None:
        self.items: list[str] = []

    def put(self, thing: str) -> None:
        self.items.append(thing)
"""

UNTYPED_PUT = """
import shelves

def fill(shelf):  # no annotation: what shelf is cannot be seen
    shelf.put("a")
    return shelf.items

print(fill(shelves.Shelf()))
"""


@pytest.fixture
def shelves(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    store = tmp_path / "store"
    install(capsys, store,
            make_wheel(tmp_path, "shelves", "1.0", {"shelves/__init__.py": SHELF_1}),
            make_wheel(tmp_path, "shelves", "2.0", {"shelves/__init__.py": SHELF_2}))
    return store


def test_a_change_that_depends_on_the_calls_is_unverified(
    tmp_path: Path, shelves: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app(tmp_path, UNTYPED_PUT)
    build_app(capsys, shelves, app, "--against", "shelves==1.0")
    assert written(app, "shelves.Shelf") == ["items", "put"]
    plan = plan_json(capsys, shelves, app)
    assert versions(plan) == {"shelves": "2.0"}
    [link] = plan["links"].values()
    assert any("put used only by a name written" in u
               for u in link["verdict"]["unverified"]), link
    ran = run(shelves, app)
    assert (ran.returncode, ran.stdout) == (0, "['a']\n"), ran.stderr
    strict = plan_json(capsys, shelves, app, "--policy", "strict")
    assert versions(strict) == {"shelves": "1.0"}
    assert refusals(strict, "shelves") == {"2.0": [("P16", "shelves.Shelf member put param item")]}


def test_a_removed_member_still_refuses(
    tmp_path: Path, shelves: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app(tmp_path, """
        import shelves

        def size(shelf):
            return shelf.count()

        print(size(shelves.Shelf()))
        """)
    build_app(capsys, shelves, app, "--against", "shelves==1.0")
    assert written(app, "shelves.Shelf") == ["count"]
    plan = plan_json(capsys, shelves, app)
    assert versions(plan) == {"shelves": "1.0"}
    assert refusals(plan, "shelves") == {"2.0": [("P1", "shelves.Shelf member count")]}
    ran = run(shelves, app)
    assert (ran.returncode, ran.stdout) == (0, "0\n"), ran.stderr


def test_a_member_reached_through_an_instance_keeps_its_calls(
    tmp_path: Path, shelves: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same member reached with an evident type is judged by its recorded calls."""
    app = make_app(tmp_path, """
        import shelves
        shelf = shelves.Shelf()
        shelf.put(item="a")
        print(shelf.items)
        """)
    build_app(capsys, shelves, app, "--against", "shelves==1.0")
    assert written(app, "shelves.Shelf") == []
    plan = plan_json(capsys, shelves, app)
    assert versions(plan) == {"shelves": "1.0"}
    assert refusals(plan, "shelves") == {"2.0": [("P16", "shelves.Shelf member put param item")]}
    ran = run(shelves, app)
    assert (ran.returncode, ran.stdout) == (0, "['a']\n"), ran.stderr


def test_a_member_only_called_positionally_takes_a_renamed_parameter(
    tmp_path: Path, shelves: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app(tmp_path, """
        import shelves
        shelf = shelves.Shelf()
        shelf.put("a")
        print(shelf.items)
        """)
    build_app(capsys, shelves, app, "--against", "shelves==1.0")
    plan = plan_json(capsys, shelves, app)
    assert versions(plan) == {"shelves": "2.0"}
    ran = run(shelves, app)
    assert (ran.returncode, ran.stdout) == (0, "['a']\n"), ran.stderr


@pytest.mark.network
@pytest.mark.slow
def test_markupsafe_join_called_positionally(
    pypi: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """MarkupSafe 3.0 renamed ``Markup.join``'s ``seq`` to a positional-only ``iterable``
    (P16 for a keyword caller); an app built against 2.1.5 that calls it positionally on a
    Markup links 3.0.2 and runs there."""
    store = tmp_path / "store"
    install(capsys, store, pypi.fetch("markupsafe==2.1.5"), pypi.fetch("markupsafe==3.0.2"))
    app = make_app(tmp_path, """
        from markupsafe import Markup
        print(Markup(", ").join(["<a>", Markup("<b>")]))
        """)
    build_app(capsys, store, app, "--against", "markupsafe==2.1.5")
    plan = plan_json(capsys, store, app)
    assert versions(plan) == {"markupsafe": "3.0.2"}
    ran = run(store, app)
    assert (ran.returncode, ran.stdout) == (0, "&lt;a&gt;, <b>\n"), ran.stderr


@pytest.mark.network
@pytest.mark.slow
def test_markupsafe_rsplit_written_on_an_untyped_object(
    pypi: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """MarkupSafe 3.0 annotates ``Markup.rsplit``'s ``maxsplit`` as ``SupportsIndex``, 2.1 as
    ``int`` (P11 by the contract). An app that writes ``x.rsplit("/", 1)`` on an untyped ``x``
    may call it on a Markup, but how is not known: 2.1.5 is accepted, unverified."""
    store = tmp_path / "store"
    install(capsys, store, pypi.fetch("markupsafe==2.1.5"), pypi.fetch("markupsafe==3.0.4"))
    app = make_app(tmp_path, """
        from markupsafe import Markup

        def last(x):
            return x.rsplit("/", 1)[-1]

        print(Markup("<i>%s</i>") % last("a/<b>"))
        """)
    build_app(capsys, store, app, "--against", "markupsafe==3.0.4")
    assert "rsplit" in written(app, "markupsafe.Markup")
    assert versions(plan_json(capsys, store, app)) == {"markupsafe": "3.0.4"}
    # Without 3.0.4, the app built against it links 2.1.5 and runs there.
    code, _, err = siglink(capsys, "yank", "markupsafe==3.0.4", "--reason", "test",
                           "--store", str(store))
    assert code == 0, err
    plan = plan_json(capsys, store, app)
    assert versions(plan) == {"markupsafe": "2.1.5"}
    [link] = plan["links"].values()
    assert any("rsplit used only by a name written" in u
               for u in link["verdict"]["unverified"]), link
    ran = run(store, app)
    assert (ran.returncode, ran.stdout) == (0, "<i>&lt;b&gt;</i>\n"), ran.stderr


@pytest.mark.network
@pytest.mark.slow
def test_markupsafe_capitalize_method_and_callable_attribute(
    pypi: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """MarkupSafe 2.1 binds ``Markup.capitalize`` to a factory's callable, 3.0 defines a
    method: an app calling ``Markup(...).capitalize()`` runs on both, built against either."""
    store = tmp_path / "store"
    install(capsys, store, pypi.fetch("markupsafe==2.1.5"), pypi.fetch("markupsafe==3.0.2"))
    app = make_app(tmp_path, """
        from markupsafe import Markup
        print(Markup("<i>hello</i>").capitalize())
        """)
    build_app(capsys, store, app, "--against", "markupsafe==2.1.5")
    assert versions(plan_json(capsys, store, app)) == {"markupsafe": "3.0.2"}
    ran = run(store, app)
    assert (ran.returncode, ran.stdout) == (0, "<i>hello</i>\n"), ran.stderr
    build_app(capsys, store, app, "--against", "markupsafe==3.0.2")
    code, _, err = siglink(capsys, "yank", "markupsafe==3.0.2", "--reason", "test",
                           "--store", str(store))
    assert code == 0, err
    assert versions(plan_json(capsys, store, app)) == {"markupsafe": "2.1.5"}
    ran = run(store, app)
    assert (ran.returncode, ran.stdout) == (0, "<i>hello</i>\n"), ran.stderr


@pytest.mark.network
@pytest.mark.slow
def test_markupsafe_has_html_protocols_are_the_same_type(
    pypi: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``Markup.join`` takes ``Iterable[HasHTML | str]`` in MarkupSafe 2.1 and
    ``Iterable[_HasHTML | str]`` in 3.0: two Protocols with the one member
    ``__html__(self) -> str``, the same type (structurally), so no P11 either way."""
    store = tmp_path / "store"
    install(capsys, store, pypi.fetch("markupsafe==2.1.5"), pypi.fetch("markupsafe==3.0.2"))
    app = make_app(tmp_path, """
        from markupsafe import Markup
        print(Markup(", ").join(["<a>", Markup("<b>")]))
        """)
    build_app(capsys, store, app, "--against", "markupsafe==3.0.2")
    code, _, err = siglink(capsys, "yank", "markupsafe==3.0.2", "--reason", "test",
                           "--store", str(store))
    assert code == 0, err
    plan = plan_json(capsys, store, app)
    assert versions(plan) == {"markupsafe": "2.1.5"}
    [link] = plan["links"].values()
    assert [p for p in link["verdict"]["problems"] if p["rule"] == "P11"] == [], link
    ran = run(store, app)
    assert (ran.returncode, ran.stdout) == (0, "&lt;a&gt;, <b>\n"), ran.stderr
