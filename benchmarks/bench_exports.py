"""Export table of Django's wheel vs griffe's plain ``griffe.load`` of the same tree.

    python3 benchmarks/bench_exports.py [--rounds N]

Both sides read the same unpacked wheel (unpacking is not measured). The baseline is
``griffe.load(pkg, search_paths=[tree], allow_inspection=False)``: parsing every module, what
any griffe-based tool pays. The measured side is :func:`siglink.python.exports.extract_tree`:
the same parse plus public names, signatures, normalized types and digests. Rounds interleave
(baseline, measured) so that machine noise hits both; the figure is the median of per-round
ratios with its interquartile range. Target: median ratio <= 1.3.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import griffe

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


def baseline(tree: Path) -> float:
    start = time.perf_counter()
    with griffe.logger.disable():
        griffe.load("django", search_paths=[str(tree)], allow_inspection=False)
    return time.perf_counter() - start


def measured(tree: Path) -> tuple[float, int]:
    start = time.perf_counter()
    manifest = extract_tree(tree, ("django",), name="Django", version="5.0.6")
    return time.perf_counter() - start, len(manifest.exports)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    wheel = fetch()
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp)
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(tree)
        baseline(tree)  # warm the file cache and imports for both sides
        _, count = measured(tree)
        ratios, ours, theirs = [], [], []
        for _ in range(args.rounds):
            b = baseline(tree)
            m, _ = measured(tree)
            theirs.append(b)
            ours.append(m)
            ratios.append(m / b)
    median = statistics.median(ratios)
    q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [median, median, median]
    print(f"Django 5.0.6: {count} exports")
    print(f"griffe.load      median {statistics.median(theirs):.3f} s")
    print(f"extract_tree     median {statistics.median(ours):.3f} s")
    print(f"ratio extract/griffe: median {median:.3f}  IQR {q[0]:.3f}..{q[2]:.3f}  "
          f"(min {min(ratios):.3f}, max {max(ratios):.3f}, {len(ratios)} rounds; "
          f"target <= {TARGET})")


if __name__ == "__main__":
    main()
