"""Matrix row 4: concurrent writer processes with readers querying all the while."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import assert_clean
from .matrix import concurrency_run


def test_four_writers_two_readers(tmp_path: Path) -> None:
    tally = concurrency_run(tmp_path, writers=4, appends=300, readers=2)
    assert_clean(tally)
    assert tally.events_checked == 1200


@pytest.mark.slow
def test_eight_writers_by_2000_appends_two_readers(tmp_path: Path) -> None:
    tally = concurrency_run(tmp_path, writers=8, appends=2000, readers=2)
    assert_clean(tally)
    assert tally.events_checked == 16_000
