"""Runtime capture, end to end: a small training loop instrumented with scopes, then the runs
it recorded are listed, compared and snapshotted like any other runs.

Contexta 1.0's scopes raised ``TypeError`` on their first emission and wrote only to sink
files; here every scope and emission is a ledger event:

    uv run python examples/parity/runtime_capture.py [--workspace DIR]
"""

from __future__ import annotations

import argparse
import math
import random
import tempfile
import time

from contexta import Contexta


def train(ctx: Contexta, name: str, learning_rate: float, epochs: int = 4) -> str:
    """Fit a one-parameter model y = w * x by gradient descent, recording what happens."""
    rng = random.Random(7)
    data = [(x, 3.0 * x + rng.gauss(0, 0.1)) for x in (i / 10 for i in range(20))]
    with ctx.run(
        name,
        tags={"model": "linear"},
        code_revision="a1b2c3d",
        config_snapshot={"learning_rate": learning_rate, "epochs": epochs},
    ) as run:
        with run.stage("prepare") as stage, stage.span("load-data"):
            stage.metric("data.rows", len(data))
        weight = 0.0
        with run.stage("train") as stage:
            for epoch in range(epochs):
                with stage.batch(f"epoch-{epoch}") as batch, batch.span("step"):
                    grad = sum(2 * (weight * x - y) * x for x, y in data) / len(data)
                    weight -= learning_rate * grad
                    loss = sum((weight * x - y) ** 2 for x, y in data) / len(data)
                stage.metric("train.loss", round(loss, 6), step=epoch)
                time.sleep(0.001)
            stage.event("train.done", message=f"weight={weight:.4f}")
        with run.stage("evaluate") as stage:
            error = abs(weight - 3.0)
            stage.metric("eval.weight-error", round(error, 6))
            stage.metric("eval.score", round(math.exp(-error), 6))
    return run.ref


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workspace", default=None, help="default: a fresh temporary directory")
    args = parser.parse_args()
    workspace = args.workspace or tempfile.mkdtemp(prefix="contexta-capture-")
    ctx = Contexta(workspace=workspace, config={"project_name": "capture-demo"})

    slow = train(ctx, "slow lr", learning_rate=0.05)
    fast = train(ctx, "fast lr", learning_rate=0.3)

    print("Runs recorded by the loop:")
    for run in ctx.list_runs("capture-demo"):
        print(f"  {run.run_id}  {run.status}  started {run.started_at}")

    snapshot = ctx.get_run_snapshot(fast)
    print(f"\nSnapshot of {snapshot.run.run_id}:")
    for stage in snapshot.stages:
        print(f"  stage {stage.name:<8} order={stage.order} status={stage.status}")
    kinds: dict[str, int] = {}
    for record in snapshot.records:
        kinds[record.record_type] = kinds.get(record.record_type, 0) + 1
    print(f"  records by type: {dict(sorted(kinds.items()))}")
    losses = [r.value for r in snapshot.records if r.key == "train.loss"]
    print(f"  train.loss by epoch: {losses}")

    comparison = ctx.compare_runs(slow, fast)
    print(f"\n{comparison.summary}")
    for stage in comparison.stage_comparisons:
        for delta in stage.metric_deltas:
            print(
                f"  {stage.stage_name}/{delta.metric_key}: {delta.left_value} -> "
                f"{delta.right_value} (delta {delta.delta:+.6f})"
            )

    best = ctx.select_best_run([slow, fast], "eval.score", stage_name="evaluate")
    print(f"\nBest run by eval.score: {best}")
    ctx.close()
    print(f"Workspace: {workspace}")


if __name__ == "__main__":
    main()
