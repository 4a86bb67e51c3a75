"""A writer in its own process, driven by the live tests.

``python writer_proc.py WORKSPACE burst N BURST ROLL_BYTES``
    seed project ``live``/run ``r1``; append N metrics (``loss`` = 0..N-1) in bursts of BURST
    records, flushing after each burst; the ledger rolls every ROLL_BYTES bytes. Prints
    ``done <head seq>``.
``python writer_proc.py WORKSPACE serve``
    one command per stdin line, each answered ``ok <head seq>`` once flushed:
    ``run NAME ACCURACY`` (a run with stage ``evaluate`` and metric ``accuracy``),
    ``metric NAME KEY VALUE``, ``quit``.
"""

from __future__ import annotations

import sys
import time

from builders import metric, seed_run

from contexta import Contexta


def burst(ctx: Contexta, n: int, size: int, roll_bytes: int) -> None:
    ctx._workspace.ledger.roll_bytes = roll_bytes
    seed_run(ctx, "live", "r1")
    ctx.flush()
    for start in range(0, n, size):
        ctx.record_store.append_many(
            metric("live", "r1", "loss", float(i), f"m{i}")
            for i in range(start, min(n, start + size))
        )
        ctx.flush()
        time.sleep(0.001)
    print(f"done {ctx._workspace.ledger.head().seq}", flush=True)


def serve(ctx: Contexta) -> None:
    for counter, line in enumerate(sys.stdin, start=1):
        words = line.split()
        if not words or words[0] == "quit":
            break
        if words[0] == "run":
            seed_run(ctx, "live", words[1], stages=("evaluate",))
            words = ["metric", words[1], "accuracy", words[2]]
        ctx.record_store.append(
            metric("live", words[1], words[2], float(words[3]), f"m{counter}", stage="evaluate")
        )
        ctx.flush()
        print(f"ok {ctx._workspace.ledger.head().seq}", flush=True)


def main() -> None:
    ctx = Contexta(workspace=sys.argv[1])
    if sys.argv[2] == "burst":
        burst(ctx, int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        serve(ctx)


if __name__ == "__main__":
    main()
