"""``siglink audit``: real OSV records for real releases against the store; ``--yank``."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fleetfixtures import DATA, Cli

from siglink.fleet.advisory import AdvisoryError, load_advisories, parse_record
from siglink.store import Store

Snapshot = Callable[[Path], dict[str, object]]
OSV = DATA / "osv"


def _by_id() -> dict[str, Any]:
    advisories, bad = load_advisories(OSV)
    assert bad == []
    return {a.id: a for a in advisories}


@pytest.mark.parametrize(("advisory", "name", "version", "affected"), [
    ("GHSA-2g68-c3qc-8985", "Werkzeug", "3.0.1", True),
    ("GHSA-2g68-c3qc-8985", "werkzeug", "3.0.2", True),
    ("GHSA-2g68-c3qc-8985", "werkzeug", "3.0.3", False),
    ("GHSA-2g68-c3qc-8985", "werkzeug", "3.1.0", False),
    ("GHSA-2g68-c3qc-8985", "flask", "2.0.0", False),
    ("GHSA-h5c8-rqwp-cp95", "Jinja2", "3.1.2", True),
    ("GHSA-h5c8-rqwp-cp95", "jinja2", "3.1.3", False),
    ("GHSA-h75v-3vvj-5mfj", "jinja2", "3.1.3", True),
    ("GHSA-h75v-3vvj-5mfj", "jinja2", "3.1.4", False),
    ("GHSA-9wx4-h78v-vm56", "requests", "2.31.0", True),
    ("GHSA-9wx4-h78v-vm56", "requests", "2.32.1", True),
    ("GHSA-9wx4-h78v-vm56", "requests", "2.32.2", False),
    ("PYSEC-2021-66", "jinja2", "2.11.2", True),
    ("PYSEC-2021-66", "jinja2", "2.0rc1", True),  # in its versions list
    ("PYSEC-2021-66", "jinja2", "2.11.3", False),
    ("PYSEC-2023-221", "werkzeug", "2.3.7", True),
    ("PYSEC-2023-221", "werkzeug", "2.3.8", True),  # listed in "versions" as published
    ("PYSEC-2023-221", "werkzeug", "3.0.1", False),  # the GIT range is not read as versions
])
def test_real_records_match_versions(advisory: str, name: str, version: str,
                                     affected: bool) -> None:
    assert _by_id()[advisory].affects(name, version) is affected


def test_fixed_versions_and_titles() -> None:
    advisories = _by_id()
    assert advisories["GHSA-2g68-c3qc-8985"].fixed("werkzeug") == ["3.0.3"]
    assert advisories["GHSA-2g68-c3qc-8985"].title == "GHSA-2g68-c3qc-8985 (CVE-2024-34069)"
    assert advisories["PYSEC-2023-221"].fixed("Werkzeug") == ["3.0.1"]


def test_zip_archive_as_osv_publishes_it(tmp_path: Path) -> None:
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for record in sorted(OSV.glob("*.json")):
            z.write(record, record.name)
    advisories, bad = load_advisories(archive)
    assert bad == []
    assert sorted(a.id for a in advisories) == sorted(_by_id())
    assert {a.source for a in advisories} == {f"{archive}:{p.name}" for p in OSV.glob("*.json")}


@pytest.mark.parametrize(("record", "message"), [
    ("[1, 2", "malformed advisory record: not JSON (Expecting ',' delimiter: line 1 column 6 "
              "(char 5))"),
    ("[]", "malformed advisory record: not a JSON object"),
    ('{"affected": []}', "malformed advisory record: id 'None' is missing or not an OSV id"),
    ('{"id": "../../etc/passwd"}',
     "malformed advisory record: id '../../etc/passwd' is missing or not an OSV id"),
    ('{"id": "X-1", "affected": {}}', "X-1: malformed advisory record: affected is not a list"),
    ('{"id": "X-1", "affected": [{"package": {"ecosystem": "PyPI"}}]}',
     "X-1: malformed advisory record: affected[0].package.name is not a non-empty string"),
    ('{"id": "X-1", "affected": [{"package": {"ecosystem": "PyPI", "name": "a"}, "ranges": '
     '[{"type": "ECOSYSTEM", "events": [{"introduced": "0", "fixed": "1"}]}]}]}',
     "X-1: malformed advisory record: affected[0].ranges[0].events[0] is not one of "
     "introduced, fixed, last_affected, limit"),
    ('{"id": "X-1", "affected": [{"package": {"ecosystem": "PyPI", "name": "a"}, "ranges": '
     '[{"type": "ECOSYSTEM", "events": [{"introduced": "not a version"}]}]}]}',
     "X-1: malformed advisory record: affected[0].ranges[0].events[0]: invalid version "
     "'not a version'"),
    ('{"id": "X-1", "affected": [{"package": {"ecosystem": "PyPI", "name": "a"}, "ranges": '
     '[{"type": "ECOSYSTEM", "events": [{"fixed": "1.0"}]}]}]}',
     "X-1: malformed advisory record: affected[0].ranges[0] has no introduced event"),
    ('{"id": "X-1", "affected": [{"package": {"ecosystem": "PyPI", "name": "a"}, '
     '"versions": [1]}]}',
     "X-1: malformed advisory record: affected[0].versions[] is not a non-empty string"),
    ("[" * 100000 + "]" * 100000, "malformed advisory record: not JSON (maximum recursion "
                                  "depth exceeded while decoding a JSON array from a unicode "
                                  "string)"),
])
def test_malformed_records_are_one_line_each(tmp_path: Path, record: str,
                                             message: str) -> None:
    folder = tmp_path / "advisories"
    folder.mkdir()
    (folder / "bad.json").write_text(record)
    good, bad = load_advisories(folder)
    assert good == []
    assert [e.message for e in bad] == [f"{folder / 'bad.json'}: {message}"]


def test_other_ecosystems_and_range_types_are_left_alone() -> None:
    advisory = parse_record({"id": "GO-1", "affected": [
        {"package": {"ecosystem": "Go", "name": "requests"},
         "ranges": [{"type": "SEMVER", "events": [{"introduced": "v0"}]}]}]}, "go.json")
    assert not advisory.affects("requests", "2.31.0")
    withdrawn = parse_record({"id": "GHSA-w", "withdrawn": "2024-01-01T00:00:00Z", "affected": [
        {"package": {"ecosystem": "PyPI", "name": "requests"},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]}, "w.json")
    assert not withdrawn.affects("requests", "2.31.0")


def test_malformed_record_yanks_nothing(cli: Cli, tmp_path: Path, snapshot: Snapshot) -> None:
    from siglink.demo.wheels import make_wheel

    cli.ok("install", str(make_wheel(tmp_path / "w", "Jinja2", "3.1.3",
                                     {"jinja2/__init__.py": "X = 1\n"})))
    folder = tmp_path / "advisories"
    folder.mkdir()
    (folder / "GHSA-h75v-3vvj-5mfj.json").write_text(
        (OSV / "GHSA-h75v-3vvj-5mfj.json").read_text())
    (folder / "broken.json").write_text('{"id": "GHSA-zzzz", "affected": 3}')
    before = snapshot(cli.root)
    code, out, err = cli("audit", "--advisories", str(folder), "--no-index", "--yank")
    assert code == 2
    assert err == (f"siglink: error: {folder / 'broken.json'}: GHSA-zzzz: malformed advisory "
                   "record: affected is not a list\n"
                   "siglink: error: nothing yanked: 1 advisory record could not be read "
                   "(above); fix or remove them and audit again\n")
    assert out.splitlines()[-1] == "1 affected version (1 advisory; 1 malformed record not checked)"
    assert out.splitlines()[:2] == [
        "jinja2 3.1.3",
        "  GHSA-h75v-3vvj-5mfj (CVE-2024-34064), fixed in 3.1.4: Jinja vulnerable to HTML "
        "attribute injection when passing user input as keys to xmlattr filter"]
    assert snapshot(cli.root) == before
    code, _, err = cli("audit", "--advisories", str(tmp_path / "nowhere"), "--no-index")
    assert (code, err) == (2, f"siglink: error: {tmp_path / 'nowhere'}: no such file or "
                              "directory\n")


JINJA_APP = """\
import jinja2
print(jinja2.__version__, jinja2.Template("{{ x }}").render(x=2))
"""


@pytest.mark.network
def test_audit_yank_moves_an_app_off_the_affected_version(
    cli: Cli, tmp_path: Path, pypi: Any
) -> None:
    markupsafe = pypi.fetch("markupsafe==2.1.5")
    old, fixed = pypi.fetch("jinja2==3.1.3"), pypi.fetch("jinja2==3.1.4")
    cli.ok("install", str(markupsafe), str(old))
    app = tmp_path / "app.py"
    app.write_text(JINJA_APP)
    cli.ok("build", str(app))
    assert cli.run_app(app).stdout == "3.1.3 hi 2\n".replace("hi ", "")
    # The fix reaches the store by another way (another process, no relink): the app's
    # registration still says 3.1.3.
    Store(cli.root).install([str(fixed)])
    code, out, _ = cli("audit", "--advisories", str(OSV), "--no-index")
    assert code == 1
    assert out == (
        "jinja2 3.1.3\n"
        "  GHSA-h75v-3vvj-5mfj (CVE-2024-34064), fixed in 3.1.4: Jinja vulnerable to HTML "
        "attribute injection when passing user input as keys to xmlattr filter\n"
        f"  linked by: {app}\n"
        "1 affected version (6 advisories)\n")
    code, out, _ = cli("audit", "--advisories", str(OSV), "--no-index", "--yank")
    assert code == 0
    assert out.splitlines()[-2:] == [
        "yanked jinja2==3.1.3: GHSA-h75v-3vvj-5mfj: Jinja vulnerable to HTML attribute "
        "injection when passing user input as keys to xmlattr filter",
        f"  {app}: 3.1.3 -> 3.1.4"]
    assert cli.run_app(app).stdout == "3.1.4 2\n"
    # Nothing left to yank: the affected version is listed as yanked, exit 0.
    code, out, _ = cli("audit", "--advisories", str(OSV), "--no-index", "--json")
    assert code == 0
    [finding] = json.loads(out)["affected"]
    assert finding["yanked"].startswith("GHSA-h75v-3vvj-5mfj: ")


@pytest.mark.network
def test_audit_yank_refuses_an_app_naming_the_advisory(
    cli: Cli, tmp_path: Path, pypi: Any
) -> None:
    cli.ok("install", str(pypi.fetch("markupsafe==2.1.5")), str(pypi.fetch("jinja2==3.1.3")))
    app = tmp_path / "app.py"
    app.write_text(JINJA_APP)
    cli.ok("build", str(app))
    code, out, _ = cli("audit", "--advisories", str(OSV / "GHSA-h75v-3vvj-5mfj.json"),
                       "--no-index", "--yank")
    assert code == 0
    line = out.splitlines()[-1]
    assert line.startswith(f"  {app}: 3.1.3 -> refused ("), line
    assert "GHSA-h75v-3vvj-5mfj" in line
    result = cli.run_app(app)
    assert result.returncode == 127
    assert "GHSA-h75v-3vvj-5mfj" in result.stderr


@pytest.mark.network
def test_the_index_yanked_flag(cli: Cli, pypi: Any) -> None:
    """requests 2.32.0 is yanked on PyPI, with a reason (PEP 592)."""
    cli.ok("install", str(pypi.fetch("requests==2.32.0")), "--no-deps")
    code, out, _ = cli("audit", "--json")
    assert code == 1
    [finding] = json.loads(out)["affected"]
    assert (finding["name"], finding["version"], finding["advisories"]) == (
        "requests", "2.32.0", [])
    assert finding["index_yanked"] == "Yanked due to conflicts with CVE-2024-35195 mitigation"
    with pytest.raises(AdvisoryError):
        parse_record({"id": 3}, "x.json")
