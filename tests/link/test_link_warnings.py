"""An application whose warnings are errors (its pytest ``filterwarnings``, or ``[tool.siglink]
warnings = "error"``): a use the candidate serves with a deprecation warning fails there, so
the linker refuses it. Werkzeug 3.0 serves ``__version__`` with a ``DeprecationWarning``, 3.1
removed it, 2.3 binds it: each case builds, plans and runs the application, and Python itself
(``PYTHONWARNINGS=error``) shows that the use fails on 3.0.3 where warnings are errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from linkfixtures import build_app, install, make_app, plan_json, run, siglink, versions

from siglink.errors import BadInputError
from siglink.link.constraints import warnings_policy

APP = "import werkzeug\nprint(werkzeug.__version__)\n"


def refusals(plan: dict[str, Any], name: str) -> dict[str, list[tuple[str, str, str]]]:
    return {r["version"]: [(p["rule"], p["path"], p["found"]) for p in r["problems"]
                           if p["severity"] == "incompatible"]
            for r in plan["rejected"].get(name, ())}


@pytest.fixture(scope="module")
def werkzeug_wheels(pypi: Any) -> list[Path]:
    return [pypi.fetch(spec) for spec in ("markupsafe==2.1.5", "werkzeug==2.3.8",
                                          "werkzeug==3.0.3", "werkzeug==3.1.3")]


def _app(tmp_path: Path, config: dict[str, str]) -> Path:
    app = make_app(tmp_path, APP)
    for name, text in config.items():
        (app.parent / name).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return app


@pytest.mark.network
@pytest.mark.slow
def test_a_deprecated_use_is_refused_where_warnings_are_errors(
    werkzeug_wheels: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    install(capsys, store, *werkzeug_wheels)
    app = _app(tmp_path, {"setup.cfg": """
        [tool:pytest]
        testpaths = tests
        filterwarnings =
            error
        """})
    built = build_app(capsys, store, app, "--against", "werkzeug==3.0.3")
    assert built["against"]["werkzeug"] == "3.0.3"
    plan = plan_json(capsys, store, app)
    assert versions(plan)["werkzeug"] == "2.3.8"
    assert refusals(plan, "werkzeug") == {
        "3.1.3": [("P1", "werkzeug.__version__", "absent")],
        "3.0.3": [("P1", "werkzeug.__version__", "deprecated (served with a warning), an error "
                   "under setup.cfg [tool:pytest] filterwarnings 'error'")]}
    code, out, _ = siglink(capsys, "plan", str(app), "--store", str(store))
    assert code == 0
    assert "werkzeug 3.0.3 refused: P1 werkzeug.__version__" in out
    assert "an error under setup.cfg [tool:pytest] filterwarnings 'error'" in out
    ran = run(store, app, "error")
    assert (ran.returncode, ran.stdout) == (0, "2.3.8\n"), ran.stderr


@pytest.mark.network
@pytest.mark.slow
def test_a_deprecated_use_is_review_where_warnings_are_not_errors(
    werkzeug_wheels: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without a policy, or with ``[tool.siglink] warnings = "default"`` overriding the tests'
    ``filterwarnings``, the warning is review and the newest serving version is linked."""
    store = tmp_path / "store"
    install(capsys, store, *werkzeug_wheels)
    app = _app(tmp_path, {"pyproject.toml": """
        [tool.siglink]
        warnings = "default"

        [tool.pytest.ini_options]
        filterwarnings = ["error"]
        """})
    build_app(capsys, store, app, "--against", "werkzeug==3.0.3")
    plan = plan_json(capsys, store, app)
    assert versions(plan)["werkzeug"] == "3.0.3"
    problems = plan["links"]["werkzeug"]["verdict"]["problems"]
    assert [(p["rule"], p["severity"]) for p in problems] == [("P1", "review")]
    ran = run(store, app, "ignore")
    assert (ran.returncode, ran.stdout) == (0, "3.0.3\n"), ran.stderr
    # Python's own answer on 3.0.3 where warnings are errors: the use fails (what the test
    # above refuses).
    ran = run(store, app, "error::DeprecationWarning")
    assert ran.returncode == 1 and "DeprecationWarning: The '__version__' attribute" in (
        ran.stderr), ran.stderr


@pytest.mark.network
@pytest.mark.slow
def test_the_declared_policy_refuses_too(
    werkzeug_wheels: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    install(capsys, store, *werkzeug_wheels)
    app = _app(tmp_path, {"pyproject.toml": '[tool.siglink]\nwarnings = "error"\n'})
    build_app(capsys, store, app, "--against", "werkzeug==3.0.3")
    plan = plan_json(capsys, store, app)
    assert versions(plan)["werkzeug"] == "2.3.8"
    assert refusals(plan, "werkzeug")["3.0.3"] == [
        ("P1", "werkzeug.__version__", "deprecated (served with a warning), an error under "
         'pyproject.toml [tool.siglink] warnings = "error"')]
    ran = run(store, app, "error")
    assert (ran.returncode, ran.stdout) == (0, "2.3.8\n"), ran.stderr


# -- reading the policy ---------------------------------------------------------------------

@pytest.mark.parametrize(("files", "expected"), [
    ({}, None),
    ({"setup.cfg": "[tool:pytest]\nfilterwarnings =\n    error\n"},
     "setup.cfg [tool:pytest] filterwarnings 'error'"),
    ({"tox.ini": "[pytest]\nfilterwarnings = error::DeprecationWarning\n"},
     "tox.ini [pytest] filterwarnings 'error::DeprecationWarning'"),
    # later entries win, as warnings.filterwarnings inserts them first
    ({"setup.cfg": "[tool:pytest]\nfilterwarnings =\n    error\n    ignore::DeprecationWarning\n"},
     None),
    ({"setup.cfg": "[tool:pytest]\nfilterwarnings =\n    ignore::DeprecationWarning\n    error\n"},
     "setup.cfg [tool:pytest] filterwarnings 'error'"),
    # other categories do not cover a plain DeprecationWarning
    ({"pytest.ini": "[pytest]\nfilterwarnings = error::PendingDeprecationWarning\n"}, None),
    ({"pytest.ini": "[pytest]\nfilterwarnings = error::UserWarning\n"}, None),
    # an exception limited by message or module: which deprecations it covers is not known
    ({"pytest.ini": "[pytest]\nfilterwarnings =\n    error\n    ignore:.*distutils:Deprecat"
      "ionWarning\n"}, None),
    ({"pytest.ini": "[pytest]\nfilterwarnings =\n    error:x.*:DeprecationWarning\n"}, None),
    ({"pytest.ini": "[pytest]\nfilterwarnings =\n    error\n    error:x.*:DeprecationWarning\n"},
     "pytest.ini [pytest] filterwarnings 'error'"),
    # -W in addopts is applied after filterwarnings
    ({"pytest.ini": "[pytest]\naddopts = -ra -W error::DeprecationWarning\n"},
     "pytest.ini [pytest] addopts -W 'error::DeprecationWarning'"),
    ({"pytest.ini": "[pytest]\nfilterwarnings = error\naddopts = -Wignore\n"}, None),
    # pytest.ini is the configuration even when it says nothing: setup.cfg is not read
    ({"pytest.ini": "[pytest]\n", "setup.cfg": "[tool:pytest]\nfilterwarnings = error\n"},
     None),
    ({"pyproject.toml": '[tool.pytest.ini_options]\nfilterwarnings = ["error"]\n',
      "setup.cfg": "[tool:pytest]\nfilterwarnings = ignore\n"},
     "pyproject.toml [tool.pytest.ini_options] filterwarnings 'error'"),
    # a pyproject without pytest options leaves it to tox.ini / setup.cfg
    ({"pyproject.toml": "[project]\nname = 'a'\n",
      "setup.cfg": "[tool:pytest]\nfilterwarnings = error\n"},
     "setup.cfg [tool:pytest] filterwarnings 'error'"),
    ({"pyproject.toml": '[tool.siglink]\nwarnings = "error"\n'},
     'pyproject.toml [tool.siglink] warnings = "error"'),
    ({"pyproject.toml": '[tool.siglink]\nwarnings = "default"\n',
      "setup.cfg": "[tool:pytest]\nfilterwarnings = error\n"}, None),
])
def test_warnings_policy(tmp_path: Path, files: dict[str, str], expected: str | None) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert warnings_policy(tmp_path) == expected


def test_the_python_warnings_module_agrees(tmp_path: Path) -> None:
    """Each policy read as an error is one under which Python raises a DeprecationWarning,
    and each read as not is one under which it does not (the entries applied as pytest does:
    in order, later ones first)."""
    cases = [["error"], ["error::DeprecationWarning"], ["ignore::DeprecationWarning", "error"],
             ["error", "ignore::DeprecationWarning"], ["error::UserWarning"], ["default"],
             ["e"], ["error::Warning"]]
    for entries in cases:
        (tmp_path / "pytest.ini").write_text(
            "[pytest]\nfilterwarnings =\n" + "".join(f"    {e}\n" for e in entries),
            encoding="utf-8")
        program = ("import warnings\nwarnings.resetwarnings()\n"
                   + "".join(f"warnings._setoption({e!r})\n" for e in entries)
                   + "warnings.warn('x', DeprecationWarning)\n")
        raised = subprocess.run([sys.executable, "-c", program], capture_output=True,
                                check=False, timeout=60).returncode != 0
        assert (warnings_policy(tmp_path) is not None) == raised, entries


def test_a_bad_policy_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.siglink]\nwarnings = "loud"\n',
                                             encoding="utf-8")
    with pytest.raises(BadInputError, match=r"pyproject.toml: \[tool.siglink\] warnings: 'loud' "
                       r"is not one of 'error', 'default'"):
        warnings_policy(tmp_path)
    (tmp_path / "pyproject.toml").unlink()
    (tmp_path / "setup.cfg").write_text("[tool:pytest\nfilterwarnings = error\n",
                                        encoding="utf-8")
    with pytest.raises(BadInputError, match=r"setup\.cfg: cannot be read"):
        warnings_policy(tmp_path)


@pytest.mark.network
@pytest.mark.slow
def test_the_refusal_says_why(
    werkzeug_wheels: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With only the deprecating release in the store the link fails (exit 127), naming the
    policy; ``siglink explain P1`` says the same."""
    store = tmp_path / "store"
    install(capsys, store, *(w for w in werkzeug_wheels if "2.3.8" not in w.name
                             and "3.1.3" not in w.name))
    app = _app(tmp_path, {"pytest.ini": "[pytest]\nfilterwarnings = error::DeprecationWarning\n"})
    build_app(capsys, store, app)
    code, out, err = siglink(capsys, "plan", str(app), "--store", str(store))
    assert code == 127, out + err
    assert ("P1 werkzeug.__version__: expected exported without a deprecation warning, found "
            "deprecated (served with a warning), an error under pytest.ini [pytest] "
            "filterwarnings 'error::DeprecationWarning'") in out + err
    code, out, _ = siglink(capsys, "explain", "P1")
    assert code == 0 and "makes deprecation warnings errors" in out
