"""Running one install's per-wheel work in worker processes, one per usable core.

Reading a wheel's exports and byte-compiling it are CPU-bound Python, independent from wheel
to wheel: an install of a dependency closure spreads them over the cores it may use. The
workers are forked (Linux) before any staging directory exists, so none of them holds a
staging lock; each dies with the process that started it (``PR_SET_PDEATHSIG``), so a killed
install leaves no process writing into the store; they ignore ``SIGINT``, which the parent
handles by terminating them. Where fork is not available, or there is one task or one core,
the tasks run in this process.

>>> with Workers(2) as workers:
...     sorted(workers.run(abs, [-3, 1, -2], weights=[1, 3, 2]))
[(0, 3), (1, 1), (2, 2)]
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import Any, TypeVar

__all__ = ["Workers", "usable_cores"]

T = TypeVar("T")
R = TypeVar("R")


def __dir__() -> list[str]:
    return list(__all__)


def usable_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _die_with_parent() -> None:
    """Worker start: ignore ``SIGINT`` (the parent decides) and die when the parent dies."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() == 1:  # the parent died before the call above
        os._exit(1)


def _call(job: tuple[int, Callable[[Any], Any], Any]) -> tuple[int, Any]:
    number, function, argument = job
    return number, function(argument)


class Workers:
    """At most ``tasks`` worker processes (and no more than the usable cores); a context
    manager that terminates them on exit."""

    def __init__(self, tasks: int) -> None:
        self.count = min(tasks, usable_cores())
        self._pool: Any = None

    def __enter__(self) -> Workers:
        if self.count > 1 and sys.platform == "linux":
            import multiprocessing

            for stream in (sys.stdout, sys.stderr):  # a worker must not write them again
                stream.flush()
            self._pool = multiprocessing.get_context("fork").Pool(
                self.count, initializer=_die_with_parent)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._pool is not None:
            if kind is None:
                self._pool.close()
            else:
                self._pool.terminate()
            self._pool.join()
            self._pool = None

    def start(self, function: Callable[[T], R], arguments: Sequence[T], *,
              weights: Sequence[float] | None = None) -> Callable[[], list[R]]:
        """Start ``function`` over ``arguments`` now; the callable returned waits for the
        results and returns them in order (without workers, it computes them then)."""
        if self._pool is None:
            return lambda: [function(a) for a in arguments]
        order = sorted(range(len(arguments)),
                       key=lambda i: -(weights[i] if weights is not None else 0))
        pending = self._pool.map_async(_call, [(i, function, arguments[i]) for i in order],
                                       chunksize=1)

        def results() -> list[R]:
            found = dict(pending.get())
            return [found[i] for i in range(len(arguments))]

        return results

    def run(self, function: Callable[[T], R], arguments: Sequence[T], *,
            weights: Sequence[float] | None = None) -> Iterator[tuple[int, R]]:
        """``(i, function(arguments[i]))`` for each argument, as each is done, the heaviest
        started first; ``function`` must be a module-level function and what it takes and
        returns picklable. An exception a task raises is raised here."""
        order = sorted(range(len(arguments)),
                       key=lambda i: -(weights[i] if weights is not None else 0))
        if self._pool is None:
            for i in order:
                yield i, function(arguments[i])
            return
        jobs = [(i, function, arguments[i]) for i in order]
        yield from self._pool.imap_unordered(_call, jobs, chunksize=1)
