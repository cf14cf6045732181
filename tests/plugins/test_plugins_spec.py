"""Extension points: declared with a decorator that costs nothing, exported with full
signatures by the static extractor, versioned with the host."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pluginfixtures import HOST_1, HOST_2, write

import siglink
from siglink.contracts.manifest import ExportKind
from siglink.errors import BadInputError
from siglink.plugins.spec import extension_point, group_of, implements, registered
from siglink.python.exports import extract_tree


def test_importing_the_decorators_stays_cheap() -> None:
    code = ("import sys, siglink; siglink.extension_point; siglink.implements; "
            "print(' '.join(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    base = subprocess.run([sys.executable, "-c", "import sys; print(' '.join(sys.modules))"],
                          capture_output=True, text=True, check=True)
    # what the interpreter's own start-up (site, .pth files of the environment) loads anyway
    loaded = set(out.stdout.split()) - set(base.stdout.split())
    assert loaded & {"griffe", "rich", "sqlite3", "packaging", "argparse", "typing"} == set()
    assert {m for m in loaded if m.startswith("siglink")} == {
        "siglink", "siglink.plugins", "siglink.plugins.spec"}


def test_decorators_return_the_object_itself_tagged() -> None:
    def spec(text: str) -> str:
        raise NotImplementedError

    assert extension_point("t.spec")(spec) is spec
    assert group_of(spec) == "t.spec" and registered("t.spec") is spec

    def impl(text: str) -> str:
        return text

    assert implements("t.spec", position="first")(impl) is impl
    assert impl.__siglink_implements__ == {"t.spec": "first"}  # type: ignore[attr-defined]


@pytest.mark.parametrize("group", ["", "two words", 3])
def test_a_bad_group_is_refused(group: object) -> None:
    with pytest.raises(BadInputError, match="a group is a non-empty name without spaces"):
        extension_point(group)  # type: ignore[arg-type]


def test_siglink_plugins_is_the_package_and_callable() -> None:
    from siglink.plugins import host

    assert callable(siglink.plugins)
    assert host.plugins.__name__ == "plugins"
    with pytest.raises(BadInputError, match=r"no extension point 'nowhere\.at\.all' is declared"):
        siglink.plugins("nowhere.at.all", entry_points=False)


def test_the_host_manifest_exports_extension_points(tmp_path: Path) -> None:
    tree = write(tmp_path, {"chat/__init__.py": HOST_1})
    exports = extract_tree(tree, ["chat"], name="chat", version="1.0").exports
    command = exports["chat.command"]
    assert command.kind is ExportKind.EXTENSION_POINT
    assert command.value == "'chat.commands'"
    assert str(command.signature) == "(text: str, *, user: str) -> str | None"
    flt = exports["chat.Filter"]
    assert flt.kind is ExportKind.EXTENSION_POINT and flt.signature is None
    assert list(flt.members) == ["accept"]
    assert str(flt.members["accept"].signature) == "(message: chat.Message) -> bool"
    assert exports["chat.format_user"].kind is ExportKind.FUNCTION


def test_an_extension_point_is_versioned_with_its_host(tmp_path: Path) -> None:
    """A changed spec is a changed export: siglink diff reports it like any other."""
    from siglink.contracts.diff import diff_manifests

    old = extract_tree(write(tmp_path / "1", {"chat/__init__.py": HOST_1}), ["chat"],
                       name="chat", version="1.0")
    new = extract_tree(write(tmp_path / "2", {"chat/__init__.py": HOST_2}), ["chat"],
                       name="chat", version="2.0")
    assert old.exports["chat.command"].digest != new.exports["chat.command"].digest
    diff = diff_manifests(old, new)
    changed = dict(diff.incompatible)
    verdict = changed["chat.command"]
    assert verdict is not None
    assert [p.explain() for p in verdict.incompatible] == [
        "P3 chat.command param channel: expected absent, found channel: str; "
        "required parameter added (incompatible)"]


@pytest.mark.parametrize("name", [
    "siglink.plugins", "siglink.plugins.spec", "siglink.plugins.records",
    "siglink.plugins.build", "siglink.plugins.discovery", "siglink.plugins.checking",
    "siglink.plugins.selection", "siglink.plugins.loading", "siglink.plugins.dispatch",
    "siglink.plugins.host", "siglink.plugins.report", "siglink.plugins.pluggy_check",
    "siglink.plugins._callers", "siglink.cli.plugins", "siglink.demo.chat",
    "siglink.python.static",
])
def test_module_dir_is_its_all(name: str) -> None:
    import importlib

    module = importlib.import_module(name)
    assert sorted(dir(module)) == sorted(module.__all__)
    assert [n for n in module.__all__ if not hasattr(module, n)] == []


def test_a_host_given_by_path_is_read_statically(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from siglink.cli.main import main

    tree = write(tmp_path / "host", {"chat/__init__.py": HOST_1,
                                      "pyproject.toml": '[project]\nname = "chat"\n'
                                                        'version = "1.0"\n'})
    code = main(["plugins", str(tree), "--store", str(tmp_path / "nostore"),
                 "--no-entry-points"])
    out = capsys.readouterr().out
    assert code == 0
    assert "chat.commands  chat.command(text: str, *, user: str) -> str | None" in out
    assert not (tmp_path / "nostore").exists()
