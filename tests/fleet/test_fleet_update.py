"""``siglink update``: the newest release of every library, installed; apps move, no rebuild."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from fleetfixtures import Cli

from siglink.store import Store

Snapshot = Callable[[Path], dict[str, object]]

JINJA_APP = """\
import jinja2
print(jinja2.__version__, jinja2.Template("hi {{ x }}").render(x=1))
"""


@pytest.mark.network
def test_update_moves_an_app_off_jinja2_3_1_3_without_rebuild(
    cli: Cli, tmp_path: Path, snapshot: Snapshot
) -> None:
    cli.ok("install", "jinja2==3.1.3", "markupsafe==2.1.5", "--no-deps")
    app = tmp_path / "app.py"
    app.write_text(JINJA_APP)
    cli.ok("build", str(app))
    manifest = app.with_suffix(".siglink.json")
    built = hashlib.sha256(manifest.read_bytes()).hexdigest()
    assert cli.run_app(app).stdout == "3.1.3 hi 1\n"

    before = snapshot(cli.root)
    data = json.loads(cli.ok("update", "jinja2", "--dry-run", "--json"))
    assert snapshot(cli.root) == before  # a dry run changes nothing
    [newer] = data["newer"]
    assert (newer["name"], newer["stored"]) == ("jinja2", "3.1.3")
    latest = newer["latest"]
    assert latest.startswith("3.1.") and latest != "3.1.3"
    [impact] = data["impact"]
    assert (impact["status"], impact["before"]["jinja2"], impact["after"]["jinja2"]) == (
        "move", "3.1.3", latest)

    out = cli.ok("update", "jinja2")
    assert out.splitlines()[:2] == [f"jinja2 3.1.3 -> {latest}", f"installed jinja2=={latest}"]
    # pip resolved jinja2's closure afresh: the newest MarkupSafe came too, and the app took it
    [line] = [ln for ln in out.splitlines() if ln.startswith(f"  {app}: ")]
    assert line.startswith(f"  {app}: 3.1.3 -> {latest} (also markupsafe 2.1.5 -> "), line
    assert cli.run_app(app).stdout == f"{latest} hi 1\n"
    assert hashlib.sha256(manifest.read_bytes()).hexdigest() == built  # no rebuild
    assert "3.1.3" in [v.version for v in Store(cli.root).versions("jinja2")]  # side by side

    # Nothing newer now: one line, exit 0, nothing written.
    before = snapshot(cli.root)
    assert cli("update", "jinja2") == (
        0, f"jinja2 {latest} is the newest release on the index: nothing to update\n", "")
    assert snapshot(cli.root) == before


def test_update_of_a_name_not_in_the_store(cli: Cli, snapshot: Snapshot) -> None:
    code, out, err = cli("update", "nosuchlib")
    assert (code, out) == (2, "")
    assert err == f"siglink: error: nosuchlib is not in the store (no store at {cli.root})\n"
    assert snapshot(cli.root) == {"exists": False}


def test_update_of_an_empty_store(cli: Cli) -> None:
    assert cli("update") == (0, f"no store at {cli.root}\n", "")


@pytest.mark.network
def test_update_leaves_a_library_the_index_does_not_have(cli: Cli, tmp_path: Path) -> None:
    from siglink.demo.wheels import make_wheel

    wheel = make_wheel(tmp_path / "w", "siglink-local-only-lib", "1.0",
                       {"siglink_local_only_lib/__init__.py": "X = 1\n"})
    cli.ok("install", str(wheel))
    code, out, _ = cli("update")
    assert code == 0
    assert out.startswith("siglink-local-only-lib: not on the index (No matching distribution "
                          "found for siglink-local-only-lib)\n")
