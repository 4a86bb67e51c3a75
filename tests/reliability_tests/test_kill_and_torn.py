"""Matrix rows 1-3: kill -9 mid-commit, torn tails at every offset, flipped bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import assert_clean
from .matrix import flip_matrix, kill_matrix, torn_tail_matrix

pytestmark = pytest.mark.crash


def test_kill_minus_9_mid_commit_sample(tmp_path: Path) -> None:
    tally = kill_matrix(tmp_path, kills=4)
    assert_clean(tally)
    assert tally.notes == {"kill points": 2, "random-time kills": 2}


@pytest.mark.slow
def test_kill_minus_9_mid_commit_full(tmp_path: Path) -> None:
    tally = kill_matrix(tmp_path, kills=52)
    assert_clean(tally)
    assert tally.cases >= 50


def test_torn_tail_sample_of_offsets(tmp_path: Path) -> None:
    tally = torn_tail_matrix(tmp_path, offsets=24)
    assert_clean(tally)


@pytest.mark.slow
def test_torn_tail_every_offset_of_the_last_batch(tmp_path: Path) -> None:
    tally = torn_tail_matrix(tmp_path)
    assert_clean(tally)
    assert tally.cases >= tally.notes["batch bytes"]


def test_flipped_bytes_sample(tmp_path: Path) -> None:
    tally = flip_matrix(tmp_path, per_batch=24)
    assert_clean(tally)


@pytest.mark.slow
def test_flipped_byte_at_every_position_of_a_sealed_and_an_active_batch(tmp_path: Path) -> None:
    tally = flip_matrix(tmp_path)
    assert_clean(tally)
    assert tally.cases == tally.notes["sealed batch bytes"] + tally.notes["active batch bytes"]
