"""Outbox replay: with ``capture.dispatch_failure_mode = "outbox"``, a capture whose sink fails
is kept in ``<workspace>/cache/outbox/failed_deliveries.jsonl``; ``replay_outbox`` later delivers
it to a working sink and acknowledges it. Runs unchanged on Contexta 1.0.0 (what it printed is
recorded in tests/parity_tests/_examples_c10.py):

    uv run python examples/parity/replay_outbox_demo.py [--workspace DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from contexta import Contexta
from contexta.capture.sinks import InMemorySink
from contexta.recovery import replay_outbox


class OfflineSink:
    """A sink whose service is down: every delivery fails."""

    name = "tracking-server"

    def supports(self, family: object) -> bool:
        return True

    def capture(self, *, family: object, payload: object) -> object:
        raise ConnectionError("tracking server unreachable")


def main(workspace: str) -> None:
    config = {
        "project_name": "replay-demo",
        "capture": {"dispatch_failure_mode": "outbox", "retry_attempts": 0},
    }
    ctx = Contexta(workspace=workspace, config=config, sinks=[OfflineSink()])
    with ctx.run("nightly") as run:
        result = run.event("training.started", message="epoch 1 of 3")
    print(f"Capture: {result.status.value} (recovered to outbox: {result.recovered_to_outbox})")
    print(f"Replay refs: {len(result.replay_refs)}")

    outbox = Path(ctx.config.recovery.outbox_root) / "failed_deliveries.jsonl"
    entries = [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()]
    first = entries[0]
    print(f"Outbox entries: {len(entries)}")
    print(
        f"  {first['sink_name']} {first['family']} {first['payload_type']} "
        f"attempts={first['attempts']}: {first['error']}"
    )

    recovered = InMemorySink(name="tracking-server")
    replay = replay_outbox(ctx.config, sinks=[recovered])
    print(replay.status)
    print(f"Acknowledged: {replay.acknowledged_count}")
    print(f"Pending: {replay.pending_count}")
    print(f"Delivered: {[entry.payload_type for entry in recovered.entries]}")
    print(f"Outbox left: {outbox.read_text(encoding='utf-8')!r}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default=None)
    args = parser.parse_args()
    if args.workspace is not None:
        main(args.workspace)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(str(Path(tmp) / ".contexta"))
