"""Start-up of a bundle vs ``siglink run`` (warm) vs ``python APP`` with the libraries installed
normally, and the bundle's size pruned vs unpruned vs shiv for the same application.

One Werkzeug application (so MarkupSafe, with its compiled part, too). Rounds are interleaved;
each round runs the three commands once, in rotating order. Prints the median wall time of each
and the ratios to ``python APP`` (target: bundle <= 1.10x), then the sizes. shiv is installed
into a throwaway virtual environment from the package index; without it its size is "n/a".

    python3 benchmarks/bench_bundle.py [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_run import fetch

LIBS = ("markupsafe==2.1.5", "werkzeug==3.0.1")
APP = (
    "from werkzeug.wrappers import Request, Response\n"
    "from werkzeug.utils import secure_filename\n"
    "print(secure_filename('a b.txt'), Response('x').status)\n"
)


def measure(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def shiv_size(work: Path, wheels: list[Path], app: Path) -> str:
    """The size of a shiv of the same application and wheels, or why there is none."""
    env_dir = work / "shiv-venv"
    try:
        subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True,
                       capture_output=True)
        pip = [str(env_dir / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
        subprocess.run([*pip, "install", "--quiet", "shiv"], check=True, capture_output=True,
                       timeout=300)
        site = work / "shiv-site"
        site.mkdir()
        shutil.copy(app, site / "app.py")
        out = work / "app.shiv"
        subprocess.run([str(env_dir / "bin" / "shiv"), "--site-packages", str(site), "-o",
                        str(out), "-e", "app:__name__", "--no-deps", *map(str, wheels)],
                       check=True, capture_output=True, timeout=300)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as e:
        return f"n/a ({type(e).__name__})"
    return f"{out.stat().st_size / 1e6:.2f} MB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    options = parser.parse_args()
    entry = shutil.which("siglink")
    if entry is None:
        raise SystemExit("the siglink console script is not on PATH (pip install -e .)")
    with tempfile.TemporaryDirectory(prefix="bench-bundle-") as tmp:
        work = Path(tmp)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(SIGLINK_STORE=str(work / "store"), NO_COLOR="1",
                   XDG_CACHE_HOME=str(work / "cache"))
        wheels = [fetch(lib) for lib in LIBS]
        subprocess.run([entry, "install", *map(str, wheels)], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        app = work / "app.py"
        app.write_text(APP)
        bundle, pruned = work / "app.pyz", work / "app-pruned.pyz"
        subprocess.run([entry, "bundle", str(app), "-o", str(bundle)], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([entry, "bundle", "--prune", str(app), "-o", str(pruned)], env=env,
                       check=True, stdout=subprocess.DEVNULL)
        target = work / "site"
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                        "--disable-pip-version-check", "--target", str(target),
                        *map(str, wheels)], check=True)
        plain_env = dict(env, PYTHONPATH=str(target))
        commands = {
            "bundle": ([sys.executable, str(bundle)], env),
            "siglink run": ([entry, "run", str(app)], env),
            "python APP": ([sys.executable, str(app)], plain_env),
        }
        for cmd, e in commands.values():  # warm plans, bytecode, the bundle's extraction
            for _ in range(3):
                measure(cmd, e, work)
        times: dict[str, list[float]] = {name: [] for name in commands}
        names = list(commands)
        for round_ in range(options.rounds):
            shift = round_ % len(names)
            for name in names[shift:] + names[:shift]:
                cmd, e = commands[name]
                times[name].append(measure(cmd, e, work))
        base = statistics.median(times["python APP"])
        print(f"start-up of a Werkzeug app, {options.rounds} interleaved rounds (median)")
        for name, values in times.items():
            med = statistics.median(values)
            ratios = [v / p for v, p in zip(values, times["python APP"], strict=True)]
            q1, q2, q3 = statistics.quantiles(ratios, n=4)
            target = "  (target <= 1.10)" if name == "bundle" else ""
            print(f"  {name:12} {med * 1000:7.1f} ms   ratio to python APP {q2:.3f} "
                  f"(IQR {q1:.3f}-{q3:.3f}){target}")
        del base
        print("size of the same application and libraries")
        print(f"  bundle          {bundle.stat().st_size / 1e6:.2f} MB")
        print(f"  bundle --prune  {pruned.stat().st_size / 1e6:.2f} MB")
        print(f"  shiv            {shiv_size(work, wheels, app)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
