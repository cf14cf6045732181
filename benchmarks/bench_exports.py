"""Export table of Django's wheel vs griffe's plain ``griffe.load`` of the same tree.

    python3 benchmarks/bench_exports.py [--rounds N]

Both sides read the same unpacked wheel (unpacking is not measured). The baseline is
``griffe.load(pkg, search_paths=[tree], allow_inspection=False)``: parsing every module, what
any griffe-based tool pays. The measured side is :func:`siglink.python.exports.extract_tree`:
the same parse plus public names, signatures, normalized types and digests. Rounds interleave
(baseline, measured) so that machine noise hits both; garbage from the previous run is
collected before each timed run. The figure is the median of per-round ratios of CPU time
(``time.process_time``: robust when other work shares the machine) with its interquartile
range; wall-clock ratios are printed too. Target: median ratio <= 1.3.

``extract_tree`` pauses the cyclic collector while griffe loads (griffe allocates hundreds of
thousands of long-lived objects; a running collector rescans them over and over: see
``siglink._gc``). That is part of the product (``siglink exports`` and the store get it; the
collector is resumed afterwards), so the main ratio keeps griffe's default. For transparency,
a third line gives the ratio against ``griffe.load`` under the same collector settings: the
cost of siglink's own work on top of the parse.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import griffe

from siglink._gc import fewer_collections
from siglink.python.exports import extract_tree

REQUIREMENT = "django==5.0.6"
CACHE = Path.home() / ".cache" / "siglink-tests" / "wheel" / "django-5.0.6"
TARGET = 1.3


def fetch() -> Path:
    """The Django wheel, downloaded once into the tests' cache."""
    CACHE.mkdir(parents=True, exist_ok=True)
    found = sorted(CACHE.glob("*.whl"))
    if not found:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
             "--disable-pip-version-check", "--quiet", "--dest", str(CACHE), REQUIREMENT],
            check=True,
        )
        found = sorted(CACHE.glob("*.whl"))
    return found[0]


def baseline(tree: Path) -> tuple[float, float]:
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    with griffe.logger.disable():
        griffe.load("django", search_paths=[str(tree)], allow_inspection=False)
    return time.process_time() - cpu, time.perf_counter() - wall


def baseline_tuned(tree: Path) -> float:
    """griffe.load under extract_tree's collector settings (CPU seconds)."""
    gc.collect()
    cpu = time.process_time()
    with fewer_collections(), griffe.logger.disable():
        griffe.load("django", search_paths=[str(tree)], allow_inspection=False)
    return time.process_time() - cpu


def measured(tree: Path) -> tuple[float, float, int]:
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    manifest = extract_tree(tree, ("django",), name="Django", version="5.0.6")
    return time.process_time() - cpu, time.perf_counter() - wall, len(manifest.exports)


def _spread(values: list[float]) -> str:
    median = statistics.median(values)
    q = statistics.quantiles(values, n=4) if len(values) > 1 else [median, median, median]
    return (f"median {median:.3f}  IQR {q[0]:.3f}..{q[2]:.3f}  "
            f"(min {min(values):.3f}, max {max(values):.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    wheel = fetch()
    thresholds = gc.get_threshold()
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp)
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(tree)
        baseline(tree)  # warm the file cache and imports for both sides
        _, _, count = measured(tree)
        cpu_ratios, wall_ratios, tuned_ratios, ours, theirs = [], [], [], [], []
        for _ in range(args.rounds):
            b_cpu, b_wall = baseline(tree)
            m_cpu, m_wall, _ = measured(tree)
            t_cpu = baseline_tuned(tree)
            theirs.append(b_cpu)
            ours.append(m_cpu)
            cpu_ratios.append(m_cpu / b_cpu)
            wall_ratios.append(m_wall / b_wall)
            tuned_ratios.append(m_cpu / t_cpu)
        assert gc.get_threshold() == thresholds and gc.isenabled(), (
            "extract_tree must restore the collector")
    print(f"Django 5.0.6: {count} exports, {args.rounds} interleaved rounds")
    print(f"griffe.load CPU s       {_spread(theirs)}")
    print(f"extract_tree CPU s      {_spread(ours)}")
    print(f"ratio (CPU)             {_spread(cpu_ratios)}  target <= {TARGET}")
    print(f"ratio (wall clock)      {_spread(wall_ratios)}")
    print(f"ratio vs griffe.load under the same gc settings (CPU)  {_spread(tuned_ratios)}")


if __name__ == "__main__":
    main()
