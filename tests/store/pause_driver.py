"""Run ``siglink ARGS...`` with a pause point injected into every store it opens (test-only).

``SIGLINK_TEST_PAUSE_AT=POINT`` names the point (``staged``, ``indexed``, ``renamed``,
``generation``, ``committed``, ``removed``...); there the process prints
``siglink: paused at POINT`` on stderr and sleeps ``SIGLINK_TEST_PAUSE_SECONDS`` (default 60),
or, with ``SIGLINK_TEST_PAUSE_UNTIL=FILE``, waits until FILE exists (at most that long), so
that a test can kill it there. Production code reads none of these variables: the pause
reaches the store through its ``pause`` parameter.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any


def _pause(point: str) -> None:
    if os.environ.get("SIGLINK_TEST_PAUSE_AT") != point:
        return
    sys.stderr.write(f"siglink: paused at {point}\n")
    sys.stderr.flush()
    seconds = float(os.environ.get("SIGLINK_TEST_PAUSE_SECONDS", "60"))
    until = os.environ.get("SIGLINK_TEST_PAUSE_UNTIL")
    if not until:
        time.sleep(seconds)
        return
    deadline = time.monotonic() + seconds
    while not os.path.exists(until) and time.monotonic() < deadline:
        time.sleep(0.01)


def main() -> None:
    from siglink.store import _core

    original = _core.StoreCore.__init__

    def init(self: _core.StoreCore, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("pause", _pause)
        original(self, *args, **kwargs)

    _core.StoreCore.__init__ = init  # type: ignore[method-assign]
    from siglink._entry import entry

    sys.argv[0] = "siglink"
    entry()


if __name__ == "__main__":
    main()
