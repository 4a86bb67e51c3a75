"""Outbox scenarios written against 1.0's public API only, so the same code runs under Contexta
1.0.0 (how ``_replay_c10`` was recorded, with 1.0's slotted-dataclass ``super()`` bug bypassed)
and here. Each scenario returns plain data with the volatile parts (times, hashes) removed.

    python tests/parity_tests/_replay_scenarios.py WORKDIR   # prints the results as a dict
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from contexta import Contexta
from contexta.capture.sinks import InMemorySink
from contexta.recovery import replay_outbox

VOLATILE = ("failed_at", "last_replayed_at", "replay_ref")


class Flaky:
    """A sink that fails its first ``failures`` deliveries, then accepts (remembering them)."""

    def __init__(self, name: str, failures: int) -> None:
        self.name = name
        self.failures = failures
        self.accepted: list[Any] = []

    def supports(self, family: object) -> bool:
        return True

    def capture(self, *, family: object, payload: object) -> object:
        if self.failures:
            self.failures -= 1
            raise ConnectionError(f"{self.name} unreachable")
        self.accepted.append(payload)
        return InMemorySink(name=self.name).capture(family=family, payload=payload)


def _ctx(root: Path, mode: str, sinks: list[Any], retries: int = 0) -> Contexta:
    config = {
        "project_name": "outbox",
        "capture": {"dispatch_failure_mode": mode, "retry_attempts": retries},
    }
    return Contexta(workspace=str(root), config=config, sinks=sinks)


def _outbox(ctx: Contexta) -> Path:
    return Path(ctx.config.recovery.outbox_root) / "failed_deliveries.jsonl"


def _lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    for row in rows:
        for key in VOLATILE:
            row.pop(key, None)
        row.pop("payload", None)
        row.pop("payload_ref", None)
    return rows


def _batch(result: Any) -> dict[str, Any]:
    return {
        "status": result.status,
        "acknowledged": result.acknowledged_count,
        "pending": result.pending_count,
        "dead": result.dead_lettered_count,
        "notes": list(result.notes),
        "entries": [(e.family, e.target, e.status, e.detail, e.attempts) for e in result.entries],
    }


def _capture(ctx: Contexta, count: int = 1) -> list[dict[str, Any]]:
    out = []
    with ctx.run("nightly") as run:
        for step in range(count):
            result = run.metric("loss-" + "abc"[step], 1.0 / (step + 1))
            out.append(
                {
                    "status": result.status.value,
                    "outbox": result.recovered_to_outbox,
                    "refs": len(result.replay_refs),
                    "sinks": [
                        (d.sink_name, d.status.value)
                        for d in result.deliveries
                        if d.sink_name != "ledger"
                    ],
                }
            )
    return out


def scenarios(work: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}

    ctx = _ctx(work / "raise", "raise", [Flaky("tracker", 99)])
    out["raise_mode_writes_no_outbox"] = (_capture(ctx)[0]["outbox"], _outbox(ctx).exists())

    ctx = _ctx(work / "retry", "outbox", [Flaky("tracker", 1)], retries=1)
    out["a_retry_that_succeeds_queues_nothing"] = (_capture(ctx), _outbox(ctx).exists())

    ctx = _ctx(work / "two", "outbox", [Flaky("tracker", 99), Flaky("archive", 99)], retries=1)
    out["two_failed_sinks_two_entries"] = (_capture(ctx), _lines(_outbox(ctx)))

    ctx = _ctx(work / "fail", "outbox", [Flaky("tracker", 99)])
    _capture(ctx, 3)
    down = Flaky("tracker", 99)
    out["replay_to_a_sink_still_down"] = (
        _batch(replay_outbox(ctx.config, sinks=[down])),
        _lines(_outbox(ctx)),
    )
    out["dead_letter_after_3"] = _batch(
        replay_outbox(ctx.config, sinks=[down], dead_letter_after_failures=3)
    )
    dead = _outbox(ctx).parent / "dead_letter.jsonl"
    out["dead_letter_file"] = _lines(dead)
    out["outbox_after_dead_letter"] = _outbox(ctx).read_text(encoding="utf-8")

    ctx = _ctx(work / "limit", "outbox", [Flaky("tracker", 99)])
    _capture(ctx, 3)
    up = Flaky("tracker", 0)
    out["limit_2"] = _batch(replay_outbox(ctx.config, sinks=[up], limit=2))
    out["limit_2_left"] = len(_lines(_outbox(ctx)))
    out["delivered_payload_types"] = [type(p).__name__ for p in up.accepted]
    out["no_ack"] = _batch(replay_outbox(ctx.config, sinks=[up], acknowledge_successes=False))
    out["no_ack_left"] = len(_lines(_outbox(ctx)))
    try:
        replay_outbox(ctx.config, target="archive", sinks=[up])
    except Exception as exc:  # 1.0: ReplayError
        out["unknown_target"] = (type(exc).__name__, getattr(exc, "code", None))
    out["default_sink"] = _batch(replay_outbox(ctx.config))
    replayed = Path(ctx.config.workspace.exports_path) / "replayed" / "record.jsonl"
    out["default_sink_file"] = [
        (row["sink_name"], row["family"], row["payload_type"])
        for row in (json.loads(line) for line in replayed.read_text(encoding="utf-8").splitlines())
    ]
    out["empty_after_default"] = _batch(replay_outbox(ctx.config))
    return out


if __name__ == "__main__":
    print(repr(scenarios(Path(sys.argv[1]))))
