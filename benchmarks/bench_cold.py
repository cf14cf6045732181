"""Cold starts right after an install: one starter alone vs 20 starting at once.

Each round installs a new version of the library the application uses (so its cached plan goes
stale), then times ``siglink run APP``: once alone (a single cold start), and, after the next
install, 20 concurrent starters of the same application (each one's wall time from the common
start). The starters wait for one planner and then start warm from its plan, so the 95th
percentile of the 20 stays near one cold start. Prints both and the ratio (target: <= 2), and
for reference the 95th percentile of 20 concurrent *warm* starts (what starting 20 interpreters
at once costs on this machine, planning aside).

    python benchmarks/bench_cold.py [--rounds N] [--starters N]
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

from siglink.demo.wheels import make_wheel

LAUNCHER = "import sys; sys.path.pop(0); from siglink._entry import entry; entry()"
APP = "import textkit\nprint(textkit.shout('hi'))\n"


def wheel(work: Path, version: str) -> Path:
    return make_wheel(work / "wheels", "textkit", version, {
        "textkit/__init__.py": f"VERSION = {version!r}\ndef shout(text):\n"
                               "    return text.upper() + '!'\n"})


def starts(cmd: list[str], env: dict[str, str], cwd: Path, n: int) -> tuple[list[float], int]:
    """Wall times (ms) of ``n`` concurrent runs of ``cmd``, and how many planned (cold)."""
    start = time.perf_counter()
    procs = [subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True) for _ in range(n)]
    times: list[float] = [0.0] * n
    cold = 0
    pending = dict(enumerate(procs))
    while pending:
        for i, proc in list(pending.items()):
            if proc.poll() is not None:
                times[i] = (time.perf_counter() - start) * 1000
                del pending[i]
        time.sleep(0.002)
    for proc in procs:
        err = proc.stderr.read() if proc.stderr else ""
        if proc.returncode != 0:
            raise SystemExit(f"a starter failed ({proc.returncode}): {err}")
        cold += "siglink: cold plan" in err
    return times, cold


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--starters", type=int, default=20)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        work = Path(tmp)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(SIGLINK_STORE=str(work / "store"), NO_COLOR="1", SIGLINK_DEBUG="1")
        siglink = [sys.executable, "-c", LAUNCHER]
        app = work / "app.py"
        app.write_text(APP)
        minor = 0

        def install() -> None:
            nonlocal minor
            minor += 1
            subprocess.run([*siglink, "install", str(wheel(work, f"1.{minor}.0"))], env=env,
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        install()
        subprocess.run([*siglink, "run", str(app)], env=env, check=True,
                       capture_output=True)  # builds the manifest, compiles bytecode
        single: list[float] = []
        crowd: list[float] = []
        warm: list[float] = []
        planners: list[int] = []
        for _ in range(options.rounds):
            install()
            times, cold = starts([*siglink, "run", str(app)], env, work, 1)
            assert cold == 1, "the lone start after an install was not cold"
            single.extend(times)
            install()
            times, cold = starts([*siglink, "run", str(app)], env, work, options.starters)
            crowd.append(statistics.quantiles(times, n=20)[-1])  # p95 of this round
            planners.append(cold)
            times, cold = starts([*siglink, "run", str(app)], env, work, options.starters)
            assert cold == 0, "a start was cold with a valid plan"
            warm.append(statistics.quantiles(times, n=20)[-1])
        one, p95 = statistics.median(single), statistics.median(crowd)
        print(f"cold starts right after an install, {options.rounds} rounds")
        print(f"  a single cold start: median {one:.0f} ms")
        print(f"  {options.starters} concurrent starts: p95 median {p95:.0f} ms "
              f"(planners per round: {planners})")
        print(f"  ratio p95 / single {p95 / one:.2f} (target <= 2)")
        print(f"  for reference, {options.starters} concurrent warm starts: p95 median "
              f"{statistics.median(warm):.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
