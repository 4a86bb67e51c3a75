"""The command line on the seed's workspace: rebuild, status, audit replay, verify, runs."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli

SEGMENT = Path(".contexta") / "ledger" / "segment-000000000000.arrows"


def test_audit_replay_lists_all_35_events_in_order(seeded: Path) -> None:
    lines = run_cli(seeded, "--format", "json", "audit", "replay").stdout.splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["seq"] for e in events] == list(range(1, 36))
    assert events[0]["kind"] == "project.put"
    assert {e["kind"] for e in events} == {
        "project.put",
        "run.put",
        "stage.put",
        "record.metric",
        "record.event",
    }
    text = run_cli(seeded, "audit", "replay").stdout.splitlines()
    assert len(text) == 36  # header + 35 events
    assert "accuracy=0.934" in text[5]
    only_events = run_cli(seeded, "audit", "replay", "--kind", "record.event").stdout
    assert only_events.count("data.contamination-window") == 4
    one_run = run_cli(seeded, "audit", "replay", "--run", "run-2025-04-14").stdout.splitlines()
    assert len(one_run) == 1 + 1 + 2 + 3 + 1


def test_verify_reports_an_intact_chain(seeded: Path) -> None:
    out = run_cli(seeded, "audit", "replay", "--verify").stdout
    assert out.splitlines()[0].startswith("Verified 35 events")
    assert "hash chain is intact" in out
    assert run_cli(seeded, "ledger", "verify").stdout.startswith("OK: 35 events")


def test_a_flipped_byte_is_named_by_segment_and_offset(seeded: Path) -> None:
    path = seeded / SEGMENT
    data = bytearray(path.read_bytes())
    data[len(data) - 40] ^= 0x01  # inside the last committed batch
    path.write_bytes(bytes(data))
    done = run_cli(seeded, "audit", "replay", "--verify", check=False)
    assert done.returncode != 0
    assert "segment-000000000000.arrows" in done.stdout
    assert "offset" in done.stdout and "FAILED" in done.stdout
    verify = run_cli(seeded, "--format", "json", "ledger", "verify", check=False)
    assert verify.returncode == 1
    finding = json.loads(verify.stdout)["findings"][0]
    assert finding["file"].endswith("segment-000000000000.arrows") and finding["offset"] > 0


def test_projections_rebuild_and_status(seeded: Path) -> None:
    out = run_cli(seeded, "projections", "rebuild").stdout
    assert out.startswith("Rebuilt 13 projections: folded 35 events")
    status = json.loads(run_cli(seeded, "--format", "json", "projections", "status").stdout)
    by_name = {s["name"]: s for s in status}
    assert by_name["runs"]["rows"] == 5 and by_name["runs"]["checkpoint"] == 35
    assert by_name["stage_metrics"]["rows"] == 15 and by_name["event_keys"]["rows"] == 4
    assert all(s["head"] == 35 and s["behind"] == 0 for s in status)


def test_runs_lists_the_project(seeded: Path) -> None:
    runs = json.loads(
        run_cli(seeded, "--format", "json", "runs", "--project", "purchase-intent-model").stdout
    )["runs"]
    assert [r["name"] for r in runs] == [
        "run-2025-03-28",
        "run-2025-04-03",
        "run-2025-04-08",
        "run-2025-04-14",
        "run-2025-04-21",
    ]
    unknown = run_cli(seeded, "runs", "--project", "nope", check=False)  # an error, not "No runs."
    assert unknown.returncode == 2 and "error [project_not_found]" in unknown.stderr


def test_errors_are_typed_and_exit_2(seeded: Path) -> None:
    done = run_cli(seeded, "quarantine", "no-such-run", "--reason", "x", check=False)
    assert done.returncode == 2
    assert "query_run_not_found" in done.stderr
