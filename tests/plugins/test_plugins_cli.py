"""``siglink build`` of a plugin and ``siglink plugins HOST``: statuses, reasons, the last
failure, and what a new host release would break."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pluginfixtures import ECHO, HOST_2, SHOUT, WHISPER, install_host, plugin

import siglink
from siglink.cli.main import main
from siglink.store import Store


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def plugins(tmp_path: Path, store: Store, chat: Path,
            capsys: pytest.CaptureFixture[str]) -> Path:
    root = tmp_path / "plugins"
    for name, code in (("shout", SHOUT), ("echo", ECHO)):
        directory = plugin(root, name, code)
        assert run(capsys, "build", str(directory), "--store", str(store.root))[0] == 0
    return root


def test_build_of_a_plugin_fills_implements(
        tmp_path: Path, store: Store, chat: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = plugin(tmp_path, "shout", SHOUT)
    code, out, _ = run(capsys, "build", str(directory), "--store", str(store.root))
    assert code == 0
    assert out.splitlines() == [
        f"built {directory / 'siglink.json'} (plugin shout 1.0)",
        "  chat.commands: shout:shout (spec chat.command; built against chat 1.0)"]
    manifest = json.loads((directory / "siglink.json").read_text())
    assert manifest["unit"]["kind"] == "plugin"
    assert manifest["implements"]["chat.commands"]["position"] == "first"
    assert [i["path"] for i in manifest["imports"]["chat"]] == ["chat.format_user"]
    assert "siglink" not in manifest.get("unprovided", {})


def test_pyproject_declares_what_cannot_carry_a_decorator(
        tmp_path: Path, store: Store, chat: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = "def plain(text: str, *, user: str) -> str:\n    return text\n"
    directory = plugin(tmp_path, "plain", code, extra={
        "pyproject.toml": '[project]\nname = "plain"\nversion = "0.3"\n\n'
                          '[tool.siglink.implements]\n"chat.commands" = "plain:plain"\n'})
    assert run(capsys, "build", str(directory), "--store", str(store.root))[0] == 0
    manifest = json.loads((directory / "siglink.json").read_text())
    assert manifest["implements"]["chat.commands"]["object"] == "plain:plain"
    assert manifest["unit"]["version"] == "0.3"


def test_a_plugin_implementing_a_private_object_is_bad_input(
        tmp_path: Path, store: Store, chat: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = plugin(tmp_path, "hidden", SHOUT.replace("def shout", "def _shout"))
    code, _, err = run(capsys, "build", str(directory), "--store", str(store.root))
    assert code == 2
    assert err.strip() == (f"siglink: error: {directory}: chat.commands is implemented by "
                           "hidden:_shout, which is not a public object of the plugin")


def test_plugins_report_and_exit_codes(
        tmp_path: Path, store: Store, plugins: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["plugins", "chat", "--store", str(store.root), "--plugin-dir", str(plugins),
            "--no-entry-points"]
    code, out, _ = run(capsys, *args)
    assert code == 0
    assert "  ok        echo 1.0 (directory)  echo:echo" in out
    assert "  ok        shout 1.0 (directory)  shout:shout" in out
    assert "chat.filters  chat.Filter: accept(message: chat.Message) -> bool" in out
    plugin(plugins, "whisper", WHISPER)
    assert run(capsys, "build", str(plugins / "whisper"), "--store", str(store.root))[0] == 0
    code, out, _ = run(capsys, *args, "--json")
    assert code == 1
    data = json.loads(out)
    commands = next(p for p in data["points"] if p["point"] == "chat.commands")
    whisper = next(p for p in commands["plugins"] if p["name"] == "whisper")
    assert whisper["status"] == "rejected" and whisper["fault"] == "incompatible"
    assert [p["rule"] for p in whisper["verdict"]["problems"]
            if p["severity"] == "incompatible"] == ["P11"]


def test_against_shows_what_a_new_host_release_would_break(
        tmp_path: Path, store: Store, plugins: Path, capsys: pytest.CaptureFixture[str]) -> None:
    install_host(tmp_path, store, "2.0.0", HOST_2)
    code, out, _ = run(capsys, "plugins", "chat==1.0", "--store", str(store.root),
                       "--plugin-dir", str(plugins), "--no-entry-points",
                       "--against", "chat==2.0.0")
    assert code == 1
    assert "  chat 2.0.0 would break:\n    echo 1.0\n" in out
    assert "P6 echo:echo param channel" in out
    assert "shout 1.0\n" not in out.split("would break:")[1]  # **extra absorbs channel


def test_the_last_failure_of_a_plugin_is_shown(
        tmp_path: Path, store: Store, plugins: Path, running: Any,
        capsys: pytest.CaptureFixture[str]) -> None:
    hook = siglink.plugins(running.command, directories=[plugins], store=store,
                           entry_points=False)
    hook.using("skip").collect(None, user="ann")  # shout calls None.upper()
    code, out, _ = run(capsys, "plugins", "chat", "--store", str(store.root),
                       "--plugin-dir", str(plugins), "--no-entry-points")
    assert code == 0
    assert ("last failure: chat.commands: AttributeError: 'NoneType' object has no "
            "attribute 'upper'") in out


def test_entry_point_plugins_are_checked_from_their_source(
        tmp_path: Path, store: Store, chat: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    site = tmp_path / "site"
    for name, source, func in (("epshout", SHOUT, "shout"), ("epwhisper", WHISPER, "whisper")):
        (site / name).mkdir(parents=True)
        (site / name / "__init__.py").write_text(source)
        info = site / f"{name}-3.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 3.0\n")
        (info / "entry_points.txt").write_text(f"[chat.commands]\n{func} = {name}:{func}\n")
        (info / "RECORD").write_text(f"{name}/__init__.py,,\n")
    monkeypatch.syspath_prepend(str(site))
    code, out, _ = run(capsys, "plugins", "chat", "--store", str(store.root))
    assert code == 1
    assert "  ok        epshout 3.0 (entry-point)  epshout:shout" in out
    assert "  REJECTED  epwhisper 3.0 (entry-point)  epwhisper:whisper" in out
    assert ("P11 epwhisper:whisper param user: expected str, found int; parameter type "
            "narrowed (incompatible)") in out
    assert "epshout" not in sys.modules and "epwhisper" not in sys.modules


def test_a_plugins_uses_of_the_host_api_are_checked_too(
        tmp_path: Path, store: Store, chat: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """kwshout calls format_user(user=...), which 2.0 made positional-only."""
    plugins = tmp_path / "plugins"
    code = SHOUT.replace("def shout", "def kwshout").replace("format_user(user)",
                                                             "format_user(user=user)")
    plugin(plugins, "kwshout", code)
    assert run(capsys, "build", str(plugins / "kwshout"), "--store", str(store.root))[0] == 0
    install_host(tmp_path, store, "2.0.0", HOST_2)
    code_, out, _ = run(capsys, "plugins", "chat==1.0", "--store", str(store.root),
                        "--plugin-dir", str(plugins), "--no-entry-points",
                        "--against", "chat==2.0.0")
    assert code_ == 1
    breaks = out.split("would break:")[1]
    assert "kwshout 1.0" in breaks
    assert "P18 chat.format_user param user" in breaks
