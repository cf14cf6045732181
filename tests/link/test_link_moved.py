"""Link truth on real Werkzeug releases, for what Flask 2.2.5 does with Werkzeug: a library
class held in the consumer's class attribute and called through it, a subclass forwarding its
callers' arguments to the library's constructor, and a class that moved between public
modules. Each case builds against one release, plans, and really runs the application on
another that the linker must accept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from linkfixtures import (
    build_app,
    install,
    make_app,
    open_problems,
    plan_json,
    run,
    siglink,
    versions,
)

pytestmark = [pytest.mark.network, pytest.mark.slow]

ROUTING_APP = """
import werkzeug.test
from werkzeug.routing import Map, Rule


class App:
    url_map_class = Map
    url_rule_class = Rule

    def __init__(self):
        self.url_map = self.url_map_class()
        self.url_map.add(self.url_rule_class("/", endpoint="index"))


class Builder(werkzeug.test.EnvironBuilder):
    def __init__(self, app, path="/", base_url=None, *args, **kwargs):
        self.app = app
        super().__init__(path, base_url, *args, **kwargs)


app = App()
endpoint, _ = app.url_map.bind("localhost").match("/")
print(endpoint, Builder(app, "/x", method="POST").method)
"""

HEADERS_APP = """
from werkzeug.datastructures import Headers

headers = Headers([("A", "1"), ("B", "2")])
first = headers[0:1]
copy = headers.copy()
print(type(first).__name__, len(first), copy.get("B"))
"""


@pytest.fixture(scope="module")
def werkzeug_wheels(pypi: Any) -> dict[str, Path]:
    return {spec: pypi.fetch(spec) for spec in (
        "werkzeug==2.2.3", "werkzeug==2.3.8", "werkzeug==3.0.3", "markupsafe==2.1.5")}


def _store(tmp_path: Path, capsys: pytest.CaptureFixture[str], wheels: dict[str, Path],
           *specs: str) -> Path:
    store = tmp_path / "store"
    install(capsys, store, wheels["markupsafe==2.1.5"], *(wheels[s] for s in specs))
    return store


def _yank(capsys: pytest.CaptureFixture[str], store: Path, spec: str) -> None:
    code, _, err = siglink(capsys, "yank", spec, "--store", str(store), "--reason", "test")
    assert code == 0, err


def test_class_attributes_and_forwarded_arguments(
    werkzeug_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Built against Werkzeug 3.0.3, whose ``Map`` and ``EnvironBuilder`` dropped the
    ``charset`` parameter 2.3.8 has in the middle of their positional parameters. The app
    calls ``Map()`` with no argument (through ``url_map_class``) and forwards its callers'
    arguments to ``EnvironBuilder`` after two explicit ones: 2.3.8 runs it."""
    store = _store(tmp_path, capsys, werkzeug_wheels, "werkzeug==2.3.8", "werkzeug==3.0.3")
    app = make_app(tmp_path, ROUTING_APP)
    build_app(capsys, store, app, "--against", "werkzeug==3.0.3")
    manifest = (app.parent / "app.siglink.json").read_text(encoding="utf-8")
    assert '"path": "werkzeug.routing.Map"' in manifest
    plan = plan_json(capsys, store, app)
    assert versions(plan)["werkzeug"] == "3.0.3" and not open_problems(plan, "werkzeug")
    _yank(capsys, store, "werkzeug==3.0.3")
    plan = plan_json(capsys, store, app)
    assert versions(plan)["werkzeug"] == "2.3.8"
    ran = run(store, app)
    assert (ran.returncode, ran.stdout) == (0, "index POST\n"), ran.stderr


def test_a_forwarded_tail_is_refused_under_strict(
    werkzeug_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Under ``strict`` the typed contract decides: a parameter reordered beyond the explicit
    arguments, which only the forwarded ones could reach, refuses 2.3.8."""
    store = _store(tmp_path, capsys, werkzeug_wheels, "werkzeug==2.3.8", "werkzeug==3.0.3")
    app = make_app(tmp_path, ROUTING_APP)
    build_app(capsys, store, app, "--against", "werkzeug==3.0.3")
    _yank(capsys, store, "werkzeug==3.0.3")
    code, out, err = siglink(capsys, "plan", str(app), "--store", str(store), "--policy",
                             "strict")
    assert code == 127
    assert "P4 werkzeug.test.EnvironBuilder constructor param" in out + err


@pytest.mark.parametrize(("built", "other"), [
    ("werkzeug==3.0.3", "werkzeug==2.2.3"),  # annotations name werkzeug.datastructures.headers
    ("werkzeug==2.2.3", "werkzeug==3.0.3"),  # annotations name werkzeug.datastructures
], ids=["built on 3.0, runs on 2.2", "built on 2.2, runs on 3.0"])
def test_a_class_that_moved_module_keeps_its_identity(
    built: str, other: str, werkzeug_wheels: dict[str, Path], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Werkzeug 3.0 defines ``Headers`` in ``werkzeug.datastructures.headers`` and re-exports
    it from ``werkzeug.datastructures``, where 2.2 defines it: ``Headers.__getitem__(slice)``
    and ``copy()`` return the same class in both."""
    store = _store(tmp_path, capsys, werkzeug_wheels, built, other)
    app = make_app(tmp_path, HEADERS_APP)
    build_app(capsys, store, app, "--against", built)
    _yank(capsys, store, built)
    plan = plan_json(capsys, store, app)
    assert versions(plan)["werkzeug"] == other.partition("==")[2]
    ran = run(store, app)
    assert (ran.returncode, ran.stdout) == (0, "Headers 1 2\n"), ran.stderr
