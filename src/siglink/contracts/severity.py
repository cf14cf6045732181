"""How much a problem matters (docs/design.md §3.3).

>>> Severity("review"), Severity.INCOMPATIBLE.value
(<Severity.REVIEW: 'review'>, 'incompatible')
"""

from __future__ import annotations

from enum import Enum

__all__ = ["Severity"]


def __dir__() -> list[str]:
    return list(__all__)


class Severity(Enum):
    """How much a problem matters."""

    INCOMPATIBLE = "incompatible"  # the verdict is not ok
    REVIEW = "review"  # ok, with a warning
    HARMLESS = "harmless"  # recorded, ok
