"""``siglink apps``, ``forget``, ``gc`` and where ``-m`` applications keep their manifest."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fleetfixtures import Cli

from siglink.demo.wheels import make_wheel
from siglink.store import Store

Snapshot = Callable[[Path], dict[str, object]]

WITH_SHOUT = "def greet(who):\n    return 'hi ' + who\n\n\ndef shout(text):\n    return text\n"
WITHOUT_SHOUT = "def greet(who):\n    return 'hi ' + who\n"


@pytest.fixture
def fleet(cli: Cli, tmp_path: Path) -> dict[str, Path]:
    """textkit 1.0.0, 1.0.1, 1.1.0 (with shout) and 2.0.0 (without); ``report`` uses shout,
    ``tagger`` only greet."""
    wheels = {v: make_wheel(tmp_path / "wheels", "textkit", v, {"textkit/__init__.py": code})
              for v, code in (("1.0.0", WITH_SHOUT), ("1.0.1", WITH_SHOUT),
                              ("1.1.0", WITH_SHOUT), ("2.0.0", WITHOUT_SHOUT))}
    cli.ok("install", *map(str, wheels.values()))
    apps = {"report": tmp_path / "report.py", "tagger": tmp_path / "tagger.py"}
    apps["report"].write_text("import textkit\nprint(textkit.shout('x'))\n")
    apps["tagger"].write_text("import textkit\nprint(textkit.greet('x'))\n")
    for app in apps.values():
        cli.ok("build", str(app))
    return apps


def test_apps_lists_every_registered_app(cli: Cli, fleet: dict[str, Path],
                                         tmp_path: Path) -> None:
    rows = json.loads(cli.ok("apps", "--json"))
    assert [(r["app"], r["status"], r["links"]) for r in rows] == [
        (str(fleet["report"]), "healthy", {"textkit": "1.1.0"}),
        (str(fleet["tagger"]), "healthy", {"textkit": "2.0.0"}),
    ]
    # A version added behind the registrations' back (no relink): stale, with what would move.
    Store(cli.root).install([str(make_wheel(tmp_path / "w2", "textkit", "2.1.0",
                                            {"textkit/__init__.py": WITHOUT_SHOUT}))])
    fleet["report"].write_text("import textkit\nprint(textkit.shout('y'))\n")
    rows = {Path(r["app"]).name: r for r in json.loads(cli.ok("apps", "--json"))}
    assert (rows["tagger.py"]["status"], rows["tagger.py"]["reason"]) == (
        "stale", "would link textkit 2.0.0 -> 2.1.0")
    assert (rows["report.py"]["status"], rows["report.py"]["reason"]) == (
        "stale", f"{fleet['report']} changed since it was built (run siglink build)")
    text = cli.ok("apps")
    assert text.splitlines()[0].split() == ["APP", "STATUS", "LINKS", "WHY"]


def test_forget(cli: Cli, fleet: dict[str, Path]) -> None:
    assert cli("forget", str(fleet["report"])) == (0, f"forgot {fleet['report']}\n", "")
    assert [Path(r["app"]).name for r in json.loads(cli.ok("apps", "--json"))] == ["tagger.py"]
    assert fleet["report"].with_suffix(".siglink.json").is_file()  # its own manifest stays
    code, out, err = cli("forget", str(fleet["report"]))
    assert (code, out) == (2, "")
    assert err == (f"siglink: error: {fleet['report']}: not a registered application "
                   "(siglink apps lists them)\n")


def test_run_m_keeps_its_manifest_in_the_store(cli: Cli, fleet: dict[str, Path],
                                                tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    (work / "pkg").mkdir(parents=True)
    (work / "pkg" / "__init__.py").write_text("")
    (work / "pkg" / "cli.py").write_text("import textkit\nprint(textkit.greet('m'))\n")
    monkeypatch.chdir(work)
    result = subprocess.run([sys.executable, "-m", "siglink", "run", "--store", str(cli.root),
                             "-m", "pkg.cli"], capture_output=True, text=True, check=False)
    assert (result.returncode, result.stdout) == (0, "hi m\n"), result.stderr
    assert sorted(p.name for p in work.iterdir()) == ["pkg"]  # nothing written here
    [row] = [r for r in json.loads(cli.ok("apps", "--json")) if r["app"].startswith("-m")]
    assert row["app"] == f"-m pkg.cli (in {work})"
    manifest = Path(row["manifest"])
    assert manifest.is_relative_to(cli.root / "apps" / "modules")
    assert cli.ok("forget", "-m", "pkg.cli") == f"forgot -m pkg.cli (in {work}) (removed " \
                                                 f"{manifest})\n"
    assert not manifest.exists()


def test_gc_keeps_what_apps_link(cli: Cli, fleet: dict[str, Path],
                                 snapshot: Snapshot) -> None:
    before = snapshot(cli.root)
    rows = json.loads(cli.ok("gc", "--dry-run", "--json"))
    assert [(r["version"], r["action"], r["why"]) for r in rows] == [
        ("2.0.0", "keep", "linked by a registered application"),
        ("1.1.0", "keep", "linked by a registered application"),
        ("1.0.1", "keep", "the newest of its release line 1.0"),
        ("1.0.0", "would remove", None),
    ]
    assert snapshot(cli.root) == before
    # A running process with a file of 1.0.0 open keeps it.
    held = Store(cli.root).get("textkit", "1.0.0").path / "textkit" / "__init__.py"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nf = open(sys.argv[1])\n"
                               "print('ready', flush=True)\ntime.sleep(60)\n", str(held)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "ready\n"
        rows = json.loads(cli.ok("gc", "--json"))
        assert rows[-1] == {"name": "textkit", "version": "1.0.0", "action": "keep",
                            "why": f"in use by process {holder.pid}"}
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    out = cli.ok("gc")
    assert out.splitlines()[-1] == "1 version removed, 3 kept"
    assert [v.version for v in Store(cli.root).versions("textkit")] == ["2.0.0", "1.1.0",
                                                                         "1.0.1"]
    for app, expected in ((fleet["report"], "x\n"), (fleet["tagger"], "hi x\n")):
        assert cli.run_app(app).stdout == expected
