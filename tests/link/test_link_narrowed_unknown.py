"""A narrowed parameter type (P11) where some of the consumer's calls are not known: the
function is passed on (a handler table), so what those calls pass is not seen. Python does not
check annotations when it binds a call, so nothing shows a break: the version is linked,
unverified, and the application runs there; one recorded argument the new type excludes still
refuses; ``strict`` keeps the contract's P11. Each case builds, plans and runs the app."""

from __future__ import annotations

from pathlib import Path

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

FMT_1 = """
def label(value: int | str) -> str:
    return f"<{value}>"
"""
FMT_2 = """
def label(value: str) -> str:  # narrowed: ints are no longer promised to work
    return f"<{value}>"
"""


@pytest.fixture
def store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    root = tmp_path / "store"
    install(capsys, root, make_wheel(tmp_path, "fmt", "1.0", {"fmt/__init__.py": FMT_1}),
            make_wheel(tmp_path, "fmt", "2.0", {"fmt/__init__.py": FMT_2}))
    return root


def test_a_narrowing_no_seen_argument_contradicts_is_unverified(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app(tmp_path, """
        import fmt

        HANDLERS = {"label": fmt.label}  # passed on: its calls are not all seen

        print(HANDLERS["label"]("x"))
        """)
    build_app(capsys, store, app, "--against", "fmt==1.0")
    plan = plan_json(capsys, store, app)
    assert versions(plan) == {"fmt": "2.0"}
    [link] = plan["links"].values()
    assert any("parameter type narrowed; the arguments passed are not all known" in u
               for u in link["verdict"]["unverified"]), link
    ran = run(store, app)
    assert (ran.returncode, ran.stdout) == (0, "<x>\n"), ran.stderr
    strict = plan_json(capsys, store, app, "--policy", "strict")
    assert versions(strict) == {"fmt": "1.0"}
    assert refusals(strict, "fmt") == {"2.0": [("P11", "fmt.label param value")]}


def test_a_recorded_argument_the_new_type_excludes_still_refuses(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app(tmp_path, """
        import fmt

        HANDLERS = {"label": fmt.label}
        print(fmt.label(3))  # an int: the new annotation excludes it
        """)
    build_app(capsys, store, app, "--against", "fmt==1.0")
    plan = plan_json(capsys, store, app)
    assert versions(plan) == {"fmt": "1.0"}
    assert refusals(plan, "fmt") == {"2.0": [("P11", "fmt.label param value")]}
    ran = run(store, app)
    assert (ran.returncode, ran.stdout) == (0, "<3>\n"), ran.stderr
