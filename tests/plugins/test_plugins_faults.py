"""The host survives its plugins: a manifest naming an object that does not exist, a plugin
whose import raises, two plugins with the same name, plugins importing each other's API."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pluginfixtures import SHOUT, plugin

import siglink
from siglink.plugins.build import build_plugin
from siglink.plugins.host import outcomes
from siglink.plugins.records import Fault
from siglink.store import Store


def built(store: Store, root: Path, name: str, code: str, **kw: Any) -> Path:
    directory = plugin(root, name, code, **kw)
    build_plugin(store, directory)
    return directory


def reasons(hook: Any) -> dict[str, tuple[str, Fault | None, str]]:
    return {o.record.label: (o.status, o.fault, o.reason) for o in outcomes(hook)}


def test_a_manifest_naming_a_missing_object_is_rejected(
        tmp_path: Path, store: Store, running: Any) -> None:
    plugins = tmp_path / "plugins"
    built(store, plugins, "shout", SHOUT)
    ghost = built(store, plugins, "ghost", SHOUT.replace("def shout", "def ghost"))
    data = json.loads((ghost / "siglink.json").read_text())
    data["implements"]["chat.commands"]["object"] = "ghost:nothing"
    (ghost / "siglink.json").write_text(json.dumps(data))
    hook = siglink.plugins(running.command, directories=[plugins], entry_points=False)
    assert reasons(hook)["ghost 1.0"] == (
        "rejected", Fault.MISSING_OBJECT,
        "the manifest names ghost:nothing, which the plugin does not export")
    assert hook.collect("hi", user="ann") == ["<ann> HI"]


def test_a_stale_manifest_whose_object_is_gone_fails_at_import(
        tmp_path: Path, store: Store, running: Any) -> None:
    plugins = tmp_path / "plugins"
    built(store, plugins, "shout", SHOUT)
    stale = built(store, plugins, "stale", SHOUT.replace("def shout", "def stale"))
    (stale / "stale" / "__init__.py").write_text("VALUE = 1\n")
    hook = siglink.plugins(running.command, directories=[plugins], entry_points=False)
    assert hook.collect("hi", user="ann") == ["<ann> HI"]
    assert reasons(hook)["stale 1.0"] == ("failed", Fault.MISSING_OBJECT,
                                         "stale:stale: stale has no stale")
    assert hook.failures["stale 1.0"].fault is Fault.MISSING_OBJECT


def test_a_plugin_whose_import_raises_is_reported_and_the_others_run(
        tmp_path: Path, store: Store, running: Any) -> None:
    plugins = tmp_path / "plugins"
    built(store, plugins, "shout", SHOUT)
    code = SHOUT.replace("def shout", "def broken") + "\nraise ImportError('no config file')\n"
    built(store, plugins, "broken", code)
    hook = siglink.plugins(running.command, directories=[plugins], entry_points=False)
    assert [o.status for o in outcomes(hook)] == ["compatible", "compatible"]
    assert hook.collect("hi", user="ann") == ["<ann> HI"]
    status, fault, reason = reasons(hook)["broken 1.0"]
    line = code.lstrip().splitlines().index("raise ImportError('no config file')") + 1
    assert (status, fault) == ("failed", Fault.IMPORT_ERROR)
    assert reason == (f"broken/__init__.py:{line}: importing broken raised ImportError: "
                      "no config file")
    assert "broken" not in sys.modules


def test_two_plugins_with_the_same_name_and_version(
        tmp_path: Path, store: Store, running: Any) -> None:
    first = built(store, tmp_path / "a", "shout", SHOUT)
    built(store, tmp_path / "b", "shout", SHOUT.replace("upper()", "lower()"))
    hook = siglink.plugins(running.command, directories=[tmp_path / "a", tmp_path / "b"],
                           entry_points=False)
    found = [(o.status, o.fault) for o in outcomes(hook)]
    assert found == [("compatible", None), ("rejected", Fault.DUPLICATE)]
    assert outcomes(hook)[1].reason == (
        f"another plugin named shout 1.0 came first: {first / 'siglink.json'}")
    assert hook.collect("hi", user="ann") == ["<ann> HI"]


def test_plugins_importing_each_others_api_are_a_cycle(
        tmp_path: Path, store: Store, running: Any) -> None:
    plugins = tmp_path / "plugins"
    built(store, plugins, "shout", SHOUT)
    ping = ('import siglink\nfrom pong import pong_helper\n\n\n'
            '@siglink.implements("chat.commands")\n'
            'def ping(text: str, *, user: str) -> str:\n    return pong_helper(text)\n\n\n'
            'def ping_helper(text: str) -> str:\n    return text\n')
    pong = ping.replace("ping", "PING").replace("pong", "ping").replace("PING", "pong")
    built(store, plugins, "ping", ping)
    built(store, plugins, "pong", pong)
    hook = siglink.plugins(running.command, directories=[plugins], entry_points=False)
    found = reasons(hook)
    assert found["ping 1.0"] == ("rejected", Fault.CYCLE,
                                 "plugins import each other's API: ping -> pong -> ping")
    assert found["pong 1.0"] == ("rejected", Fault.CYCLE,
                                 "plugins import each other's API: pong -> ping -> pong")
    assert hook.collect("hi", user="ann") == ["<ann> HI"]
    assert "ping" not in sys.modules and "pong" not in sys.modules


def test_an_unreadable_manifest_is_reported(
        tmp_path: Path, store: Store, running: Any) -> None:
    plugins = tmp_path / "plugins"
    built(store, plugins, "shout", SHOUT)
    (plugins / "junk").mkdir()
    (plugins / "junk" / "siglink.json").write_text('{"format": 1, "unit": {')
    hook = siglink.plugins(running.command, directories=[plugins], entry_points=False)
    status, fault, reason = reasons(hook)["junk ?"]
    assert (status, fault) == ("rejected", Fault.BAD_MANIFEST)
    assert reason.startswith(f"{plugins / 'junk' / 'siglink.json'}: not valid JSON")
    assert hook.collect("hi", user="ann") == ["<ann> HI"]


def test_when_the_newest_version_fails_to_import_the_next_one_loads(
        tmp_path: Path, store: Store, running: Any) -> None:
    built(store, tmp_path / "old", "shout", SHOUT)
    raising = SHOUT + "\nraise RuntimeError('2.0 needs a config file')\n"
    built(store, tmp_path / "new", "shout", raising, version="2.0")
    hook = siglink.plugins(running.command, directories=[tmp_path / "old", tmp_path / "new"],
                           entry_points=False)
    assert [(o.record.label, o.status) for o in outcomes(hook)] == [
        ("shout 1.0", "superseded"), ("shout 2.0", "compatible")]
    assert hook.collect("hi", user="ann") == ["<ann> HI"]
    line = raising.strip().splitlines().index("raise RuntimeError('2.0 needs a config file')")
    assert reasons(hook) == {
        "shout 1.0": ("compatible", None, "a newer version failed to load"),
        "shout 2.0": ("failed", Fault.IMPORT_ERROR,
                      f"shout/__init__.py:{line + 1}: importing shout raised RuntimeError: "
                      "2.0 needs a config file")}
    assert str(sys.modules["shout"].__file__).startswith(str(tmp_path / "old"))


def test_a_plugin_named_like_a_module_already_installed_is_not_confused_with_it(
        tmp_path: Path, store: Store, running: Any) -> None:
    plugins = tmp_path / "plugins"
    built(store, plugins, "shout", SHOUT)
    built(store, plugins, "colorsys", SHOUT.replace("def shout", "def colors"))
    sys.modules.pop("colorsys", None)  # not imported yet: the plugin's import finds the stdlib's
    hook = siglink.plugins(running.command, directories=[plugins], entry_points=False)
    assert hook.collect("hi", user="ann") == ["<ann> HI"]
    status, fault, reason = reasons(hook)["colorsys 1.0"]
    assert (status, fault) == ("failed", Fault.DUPLICATE)
    stdlib = sys.modules["colorsys"].__file__
    assert reason == f"module colorsys resolves to {stdlib}, not to colorsys 1.0's own"
