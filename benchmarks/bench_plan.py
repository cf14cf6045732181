"""How fast is linking? Cold plans for generated applications, and warm (cached) against cold.

Generates 20 libraries with 5 versions each: every version adds a keyword-only parameter with
a default to every function (so no digest matches the one built against and every import
needs a structural check), and the newest version removes one function the application uses
(so it is refused and the resolver falls back). The application calls every function.

1. 1,000 names through a real store (wheels installed with ``Store.install``; the
   application built with ``siglink build``): cold ``plan`` (a fresh ``Store``, manifests read
   from its SQLite index, the plan cached: what ``siglink run`` does without a valid plan) and
   warm (``_cache.read_valid_plan``, what ``siglink run`` does), interleaved; the ratio
   cold/warm with its spread; and what explaining the refused versions adds (``siglink plan``
   prints them; a run never asks, so they are worked out lazily).
2. Growth: cold plans at 1,000 and 10,000 names, manifests read from JSON files on disk.

Run: ``python3 benchmarks/bench_plan.py``
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from siglink.contracts.manifest import Export, ExportKind, Import, Manifest, Unit
from siglink.contracts.signature import Signature
from siglink.demo.wheels import make_wheel
from siglink.link import _cache, _record
from siglink.link.app import Application
from siglink.link.build import build_app
from siglink.link.plan import compute, read_app_manifest
from siglink.link.resolve import ManifestView
from siglink.store import Store, StoredVersion

LIBS = 20
VERSIONS = 5


# Every function has its own parameter names, so no two exports share a digest and the
# verdict memo cannot help. In the realistic mode a release changes a tenth of the functions
# (version 1.v adds a keyword-only parameter to f{i} when i % 10 == v), so most imports are
# identical by digest; in the worst mode every release changes every function.
WORST = False


def _extras(i: int, version: int) -> int:
    if WORST:
        return version
    return sum(1 for v in range(1, version + 1) if i % 10 == v)


def _signature_text(i: int, version: int) -> str:
    extra = "".join(f", e{j}: int = ..." for j in range(_extras(i, version)))
    return f"(a{i}: int, b: str = ..., *, k: float = ...{extra}) -> int"


def _function(i: int, version: int) -> str:
    extra = "".join(f", e{j}: int = 0" for j in range(_extras(i, version)))
    return f"def f{i}(a{i}: int, b: str = 'x', *, k: float = 1.0{extra}) -> int:\n    return 1\n"


def _functions(per_lib: int, version: int) -> range:
    # The newest version removes f0: it is refused and the one before it is linked.
    return range(1 if version == VERSIONS - 1 else 0, per_lib)


def _wheel(folder: Path, name: str, version: int, per_lib: int) -> Path:
    source = "".join(_function(i, version) for i in _functions(per_lib, version))
    return make_wheel(folder, name, f"1.{version}", {f"{name}/__init__.py": source})


def _app_source(per_lib: int) -> str:
    lines = [f"import lib{n:02d}" for n in range(LIBS)]
    lines += [f"lib{n:02d}.f{i}({i})" for n in range(LIBS) for i in range(per_lib)]
    return "\n".join(lines) + "\n"


def _spread(values: Sequence[float]) -> str:
    q = statistics.quantiles(values, n=4)
    return f"median {statistics.median(values):.1f} (IQR {q[0]:.1f}-{q[2]:.1f})"


def real_store(tmp: Path, names: int, rounds: int) -> None:
    per_lib = names // LIBS
    wheels = tmp / "wheels"
    wheels.mkdir()
    specs = [str(_wheel(wheels, f"lib{n:02d}", v, per_lib))
             for n in range(LIBS) for v in range(VERSIONS)]
    root = tmp / "store"
    started = time.perf_counter()
    Store(root).install(specs)
    print(f"setup: {len(specs)} wheels installed in {time.perf_counter() - started:.1f} s")
    app = tmp / "app.py"
    app.write_text(_app_source(per_lib))
    pins = {f"lib{n:02d}": "1.0" for n in range(LIBS)}
    built = build_app(Store(root), str(app), against=pins)
    manifest_path = built.manifest_path
    plan_path = _cache.plan_file(str(root), manifest_path)
    application = Application.resolve(str(app))
    cold: list[float] = []
    warm: list[float] = []
    explain: list[float] = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        store = Store(root)
        manifest = read_app_manifest(manifest_path)
        plan = compute(store, manifest, manifest_path=manifest_path)
        generations = (store.generation, {})
        _record.write_plan(plan_path, _record.cache_record(
            plan, application, root=str(root), generations=generations))
        t1 = time.perf_counter()
        record = _cache.read_valid_plan(plan_path, str(root), application)
        t2 = time.perf_counter()
        assert record is not None and record["links"]["lib00"]["version"] == "1.3"
        # What `siglink plan` adds to a run's cold path: why each newer version was refused.
        rejected = plan.to_json()["rejected"]
        t3 = time.perf_counter()
        assert [r["version"] for r in rejected["lib00"]] == ["1.4"]
        cold.append((t1 - t0) * 1000)
        warm.append((t2 - t1) * 1000)
        explain.append((t3 - t2) * 1000)
    assert all(v == "1.3" for v in plan.versions.values())
    ratios = [c / w for c, w in zip(cold, warm, strict=True)]
    print(f"{names} names, {LIBS} libraries x {VERSIONS} versions, real store:")
    print(f"  cold plan ms: {_spread(cold)}")
    print(f"  warm plan ms: {_spread(warm)}")
    print(f"  cold/warm ratio: {_spread(ratios)}")
    print(f"  + explaining the refused versions (siglink plan's output) ms: {_spread(explain)}")


class _FileSource:
    """Manifests as JSON files on disk, one per version (read on first use)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def versions(self, name: str) -> list[StoredVersion]:
        out = []
        for v in reversed(range(VERSIONS)):
            path = self.root / name / f"1.{v}"
            out.append(StoredVersion(name, f"1.{v}", path, path, (name,), (), None, None))
        return out

    def view(self, name: str, version: str) -> ManifestView:
        text = (self.root / name / version / "siglink.json").read_bytes()
        return ManifestView(raw=json.loads(text))


def _library_manifest(name: str, version: int, per_lib: int) -> Manifest:
    exports = {}
    for i in _functions(per_lib, version):
        defaults = {"b": "'x'", "k": "1.0", **{f"e{j}": "0" for j in range(_extras(i, version))}}
        sig = Signature.parse(_signature_text(i, version)).with_defaults(defaults)
        exports[f"{name}.f{i}"] = Export(f"{name}.f{i}", ExportKind.FUNCTION, name, sig)
    return Manifest(Unit(name, f"1.{version}"), exports, top_level=(name,))


def growth(tmp: Path, names: int, rounds: int) -> float:
    per_lib = names // LIBS
    root = tmp / f"manifests-{names}{'-worst' if WORST else ''}"
    imports: dict[str, tuple[Import, ...]] = {}
    from siglink.contracts.manifest import CallShape

    for n in range(LIBS):
        name = f"lib{n:02d}"
        for v in range(VERSIONS):
            manifest = _library_manifest(name, v, per_lib)
            folder = root / name / f"1.{v}"
            folder.mkdir(parents=True)
            (folder / "siglink.json").write_text(manifest.dumps())
            if v == 0:
                imports[name] = tuple(
                    Import(e.path, e, "1.0", (CallShape(1),), True)
                    for e in manifest.exports.values()
                )
    app = Manifest(Unit("app", "0", "application"), imports=imports, entry="script:app.py")
    app_path = root / "app.siglink.json"
    app_path.write_text(app.dumps())
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        manifest = read_app_manifest(str(app_path))
        plan = compute(None, manifest, manifest_path=str(app_path), source=_FileSource(root))
        times.append((time.perf_counter() - t0) * 1000)
        assert all(v == "1.3" for v in plan.versions.values())
    median = statistics.median(times)
    label = " (worst case: every export changed)" if WORST else ""
    print(f"  {names:>6} names: cold plan ms {_spread(times)}{label}")
    return median


def main() -> None:
    global WORST  # noqa: PLW0603 - the generator's mode, set once between phases
    with tempfile.TemporaryDirectory(prefix="siglink-bench-plan-") as tmp:
        real_store(Path(tmp), 1000, rounds=7)
        print("growth (manifests read from JSON files on disk, app manifest included):")
        small = growth(Path(tmp), 1000, rounds=5)
        large = growth(Path(tmp), 10000, rounds=3)
        print(f"  10x the names -> {large / small:.1f}x the time")
        WORST = True
        growth(Path(tmp), 1000, rounds=3)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
