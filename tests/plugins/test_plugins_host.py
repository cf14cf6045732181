"""A host's plugins: found without importing them, checked against the host's current spec,
imported on first use, called all / first / collected, in order, failures as the host says."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from pluginfixtures import BOOM, ECHO, NOSPAM, SHOUT, WHISPER, plugin

import siglink
from siglink.demo.wheels import make_wheel
from siglink.errors import PluginCallError
from siglink.plugins.build import build_plugin
from siglink.plugins.dispatch import CallFailure
from siglink.plugins.host import outcomes
from siglink.store import Store


def built(store: Store, root: Path, name: str, code: str, **kw: Any) -> Path:
    directory = plugin(root, name, code, **kw)
    build_plugin(store, directory)
    return directory


def statuses(hook: Any) -> dict[str, str]:
    return {f"{o.record.label} ({o.record.source})": o.status for o in outcomes(hook)}


def test_compatible_plugins_load_lazily_and_incompatible_ones_are_reported(
        tmp_path: Path, store: Store, running: Any) -> None:
    plugins = tmp_path / "plugins"
    for name, code in (("shout", SHOUT), ("echo", ECHO), ("whisper", WHISPER)):
        built(store, plugins, name, code)
    hook = siglink.plugins(running.command, directories=[plugins], entry_points=False)
    assert statuses(hook) == {"echo 1.0 (directory)": "compatible",
                              "shout 1.0 (directory)": "compatible",
                              "whisper 1.0 (directory)": "rejected"}
    assert not {"shout", "echo", "whisper"} & set(sys.modules)  # discovery imported nothing
    rejected = next(o for o in outcomes(hook) if o.status == "rejected")
    assert rejected.verdict is not None
    assert [p.explain() for p in rejected.verdict.incompatible] == [
        "P11 whisper:whisper param user: expected str, found int; parameter type narrowed "
        "(incompatible)"]
    # shout asked to be first; echo answers only /echo.
    assert hook.collect("hi", user="ann") == ["<ann> HI", None]
    assert {"shout", "echo"} <= set(sys.modules) and "whisper" not in sys.modules
    assert hook.first("/echo x", user="ann") == "<ann> /ECHO X"
    assert hook.call_all("hi", user="ann") == []
    by_group = siglink.plugins("chat.commands", directories=[plugins], entry_points=False,
                               order=["echo"])
    assert by_group.first("/echo x", user="ann") == "x"


def test_a_plugin_built_against_an_older_host_is_checked_against_the_current_spec(
        tmp_path: Path, store: Store, chat: Path) -> None:
    """shout and echo were built against chat 1.0; chat 2.0 runs and passes channel=."""
    from pluginfixtures import HOST_2, install_host

    plugins = tmp_path / "plugins"
    built(store, plugins, "shout", SHOUT)
    built(store, plugins, "echo", ECHO)
    host2 = install_host(tmp_path, store, "2.0", HOST_2)
    sys.path.insert(0, str(host2))
    import chat as running

    hook = siglink.plugins(running.command, directories=[plugins], entry_points=False)
    assert statuses(hook) == {"echo 1.0 (directory)": "rejected",
                              "shout 1.0 (directory)": "compatible"}
    echo = next(o for o in outcomes(hook) if o.record.name == "echo")
    assert echo.verdict is not None
    assert [p.rule for p in echo.verdict.incompatible] == ["P6"]  # channel: not accepted
    shout = json.loads((plugins / "shout" / "siglink.json").read_text())
    assert shout["implements"]["chat.commands"]["spec"]["signature"]["text"] == (
        "(text: str, *, user: str) -> str | None")  # the spec it was built against
    assert hook.collect("hi", user="ann", channel="#a") == ["<ann> HI"]


def test_the_host_decides_what_a_raising_plugin_does(
        tmp_path: Path, store: Store, running: Any) -> None:
    plugins = tmp_path / "plugins"
    built(store, plugins, "shout", SHOUT)
    built(store, plugins, "boom", BOOM)
    hook = siglink.plugins(running.command, directories=[plugins], store=store,
                           entry_points=False)
    with pytest.raises(PluginCallError) as info:
        hook.collect("hi", user="ann")
    assert info.value.plugin == "boom 1.0"
    assert str(info.value) == ("plugin boom 1.0 raised in chat.commands: "
                               "RuntimeError: boom on hi")
    assert isinstance(info.value.__cause__, RuntimeError)
    assert hook.using("skip").collect("hi", user="ann") == ["<ann> HI"]
    collected = hook.using("collect").collect("yo", user="bo")
    assert collected[0] == "<bo> YO" and isinstance(collected[1], CallFailure)
    assert collected[1].plugin == "boom 1.0"
    assert hook.failures["boom 1.0"].message == "RuntimeError: boom on yo"
    last = json.loads((store.root / "plugins" / "failures.json").read_text())
    assert last["boom 1.0"]["message"] == "RuntimeError: boom on yo"


def test_a_class_spec_is_implemented_by_a_class_instantiated_on_load(
        tmp_path: Path, store: Store, running: Any) -> None:
    plugins = tmp_path / "plugins"
    built(store, plugins, "nospam", NOSPAM)
    bad = NOSPAM.replace("nospam", "x").replace("message: Message) -> bool",
                                                "message: str) -> bool")
    built(store, plugins, "strict", bad)
    hook = siglink.plugins(running.Filter, directories=[plugins], entry_points=False)
    assert statuses(hook) == {"nospam 1.0 (directory)": "compatible",
                              "strict 1.0 (directory)": "rejected"}
    strict = next(o for o in outcomes(hook) if o.record.name == "strict")
    assert strict.verdict is not None
    assert [p.explain() for p in strict.verdict.incompatible] == [
        "P11 strict:NoSpam member accept param message: expected chat.Message, found str; "
        "parameter type narrowed (incompatible)"]
    accept = hook.method("accept")
    assert accept.collect(running.Message("buy spam", "x")) == [False]
    assert [type(o).__name__ for o in hook.objects()] == ["NoSpam"]


def test_the_newest_compatible_version_is_selected(
        tmp_path: Path, store: Store, running: Any) -> None:
    """shout 1.0 in a directory, 2.0 (incompatible) and 1.5 in the store."""
    directory = built(store, tmp_path / "plugins", "shout", SHOUT)
    manifest = json.loads((directory / "siglink.json").read_text())
    for version, code in (("2.0", SHOUT.replace("user: str", "user: bytes")),
                          ("1.5", SHOUT.replace(" + text.upper()", " + text.title()"))):
        source = plugin(tmp_path / f"v{version}", "shout", code, version=version)
        shipped = build_plugin(store, source, write=False).manifest.dumps()
        wheel = make_wheel(tmp_path / "wheels", "shout", version,
                           {"shout/__init__.py": (source / "shout/__init__.py").read_text()},
                           dist_info={"siglink.json": shipped})
        store.install([str(wheel)])
    assert manifest["unit"]["version"] == "1.0"
    hook = siglink.plugins(running.command, directories=[tmp_path / "plugins"], store=store,
                           entry_points=False)
    assert statuses(hook) == {"shout 1.0 (directory)": "superseded",
                              "shout 1.5 (store)": "compatible",
                              "shout 2.0 (store)": "rejected"}
    assert hook.collect("hi there", user="ann") == ["<ann> Hi There"]
    assert sys.modules["shout"].__file__.startswith(str(store.root))


def test_an_entry_point_without_a_manifest_is_checked_when_imported(
        tmp_path: Path, running: Any) -> None:
    site = tmp_path / "site"
    for name, code in (("epshout", SHOUT), ("epwhisper", WHISPER)):
        (site / name).mkdir(parents=True)
        (site / name / "__init__.py").write_text(code)
        info = site / f"{name}-3.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 3.0\n")
        func = "shout" if name == "epshout" else "whisper"
        (info / "entry_points.txt").write_text(f"[chat.commands]\n{func} = {name}:{func}\n")
    sys.path.insert(0, str(site))
    hook = siglink.plugins(running.command, paths=[str(site)])
    assert statuses(hook) == {"epshout 3.0 (entry-point)": "unchecked",
                              "epwhisper 3.0 (entry-point)": "unchecked"}
    assert hook.collect("hi", user="ann") == ["<ann> HI"]
    assert statuses(hook)["epwhisper 3.0 (entry-point)"] == "rejected"
    whisper = next(o for o in outcomes(hook) if o.record.name == "epwhisper")
    assert whisper.reason == "not assignable to the host's chat.commands"
    assert whisper.verdict is not None
    assert [p.explain() for p in whisper.verdict.incompatible] == [
        "P11 epwhisper:whisper param user: expected str, found int; parameter type narrowed "
        "(incompatible)"]
