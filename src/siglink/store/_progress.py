"""Progress of a long store operation, reported to a callback the caller passes.

The store draws nothing: the caller (the CLI) decides whether and how to show the steps, as
installer's ``install()`` leaves presentation to its caller.

>>> seen = []
>>> steps = Steps(lambda text, done, total: seen.append((text, done, total)), total=2)
>>> steps("fetching x"); steps("committing")
>>> seen
[('fetching x', 1, 2), ('committing', 2, 2)]
>>> Steps(None, total=3)("nothing is called")
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

__all__ = ["Progress", "Steps"]

Progress: TypeAlias = Callable[[str, int, int], None]
"""``progress(description, done, total)``: called once per step, ``done`` counting from 1."""


def __dir__() -> list[str]:
    return list(__all__)


class Steps:
    """Counts the steps of one operation and reports each to ``progress`` (if any)."""

    __slots__ = ("_done", "_progress", "total")

    def __init__(self, progress: Progress | None, *, total: int) -> None:
        self._progress = progress
        self._done = 0
        self.total = total

    def __call__(self, description: str) -> None:
        self._done += 1
        if self._progress is not None:
            self._progress(description, min(self._done, self.total), self.total)
