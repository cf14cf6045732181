"""``siglink sbom``: the exact linked versions as CycloneDX, valid against its schema."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from fleetfixtures import Cli

from siglink.store import Store

validation = pytest.importorskip(
    "cyclonedx.validation.json", reason="cyclonedx-python-lib[json-validation] is not installed")


def _validate(text: str) -> None:
    from cyclonedx.schema import SchemaVersion

    errors = validation.JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert errors is None, errors


@pytest.mark.network
def test_sbom_lists_exactly_the_linked_versions(cli: Cli, tmp_path: Path, pypi: Any) -> None:
    cli.ok("install", str(pypi.fetch("markupsafe==2.1.5")), str(pypi.fetch("jinja2==3.1.3")),
           str(pypi.fetch("jinja2==3.1.4")), str(pypi.fetch("itsdangerous==2.1.2")))
    app = tmp_path / "app.py"
    app.write_text("import jinja2\nprint(jinja2.Template('{{ x }}').render(x=1))\n")
    cli.ok("build", str(app))
    text = cli.ok("sbom", str(app))
    _validate(text)
    bom = json.loads(text)
    assert bom["specVersion"] == "1.6"
    assert bom["metadata"]["component"]["name"] == "app.py"
    linked = json.loads(cli.ok("plan", str(app), "--json"))["links"]
    assert {(c["name"], c["version"]) for c in bom["components"]} == {
        (n, link["version"]) for n, link in linked.items()} == {
        ("jinja2", "3.1.4"), ("markupsafe", "2.1.5")}  # not 3.1.3, not itsdangerous
    store = Store(cli.root)
    for component in bom["components"]:
        assert component["purl"] == f"pkg:pypi/{component['name']}@{component['version']}"
        record = store.get(component["name"], component["version"]).dist_info / "RECORD"
        assert component["hashes"] == [
            {"alg": "SHA-256", "content": hashlib.sha256(record.read_bytes()).hexdigest()}]
    deps = {d["ref"]: d.get("dependsOn", []) for d in bom["dependencies"]}
    assert deps["application"] == ["pkg:pypi/jinja2@3.1.4"]
    assert deps["pkg:pypi/jinja2@3.1.4"] == ["pkg:pypi/markupsafe@2.1.5"]
    # -o FILE: the same document
    out = tmp_path / "app.cdx.json"
    code, _, err = cli("sbom", str(app), "-o", str(out))
    assert (code, err) == (0, f"wrote {out}: 2 linked libraries\n")
    _validate(out.read_text())


def test_sbom_of_an_app_never_built(cli: Cli, tmp_path: Path) -> None:
    code, out, err = cli("sbom", str(tmp_path / "app.py"))
    assert (code, out) == (2, "")
    assert err == (f"siglink: error: {tmp_path / 'app.siglink.json'}: no manifest for "
                   f"{tmp_path / 'app.py'}; run 'siglink build {tmp_path / 'app.py'}' first\n")
