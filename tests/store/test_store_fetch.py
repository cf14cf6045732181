"""Real artifacts: PyPI wheels, requirements fetched through pip, sdists and projects built."""

from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from siglink.cli.main import main
from siglink.store import Store

Snapshot = Callable[[Path], dict[str, object]]
WheelMaker = Callable[..., Path]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """The exit code, stdout, and stderr without the progress lines (one per long step:
    ``siglink: resolving ...``, ``siglink: building ...``), which are checked to be there."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, _without_progress(err)


def _without_progress(err: str) -> str:
    lines = err.splitlines(keepends=True)
    kept = [ln for ln in lines if not ln.startswith("siglink: ")
            or ln.startswith(("siglink: error:", "siglink: warning:"))]
    return "".join(kept)


@pytest.mark.network
def test_real_pypi_wheel(tmp_path: Path, pypi: Any) -> None:
    wheel = pypi.fetch("itsdangerous==2.1.2")
    store = Store(tmp_path / "store")
    assert [(r.name, r.version, r.status) for r in store.install([str(wheel)])] == [
        ("itsdangerous", "2.1.2", "installed")
    ]
    v = store.get("itsdangerous", "2.1.2")
    assert v.top_level == ("itsdangerous",)
    assert v.requires_python == ">=3.7"
    assert (v.path / "itsdangerous" / "py.typed").is_file()
    assert list((v.path / "itsdangerous" / "__pycache__").glob("signer.cpython-*.pyc"))
    manifest = store.manifest("itsdangerous", "2.1.2")
    assert manifest.exports["itsdangerous.Signer"].kind.value == "class"
    assert manifest.exports["itsdangerous.URLSafeSerializer"].kind.value == "class"
    assert json.loads((v.dist_info / "siglink.json").read_text())["unit"]["name"] == (
        "itsdangerous")
    assert store.providers("itsdangerous.signer") == ["itsdangerous"]


@pytest.mark.network
def test_requirement_fetched_and_built_from_sdist(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """markupsafe 2.0.1 has no wheel for 3.11: pip fetches the sdist and builds it."""
    root = str(tmp_path / "store")
    assert run(capsys, "install", "markupsafe==2.0.1", "--store", root) == (
        0, "installed markupsafe==2.0.1\n", "")
    v = Store(root).get("MarkupSafe", "2.0.1")
    assert v.top_level == ("markupsafe",)
    assert list((v.path / "markupsafe").glob("_speedups.cpython-311-*.so"))
    assert "markupsafe.escape" in Store(root).manifest("markupsafe", "2.0.1").exports
    assert run(capsys, "install", "MarkupSafe==2.0.1", "--store", root) == (
        0, "markupsafe==2.0.1 already present\n", "")


@pytest.mark.network
def test_unfetchable_requirement(tmp_path: Path, snapshot: Snapshot, make_wheel: WheelMaker,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "store"
    Store(root).install([str(make_wheel("textkit", "1.0.0"))])
    before = snapshot(root)
    code, out, err = run(capsys, "install", "nonexistent-pkg-xyz==1.0", "--store", str(root))
    assert (code, out) == (4, "")
    assert err == (
        "siglink: error: nonexistent-pkg-xyz==1.0: cannot be fetched from the package index: "
        "No matching distribution found for nonexistent-pkg-xyz==1.0\n"
    )
    assert snapshot(root) == before


def test_index_url_passes_through(tmp_path: Path, make_wheel: WheelMaker,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Any PEP 503 index serves a fleet: here a directory index, no network needed."""
    wheel = make_wheel("fleetlib", "4.2")
    project = tmp_path / "simple" / "fleetlib"
    project.mkdir(parents=True)
    shutil.copy(wheel, project / wheel.name)
    (project / "index.html").write_text(f'<a href="{wheel.name}">{wheel.name}</a>\n')
    index_url = (tmp_path / "simple").as_uri()
    root = str(tmp_path / "store")
    assert run(capsys, "install", "fleetlib==4.2", "--index-url", index_url, "--store", root) == (
        0, "installed fleetlib==4.2\n", "")
    assert Store(root).get("fleetlib", "4.2").top_level == ("fleetlib",)


def _project(folder: Path, version: str) -> Path:
    (folder / "src" / "projlib").mkdir(parents=True)
    (folder / "pyproject.toml").write_text(textwrap.dedent(f"""\
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "projlib"
        version = "{version}"
        requires-python = ">=3.8"
        """))
    (folder / "src" / "projlib" / "__init__.py").write_text("def double(x):\n    return 2 * x\n")
    return folder


@pytest.mark.network
def test_project_directory_and_sdist(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     pypi: Any) -> None:
    root = str(tmp_path / "store")
    project = _project(tmp_path / "proj", "0.3.0")
    assert run(capsys, "install", str(project), "--store", root) == (
        0, "installed projlib==0.3.0\n", "")
    v = Store(root).get("projlib", "0.3.0")
    assert (v.requires_python, v.top_level) == (">=3.8", ("projlib",))
    assert "projlib.double" in Store(root).manifest("projlib", "0.3.0").exports
    sdist = pypi.fetch("itsdangerous==2.1.2", kind="sdist")
    assert run(capsys, "install", str(sdist), "--store", root) == (
        0, "installed itsdangerous==2.1.2\n", "")


def test_unbuildable_project(tmp_path: Path, snapshot: Snapshot,
                             capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "pyproject.toml").write_text("this is [not toml\n")
    root = tmp_path / "store"
    code, out, err = run(capsys, "install", str(broken), "--store", str(root))
    assert (code, out) == (2, "")
    assert err.startswith(f"siglink: error: {broken}: cannot build a wheel: ")
    assert err.count("\n") == 1
    assert not root.exists()


@pytest.mark.network
@pytest.mark.parametrize("spec", ["./proj", "proj/", "proj"])
def test_relative_project_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch, spec: str) -> None:
    """pip would read a bare ``proj`` (which ``./proj`` becomes) as a requirement name."""
    _project(tmp_path / "proj", "0.4.0")
    monkeypatch.chdir(tmp_path)
    root = str(tmp_path / "store")
    assert run(capsys, "install", spec, "--store", root) == (0, "installed projlib==0.4.0\n", "")
