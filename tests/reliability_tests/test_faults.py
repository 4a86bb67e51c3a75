"""Matrix rows 5, 6 and 8: projection saves that crash, disk full and I/O errors, durability
modes under power loss, and the flush window under kill -9."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import assert_clean
from .matrix_faults import (
    flush_window_kill,
    flush_window_power_loss,
    io_fault_matrix,
    power_loss_matrix,
    projection_crash_matrix,
)

pytestmark = pytest.mark.crash


@pytest.mark.parametrize("power_loss", [False, True], ids=["crash", "crash+power-loss"])
def test_crash_at_every_step_of_a_projection_save(tmp_path: Path, power_loss: bool) -> None:
    tally = projection_crash_matrix(tmp_path, every_projection=False, power_loss=power_loss)
    assert_clean(tally)
    assert tally.cases == tally.notes["steps per save"] >= 8


@pytest.mark.slow
@pytest.mark.parametrize("power_loss", [False, True], ids=["crash", "crash+power-loss"])
def test_crash_at_every_step_of_saving_every_projection(tmp_path: Path, power_loss: bool) -> None:
    tally = projection_crash_matrix(tmp_path, every_projection=True, power_loss=power_loss)
    assert_clean(tally)


def test_disk_full_and_io_errors_first_call(tmp_path: Path) -> None:
    tally = io_fault_matrix(tmp_path, nths=(2,))
    assert_clean(tally)
    assert tally.notes["fsync failures made fatal"] >= 2


@pytest.mark.slow
def test_disk_full_and_io_errors_full(tmp_path: Path) -> None:
    tally = io_fault_matrix(tmp_path, nths=(1, 2, 3, 4, 6))
    assert_clean(tally)


def test_power_loss_sample(tmp_path: Path) -> None:
    assert_clean(power_loss_matrix(tmp_path, rounds=8))


@pytest.mark.slow
def test_power_loss_full(tmp_path: Path) -> None:
    assert_clean(power_loss_matrix(tmp_path, rounds=120))


def test_flush_mode_power_loss_window_is_the_sync_interval(tmp_path: Path) -> None:
    assert_clean(flush_window_power_loss(tmp_path, sync_interval_ms=100.0))


def test_flush_window_under_kill_minus_9(tmp_path: Path) -> None:
    """Appended, then slept past buffer_max_ms (50 ms): all there; killed at once after more
    than buffer_max_events (1024) appends: at most the last 1,023 lost."""
    assert_clean(flush_window_kill(tmp_path, ((100, 200.0), (1030, 0.0), (2500, 0.0))))


def test_a_failed_background_commit_is_retried_by_close_once_the_disk_has_room(
    tmp_path: Path,
) -> None:
    import errno
    import time

    from ledger import Ledger, LedgerIOError

    from .faults import FaultyFS, make_event
    from .matrix import ids_of, read_all

    fs = FaultyFS("pwrite", errno.ENOSPC, nth=2, times=None)  # call 1 writes the schema
    writer = Ledger(tmp_path / "l", fs=fs, buffer_max_ms=5)
    writer.append_many([make_event("bg", i) for i in range(3)])
    deadline = time.monotonic() + 5
    # the background thread tries, and fails, to commit, and keeps the error for the next
    # call: wait for the error it keeps, not only for the failed write (under load the write
    # fails a moment before the thread records why)
    while writer._deferred is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert fs.injected > 0 and writer._deferred is not None
    with pytest.raises(LedgerIOError, match="disk is full"):
        writer.append(make_event("bg", 99))  # told at once; this event is not taken
    fs.heal()
    writer.close()
    assert ids_of(read_all(tmp_path / "l"), "bg") == [0, 1, 2]
