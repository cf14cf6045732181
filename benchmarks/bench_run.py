"""``siglink run APP`` on a warm plan vs ``python APP`` with the same libraries on PYTHONPATH.

Two applications: a trivial one, and one that imports Werkzeug (and so MarkupSafe). Rounds are
interleaved; each round runs both commands once per application, in alternating order. Prints
the median wall-time ratio with its interquartile range (targets: <= 1.35 trivial, <= 1.05
Werkzeug), the median peak-RSS difference of the child (target: <= 5 MB), and the modules the
bootstrap adds to a plain ``python APP`` start.

    python3 benchmarks/bench_run.py [--rounds N]

Children run with bytecode writing on (``PYTHONDONTWRITEBYTECODE`` removed), as a normal
installation does; the first runs compile and are not measured.
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

CACHE = Path(os.environ.get("SIGLINK_TEST_CACHE", Path.home() / ".cache" / "siglink-tests"))
LIBS = ("markupsafe==2.1.5", "werkzeug==3.0.1")
APPS = {
    "trivial": "print('hello')\n",
    "werkzeug": (
        "from werkzeug.wrappers import Request, Response\n"
        "from werkzeug.utils import secure_filename\n"
        "print(secure_filename('a b.txt'), Response('x').status)\n"
    ),
}


def fetch(requirement: str) -> Path:
    """A cached wheel of ``requirement`` (the test-suite's cache; pip downloads it once)."""
    name, _, version = requirement.partition("==")
    dest = CACHE / "wheel" / f"{name}-{version}"
    dest.mkdir(parents=True, exist_ok=True)
    found = sorted(dest.glob("*.whl"))
    if not found:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                        "--disable-pip-version-check", "--only-binary", ":all:", "--dest",
                        str(dest), requirement], check=True)
        found = sorted(dest.glob("*.whl"))
    return found[0]


def measure(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int]:
    """(wall seconds, peak RSS in KiB) of one child, from its own rusage (``wait4``)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} failed with {proc.returncode}")
    return elapsed, usage.ru_maxrss


def quartiles(values: list[float]) -> tuple[float, float, float]:
    q1, q2, q3 = statistics.quantiles(values, n=4)
    return q1, q2, q3


def modules_added(siglink_cmd: list[str], app: Path, env: dict[str, str]) -> list[str]:
    code = "import sys, atexit; atexit.register(lambda: print(*sorted(sys.modules)))"

    def loaded(cmd: list[str]) -> set[str]:
        out = subprocess.run(cmd, env=dict(env, PYTHONSTARTUP=""), cwd=app.parent,
                             capture_output=True, text=True, check=True).stdout
        return set(out.split()[-1000:]) - {"hello"}

    probe = app.with_name("probe.py")
    probe.write_text(code + "\n" + app.read_text())
    try:
        subprocess.run([*siglink_cmd, "run", str(probe)], env=env, capture_output=True,
                       check=True)
        linked = loaded([*siglink_cmd, "run", str(probe)])
        plain = loaded([sys.executable, str(probe)])
    finally:
        probe.unlink()
    return sorted(linked - plain)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    options = parser.parse_args()
    entry = shutil.which("siglink")
    if entry is None:
        raise SystemExit("the siglink console script is not on PATH (pip install -e .)")
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        work = Path(tmp)
        store = work / "store"
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(SIGLINK_STORE=str(store), NO_COLOR="1")
        subprocess.run([entry, "install", *map(str, map(fetch, LIBS))], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        paths = [str(next((store / "libs" / n.partition("==")[0]).glob("*"))) for n in LIBS]
        baseline_env = dict(env, PYTHONPATH=os.pathsep.join(paths))
        commands = {}
        for name, source in APPS.items():
            app = work / f"app_{name}.py"
            app.write_text(source)
            commands[name] = ([entry, "run", str(app)], [sys.executable, str(app)])
            for _ in range(3):  # cold plan, then warm; compile bytecode for both sides
                measure(commands[name][0], env, work)
                measure(commands[name][1], baseline_env, work)
        results: dict[str, dict[str, list[float]]] = {
            name: {"ratio": [], "linked": [], "plain": [], "rss": []} for name in APPS}
        for round_ in range(options.rounds):
            for name, (linked_cmd, plain_cmd) in commands.items():
                order = [(linked_cmd, env), (plain_cmd, baseline_env)]
                if round_ % 2:
                    order.reverse()
                timings = {id(cmd): measure(cmd, e, work) for cmd, e in order}
                (t_linked, rss_linked), (t_plain, rss_plain) = (
                    timings[id(linked_cmd)], timings[id(plain_cmd)])
                r = results[name]
                r["ratio"].append(t_linked / t_plain)
                r["linked"].append(t_linked * 1000)
                r["plain"].append(t_plain * 1000)
                r["rss"].append((rss_linked - rss_plain) / 1024)
        print(f"siglink run (console script, warm plan) vs python APP, {options.rounds} "
              "interleaved rounds")
        targets = {"trivial": 1.35, "werkzeug": 1.05}
        for name, r in results.items():
            q1, med, q3 = quartiles(r["ratio"])
            rq1, rmed, rq3 = quartiles(r["rss"])
            print(f"  {name:9} time ratio median {med:.3f} (IQR {q1:.3f}-{q3:.3f}; target "
                  f"<= {targets[name]})  siglink {statistics.median(r['linked']):.1f} ms, "
                  f"python {statistics.median(r['plain']):.1f} ms")
            print(f"  {name:9} peak RSS +{rmed:.2f} MB median (IQR {rq1:.2f}-{rq3:.2f}; "
                  "target <= 5 MB)")
        added = modules_added([entry], work / "app_trivial.py", env)
        print(f"modules the bootstrap adds ({len(added)}): {' '.join(added)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
