"""Every change to the store relinks the registered applications it concerns, so that
``who-uses`` tells what each links now, and says how each one's link changed.

textkit 1.0.1 is a fix of 1.0.0 (same signatures); 2.0.0 gives ``shout`` a second required
parameter. ``report`` calls ``shout``, ``tagger`` only ``greet``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from siglink.cli.main import main
from siglink.store import Store, app_display

WheelMaker = Callable[..., Path]
Snapshot = Callable[[Path], dict[str, object]]

V1 = "def greet(who):\n    return who\n\n\ndef shout(who):\n    return who.upper()\n"
V2 = "def greet(who):\n    return who\n\n\ndef shout(who, how):\n    return who.upper()\n"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


class Shop:
    """A store with textkit 1.0.0 and two applications built against it."""

    def __init__(self, tmp_path: Path, make_wheel: WheelMaker,
                 capsys: pytest.CaptureFixture[str]) -> None:
        self.root = tmp_path / "store"
        self.capsys = capsys
        self.wheels = {
            version: make_wheel("textkit", version, {"textkit/__init__.py": code})
            for version, code in (("1.0.0", V1), ("1.0.1", V1), ("2.0.0", V2))
        }
        self.report = tmp_path / "report.py"
        self.report.write_text("import textkit\nprint(textkit.shout('x'))\n")
        self.tagger = tmp_path / "tagger.py"
        self.tagger.write_text("import textkit\nprint(textkit.greet('x'))\n")
        assert self("install", str(self.wheels["1.0.0"]))[0] == 0
        for app in (self.report, self.tagger):
            code, _, err = self("build", str(app))
            assert code == 0, err

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        return run(self.capsys, *argv, "--store", str(self.root))

    def ok(self, *argv: str) -> list[str]:
        code, out, err = self(*argv)
        assert (code, err) == (0, ""), err
        return out.splitlines()

    def who_uses(self) -> dict[str, tuple[str | None, str]]:
        """``{application: (version, status)}`` from ``who-uses textkit --json``."""
        rows = json.loads("\n".join(self.ok("who-uses", "textkit", "--json")))
        return {Path(r["app"]).name: (r["version"], r["status"]) for r in rows}


@pytest.fixture
def shop(tmp_path: Path, make_wheel: WheelMaker, capsys: pytest.CaptureFixture[str]) -> Shop:
    return Shop(tmp_path, make_wheel, capsys)


def test_install_yank_unyank_relink_at_once(shop: Shop) -> None:
    r, t = shop.report, shop.tagger
    assert shop.who_uses() == {"report.py": ("1.0.0", "linked"), "tagger.py": ("1.0.0", "linked")}
    # The fix reaches both, and who-uses says so right away.
    assert shop.ok("install", str(shop.wheels["1.0.1"])) == [
        "installed textkit==1.0.1", f"  {r}: 1.0.0 -> 1.0.1", f"  {t}: 1.0.0 -> 1.0.1"]
    assert shop.who_uses() == {"report.py": ("1.0.1", "linked"), "tagger.py": ("1.0.1", "linked")}
    # 2.0.0 changes shout: report stays, tagger moves.
    # The one that stays says why, in one line.
    assert shop.ok("install", str(shop.wheels["2.0.0"])) == [
        "installed textkit==2.0.0",
        f"  {r}: textkit stays on 1.0.1: textkit 2.0.0: P3 textkit.shout param how: expected "
        "absent, found how; required parameter added (incompatible)",
        f"  {t}: 1.0.1 -> 2.0.0"]
    assert shop.who_uses() == {"report.py": ("1.0.1", "linked"), "tagger.py": ("2.0.0", "linked")}
    # Yanking 1.0.0 changes nothing; yanking 1.0.1 too leaves report nothing compatible: it
    # stops, and says why.
    assert shop.ok("yank", "textkit==1.0.0", "--reason", "CVE-0") == [
        "yanked textkit==1.0.0: CVE-0", f"  {r}: stays on 1.0.1", f"  {t}: stays on 2.0.0"]
    out = shop.ok("yank", "textkit==1.0.1", "--reason", "CVE-1")
    assert out[0] == "yanked textkit==1.0.1: CVE-1"
    assert out[1].startswith(f"  {r}: 1.0.1 -> refused (textkit: textkit.shout "), out
    assert out[1].endswith("are yanked (otherwise compatible))"), out
    assert out[2:] == [f"  {t}: stays on 2.0.0"]
    assert shop.who_uses() == {"report.py": (None, "refused"), "tagger.py": ("2.0.0", "linked")}
    # Unyanked: report links 1.0.1 again at once (no "1.0.1 is yanked" left in who-uses).
    assert shop.ok("unyank", "textkit==1.0.1") == [
        "unyanked textkit==1.0.1 (was yanked: CVE-1)", f"  {r}: refused -> 1.0.1",
        f"  {t}: stays on 2.0.0"]
    assert shop.who_uses() == {"report.py": ("1.0.1", "linked"), "tagger.py": ("2.0.0", "linked")}
    code, out_text, _ = shop("who-uses", "textkit")
    assert (code, out_text) == (0, f"APP{' ' * (len(str(r)) - 1)}VERSION\n"
                                   f"{r}  1.0.1\n{t}  2.0.0\n")


def test_json_says_how_each_link_changed(shop: Shop) -> None:
    data = json.loads("\n".join(shop.ok("install", str(shop.wheels["1.0.1"]),
                                        str(shop.wheels["2.0.0"]), "--json")))
    assert data["install"] == [{"name": "textkit", "version": "1.0.1", "status": "installed"},
                               {"name": "textkit", "version": "2.0.0", "status": "installed"}]
    assert data["relinked"] == [
        {"app": str(shop.report), "manifest": str(shop.report.with_suffix(".siglink.json")),
         "status": "move", "before": {"textkit": "1.0.0"}, "after": {"textkit": "1.0.1"},
         "reason": None, "held": [
             {"name": "textkit", "linked": "1.0.1", "newest": "2.0.0",
              "why": "P3 textkit.shout param how: expected absent, found how; required "
                     "parameter added (incompatible)",
              "line": "textkit stays on 1.0.1: textkit 2.0.0: P3 textkit.shout param how: "
                      "expected absent, found how; required parameter added (incompatible)"}]},
        {"app": str(shop.tagger), "manifest": str(shop.tagger.with_suffix(".siglink.json")),
         "status": "move", "before": {"textkit": "1.0.0"}, "after": {"textkit": "2.0.0"},
         "reason": None, "held": []},
    ]
    shop.ok("yank", "textkit==1.0.0", "--reason", "CVE-0")
    data = json.loads("\n".join(shop.ok("yank", "textkit==1.0.1", "--reason", "CVE-1",
                                        "--json")))
    assert data["yanked"] == {"name": "textkit", "version": "1.0.1", "reason": "CVE-1",
                              "was_yanked": None}
    report, tagger = data["relinked"]
    assert (report["app"], report["status"], report["before"], report["after"]) == (
        str(shop.report), "stop", {"textkit": "1.0.1"}, None)
    assert report["reason"].startswith("textkit: textkit.shout (incompatible in 2.0.0")
    assert (tagger["status"], tagger["after"], tagger["reason"]) == (
        "stay", {"textkit": "2.0.0"}, None)


def test_remove_decides_on_fresh_links(shop: Shop, snapshot: Snapshot) -> None:
    """A registration made before a change (here an install through the API, which relinks
    nothing) does not refuse a removal: the applications are linked again first."""
    Store(shop.root).install([str(shop.wheels["1.0.1"])])
    assert shop.who_uses() == {"report.py": ("1.0.0", "linked"), "tagger.py": ("1.0.0", "linked")}
    assert shop.ok("remove", "textkit==1.0.0") == ["removed textkit==1.0.0"]
    assert shop.who_uses() == {"report.py": ("1.0.1", "linked"), "tagger.py": ("1.0.1", "linked")}
    # Still linked on a fresh link: refused, and the store is as it was.
    before = snapshot(shop.root)
    code, out, err = shop("remove", "textkit==1.0.1")
    assert (code, out) == (3, "")
    assert err == (f"siglink: error: textkit==1.0.1 is linked by 2 registered applications "
                   f"({shop.report}, {shop.tagger}); use --force to remove it anyway\n")
    assert snapshot(shop.root) == before
    out_lines = shop.ok("remove", "textkit==1.0.1", "--force")
    assert out_lines[0] == "removed textkit==1.0.1"
    assert [line.split(": ", 1)[1][:19] for line in out_lines[1:]] == [
        "1.0.1 -> refused (t", "1.0.1 -> refused (t"]
    assert shop.who_uses() == {"report.py": (None, "refused"), "tagger.py": (None, "refused")}


def test_yank_twice_and_unyank_of_a_linkable_version(shop: Shop) -> None:
    shop.ok("install", str(shop.wheels["1.0.1"]))
    generation = Store(shop.root).generation
    assert shop.ok("yank", "textkit==1.0.0", "--reason", "CVE-1") == [
        "yanked textkit==1.0.0: CVE-1", f"  {shop.report}: stays on 1.0.1",
        f"  {shop.tagger}: stays on 1.0.1"]
    assert Store(shop.root).generation == generation + 1
    assert shop.ok("yank", "textkit==1.0.0", "--reason", "CVE-1") == [
        "textkit==1.0.0 was already yanked (CVE-1); nothing changed"]
    assert Store(shop.root).generation == generation + 1
    assert shop.ok("yank", "textkit==1.0.0", "--reason", "CVE-2")[0] == (
        "textkit==1.0.0 was already yanked (CVE-1); reason updated: CVE-2")
    assert Store(shop.root).versions("textkit")[1].yanked == "CVE-2"
    assert shop.ok("unyank", "textkit==1.0.1") == ["textkit==1.0.1 is not yanked; nothing changed"]
    data = json.loads("\n".join(shop.ok("unyank", "textkit==1.0.1", "--json")))
    assert data == {"unyanked": {"name": "textkit", "version": "1.0.1", "was_yanked": None},
                    "relinked": []}


def test_a_failed_spec_installs_nothing_and_says_so(shop: Shop, tmp_path: Path,
                                                    snapshot: Snapshot) -> None:
    before = snapshot(shop.root)
    missing = tmp_path / "nope-1.0-py3-none-any.whl"
    code, out, err = shop("install", str(shop.wheels["1.0.1"]), str(missing))
    assert (code, out) == (2, "")
    assert err == f"siglink: error: {missing}: no such file or directory; nothing was installed\n"
    assert snapshot(shop.root) == before


def test_applications_are_shown_as_themselves(tmp_path: Path, make_wheel: WheelMaker,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """A script, a directory with ``__main__.py`` and a module run with ``-m``: who-uses names
    each (the manifest under its own key)."""
    root = tmp_path / "store"
    assert run(capsys, "install", str(make_wheel("textkit", "1.0.0", {
        "textkit/__init__.py": V1})), "--store", str(root))[0] == 0
    tool = tmp_path / "tool"
    tool.mkdir()
    (tool / "__main__.py").write_text("import textkit\ntextkit.greet('x')\n")
    work = tmp_path / "work"
    (work / "pkg").mkdir(parents=True)
    (work / "pkg" / "__init__.py").write_text("")
    (work / "pkg" / "cli.py").write_text("import textkit\ntextkit.greet('x')\n")
    assert run(capsys, "build", str(tool), "--store", str(root))[0] == 0
    monkeypatch.chdir(work)
    assert run(capsys, "build", "-m", "pkg.cli", "--store", str(root))[0] == 0
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "who-uses", "textkit", "--json", "--store", str(root))
    assert code == 0
    assert sorted((r["app"], r["manifest"]) for r in json.loads(out)) == [
        (f"-m pkg.cli (in {work})", str(root / "apps" / "modules" / str(work).replace(
            "/", "%2F") / "pkg.cli.siglink.json")),
        (f"{tool}/", str(tool / "siglink.json")),
    ]
    # The text names them relative to the current directory when they are under it.
    lines = run(capsys, "who-uses", "textkit", "--store", str(root))[1].splitlines()[1:]
    assert sorted(line.rsplit(None, 1)[0].rstrip() for line in lines) == [
        f"-m pkg.cli (in {work})", "tool/"]
    assert app_display(str(tmp_path / "gone.siglink.json")) == str(tmp_path / "gone.py")
