"""Export tables say what runs, end to end: an application that imports a name only for its
type checker still links and runs; one that calls a class that became a Protocol keeps the
version where it was a class (R7), while one that only imports it (for an annotation) moves
on. Each case builds,
plans and really runs the application on the version linked."""

from __future__ import annotations

from pathlib import Path

import pytest
from linkfixtures import build_app, install, make_app, make_wheel, plan_json, run, versions

TYPED = '''
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    class Theme:
        name: str

class Console:
    def show(self, theme: "Theme | None" = None) -> str:
        return "shown"
'''


def test_a_type_checking_only_name_is_no_export_and_typed_consumers_still_link(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    install(capsys, store, make_wheel(tmp_path, "look", "1.0", {"look/__init__.py": TYPED}))
    app = make_app(tmp_path, """
        from typing import TYPE_CHECKING
        from look import Console

        if TYPE_CHECKING:
            from look import Theme

        def show(theme: "Theme | None" = None) -> str:
            return Console().show(theme)

        print(show())
        """)
    built = build_app(capsys, store, app)
    assert not [w for w in built.get("warnings", ()) if "Theme" in w], built
    assert versions(plan_json(capsys, store, app)) == {"look": "1.0"}
    ran = run(store, app)
    assert (ran.returncode, ran.stdout) == (0, "shown\n"), ran.stderr


SIZED_1 = "class Sized:\n    pass\n"
SIZED_2 = "from typing import Protocol\n\nclass Sized(Protocol):\n    pass\n"


@pytest.fixture
def sized(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    store = tmp_path / "store"
    install(capsys, store,
            make_wheel(tmp_path, "sized", "1.0", {"sized/__init__.py": SIZED_1}),
            make_wheel(tmp_path, "sized", "2.0", {"sized/__init__.py": SIZED_2}))
    return store


@pytest.mark.parametrize(("source", "linked"), [
    ("from sized import Sized\nprint(type(Sized()).__name__)\n", ("1.0", "Sized\n")),
    ("from sized import Sized\n\ndef size(x: Sized) -> int:\n    return 1\n\n"
     "print(size(object()))\n", ("2.0", "1\n")),
], ids=["called-keeps-1.0", "annotated-moves-to-2.0"])
def test_a_class_that_became_a_protocol(
    tmp_path: Path, sized: Path, capsys: pytest.CaptureFixture[str],
    source: str, linked: tuple[str, str],
) -> None:
    version, output = linked
    app = make_app(tmp_path, source)
    build_app(capsys, sized, app, "--against", "sized==1.0")
    plan = plan_json(capsys, sized, app)
    assert versions(plan) == {"sized": version}
    if version == "1.0":
        refused = plan["rejected"]["sized"][0]
        assert refused["version"] == "2.0"
        assert [p["rule"] for p in refused["problems"] if p["severity"] == "incompatible"] == [
            "R7"]
    ran = run(sized, app)
    assert (ran.returncode, ran.stdout) == (0, output), ran.stderr
