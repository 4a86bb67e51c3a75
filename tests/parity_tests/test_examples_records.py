"""The records/config/contract example runs end to end and prints what it should."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import REPO, run_script


def test_records_config_contract_example(tmp_path: Path) -> None:
    out = run_script(REPO / "examples" / "parity" / "records_config_contract.py", tmp_path).stdout
    assert "config: profile=test project=demo durability=fsync" in out
    assert "validate: valid=True" in out
    assert "append_many: accepted=4 status=FSYNCED" in out
    assert "copies stored=1" in out
    assert "a different record under the same ref: record_ref_conflict" in out
    assert "scan spans: [('forward'," in out
    assert "span:forward=250.0" in out and "degraded:capture.gap=None" in out
    assert "replay: 4 records, state=HEALTHY; export_jsonl wrote 4 lines" in out
    assert "check_integrity: healthy=True" in out
    assert "rebuild_indexes: folded" in out
