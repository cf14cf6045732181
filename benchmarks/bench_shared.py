"""Warm ``siglink run`` of a trivial app from a shared, root-owned store: another user vs the owner.

The owner keeps plans in ``ROOT/plans``; any other user keeps theirs in their own cache
(``$XDG_CACHE_HOME/siglink/plans/<hash of ROOT>/``), so both start warm. A real second user is
created with ``useradd`` (and removed afterwards); both sides run through the same
``setpriv --reuid ... --`` wrapper, interleaved. Prints the median wall time of each and the
median of the per-round ratios with its interquartile range (target: <= 1.05).

    python benchmarks/bench_shared.py [--rounds N] [--user NAME]     (as root)

The interpreter must be runnable by the second user: when this one lives under a directory
they cannot enter (a pyenv under ``/root``), the system's ``pythonX.Y`` of the same version is
used, with this interpreter's site-packages (siglink and its dependencies) added by a ``.pth``.
"""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from siglink.demo.wheels import make_wheel

LAUNCHER = "import sys; sys.path.pop(0); from siglink._entry import entry; entry()"
APP = "import textkit\nprint(textkit.shout('hi'))\n"


def as_user(uid: int, gid: int, cmd: list[str]) -> list[str]:
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--", *cmd]


def interpreter(work: Path, uid: int, gid: int) -> str:
    """A python the other user can run, with siglink importable."""
    # the cold path execs sys.executable again: probe that, not only the first start
    probe = [sys.executable, "-c", "import os, sys; os.execv(sys.executable, "
             "[sys.executable, '-c', 'import siglink'])"]
    if subprocess.run(as_user(uid, gid, probe), capture_output=True, check=False).returncode == 0:
        return sys.executable
    system = shutil.which(f"python{sys.version_info.major}.{sys.version_info.minor}",
                          path="/usr/local/bin:/usr/bin")
    if system is None:
        raise SystemExit("no interpreter of this version that the second user can run")
    venv = work / "venv"
    subprocess.run([system, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next(venv.glob("lib/python*/site-packages"))
    mine = sysconfig.get_paths()["purelib"]
    (site / "siglink-bench.pth").write_text(f"import site; site.addsitedir({mine!r})\n")
    return str(venv / "bin" / "python")


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    result = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{cmd} failed ({result.returncode}): {result.stderr.decode()}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--user", default="siglink-bench")
    options = parser.parse_args()
    if os.getuid() != 0:
        raise SystemExit("run as root: the benchmark creates a second user (useradd)")
    created = False
    try:
        pwd.getpwnam(options.user)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                        "/usr/sbin/nologin", options.user], check=True)
        created = True
    user = pwd.getpwnam(options.user)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-shared-") as tmp:
            work = Path(tmp)
            work.chmod(0o755)
            python = interpreter(work, user.pw_uid, user.pw_gid)
            store, apps, cache = work / "store", work / "apps", work / "cache"
            apps.mkdir(mode=0o755)
            cache.mkdir(mode=0o700)
            os.chown(cache, user.pw_uid, user.pw_gid)
            env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            env.update(SIGLINK_STORE=str(store), NO_COLOR="1", XDG_CACHE_HOME=str(cache))
            wheel = make_wheel(work / "wheels", "textkit", "1.0.0", {
                "textkit/__init__.py": "def shout(text):\n    return text.upper() + '!'\n"})
            siglink = [python, "-c", LAUNCHER]
            subprocess.run([*siglink, "install", str(wheel)], env=env, check=True,
                           stdout=subprocess.DEVNULL)
            app = apps / "app.py"
            app.write_text(APP)
            subprocess.run([*siglink, "build", str(app)], env=env, check=True,
                           stdout=subprocess.DEVNULL)
            owner = as_user(0, 0, [*siglink, "run", str(app)])
            other = as_user(user.pw_uid, user.pw_gid, [*siglink, "run", str(app)])
            for cmd in (owner, other):  # the first run of each plans; then both are warm
                for _ in range(3):
                    timed(cmd, env, work)
                check = subprocess.run(cmd, env=dict(env, SIGLINK_DEBUG="1"), cwd=work,
                                       capture_output=True, text=True, check=True)
                if "siglink: warm plan" not in check.stderr or check.stdout != "HI!\n":
                    raise SystemExit(f"not a warm start: {check.stderr}")
            plans = list(cache.glob("siglink/plans/*/*.warm"))
            print(f"the other user's plan: {plans[0] if plans else '(none!)'}")
            ratios: list[float] = []
            times: dict[str, list[float]] = {"owner": [], "other": []}
            for i in range(options.rounds):
                order = [("owner", owner), ("other", other)]
                if i % 2:
                    order.reverse()
                got = {name: timed(cmd, env, work) for name, cmd in order}
                for name, value in got.items():
                    times[name].append(value * 1000)
                ratios.append(got["other"] / got["owner"])
            q1, med, q3 = statistics.quantiles(ratios, n=4)
            print(f"warm siglink run from a root-owned store, {options.rounds} interleaved "
                  "rounds (setpriv for both)")
            print(f"  owner      median {statistics.median(times['owner']):.1f} ms")
            print(f"  other user median {statistics.median(times['other']):.1f} ms")
            print(f"  other/owner ratio median {med:.3f} (IQR {q1:.3f}-{q3:.3f}; "
                  "target <= 1.05)")
    finally:
        if created:
            subprocess.run(["userdel", options.user], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
