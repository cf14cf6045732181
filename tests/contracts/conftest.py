"""Figures the contract tests measure (mypy agreement) shown in every run's summary."""

from __future__ import annotations

from collections.abc import Callable

import pytest

_FIGURES = pytest.StashKey[list[str]]()


@pytest.fixture
def report_figure(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """``report_figure(line)``: print ``line`` under "siglink figures" at the end of the run."""
    figures = request.config.stash.setdefault(_FIGURES, [])
    return figures.append


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter,
                            config: pytest.Config) -> None:
    figures = config.stash.get(_FIGURES, [])
    if figures:
        terminalreporter.section("siglink figures")
        for line in figures:
            terminalreporter.write_line(line)
