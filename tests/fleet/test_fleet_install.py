"""``siglink install`` with dependencies: pip resolves the closure, the store keeps it."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from fleetfixtures import Cli

from siglink.store import Store

Snapshot = Callable[[Path], dict[str, object]]

REQUESTS_APP = """\
import importlib.metadata
import requests
prepared = requests.Request("GET", "http://example.org/a b", params={"q": "x"}).prepare()
print(importlib.metadata.version("requests"), importlib.metadata.version("urllib3"),
      prepared.url)
"""


@pytest.mark.network
def test_requests_brings_its_four_dependencies_and_runs(cli: Cli, tmp_path: Path) -> None:
    out = cli.ok("install", "requests==2.31.0")
    lines = out.splitlines()
    assert lines[0] == "installed requests==2.31.0"
    deps = sorted(line.split()[1].split("==")[0] for line in lines[1:])
    assert deps == ["certifi", "charset-normalizer", "idna", "urllib3"]
    assert all(line.endswith(" (dependency)") for line in lines[1:])
    store = Store(cli.root)
    assert {n for n, _ in store.installed()} == {
        "requests", "certifi", "charset-normalizer", "idna", "urllib3"}
    app = tmp_path / "app.py"
    app.write_text(REQUESTS_APP)
    code, _, err = cli("build", str(app))
    assert code == 0, err
    result = cli.run_app(app)
    assert result.returncode == 0, result.stderr
    urllib3_version = next(v for n, v in store.installed() if n == "urllib3")
    assert result.stdout == f"2.31.0 {urllib3_version} http://example.org/a%20b?q=x\n"
    # Again: everything is there, nothing is fetched or written.
    again = cli.ok("install", "requests==2.31.0")
    assert again.splitlines()[0] == "requests==2.31.0 already present"


@pytest.mark.network
def test_requirements_file_with_extras_and_side_by_side(cli: Cli, tmp_path: Path) -> None:
    # an older idna first: it stays, side by side with what pip resolves
    cli.ok("install", "idna==3.6", "--no-deps")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# a comment, as pip reads it\nrequests[socks]==2.31.0\n")
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("urllib3<2.3\n")
    data = json.loads(cli.ok("install", "-r", str(requirements), "-c", str(constraints),
                             "--json"))
    names = {row["name"]: row for row in data["install"]}
    assert set(names) == {"requests", "pysocks", "certifi", "charset-normalizer", "idna",
                          "urllib3"}
    assert "dependency" not in names["requests"]
    assert names["pysocks"]["dependency"] is True
    store = Store(cli.root)
    idna = [v.version for v in store.versions("idna")]
    assert "3.6" in idna and len(idna) == 2
    [urllib3] = store.versions("urllib3")
    assert urllib3.version.startswith(("2.2.", "2.1.", "2.0."))


@pytest.mark.network
def test_unknown_project_and_missing_version(cli: Cli, snapshot: Snapshot) -> None:
    cli.ok("install", "idna==3.6", "--no-deps")
    before = snapshot(cli.root)
    code, out, err = cli("install", "nonexistent-pkg-xyz==1.0")
    assert (code, out) == (4, "")
    assert err == ("siglink: error: nonexistent-pkg-xyz==1.0: cannot be fetched from the "
                   "package index: No matching distribution found for nonexistent-pkg-xyz==1.0\n")
    code, out, err = cli("install", "idna==99.0")
    assert (code, out) == (4, "")
    assert err.startswith("siglink: error: idna==99.0: cannot be fetched from the package "
                          "index: No matching distribution found for idna==99.0 (the newest "
                          "on the index is ")
    assert err.count("\n") == 1
    assert snapshot(cli.root) == before


@pytest.mark.network
def test_conflicting_requirements(cli: Cli, snapshot: Snapshot) -> None:
    before = snapshot(cli.root)
    code, out, err = cli("install", "flask==3.1.0", "werkzeug<3")
    assert (code, out) == (4, "")
    assert err == ("siglink: error: flask==3.1.0 werkzeug<3: cannot be resolved: conflicting "
                   "requirements: The user requested werkzeug<3; flask 3.1.0 depends on "
                   "Werkzeug>=3.1; nothing was installed\n")
    assert snapshot(cli.root) == before


def test_malformed_requirements_file(cli: Cli, tmp_path: Path, snapshot: Snapshot) -> None:
    requirements = tmp_path / "req.txt"
    requirements.write_text("idna==3.6\nthis is not a requirement\n")
    code, out, err = cli("install", "-r", str(requirements))
    assert (code, out) == (2, "")
    assert err == (f"siglink: error: Invalid requirement: 'this is not a requirement' (from "
                   f"line 2 of {requirements}); nothing was installed\n")
    code, out, err = cli("install", "-r", str(tmp_path / "missing.txt"))
    assert (code, out, err) == (
        2, "", f"siglink: error: -r {tmp_path / 'missing.txt'}: no such file; nothing was "
               "installed\n")
    assert snapshot(cli.root) == {"exists": False}


def test_unreachable_index(cli: Cli, monkeypatch: pytest.MonkeyPatch,
                           snapshot: Snapshot) -> None:
    """Only the index given: no pip configuration file, no find-links, one retry."""
    import os

    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_RETRIES", "1")
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    monkeypatch.delenv("PIP_EXTRA_INDEX_URL", raising=False)
    code, out, err = cli("install", "idna==3.6", "--index-url", "http://127.0.0.1:9/simple")
    assert (code, out) == (4, "")
    assert err == ("siglink: error: idna==3.6: cannot be resolved: the package index cannot be "
                   "reached (/simple/idna/: Connection refused)\n")
    assert snapshot(cli.root) == {"exists": False}


def test_unreachable_index_beside_one_that_answers(cli: Cli, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  snapshot: Snapshot) -> None:
    """The index given is down while a configured one (here find-links) answers with other
    versions: the line says the index could not be reached, not only that 1.0 is missing."""
    import os

    from siglink.demo.wheels import make_wheel

    links = tmp_path / "links"
    make_wheel(links, "textkit", "2.0", {"textkit/__init__.py": "X = 1\n"})
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_RETRIES", "1")  # with none, pip says nothing of the failure
    monkeypatch.setenv("PIP_FIND_LINKS", str(links))
    monkeypatch.delenv("PIP_EXTRA_INDEX_URL", raising=False)
    code, out, err = cli("install", "textkit==1.0", "--index-url", "http://127.0.0.1:9/simple")
    assert (code, out) == (4, "")
    assert err == ("siglink: error: textkit==1.0: cannot be fetched from the package index: "
                   "No matching distribution found for textkit==1.0 (the newest on the index "
                   "is 2.0); an index could not be reached (/simple/textkit/: Connection "
                   "refused)\n")
    assert snapshot(cli.root) == {"exists": False}


def test_failed_build_shows_the_compiler_error(cli: Cli, tmp_path: Path) -> None:
    project = tmp_path / "brokenext"
    project.mkdir()
    (project / "setup.py").write_text(textwrap.dedent("""\
        from setuptools import Extension, setup
        setup(name="brokenext", version="0.1",
              ext_modules=[Extension("brokenext", ["brokenext.c"])])
        """))
    (project / "brokenext.c").write_text("int f(void) { return undefined_symbol_xyz; }\n")
    code, out, err = cli("install", str(project))
    assert (code, out) == (2, "")
    assert err.startswith(f"siglink: error: {project}: cannot build a wheel: brokenext.c:1:22: "
                          "error: ")
    assert "undefined_symbol_xyz" in err
    assert "This error originates from a subprocess" not in err
    assert err.count("\n") == 1
