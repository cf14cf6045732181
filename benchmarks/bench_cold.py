"""Cold starts right after an install: one starter alone vs 20 starting at once.

Each round installs a new version of the library the application uses (so its cached plan goes
stale), then times ``siglink run APP``: once alone (a single cold start), and, after the next
install, 20 concurrent starters of the same application (each one's wall time from the common
start). The starters wait for one planner and then start warm from its plan, so the 95th
percentile of the 20 stays near one cold start. Prints both and the ratio (target: <= 2), the
median over the rounds of each.

The 20 are started one after the other by ``subprocess.Popen`` from this process, which the
first starters soon leave with a small share of the CPU, so the last one starts well after the
clock did. Each round therefore also times a single start and 20 starters forked beforehand,
each held at a gate (a pipe) before it execs, and released together: the same comparison with
the harness's own forking left out (printed beside, never instead).

Each round also measures the floor the machine sets: one cold start released with 19 bare
interpreters (``python -c pass``) instead of 19 more siglink starters, both ways. Whatever
exceeds it is what the other starters' siglink costs; the rest is 20 Python processes sharing
the cores.

For reference, each round also times 20 concurrent *warm* starts (planning aside) and 20
concurrent bare interpreters (``python -c pass``, the same interpreter: what any 20 Python
starts at once cost on this machine), and the run prints the floor no scheduler can beat: the
CPU time of one cold start and 19 bare interpreters spread over every core; and the floor a
fair scheduler sets, where the planner gets no more CPU than each of the 19 interpreters
starting beside it: by the time they have started (20 x one interpreter over the cores) it
has done one interpreter's worth of its own work, and the rest it does alone. Each starter's
exit is taken by a blocking ``wait4`` as it happens: the harness neither polls (which competes
for the CPU being measured) nor rounds the times up to its polling period.

    python benchmarks/bench_cold.py [--rounds N] [--starters N]
"""

from __future__ import annotations

import argparse
import contextlib
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


def starts(cmd: list[str], env: dict[str, str], cwd: Path, n: int, *,
           gate: bool = False, others: list[str] | None = None,
           ) -> tuple[list[float], int, list[float]]:
    """Wall times (ms) of ``n`` concurrent runs of ``cmd``, how many planned (cold), and each
    one's CPU time (ms, user + system: what the machine's load does not inflate). With
    ``others``, one run of ``cmd`` and ``n - 1`` of ``others``.

    The runs are started one after the other with ``subprocess.Popen``, the clock running from
    the first; with ``gate``, all ``n`` are forked first, each blocked on a pipe before it
    execs ``cmd``, and the clock starts when the pipe closes and releases them together.
    """
    with contextlib.ExitStack() as stack:
        errs = [stack.enter_context(tempfile.TemporaryFile()) for _ in range(n)]
        pending: dict[int, int] = {}
        if gate:
            release, opened = os.pipe()
            for i, err in enumerate(errs):
                argv = cmd if i == 0 or others is None else others
                pid = os.fork()
                if pid == 0:  # the starter: wait at the gate, then become cmd
                    try:
                        os.close(opened)
                        os.read(release, 1)
                        os.chdir(cwd)
                        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
                        os.dup2(err.fileno(), 2)
                        os.execve(argv[0], argv, env)
                    finally:
                        os._exit(127)
                pending[pid] = i
            os.close(release)
            start = time.perf_counter()
            os.close(opened)
        else:
            start = time.perf_counter()
            for i, err in enumerate(errs):
                argv = cmd if i == 0 or others is None else others
                proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                                        stderr=err)
                proc.returncode = 0  # reaped below, not by Popen
                pending[proc.pid] = i
        times: list[float] = [0.0] * n
        cpu: list[float] = [0.0] * n
        codes: list[int] = [0] * n
        while pending:  # this process has no other children: wait for whichever exits next
            pid, status, usage = os.wait4(-1, 0)
            i = pending.pop(pid)
            times[i] = (time.perf_counter() - start) * 1000
            cpu[i] = (usage.ru_utime + usage.ru_stime) * 1000
            codes[i] = os.waitstatus_to_exitcode(status)
        cold = 0
        for err, code in zip(errs, codes, strict=True):
            err.seek(0)
            text = err.read().decode(errors="replace")
            if code != 0:
                raise SystemExit(f"a starter failed ({code}): {text}")
            cold += "siglink: cold plan" in text
    return times, cold, cpu


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
        single_cpu: list[float] = []
        crowd: list[float] = []
        crowd_cpu: list[float] = []
        warm: list[float] = []
        warm_cpu: list[float] = []
        bare: list[float] = []
        bare_cpu: list[float] = []
        gated_single: list[float] = []
        gated_crowd: list[float] = []
        planners: list[int] = []
        gated_planners: list[int] = []
        mixed: list[float] = []
        gated_mixed: list[float] = []
        bare_cmd = [sys.executable, "-c", "pass"]
        for _ in range(options.rounds):
            install()
            times, cold, cpu = starts([*siglink, "run", str(app)], env, work, 1)
            assert cold == 1, "the lone start after an install was not cold"
            single.extend(times)
            single_cpu.extend(cpu)
            install()
            times, cold, cpu = starts([*siglink, "run", str(app)], env, work, options.starters)
            crowd.append(statistics.quantiles(times, n=20)[-1])  # p95 of this round
            crowd_cpu.append(sum(cpu))
            planners.append(cold)
            times, cold, cpu = starts([*siglink, "run", str(app)], env, work, options.starters)
            assert cold == 0, "a start was cold with a valid plan"
            warm.append(statistics.quantiles(times, n=20)[-1])
            warm_cpu.append(sum(cpu))
            times, _, cpu = starts(bare_cmd, env, work, options.starters)
            bare.append(statistics.quantiles(times, n=20)[-1])
            bare_cpu.append(statistics.median(cpu))
            install()
            times, cold, _ = starts([*siglink, "run", str(app)], env, work, 1, gate=True)
            assert cold == 1, "the lone start after an install was not cold"
            gated_single.extend(times)
            install()
            times, cold, _ = starts([*siglink, "run", str(app)], env, work, options.starters,
                                    gate=True)
            gated_crowd.append(statistics.quantiles(times, n=20)[-1])
            gated_planners.append(cold)
            for gate, into in ((False, mixed), (True, gated_mixed)):
                install()
                times, cold, _ = starts([*siglink, "run", str(app)], env, work,
                                        options.starters, gate=gate, others=bare_cmd)
                assert cold == 1, "the one siglink start after an install was not cold"
                into.append(statistics.quantiles(times, n=20)[-1])
        one, p95 = statistics.median(single), statistics.median(crowd)
        cores = os.cpu_count() or 1
        floor = max(statistics.median(single_cpu) + (options.starters - 1)
                    * statistics.median(bare_cpu), cores * statistics.median(single_cpu)) / cores
        print(f"cold starts right after an install, {options.rounds} rounds "
              f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
        print(f"  a single cold start: median {one:.0f} ms "
              f"(CPU {statistics.median(single_cpu):.0f} ms)")
        print(f"  {options.starters} concurrent starts: p95 median {p95:.0f} ms "
              f"(planners per round: {planners}; CPU of all {options.starters} "
              f"{statistics.median(crowd_cpu):.0f} ms)")
        print(f"  ratio p95 / single {p95 / one:.2f} (target <= 2)")
        gated_one, gated_p95 = statistics.median(gated_single), statistics.median(gated_crowd)
        print(f"  the same released together from a gate (the harness's own forking left out): "
              f"single {gated_one:.0f} ms, p95 {gated_p95:.0f} ms, ratio "
              f"{gated_p95 / gated_one:.2f} (planners per round: {gated_planners})")
        print(f"  for reference, {options.starters} concurrent warm starts: p95 median "
              f"{statistics.median(warm):.0f} ms (CPU of all {statistics.median(warm_cpu):.0f} "
              "ms)")
        print(f"  for reference, {options.starters} concurrent bare interpreters (python -c "
              f"pass): p95 median {statistics.median(bare):.0f} ms "
              f"({statistics.median(bare):.0f} / {one:.0f} = {statistics.median(bare) / one:.2f}"
              f" of a single cold start; CPU {statistics.median(bare_cpu):.1f} ms each)")
        print(f"  measured floor: one cold start beside {options.starters - 1} bare "
              f"interpreters (no siglink in them): p95 median {statistics.median(mixed):.0f} "
              f"ms, ratio {statistics.median(mixed) / one:.2f}; released from a gate "
              f"{statistics.median(gated_mixed):.0f} ms, ratio "
              f"{statistics.median(gated_mixed) / gated_one:.2f}")
        one_cpu = statistics.median(single_cpu)
        others = max(options.starters / cores - 1, 0) * statistics.median(bare_cpu)
        print(f"  floor: one cold start and {options.starters - 1} bare interpreters on "
              f"{cores} cores, {floor:.0f} ms of CPU each core: on an idle machine (where a "
              f"single cold start takes its CPU time) ratio >= {floor / one_cpu:.2f}; under a "
              f"fair scheduler, where the planner gets no more CPU than the "
              f"{options.starters - 1} interpreters starting beside it, ratio >= "
              f"{(one_cpu + others) / one_cpu:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
