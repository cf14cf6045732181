"""Running a fleet of applications on one store: installing dependency closures, taking every
fix (``update``), auditing against advisories, listing and pruning, SBOMs."""

from __future__ import annotations

__all__: list[str] = []


def __dir__() -> list[str]:
    return list(__all__)
