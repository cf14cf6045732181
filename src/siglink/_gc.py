"""The one place that tunes Python's cyclic garbage collector, for siglink's own bursts of
allocation.

Reading a library's exports with griffe, reading sources' syntax trees at install, reading an
application's manifest and resolving a link plan each allocate hundreds of thousands of
long-lived objects and free almost none of them while they run; the collector, left running,
rescans all of them over and over (a fifth of the time on Django's export table, a third on a
plan for 10,000 names; ``benchmarks/bench_exports.py`` prints the difference). Inside
:func:`fewer_collections` the collector is paused. It is a pause, not a leak: reference
counting frees everything without cycles as usual, and the cycles made meanwhile are
collected once the collector runs again (measured on Django's export table: the same peak
memory). The collector's state comes back on exit, so code that runs afterwards, and every
application siglink starts (the warm path never enters this), sees the interpreter's own
settings.

>>> import gc
>>> with fewer_collections():
...     gc.isenabled()
False
>>> gc.isenabled()
True
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["fewer_collections"]


def __dir__() -> list[str]:
    return list(__all__)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Pause the cyclic collector while the block runs (a nested use leaves it to the outer)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
