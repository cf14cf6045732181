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
    import chat as running  # type: ignore[import-not-found]

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
    assert str(sys.modules["shout"].__file__).startswith(str(store.root))


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


def test_the_generated_caller_passes_arguments_as_the_spec_declares() -> None:
    """Positional parameters positionally, keyword-only ones by keyword, an omitted one with
    the spec's own default (the implementation's default is never used)."""
    from siglink.plugins.dispatch import Hook

    def spec(a: int, /, b: int = 2, *rest: int, c: int = 3, **more: int) -> object: ...

    def impl(x: int, y: int = 20, *rest: int, c: int = 30, **more: int) -> object:
        return (x, y, rest, c, more)

    hook = Hook.of("t.point", [impl], spec=spec)
    assert hook.collect(1) == [(1, 2, (), 3, {})]
    assert hook.first(1, 5, 6, 7, c=8, d=9) == (1, 5, (6, 7), 8, {"d": 9})
    assert "<siglink hook t.point" in hook.collect.__code__.co_filename  # generated, not generic
    with pytest.raises(TypeError):
        hook.collect()  # a call the spec refuses is the host's own error, not a plugin's


def test_skip_and_collect_go_through_the_generated_caller_too() -> None:
    from siglink.plugins.dispatch import Hook

    def spec(text: str) -> str:
        raise NotImplementedError

    def upper(text: str) -> str:
        return text.upper()

    def boom(text: str) -> str:
        raise ValueError(text)

    hook = Hook.of("t.point", [boom, upper], spec=spec)
    skip, keep = hook.using("skip"), hook.using("collect")
    assert skip.collect("a") == ["A"] and skip.first("b") == "B"
    results = keep.collect("c")
    assert isinstance(results[0], CallFailure) and results[1] == "C"
    assert [f.message for f in keep.call_all("d")] == ["ValueError: d"]
    assert "<siglink hook t.point" in skip.collect.__code__.co_filename
    [(label, failure)] = hook.failures.items()
    assert label.endswith(".boom -") and failure.message == "ValueError: d"


def test_an_async_spec_gets_awaiting_callers() -> None:
    import asyncio

    from siglink.plugins.dispatch import Hook

    async def spec(text: str) -> str:
        raise NotImplementedError

    async def upper(text: str) -> str:
        return text.upper()

    async def boom(text: str) -> str:
        raise ValueError(text)

    hook = Hook.of("t.async", [upper, boom], spec=spec)
    assert asyncio.run(hook.using("skip").collect("a")) == ["A"]
    assert asyncio.run(hook.first("b")) == "B"
    with pytest.raises(PluginCallError) as info:
        asyncio.run(hook.collect("c"))
    assert info.value.plugin.startswith("test_an_async_spec_gets_awaiting_callers.")
    # and a sync implementation of an async spec is refused (R6: sync/async)
    from siglink.contracts.manifest import Export, ExportKind
    from siglink.contracts.signature import Signature
    from siglink.plugins.checking import check_implementation

    sync = Export("p.f", ExportKind.FUNCTION, signature=Signature.parse("(text: str) -> str"))
    async_spec = Export("h.spec", ExportKind.EXTENSION_POINT, flavor="async",
                        signature=Signature.parse("(text: str) -> str"))
    assert [p.rule for p in check_implementation(async_spec, sync).incompatible] == ["R6"]
