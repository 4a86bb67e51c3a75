"""Outbox replay as 1.0: failed sink deliveries kept in 1.0's outbox file, replayed to a sink and
acknowledged; compared with what Contexta 1.0.0 gave for the same programs (``_replay_c10``)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from contexta import Contexta
from contexta.capture import CaptureDispatcher
from contexta.capture.results import CaptureResult, PayloadFamily
from contexta.capture.sinks import InMemorySink
from contexta.recovery import replay_outbox
from contexta.recovery.errors import ReplayError
from tests.conftest import REPO, run_script

from ._replay_c10 import C10_OUTBOX_LINE, C10_REPLAY_DEMO, C10_REPLAY_SCENARIOS
from ._replay_scenarios import Flaky, scenarios

DEMO = REPO / "examples" / "parity" / "replay_outbox_demo.py"


def _outbox_ctx(root: Path, *sinks: Any) -> Contexta:
    return Contexta(
        workspace=str(root / ".contexta"),
        config={"project_name": "outbox", "capture": {"dispatch_failure_mode": "outbox"}},
        sinks=list(sinks),
    )


def _outbox_file(ctx: Contexta) -> Path:
    return Path(ctx.config.recovery.outbox_root) / "failed_deliveries.jsonl"


def _stable(line: str) -> dict[str, Any]:
    """An outbox line with its times, replay ref and the event's hash suffix masked."""
    text = re.sub(r"\d{4}-\d\d-\d\dT[0-9:.]+Z", "<time>", line)
    text = re.sub(r"event-[0-9a-f-]+", "event-<id>", text)
    entry = json.loads(text)
    assert re.fullmatch(r"replay:record\.\d{13}\.\d+", entry.pop("replay_ref"))
    return entry


def test_replay_demo_prints_what_1_0_printed(tmp_path: Path) -> None:
    out = run_script(DEMO, tmp_path, "--workspace", str(tmp_path / "ws")).stdout.splitlines()
    assert out == C10_REPLAY_DEMO
    assert out[4:7] == ["SUCCESS", "Acknowledged: 1", "Pending: 0"]


def test_outbox_line_is_1_0s(tmp_path: Path) -> None:
    ctx = Contexta(
        workspace=str(tmp_path / "ws"),
        config={
            "project_name": "replay-demo",
            "capture": {"dispatch_failure_mode": "outbox", "retry_attempts": 0},
        },
        sinks=[Flaky("tracking-server", 99)],
    )
    with ctx.run("nightly") as run:
        result = run.event("training.started", message="epoch 1 of 3")
    (line,) = _outbox_file(ctx).read_text(encoding="utf-8").splitlines()
    expected = _stable(C10_OUTBOX_LINE)
    expected["error"] = "tracking-server unreachable"  # the demo's sink said it differently
    assert _stable(line) == expected
    assert list(json.loads(line)) == sorted(json.loads(line))  # 1.0: sorted, compact keys
    assert result.replay_refs == (json.loads(line)["replay_ref"],)
    assert result.recovered_to_outbox and "recovered_to_outbox" in result.degradation_reasons
    assert [r.key for r in ctx.get_run_snapshot(run.ref).records] == ["training.started"]


def test_replay_scenarios_as_1_0(tmp_path: Path) -> None:
    """Retries, several failed sinks, a sink still down, dead letters, limit, no
    acknowledgement, an unknown target and the default replay sink."""
    assert scenarios(tmp_path) == C10_REPLAY_SCENARIOS


def test_dispatcher_queues_failed_deliveries(tmp_path: Path) -> None:
    ctx = _outbox_ctx(tmp_path)
    dispatcher = CaptureDispatcher(config=ctx.config, sinks=[Flaky("tracker", 99)])
    payload = {"artifact_ref": "artifact:outbox.model", "kind": "checkpoint"}
    result = dispatcher.dispatch_capture(
        CaptureResult.success(PayloadFamily.ARTIFACT, payload=payload)
    )
    assert result.recovered_to_outbox and len(result.replay_refs) == 1
    (entry,) = [json.loads(x) for x in _outbox_file(ctx).read_text().splitlines()]
    assert (entry["family"], entry["payload_type"], entry["payload_ref"], entry["payload"]) == (
        "ARTIFACT",
        "dict",
        None,
        payload,
    )  # 1.0 reads no ref out of a plain dict
    memory = InMemorySink()
    assert replay_outbox(ctx.config, sinks=[memory]).acknowledged_count == 1
    assert [(e.family.value, e.payload) for e in memory.entries] == [("ARTIFACT", payload)]


def test_batch_captures_and_replay_refs_are_unique(tmp_path: Path) -> None:
    """Many failures in one millisecond: 1.0 reused ``replay:<family>.<ms>.1``; each entry here
    has its own ref, so one is acknowledged without touching another."""
    ctx = _outbox_ctx(tmp_path, Flaky("tracker", 99))
    with ctx.run("r") as run, run.stage("train") as stage:
        for step in range(50):
            stage.metric("loss", 1.0 / (step + 1))
    refs = [json.loads(x)["replay_ref"] for x in _outbox_file(ctx).read_text().splitlines()]
    assert len(refs) == 50 and len(set(refs)) == 50
    assert replay_outbox(ctx.config, sinks=[InMemorySink(name="tracker")]).acknowledged_count == 50
    assert _outbox_file(ctx).read_text() == ""


def test_a_replay_that_fails_loses_nothing(tmp_path: Path) -> None:
    ctx = _outbox_ctx(tmp_path, Flaky("tracker", 99))
    with ctx.run("r") as run:
        run.metric("loss", 0.5)
    before = json.loads(_outbox_file(ctx).read_text())
    result = replay_outbox(ctx.config, sinks=[Flaky("tracker", 99)])
    assert (result.status, result.pending_count, result.entries[0].attempts) == ("FAILURE", 1, 2)
    after = json.loads(_outbox_file(ctx).read_text())
    assert after["payload"] == before["payload"] and after["replay_ref"] == before["replay_ref"]
    assert after["last_error"] == "tracker unreachable"
    assert not list(_outbox_file(ctx).parent.glob("*.tmp"))


@pytest.mark.parametrize("text", ["not json\n", "[1, 2]\n", '{"family": "RECORD"}\n{oops\n'])
def test_a_damaged_outbox_is_a_typed_error_and_stays_as_it_was(tmp_path: Path, text: str) -> None:
    ctx = _outbox_ctx(tmp_path)
    path = _outbox_file(ctx)
    path.parent.mkdir(parents=True)
    path.write_text(text)
    with pytest.raises(ReplayError) as err:
        replay_outbox(ctx.config, sinks=[InMemorySink()])
    assert err.value.code == "recovery_invalid_outbox_entry" and "line" in str(err.value)
    assert path.read_text() == text


def test_entries_without_payload_are_kept_pending(tmp_path: Path) -> None:
    ctx = _outbox_ctx(tmp_path)
    path = _outbox_file(ctx)
    path.parent.mkdir(parents=True)
    path.write_text('{"replay_ref": "a"}\n')
    memory = InMemorySink()
    result = replay_outbox(ctx.config, sinks=[memory])
    assert (result.status, result.pending_count, memory.entries) == ("DEGRADED", 1, ())
    assert json.loads(path.read_text()) == {"replay_ref": "a"} and result.warnings


@pytest.mark.parametrize("field", ["limit", "dead_letter_after_failures"])
@pytest.mark.parametrize("value", [-1, "2", True, 1.5])
def test_bad_counts_are_typed_errors(tmp_path: Path, field: str, value: Any) -> None:
    ctx = _outbox_ctx(tmp_path)
    with pytest.raises(ReplayError) as err:
        replay_outbox(ctx.config, **{field: value})
    assert field in str(err.value) and err.value.code.startswith("recovery_invalid_")
