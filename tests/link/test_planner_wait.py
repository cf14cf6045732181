"""Concurrent cold starts wait for one planner (``_cache.wait_for_planner``): blocked, not
polling; woken as soon as the planner is done; bounded; and a planner that dies without a plan
hands the role on."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from siglink.link._cache import wait_for_planner


def _planner(lock: Path, seconds: float, writes: Path | None = None) -> subprocess.Popen[str]:
    """A process holding the exclusive plan lock for ``seconds``, then writing ``writes``."""
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, time\n"
        f"fd = os.open({str(lock)!r}, os.O_RDWR | os.O_CREAT)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True)\n"
        f"time.sleep({seconds})\n"
        + (f"open({str(writes)!r}, 'w').close()\n" if writes else ""))],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    return holder


def test_a_waiter_starts_from_the_plan_as_soon_as_the_planner_is_done(tmp_path: Path) -> None:
    plan = tmp_path / "key.json"
    holder = _planner(tmp_path / "key.lock", 0.4, writes=plan)
    calls: list[float] = []

    def ready() -> dict[str, object] | None:
        calls.append(time.monotonic())
        return {"plan": 1} if plan.exists() else None

    start = time.monotonic()
    record, held = wait_for_planner(str(plan), 30, ready)
    waited = time.monotonic() - start
    holder.wait()
    holder.stdout.close()  # type: ignore[union-attr]
    assert (record, held) == ({"plan": 1}, None)
    assert 0.3 < waited < 5
    assert len(calls) == 1  # checked once, after the planner let go: no polling
    assert signal.getsignal(signal.SIGALRM) == signal.SIG_DFL


def test_the_wait_is_bounded_and_leaves_no_alarm_behind(tmp_path: Path) -> None:
    holder = _planner(tmp_path / "key.lock", 30)
    try:
        start = time.monotonic()
        assert wait_for_planner(str(tmp_path / "key.json"), 0.3, lambda: None) == (None, None)
        assert 0.25 < time.monotonic() - start < 5
        assert signal.getsignal(signal.SIGALRM) == signal.SIG_DFL
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()  # type: ignore[union-attr]


def test_a_planner_that_dies_without_a_plan_hands_the_role_on(tmp_path: Path) -> None:
    holder = _planner(tmp_path / "key.lock", 0.2)
    record, held = wait_for_planner(str(tmp_path / "key.json"), 30, lambda: None)
    holder.wait()
    holder.stdout.close()  # type: ignore[union-attr]
    assert record is None and held is not None
    try:  # this process now plans: nobody else can take the lock
        other = os.open(tmp_path / "key.lock", os.O_RDWR)
        try:
            assert fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB) is None
        except BlockingIOError:
            pass
        else:
            raise AssertionError("the lock was not held")
        finally:
            os.close(other)
    finally:
        os.close(held)
