"""An attribute that became a property, for an application that assigns or deletes it
(docs/design.md §3.3 R6; docs/design-notes.md, "Link truth"): linked where the property has
a setter (and a deleter for ``del``), refused where it has none. The runtime is the oracle:
the application runs on the version linked, and fails with ``AttributeError`` when run
plainly (``PYTHONPATH``) on each version refused."""

from __future__ import annotations

import os
import subprocess
import sys
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
    versions,
)
from linkfixtures import siglink as cli

ATTRIBUTE = """
class Box:
    def __init__(self) -> None:
        self.size: int = 0
"""
SETTER = """
class Box:
    def __init__(self) -> None:
        self._size = 0

    @property
    def size(self) -> int:
        return self._size

    @size.setter
    def size(self, value: int) -> None:
        self._size = value
"""
READ_ONLY = """
class Box:
    def __init__(self) -> None:
        self._size = 0

    @property
    def size(self) -> int:
        return self._size
"""

ASSIGNS = """
import boxes

box = boxes.Box()
box.size = 3
print(box.size)
"""
DELETES = """
import boxes

box = boxes.Box()
box.size = 3
del box.size
print("deleted")
"""
READS = """
import boxes

print(boxes.Box().size)
"""


@pytest.fixture
def store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """``boxes`` 1.0 (a plain attribute), 1.1 (a property with a setter), 1.2 (a property
    without one)."""
    store = tmp_path / "store"
    install(capsys, store, *(
        make_wheel(tmp_path, "boxes", version, {"boxes/__init__.py": source})
        for version, source in (("1.0", ATTRIBUTE), ("1.1", SETTER), ("1.2", READ_ONLY))))
    return store


def plainly(store: Path, app: Path, version: str) -> subprocess.CompletedProcess[str]:
    """The application run by plain Python on ``boxes`` ``version`` as the store holds it."""
    found = [p for p in (store / "libs").rglob("boxes/__init__.py")
             if version in p.relative_to(store / "libs").parts]
    assert len(found) == 1, found
    return subprocess.run([sys.executable, str(app)], capture_output=True, text=True,
                          timeout=120, check=False,
                          env=dict(os.environ, PYTHONPATH=str(found[0].parent.parent)))


def test_an_assignment_links_the_property_with_a_setter(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app(tmp_path, ASSIGNS)
    build_app(capsys, store, app, "--against", "boxes==1.0")
    plan = plan_json(capsys, store, app)
    assert versions(plan) == {"boxes": "1.1"}
    assert refusals(plan, "boxes") == {"1.2": [("R6", "boxes.Box member size")]}
    [problem] = [p for r in plan["rejected"]["boxes"] for p in r["problems"]
                 if p["severity"] == "incompatible"]
    assert "the property has no setter" in problem["note"]
    ran = run(store, app)
    assert (ran.returncode, ran.stdout) == (0, "3\n"), ran.stderr
    # The oracle: on 1.2 the assignment fails, as the refusal said.
    failed = plainly(store, app, "1.2")
    assert failed.returncode == 1
    assert "AttributeError" in failed.stderr and "has no setter" in failed.stderr
    assert plainly(store, app, "1.1").stdout == "3\n"


def test_a_deletion_needs_a_deleter(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``del box.size``: 1.1's property has a setter but no deleter, so only 1.0 runs it."""
    app = make_app(tmp_path, DELETES)
    build_app(capsys, store, app, "--against", "boxes==1.0")
    plan = plan_json(capsys, store, app)
    assert versions(plan) == {"boxes": "1.0"}
    assert refusals(plan, "boxes") == {"1.1": [("R6", "boxes.Box member size")],
                                       "1.2": [("R6", "boxes.Box member size")]}
    ran = run(store, app)
    assert (ran.returncode, ran.stdout) == (0, "deleted\n"), ran.stderr
    for version in ("1.1", "1.2"):
        failed = plainly(store, app, version)
        assert failed.returncode == 1 and "AttributeError" in failed.stderr, failed.stderr
    assert "has no deleter" in plainly(store, app, "1.1").stderr


def test_a_read_links_the_newest(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app(tmp_path, READS)
    build_app(capsys, store, app, "--against", "boxes==1.0")
    assert versions(plan_json(capsys, store, app)) == {"boxes": "1.2"}
    ran = run(store, app)
    assert (ran.returncode, ran.stdout) == (0, "0\n"), ran.stderr


def test_an_application_built_on_the_setter_is_refused_where_it_was_removed(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Built against 1.1 (a property with a setter): 1.2 removed the setter."""
    app = make_app(tmp_path, ASSIGNS)
    build_app(capsys, store, app, "--against", "boxes==1.1")
    plan = plan_json(capsys, store, app)
    assert versions(plan) == {"boxes": "1.1"}
    assert refusals(plan, "boxes") == {"1.2": [("R6", "boxes.Box member size")]}


def test_diff_reports_the_removed_setter(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "diff", "--store", str(store), "--policy", "signature",
                       "boxes==1.1", "boxes==1.2")
    assert code == 1, out
    assert ("  boxes.Box: R6 member size: expected property with a setter, found property "
            "without a setter; the property lost its setter; a consumer that assigns it fails "
            "(incompatible)\n") in out
    code, out, _ = cli(capsys, "diff", "--store", str(store), "--policy", "signature",
                       "boxes==1.2", "boxes==1.1")
    assert code == 0, out  # a setter added
    assert "  boxes.Box: changed member size setter: was False, now True\n" in out


# Real releases: Werkzeug 2.3 made ``Response.charset`` (a class attribute in 2.2) a property
# with a setter, and ``test.Client.cookie_jar`` (an instance attribute) one without.
CHARSET_APP = """
from werkzeug.wrappers import Response

response = Response("hi")
response.charset = "latin-1"
print(response.charset)
"""
COOKIE_APP = """
from werkzeug.test import Client


def app(environ, start_response):
    start_response("200 OK", [])
    return [b""]


client = Client(app)
client.cookie_jar = None
print("no cookies")
"""


@pytest.fixture(scope="module")
def werkzeug_wheels(pypi: Any) -> list[Path]:
    return [pypi.fetch(spec) for spec in ("werkzeug==2.2.3", "werkzeug==2.3.8",
                                          "markupsafe==2.1.5")]


def _on_pythonpath(store: Path, app: Path, version: str) -> subprocess.CompletedProcess[str]:
    """``app`` run by plain Python on Werkzeug ``version`` and MarkupSafe from the store."""
    libs = store / "libs"
    dirs = [p.parent.parent for p in libs.rglob("werkzeug/__init__.py")
            if version in p.relative_to(libs).parts]
    dirs += [p.parent.parent for p in libs.rglob("markupsafe/__init__.py")]
    assert len(dirs) == 2, dirs
    return subprocess.run([sys.executable, str(app)], capture_output=True, text=True,
                          timeout=120, check=False,
                          env=dict(os.environ, PYTHONPATH=os.pathsep.join(map(str, dirs)),
                                   PYTHONWARNINGS="ignore"))


@pytest.mark.network
@pytest.mark.slow
def test_werkzeug_properties_as_the_runtime_takes_them(
    werkzeug_wheels: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    install(capsys, store, *werkzeug_wheels)
    charset = make_app(tmp_path, CHARSET_APP, "charset_app.py")
    build_app(capsys, store, charset, "--against", "werkzeug==2.2.3")
    plan = plan_json(capsys, store, charset)
    assert versions(plan)["werkzeug"] == "2.3.8", plan["rejected"]
    ran = run(store, charset)
    assert (ran.returncode, ran.stdout) == (0, "latin-1\n"), ran.stderr

    cookie = make_app(tmp_path, COOKIE_APP, "cookie_app.py")
    build_app(capsys, store, cookie, "--against", "werkzeug==2.2.3")
    plan = plan_json(capsys, store, cookie)
    assert versions(plan)["werkzeug"] == "2.2.3"
    assert refusals(plan, "werkzeug") == {"2.3.8": [("R6", "werkzeug.test.Client member "
                                                           "cookie_jar")]}
    ran = run(store, cookie)
    assert (ran.returncode, ran.stdout) == (0, "no cookies\n"), ran.stderr
    failed = _on_pythonpath(store, cookie, "2.3.8")
    assert failed.returncode == 1 and "AttributeError" in failed.stderr, failed.stderr
    assert "has no setter" in failed.stderr
    assert _on_pythonpath(store, charset, "2.3.8").stdout == "latin-1\n"
