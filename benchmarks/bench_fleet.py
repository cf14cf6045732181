"""Fleet operations against the package index.

1. ``siglink install flask==3.0.3`` (its dependency closure, resolved by pip) into an empty
   store vs ``pip install --target DIR flask==3.0.3`` of the same closure; rounds interleaved,
   pip's HTTP cache warm for both (the first round of each is not measured). Like with like:
   both byte-compile what they install (pip's default), and both unpack every file; siglink
   also validates each wheel, reads its exports and imports (in a worker process per core,
   starting while pip downloads) and commits the index. Prints the median wall-time ratio
   with its interquartile range (target: <= 2.0), and the machine's load average, which
   weighs on the ratio: pip is one process, siglink's reading wants every core.
2. ``siglink update --dry-run`` over a store of 50 libraries (small wheels named after 50 real
   projects, each at a version newer than any release, so that the run asks the index for all
   50 and finds nothing to do). Prints the median time.

    python3 benchmarks/bench_fleet.py [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIGLINK = [sys.executable, "-m", "siglink"]
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
PROJECTS = [
    "six", "idna", "certifi", "urllib3", "requests", "markupsafe", "jinja2", "itsdangerous",
    "click", "werkzeug", "flask", "blinker", "attrs", "packaging", "pyparsing", "toml", "tomli",
    "colorama", "wcwidth", "pytz", "python-dateutil", "typing-extensions", "zipp",
    "more-itertools", "decorator", "pycparser", "iniconfig", "pluggy", "soupsieve", "sniffio",
    "h11", "anyio", "charset-normalizer", "platformdirs", "filelock", "distlib", "tabulate",
    "termcolor", "wrapt", "pyasn1", "rsa", "cachetools", "chardet", "docopt", "mccabe",
    "pyflakes", "pycodestyle", "isort", "sortedcontainers", "pyjwt",
]


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return elapsed


def quartiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        return values[0], values[0], values[0]
    q = statistics.quantiles(values, n=4)
    return q[0], statistics.median(values), q[2]


def bench_install(rounds: int, work: Path, env: dict[str, str]) -> None:
    ratios = []
    for number in range(rounds + 1):
        store, target = work / f"store-{number}", work / f"target-{number}"
        order = ("siglink", "pip") if number % 2 else ("pip", "siglink")
        times = {}
        for which in order:
            if which == "siglink":
                times[which] = timed([*SIGLINK, "install", "flask==3.0.3", "--store",
                                      str(store)], env)
            else:
                times[which] = timed([*PIP, "install", "--quiet", "--target", str(target),
                                      "flask==3.0.3"], env)
        if number:  # the first round warms pip's cache for both
            ratios.append(times["siglink"] / times["pip"])
            print(f"  round {number}: siglink {times['siglink']:.2f} s, pip --target "
                  f"{times['pip']:.2f} s")
    low, mid, high = quartiles(ratios)
    print(f"install flask==3.0.3 with its closure into an empty store vs pip install --target: "
          f"{mid:.2f} (IQR {low:.2f}-{high:.2f}; target <= 2.0; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


def bench_update(rounds: int, work: Path, env: dict[str, str]) -> None:
    """Nothing newer: the time is the survey of the index (pip, 4 resolutions at once)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from siglink.demo.wheels import make_wheel

    store = work / "store-50"
    wheels = []
    for name in PROJECTS:
        module = name.replace("-", "_")
        wheels.append(str(make_wheel(work / "wheels", name, "9999.0",
                                     {f"{module}/__init__.py": "VALUE = 1\n"})))
    timed([*SIGLINK, "install", "--no-deps", *wheels, "--store", str(store)], env)
    times = [timed([*SIGLINK, "update", "--dry-run", "--store", str(store)], env)
             for _ in range(rounds)]
    low, mid, high = quartiles(times)
    print(f"update --dry-run over a store of {len(PROJECTS)} libraries: {mid:.2f} s "
          f"(IQR {low:.2f}-{high:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=("install", "update"), help="run one benchmark")
    args = parser.parse_args()
    env = dict(os.environ, SIGLINK_STORE=os.devnull + "-unused")
    with tempfile.TemporaryDirectory(prefix="siglink-bench-fleet-") as tmp:
        if args.only != "update":
            bench_install(args.rounds, Path(tmp), env)
        if args.only != "install":
            bench_update(args.rounds, Path(tmp), env)


if __name__ == "__main__":
    main()
