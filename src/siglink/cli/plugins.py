"""``siglink plugins HOST`` and ``siglink pluggy-check PROJECT``; ``siglink build`` of a plugin.

Both check without importing any plugin: ``plugins`` reads manifests (store, plugin
directories, entry points), ``pluggy-check`` reads source with griffe.

>>> _pins(["chat==2.0"])
{'chat': '2.0'}
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["cmd_build_plugin", "cmd_pluggy_check", "cmd_plugins", "register"]


def __dir__() -> list[str]:
    return list(__all__)


_PLUGINS = """\
examples:
  siglink plugins chat                          every extension point of chat, every plugin
  siglink plugins chat --plugin-dir plugins/    also the plugins built in plugins/*/
  siglink plugins chat --against chat==2.0.0    which plugins chat 2.0.0 would break

exit codes: 0 every plugin loads, 1 a plugin is rejected (under --against: by that release),
            2 bad input, 3 store error
"""

_PLUGGY = """\
examples:
  siglink pluggy-check pytest                   pytest's built-in plugins and every pytest11 one
  siglink pluggy-check pytest --no-builtins --path ./site   only the plugins installed in ./site

rules: P3 an argument the hookspec lacks; P11 a spec argument's type not assignable to the
       impl's annotation; P13 a return type wider than the spec's; R6 a wrapper that does not
       yield, wrapper and hookwrapper at once, a wrapper on a historic hook; P1 an unknown hook

exit codes: 0 every plugin is compatible, 1 one is not, 2 bad input (not installed, no hookspecs)
"""


def register(sub: Any) -> None:
    from siglink.cli.main import store_option

    plugins = sub.add_parser(
        "plugins", help="check every plugin of a host against its extension points",
        description="For each extension point HOST declares, each plugin found (store, plugin "
        "directories, entry points) with its status and reasons; nothing is imported.",
        epilog=_PLUGINS, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    plugins.add_argument("host", metavar="HOST",
                         help="a library in the store (NAME or NAME==VERSION), or a path")
    plugins.add_argument("--against", metavar="HOST==VERSION",
                         help="also check against this release of the host")
    plugins.add_argument("--plugin-dir", metavar="DIR", action="append", default=[],
                         help="a directory of plugins (repeatable)")
    plugins.add_argument("--no-entry-points", action="store_true",
                         help="ignore the entry points of the running environment")
    plugins.add_argument("--json", action="store_true", help="print JSON")
    store_option(plugins)
    plugins.set_defaults(func=cmd_plugins)

    pluggy = sub.add_parser(
        "pluggy-check", help="check a pluggy project's plugins against its hookspecs",
        description="Read PROJECT's hookspecs, built-in plugins and every plugin installed "
        "behind its entry-point group statically, and check every hookimpl's signature and "
        "types under pluggy's convention. No plugin code is imported.",
        epilog=_PLUGGY, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    pluggy.add_argument("project", metavar="PROJECT", help="an installed distribution (pytest)")
    pluggy.add_argument("--path", metavar="DIR", action="append", default=[],
                        help="also look for distributions in DIR (repeatable)")
    pluggy.add_argument("--group", help="the entry-point group (default: the one the project "
                        "loads, e.g. pytest11)")
    pluggy.add_argument("--no-builtins", action="store_true",
                        help="check only the installed plugins, not the project's own")
    pluggy.add_argument("--json", action="store_true", help="print JSON")
    pluggy.set_defaults(func=cmd_pluggy_check)


def _store(args: argparse.Namespace) -> Any:
    from siglink.store import Store

    return Store(getattr(args, "store", None))


def _pins(values: list[str]) -> dict[str, str]:
    from siglink.errors import BadInputError

    pins = {}
    for value in values:
        name, sep, version = value.partition("==")
        if not sep or not name.strip() or not version.strip():
            raise BadInputError(f"--against {value!r}: expected NAME==VERSION")
        pins[name.strip()] = version.strip()
    return pins


def _host(store: Any, text: str) -> Any:
    """A host's manifest: a store library (``NAME``: newest non-yanked, or ``NAME==VERSION``)
    or a path the extractor reads."""
    import os

    from siglink.errors import BadInputError

    name, sep, version = text.partition("==")
    if not sep and os.path.exists(text):
        from siglink.python.exports import extract

        return extract(text)
    if sep:
        stored = store.get(name, version)
        return store.manifest(stored.name, stored.version)
    versions = store.versions(name, include_yanked=False)
    if not versions:
        raise BadInputError(f"{text}: neither a path nor a library in the store{store.where}")
    return store.manifest(versions[0].name, versions[0].version)


_MARK = {"compatible": "ok", "unchecked": "ok?", "superseded": "-", "rejected": "REJECTED",
         "failed": "FAILED"}


def cmd_plugins(args: argparse.Namespace) -> int:
    from siglink.cli._output import print_json, say
    from siglink.plugins.report import host_report

    store = _store(args)
    host = _host(store, args.host)
    against = _host(store, args.against) if args.against else None
    report = host_report(host, store=store if store.exists else None,
                         directories=args.plugin_dir, entry_points=not args.no_entry_points,
                         against=against)
    if args.json:
        print_json(report.to_json())
        return 0 if not report.rejected else 1
    say(f"{report.host} {report.version}: {len(report.points)} extension point"
        f"{'' if len(report.points) == 1 else 's'}")
    for point in report.points:
        say("")
        say(f"{point.point}  {point.spec}")
        if not point.outcomes:
            say("  (no plugin found)")
        for o in point.outcomes:
            impl = o.record.implementation(point.point)
            target = f"  {impl.target}" if impl is not None else ""
            say(f"  {_MARK[o.status]:9} {o.record.label} ({o.record.source}){target}")
            for line in o.lines():
                say(f"              {line}")
            last = report.failures.get(o.record.label)
            if last is not None:
                say(f"              last failure: {last.get('point')}: {last.get('message')}")
        if point.against is not None:
            breaks = point.breaks()
            if breaks:
                say(f"  {report.host} {report.against} would break:")
                for _, then in breaks:
                    say(f"    {then.record.label}")
                    for line in then.lines():
                        say(f"      {line}")
            else:
                say(f"  {report.host} {report.against} breaks none of them")
    for o in report.orphans:
        say("")
        say(f"{o.point}  (not declared by {report.host})")
        say(f"  {_MARK[o.status]:9} {o.record.label}: {o.reason}")
    return 0 if not report.rejected else 1


def cmd_pluggy_check(args: argparse.Namespace) -> int:
    from siglink.cli._output import print_json, say
    from siglink.plugins.pluggy_check import pluggy_check

    report = pluggy_check(args.project, paths=args.path, group=args.group,
                          builtins=not args.no_builtins)
    if args.json:
        print_json(report.to_json())
        return 0 if report.ok else 1
    say(f"{report.project} {report.version}: {report.specs} hookspecs, entry points "
        f"{report.group}, {len(report.plugins)} plugins")
    for plugin in report.plugins:
        bad = [h for h in plugin.hooks if not h.verdict.ok]
        mark = "ok" if plugin.ok else "INCOMPATIBLE"
        say(f"  {mark:12} {plugin.name} {plugin.version} ({plugin.source}): "
            f"{len(plugin.hooks)} hookimpls")
        if plugin.problem:
            say(f"               {plugin.problem}")
        for hook in bad:
            say(f"               {hook.location}: {hook.function}")
            for problem in hook.verdict.incompatible:
                say(f"                 {problem.explain()}")
    return 0 if report.ok else 1


def cmd_build_plugin(args: argparse.Namespace, store: Any) -> int:
    """``siglink build DIR`` for a plugin directory: ``implements``, exports and imports."""
    from siglink.cli._output import print_json, say, warn
    from siglink.plugins.build import build_plugin

    result = build_plugin(store, args.app, against=_pins(args.against))
    if args.json:
        print_json({"plugin": result.manifest_path, "against": result.against,
                    "implements": {p: i.to_json()
                                   for p, i in sorted(result.manifest.implements.items())},
                    "warnings": list(result.warnings)})
        return 0
    for message in result.warnings:
        warn(message)
    unit = result.manifest.unit
    say(f"built {result.manifest_path} (plugin {unit.name} {unit.version})")
    for point, impl in sorted(result.manifest.implements.items()):
        spec = "spec not recorded" if impl.spec is None else f"spec {impl.spec.path}"
        host = ", ".join(f"{n} {v}" for n, v in sorted(result.against.items()))
        say(f"  {point}: {impl.obj} ({spec}; built against {host or 'nothing'})")
    return 0
