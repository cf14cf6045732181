"""Link truth (DESIGN §3.6): the linker refuses a version exactly when the application's
recorded use would fail there, and accepts every version on which it still works. Each case
builds, plans and really runs the application on the version linked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from linkfixtures import build_app, install, make_app, make_wheel, plan_json, siglink


def run(store: Path, app: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "siglink", "run", "--store", str(store),
                           str(app)], capture_output=True, text=True, timeout=300,
                          check=False, env=dict(os.environ, PYTHONWARNINGS="ignore"))


def versions(plan: dict[str, Any]) -> dict[str, str]:
    return {name: link["version"] for name, link in plan["links"].items()}


def rejected(plan: dict[str, Any], name: str) -> dict[str, list[tuple[str, str]]]:
    """Each refused version's problems that are not harmless: (rule, path)."""
    return {r["version"]: [(p["rule"], p["path"]) for p in r.get("problems", ())
                           if p["severity"] != "harmless"]
            for r in plan["rejected"].get(name, ())}


# -- a class whose members the application does not all use ----------------------------------

BOX_1 = """
class Box:
    def __init__(self) -> None:
        self.items: list[int] = []

    def put(self, x: int) -> None:
        self.items.append(x)

    def size(self) -> int:
        return len(self.items)

    @classmethod
    def make(cls) -> "Box":
        return cls()
"""
# 2.0: size became a property, make a staticmethod; put is unchanged.
BOX_2 = """
class Box:
    def __init__(self) -> None:
        self.items: list[int] = []

    def put(self, x: int) -> None:
        self.items.append(x)

    @property
    def size(self) -> int:
        return len(self.items)

    @staticmethod
    def make() -> "Box":
        return Box()
"""


@pytest.fixture
def boxes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    store = tmp_path / "store"
    install(capsys, store,
            make_wheel(tmp_path, "boxes", "1.0", {"boxes/__init__.py": BOX_1}),
            make_wheel(tmp_path, "boxes", "2.0", {"boxes/__init__.py": BOX_2}))
    return store


def test_a_member_the_app_never_uses_does_not_refuse(
    tmp_path: Path, boxes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app(tmp_path, """
        from boxes import Box
        box = Box.make()
        box.put(3)
        print(box.items)
        """)
    build_app(capsys, boxes, app, "--against", "boxes==1.0")
    plan = plan_json(capsys, boxes, app)
    assert versions(plan) == {"boxes": "2.0"}
    ran = run(boxes, app)
    assert (ran.returncode, ran.stdout) == (0, "[3]\n"), ran.stderr


def test_a_member_the_app_uses_through_an_instance_still_refuses(
    tmp_path: Path, boxes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app(tmp_path, """
        from boxes import Box
        box = Box()
        box.put(3)
        print(box.size())
        """)
    build_app(capsys, boxes, app, "--against", "boxes==1.0")
    plan = plan_json(capsys, boxes, app)
    assert versions(plan) == {"boxes": "1.0"}
    assert rejected(plan, "boxes") == {"2.0": [("R6", "boxes.Box member size")]}
    ran = run(boxes, app)
    assert (ran.returncode, ran.stdout) == (0, "1\n"), ran.stderr


def test_an_unevident_receiver_counts_every_name_written(
    tmp_path: Path, boxes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app(tmp_path, """
        import boxes

        def fill(box):  # no annotation: what box is cannot be seen
            box.put(1)
            return box.size()

        print(fill(boxes.Box()))
        """)
    build_app(capsys, boxes, app, "--against", "boxes==1.0")
    plan = plan_json(capsys, boxes, app)
    assert versions(plan) == {"boxes": "1.0"}
    ran = run(boxes, app)
    assert (ran.returncode, ran.stdout) == (0, "1\n"), ran.stderr


def test_classmethod_to_staticmethod_is_the_same_callable(
    tmp_path: Path, boxes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app(tmp_path, """
        import boxes
        print(type(boxes.Box.make()).__name__)
        """)
    build_app(capsys, boxes, app, "--against", "boxes==1.0")
    plan = plan_json(capsys, boxes, app)
    assert versions(plan) == {"boxes": "2.0"}
    ran = run(boxes, app)
    assert (ran.returncode, ran.stdout) == (0, "Box\n"), ran.stderr


# -- enums and auto() -------------------------------------------------------------------------

COLORS = {
    "1.0": "from enum import Enum, auto\nclass Color(Enum):\n    RED = auto()\n"
           "    GREEN = auto()\n",
    # BLUE added at the end: RED and GREEN keep their values
    "2.0": "from enum import Enum, auto\nclass Color(Enum):\n    RED = auto()\n"
           "    GREEN = auto()\n    BLUE = auto()\n",
    # BLUE inserted first: every auto() value moves
    "3.0": "from enum import Enum, auto\nclass Color(Enum):\n    BLUE = auto()\n"
           "    RED = auto()\n    GREEN = auto()\n",
}


@pytest.fixture
def colors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    store = tmp_path / "store"
    install(capsys, store, *(make_wheel(tmp_path, "colors", v, {"colors/__init__.py": src})
                             for v, src in COLORS.items()))
    return store


def test_auto_values_are_evaluated(
    tmp_path: Path, colors: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app(tmp_path, """
        from colors import Color
        print(Color.GREEN.value)
        """)
    build_app(capsys, colors, app, "--against", "colors==1.0")
    plan = plan_json(capsys, colors, app)
    assert versions(plan) == {"colors": "2.0"}
    assert rejected(plan, "colors") == {"3.0": [("P23", "colors.Color member GREEN")]}
    ran = run(colors, app)
    assert (ran.returncode, ran.stdout) == (0, "2\n"), ran.stderr


def test_an_enum_member_the_app_never_names_may_go(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    install(capsys, store,
            make_wheel(tmp_path, "modes", "1.0", {"modes/__init__.py": (
                "import enum\nclass Mode(enum.Enum):\n    READ = 'r'\n    OLD = 'o'\n")}),
            make_wheel(tmp_path, "modes", "2.0", {"modes/__init__.py": (
                "import enum\nclass Mode(enum.Enum):\n    READ = 'r'\n")}))
    uses_read = make_app(tmp_path, "import modes\nprint(modes.Mode.READ.value)\n", "read.py")
    iterates = make_app(tmp_path, "import modes\nprint([m.value for m in modes.Mode])\n",
                        "every.py")
    for app, version, out in ((uses_read, "2.0", "r\n"), (iterates, "1.0", "['r', 'o']\n")):
        build_app(capsys, store, app, "--against", "modes==1.0")
        assert versions(plan_json(capsys, store, app)) == {"modes": version}, app.name
        ran = run(store, app)
        assert (ran.returncode, ran.stdout) == (0, out), ran.stderr


# -- real releases ----------------------------------------------------------------------------

@pytest.mark.network
@pytest.mark.slow
def test_werkzeug_version_served_by_module_getattr(
    pypi: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Werkzeug 3.0 serves ``__version__`` through a module ``__getattr__`` (with a warning);
    3.1 removed it: an app printing it runs on 3.0.3 and would die on 3.1.3."""
    store = tmp_path / "store"
    install(capsys, store, pypi.fetch("markupsafe==2.1.5"), pypi.fetch("werkzeug==3.0.3"),
            pypi.fetch("werkzeug==3.1.3"))
    app = make_app(tmp_path, "import werkzeug\nprint(werkzeug.__version__)\n")
    built = build_app(capsys, store, app)
    assert built["against"]["werkzeug"] == "3.0.3"
    plan = plan_json(capsys, store, app)
    assert versions(plan)["werkzeug"] == "3.0.3"
    assert rejected(plan, "werkzeug") == {"3.1.3": [("P1", "werkzeug.__version__")]}
    code, out, _ = siglink(capsys, "plan", str(app), "--store", str(store))
    assert code == 0
    assert "werkzeug 3.1.3 refused: P1 werkzeug.__version__" in out
    ran = run(store, app)
    assert (ran.returncode, ran.stdout) == (0, "3.0.3\n"), ran.stderr


FLASK_APP = """
from flask import Flask, jsonify

app = Flask(__name__)
app.config["TESTING"] = True


@app.route("/")
def index():
    return jsonify(ok=True)


with app.test_client() as client:
    response = client.get("/")
    print(response.status_code, response.get_json())
"""


@pytest.fixture(scope="module")
def flask_wheels(pypi: Any) -> list[Path]:
    return [pypi.fetch(spec) for spec in (
        "flask==2.2.5", "flask==3.0.3", "werkzeug==3.0.3", "werkzeug==3.1.3",
        "markupsafe==2.1.5", "jinja2==3.1.4", "itsdangerous==2.2.0", "click==8.1.7",
        "blinker==1.8.2")]


@pytest.mark.network
@pytest.mark.slow
def test_a_flask_2_app_moves_to_flask_3(
    flask_wheels: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Flask 3.0.3's ``Flask`` inherits ``route``, ``config`` and the rest from
    ``flask/sansio/`` (a namespace package): a Flask 2 app is served by it."""
    store = tmp_path / "store"
    install(capsys, store, *flask_wheels)
    app = make_app(tmp_path, FLASK_APP)
    build_app(capsys, store, app, "--against", "flask==2.2.5", "--against", "werkzeug==3.0.3")
    plan = plan_json(capsys, store, app)
    assert versions(plan)["flask"] == "3.0.3"
    ran = run(store, app)
    assert (ran.returncode, ran.stdout) == (0, "200 {'ok': True}\n"), ran.stderr


@pytest.mark.network
@pytest.mark.slow
def test_flask_2_keeps_werkzeug_that_serves_its_version(
    flask_wheels: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Flask 2.2.5's test client reads ``werkzeug.__version__``: kept on Werkzeug 3.0.3."""
    store = tmp_path / "store"
    install(capsys, store, *(w for w in flask_wheels if "3.0.3" not in w.name
                             or "werkzeug" in w.name))
    app = make_app(tmp_path, FLASK_APP)
    build_app(capsys, store, app, "--against", "flask==2.2.5", "--against", "werkzeug==3.0.3")
    plan = plan_json(capsys, store, app)
    assert (versions(plan)["flask"], versions(plan)["werkzeug"]) == ("2.2.5", "3.0.3")
    [(version, problems)] = rejected(plan, "werkzeug").items()
    assert version == "3.1.3"
    assert ("P1", "flask==2.2.5 werkzeug.__version__") in problems
    ran = run(store, app)
    assert (ran.returncode, ran.stdout) == (0, "200 {'ok': True}\n"), ran.stderr


# -- overload sets ----------------------------------------------------------------------------

CONV_1 = """
from typing import overload


@overload
def conv(a: int | str) -> str: ...
@overload
def conv(a: bytes) -> bytes: ...
def conv(a):
    return a if isinstance(a, bytes) else str(a)
"""
# 2.0 splits the first overload: together the new ones accept every call the old one did.
CONV_2 = """
from typing import overload


@overload
def conv(a: int) -> str: ...
@overload
def conv(a: str) -> str: ...
@overload
def conv(a: bytes) -> bytes: ...
def conv(a):
    return a if isinstance(a, bytes) else str(a)
"""


def test_a_split_overload_set_is_compatible(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    install(capsys, store,
            make_wheel(tmp_path, "conv", "1.0", {"conv/__init__.py": CONV_1}),
            make_wheel(tmp_path, "conv", "2.0", {"conv/__init__.py": CONV_2}))
    app = make_app(tmp_path, "from conv import conv\nprint(conv(3), conv('x'))\n")
    build_app(capsys, store, app, "--against", "conv==1.0")
    plan = plan_json(capsys, store, app)
    assert versions(plan) == {"conv": "2.0"}
    ran = run(store, app)
    assert (ran.returncode, ran.stdout) == (0, "3 x\n"), ran.stderr


# -- a library's own uses of another library's class members ----------------------------------

@pytest.mark.parametrize(("member", "version"), [("READ", "2.0"), ("OLD", "1.0")])
def test_a_library_using_a_class_member_of_another(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], member: str, version: str
) -> None:
    store = tmp_path / "store"
    install(capsys, store,
            make_wheel(tmp_path, "modes", "1.0", {"modes/__init__.py": (
                "import enum\nclass Mode(enum.Enum):\n    READ = 'r'\n    OLD = 'o'\n")}),
            make_wheel(tmp_path, "modes", "2.0", {"modes/__init__.py": (
                "import enum\nclass Mode(enum.Enum):\n    READ = 'r'\n")}),
            make_wheel(tmp_path, "reader", "1.0", {"reader/__init__.py": (
                f"from modes import Mode\n\ndef mode():\n    return Mode.{member}.value\n")},
                ["modes>=1"]))
    app = make_app(tmp_path, "import reader\nprint(reader.mode())\n")
    build_app(capsys, store, app)
    plan = plan_json(capsys, store, app)
    assert versions(plan)["modes"] == version
    ran = run(store, app)
    assert (ran.returncode, ran.stdout) == (0, f"{member[0].lower()}\n"), ran.stderr


def test_install_names_what_it_could_not_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = make_wheel(tmp_path, "pk", "1.0", {"pk/__init__.py": (
        "from .gone import Base\n\nclass K(Base):\n    def f(self): ...\n")})
    code, out, err = siglink(capsys, "install", "--store", str(tmp_path / "store"), str(wheel))
    assert (code, out) == (0, "installed pk==1.0\n")
    assert err.splitlines() == [
        "siglink: warning: pk==1.0: pk/__init__.py:1: pk.Base: re-export of pk.gone.Base, "
        "which could not be read",
        "siglink: warning: pk==1.0: pk.K: base class pk.gone.Base could not be read; the "
        "members it provides are unverified"]


def test_a_name_an_open_module_getattr_may_serve_is_unverified(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A ``__getattr__`` that forwards any name: a name it may serve is neither absent nor
    identical, and the application runs on it."""
    store = tmp_path / "store"
    install(capsys, store, make_wheel(tmp_path, "proxy", "1.0", {
        "proxy/__init__.py": "from . import _impl\n\ndef __getattr__(name):\n"
                             "    return getattr(_impl, name)\n",
        "proxy/_impl.py": "ANSWER = 42\n"}))
    app = make_app(tmp_path, "import proxy\nprint(proxy.ANSWER)\n")
    build_app(capsys, store, app)
    plan = plan_json(capsys, store, app)
    link = plan["links"]["proxy"]
    assert link["version"] == "1.0"
    assert link["verdict"]["status"] == "compatible (unverified)"
    ran = run(store, app)
    assert (ran.returncode, ran.stdout) == (0, "42\n"), ran.stderr
