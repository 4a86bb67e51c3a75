"""`contexta ledger verify|repair` and `Contexta.flush()` durability statuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from contexta import Contexta
from contexta.cli import main
from ledger import Ledger, read_head

from .faults import flip_byte, make_event, truncate_at


def _workspace(tmp_path: Path) -> Path:
    ws = tmp_path / ".contexta"
    writer = Ledger(ws / "ledger")
    for b in range(3):
        writer.append_many([make_event("c", b * 2 + i) for i in range(2)])
        writer.commit()
    writer.close()
    return ws


def test_verify_names_file_offset_and_seq_and_exits_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = _workspace(tmp_path)
    assert main(["--workspace", str(ws), "ledger", "verify"]) == 0
    assert "OK: 6 events" in capsys.readouterr().out
    segment = ws / "ledger" / "segment-000000000000.arrows"
    head = read_head(ws / "ledger")
    assert head is not None
    flip_byte(segment, head.offset - 20)
    assert main(["--workspace", str(ws), "ledger", "verify"]) == 1
    out = capsys.readouterr().out
    assert f"file {segment}" in out and "seq 5" in out and "DAMAGED" in out


def test_repair_is_a_dry_run_by_default_and_moves_a_torn_tail_with_apply(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = _workspace(tmp_path)
    segment = ws / "ledger" / "segment-000000000000.arrows"
    size = segment.stat().st_size
    segment.write_bytes(segment.read_bytes() + b"\xff\xff\xff\xff\x40\x00")  # a torn commit
    assert main(["--workspace", str(ws), "ledger", "verify"]) == 1
    assert "WARNING torn_tail" in capsys.readouterr().out
    assert main(["--workspace", str(ws), "ledger", "repair"]) == 0
    assert "Would: moved 6 torn bytes" in capsys.readouterr().out
    assert segment.stat().st_size == size + 6
    assert main(["--workspace", str(ws), "ledger", "repair", "--apply"]) == 0
    assert "Did: moved 6 torn bytes" in capsys.readouterr().out
    assert segment.stat().st_size == size
    assert main(["--workspace", str(ws), "ledger", "verify"]) == 0


def test_repair_reports_damage_before_the_head_and_salvages_on_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = _workspace(tmp_path)
    segment = ws / "ledger" / "segment-000000000000.arrows"
    head = read_head(ws / "ledger")
    assert head is not None
    truncate_at(segment, head.offset - 10)
    assert main(["--workspace", str(ws), "ledger", "repair", "--apply"]) == 1
    assert "--salvage" in capsys.readouterr().out
    assert main(["--workspace", str(ws), "ledger", "repair", "--apply", "--salvage"]) == 0
    assert "seq 5..6 are no longer in the log" in capsys.readouterr().out
    assert main(["--workspace", str(ws), "ledger", "verify"]) == 0


@pytest.mark.parametrize(("mode", "status"), [("flush", "FLUSHED"), ("fsync", "FSYNCED")])
def test_flush_commits_the_buffer_and_reports_its_durability(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str, status: str
) -> None:
    monkeypatch.setenv("CONTEXTA_RECORDS_DURABILITY_MODE", mode)
    ws = tmp_path / ".contexta"
    ctx = Contexta(workspace=str(ws))
    assert ctx._workspace.ledger.durability == mode
    ctx._workspace.write([make_event("f", 0)])
    buffered = ctx._workspace.ledger.buffered
    result = ctx.flush()
    assert str(result.durability_status) == status
    assert (buffered, result.durable_count) == ((1, 1) if mode == "flush" else (0, 0))
    head = read_head(ws / "ledger")
    assert head is not None and head.seq == 1
    ctx.close()
