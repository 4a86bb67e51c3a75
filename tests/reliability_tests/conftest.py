"""Reliability matrix: the fast subset runs by default; ``-m slow`` runs the full counts."""

from __future__ import annotations

from .matrix import Tally


def assert_clean(tally: Tally) -> None:
    """Every expectation held and no acknowledged event was lost."""
    assert tally.cases > 0, f"{tally.name}: no case ran"
    assert tally.violations == [], f"{tally.name}: " + "\n".join(tally.violations)
    assert tally.lost_events == 0
