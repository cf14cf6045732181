"""Names removed in a new release stay removed for the linker, and module dunders follow the
module that runs (docs/design-notes.md, "Link truth"), end to end on built and real wheels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from linkfixtures import (
    build_app,
    install,
    make_app,
    make_wheel,
    open_problems,
    plan_json,
    run,
    siglink,
    versions,
)

from siglink.python.exports import extract

_OLD = {
    "lib/__init__.py": "",
    "lib/impl.py": """
        __all__ = ["gone", "kept"]
        def gone() -> int:
            return 1
        def kept() -> int:
            return 2
        """,
    "lib/api.py": "from lib.impl import *\n",
    "lib/loaders.py": """
        import sys
        def gone() -> int:
            return 1
        def kept() -> int:
            return 2
        """,
    "lib/dyn.py": """
        from lib import impl as _impl
        def gone() -> int:
            return 1
        def __getattr__(name):
            return getattr(_impl, name)
        """,
}

# What wrapt 1.16, Jinja 3.1.3, attrs 24.1 and blinker 1.8 did: the name is gone, and the
# module looks dynamic to a quick reading (vars(obj), sys.modules[key] = ..., a star import,
# a string literal equal to the name outside a literal-only __getattr__).
_NEW = {
    "lib/__init__.py": "",
    "lib/impl.py": """
        __all__ = ["kept"]
        def kept() -> int:
            return 2
        """,
    "lib/api.py": "from lib.impl import *\n",
    "lib/loaders.py": """
        import sys
        class P:
            def __getattr__(self, name):
                return name
        def kept() -> int:
            d = vars(P)
            sys.modules[str(d)] = None
            return "gone" in d
        def __getattr__(name):
            if name == "old":
                return 1
            raise AttributeError(name)
        """,
    "lib/dyn.py": """
        from lib import impl as _impl
        def __getattr__(name):
            return getattr(_impl, name)
        """,
}


@pytest.fixture()
def removed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    store = tmp_path / "store"
    install(capsys, store, make_wheel(tmp_path, "lib", "1.0", _OLD),
            make_wheel(tmp_path, "lib", "1.1", _NEW))
    return store


@pytest.mark.parametrize("module", ["impl", "api", "loaders"])
def test_a_visibly_removed_name_is_refused(
    removed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], module: str
) -> None:
    app = make_app(tmp_path, f"from lib.{module} import gone\nprint(gone())\n")
    built = build_app(capsys, removed, app, "--against", "lib==1.0")
    assert built["against"]["lib"] == "1.0"
    plan = plan_json(capsys, removed, app)
    assert versions(plan)["lib"] == "1.0"
    assert open_problems(plan, "lib") == {"1.1": [("P1", f"lib.{module}.gone")]}
    ran = run(removed, app)
    assert (ran.returncode, ran.stdout) == (0, "1\n"), ran.stderr


def test_a_module_that_may_serve_any_name_stays_unverified(
    removed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``return getattr(_impl, name)`` may serve ``gone`` (here it does not: the use is
    unverified, as the evidence allows, not refused)."""
    app = make_app(tmp_path, "from lib.dyn import gone\nprint(gone())\n")
    build_app(capsys, removed, app, "--against", "lib==1.0")
    plan = plan_json(capsys, removed, app)
    assert versions(plan)["lib"] == "1.1"
    assert "may serve any name" in str(plan["links"]["lib"])


# -- real releases ----------------------------------------------------------------------------

@pytest.mark.network
@pytest.mark.slow
def test_requests_version_bound_by_import(
    pypi: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``from .__version__ import __version__`` binds a dunder as an assignment does."""
    store = tmp_path / "store"
    install(capsys, store, *(pypi.fetch(spec) for spec in (
        "requests==2.31.0", "urllib3==2.2.3", "idna==3.7", "charset-normalizer==3.3.2",
        "certifi==2024.7.4")))
    exports = extract(pypi.fetch("requests==2.31.0")).exports
    assert "requests.__version__" in exports and "requests.__title__" in exports
    app = make_app(tmp_path, "import requests\nprint(requests.__version__)\n")
    build_app(capsys, store, app)
    plan = plan_json(capsys, store, app)
    assert versions(plan)["requests"] == "2.31.0"
    assert "not in the export table" not in str(plan["links"]["requests"])
    ran = run(store, app)
    assert (ran.returncode, ran.stdout) == (0, "2.31.0\n"), ran.stderr


@pytest.mark.network
@pytest.mark.slow
def test_attrs_dunders_follow_the_runtime_module_not_its_stub(
    pypi: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """attrs 24.1 ships ``attr/__init__.pyi`` declaring ``__author__``; its module's
    ``__getattr__`` raises for it. ``__version__`` is still served."""
    exports = extract(pypi.fetch("attrs==24.1.0")).exports
    assert {p for p in exports if p.rpartition(".")[2].startswith("__")} == {
        "attr.__version__", "attr.__version_info__", "attrs.__version__",
        "attrs.__version_info__"}  # attrs/__init__.py re-exports attr's dunders in __all__
    store = tmp_path / "store"
    install(capsys, store, pypi.fetch("attrs==23.2.0"), pypi.fetch("attrs==24.1.0"))
    author = make_app(tmp_path, "import attr\nprint(attr.__author__)\n", "author.py")
    build_app(capsys, store, author, "--against", "attrs==23.2.0")
    plan = plan_json(capsys, store, author)
    assert versions(plan)["attrs"] == "23.2.0"
    assert open_problems(plan, "attrs") == {"24.1.0": [("P1", "attr.__author__")]}
    ran = run(store, author)
    assert (ran.returncode, ran.stdout) == (0, "Hynek Schlawack\n"), ran.stderr
    again = make_app(tmp_path, "from attrs import __author__\nprint(__author__)\n", "again.py")
    build_app(capsys, store, again, "--against", "attrs==23.2.0")
    plan = plan_json(capsys, store, again)  # attrs.__getattr__ = attr's _make_getattr(...)
    assert open_problems(plan, "attrs") == {"24.1.0": [("P1", "attrs.__author__")]}
    version = make_app(tmp_path, "import attr\nprint(attr.__version__)\n", "version.py")
    build_app(capsys, store, version, "--against", "attrs==23.2.0")
    assert versions(plan_json(capsys, store, version))["attrs"] == "24.1.0"


@pytest.mark.network
@pytest.mark.slow
def test_a_removed_name_in_a_real_module_that_looks_dynamic(
    pypi: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Jinja 3.1.3 removed ``jinja2.loaders.open_if_exists``; its module writes
    ``sys.modules[package_name]`` in a function, which binds nothing in it."""
    store = tmp_path / "store"
    install(capsys, store, pypi.fetch("markupsafe==2.1.5"), pypi.fetch("jinja2==3.1.2"),
            pypi.fetch("jinja2==3.1.3"))
    app = make_app(tmp_path, "from jinja2.loaders import open_if_exists\n"
                             "print(open_if_exists('/nonexistent'))\n")
    build_app(capsys, store, app, "--against", "jinja2==3.1.2")
    plan = plan_json(capsys, store, app)
    assert versions(plan)["jinja2"] == "3.1.2"
    assert open_problems(plan, "jinja2") == {"3.1.3": [("P1", "jinja2.loaders.open_if_exists")]}
    code, out, _ = siglink(capsys, "plan", str(app), "--store", str(store))
    assert code == 0
    assert "jinja2 3.1.3 refused: P1 jinja2.loaders.open_if_exists" in out
    ran = run(store, app)
    assert (ran.returncode, ran.stdout) == (0, "None\n"), ran.stderr


@pytest.mark.network
@pytest.mark.slow
def test_a_deprecated_name_is_a_review_problem_and_strict_refuses_it(
    pypi: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Werkzeug 3.0.3 serves ``__version__`` with a DeprecationWarning: linked under the
    default policy with a review problem, refused under ``strict``."""
    store = tmp_path / "store"
    install(capsys, store, pypi.fetch("markupsafe==2.1.5"), pypi.fetch("werkzeug==3.0.3"))
    app = make_app(tmp_path, "import werkzeug\nprint(werkzeug.__version__)\n")
    build_app(capsys, store, app)
    plan = plan_json(capsys, store, app)
    link = plan["links"]["werkzeug"]
    assert link["version"] == "3.0.3"
    assert [(p["rule"], p["path"], p["found"], p["severity"])
            for p in link["verdict"]["problems"]] == [
        ("P1", "werkzeug.__version__", "deprecated (served with a warning)", "review")]
    code, _, err = siglink(capsys, "plan", str(app), "--store", str(store))
    assert code == 0
    assert "werkzeug 3.0.3: P1 werkzeug.__version__" in err and "deprecated" in err
    code, _, err = siglink(capsys, "plan", str(app), "--store", str(store), "--policy", "strict")
    assert code != 0
    assert "found deprecated (served with a warning) (incompatible)" in err
    ran = run(store, app)
    assert (ran.returncode, ran.stdout) == (0, "3.0.3\n"), ran.stderr
    unused = make_app(tmp_path, "import werkzeug\nprint(werkzeug.Request.__name__)\n", "b.py")
    build_app(capsys, store, unused)
    assert plan_json(capsys, store, unused, "--policy", "strict")["links"]["werkzeug"][
        "verdict"]["problems"] == []


# -- a name imported only ---------------------------------------------------------------------

_F1 = {"lib/__init__.py": "", "lib/mod.py": "def f(a: int) -> int:\n    return a\n"}
_F2 = {"lib/__init__.py": "",
       "lib/mod.py": "def f(a: str, b: int) -> int:\n    return b\n"}


@pytest.fixture()
def changed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    store = tmp_path / "store"
    install(capsys, store, make_wheel(tmp_path, "lib", "1.0", _F1),
            make_wheel(tmp_path, "lib", "2.0", _F2))
    return store


def test_a_name_imported_only_needs_only_its_presence(
    changed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Never called, read nor passed on: its changed signature cannot reach the app."""
    app = make_app(tmp_path, "from lib.mod import f\nprint('ok')\n")
    built = build_app(capsys, changed, app, "--against", "lib==1.0")
    assert built["against"]["lib"] == "1.0"
    plan = plan_json(capsys, changed, app)
    assert versions(plan)["lib"] == "2.0"
    assert {p["severity"] for p in plan["links"]["lib"]["verdict"]["problems"]} == {"review"}
    ran = run(changed, app)
    assert (ran.returncode, ran.stdout) == (0, "ok\n"), ran.stderr


@pytest.mark.parametrize("use", ["print(f(1))", "print(f)", "g = f\nprint(g(1))"])
def test_a_name_called_or_passed_on_keeps_its_contract(
    changed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], use: str
) -> None:
    app = make_app(tmp_path, f"from lib.mod import f\n{use}\n")
    build_app(capsys, changed, app, "--against", "lib==1.0")
    plan = plan_json(capsys, changed, app)
    assert versions(plan)["lib"] == "1.0"
    assert "2.0" in open_problems(plan, "lib")


_OV = """
    from typing import overload
    @overload
    def conv(a: int) -> int: ...
    @overload
    def conv(a: {second}) -> {second}: ...
    def conv(a):
        return a
    """


@pytest.mark.parametrize(("use", "linked"), [("print('ok')", "2.0"), ("print(conv('x'))", "1.0")])
def test_an_overload_set_imported_only_needs_only_its_presence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], use: str, linked: str
) -> None:
    store = tmp_path / "store"
    install(capsys, store,
            make_wheel(tmp_path, "lib", "1.0", {"lib/__init__.py": _OV.format(second="str")}),
            make_wheel(tmp_path, "lib", "2.0", {"lib/__init__.py": _OV.format(second="bytes")}))
    app = make_app(tmp_path, f"from lib import conv\n{use}\n")
    build_app(capsys, store, app, "--against", "lib==1.0")
    plan = plan_json(capsys, store, app)
    assert versions(plan)["lib"] == linked
    if linked == "1.0":
        assert open_problems(plan, "lib") == {"2.0": [("P21", "lib.conv overload 2")]}
