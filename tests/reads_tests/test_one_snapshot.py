"""Every public read takes one snapshot: it reads the ledger head once and catches the
projections up at most once per call, warm (nothing new since the last read), behind (another
writer committed since) and on an as-of view. Cold (a new ``Contexta`` on the workspace), the
head is read once too, and every projection first used by the read is loaded (or, if it was
never saved, rebuilt) at that same head: one catch-up per projection first used, not one for
all, which keeps a cold ``list_runs`` from loading the projections it does not need."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from contexta import Contexta
from contexta.interpretation.alert_evaluation import AlertRule
from contexta.workspace import Workspace
from projections import Projector
from tests.reads_tests.conftest import fill, open_ctx

Read = Callable[[Any, tuple[str, ...]], object]

#: public read -> a call of it on a workspace holding runs ``refs`` (a, b)
READS: dict[str, Read] = {
    "list_projects": lambda c, r: c.list_projects(),
    "list_runs": lambda c, r: c.list_runs("demo"),
    "list_runs_all": lambda c, r: c.list_runs(),
    "list_runs_query": lambda c, r: c.list_runs("demo", status="completed", tags={"team": "x"}),
    "get_run_snapshot": lambda c, r: c.get_run_snapshot(r[0]),
    "compare_runs": lambda c, r: c.compare_runs(r[0], r[1]),
    "compare_multiple_runs": lambda c, r: c.compare_multiple_runs(list(r)),
    "select_best_run": lambda c, r: c.select_best_run(list(r), "acc"),
    "select_best_run_stage": lambda c, r: c.select_best_run(list(r), "acc", stage_name="eval"),
    "diagnose_run": lambda c, r: c.diagnose_run(r[0]),
    "list_deployments": lambda c, r: c.list_deployments("demo"),
    "list_batches": lambda c, r: c.list_batches(r[0]),
    "list_samples": lambda c, r: c.list_samples(r[0]),
    "get_provenance": lambda c, r: c.get_provenance(r[0]),
    "get_artifact_origin": lambda c, r: c.get_artifact_origin("artifact:demo.none"),
    "traverse_lineage": lambda c, r: c.traverse_lineage(r[0]),
    "audit_reproducibility": lambda c, r: c.audit_reproducibility(r[0]),
    "compare_environments": lambda c, r: c.compare_environments(r[0], r[1]),
    "get_metric_trend": lambda c, r: c.get_metric_trend("acc", project_name="demo"),
    "get_step_series": lambda c, r: c.get_step_series(r[0], "loss", stage_name="train"),
    "get_stage_duration_trend": lambda c, r: c.get_stage_duration_trend(
        "train", project_name="demo"
    ),
    "get_artifact_size_trend": lambda c, r: c.get_artifact_size_trend("model", project_name="demo"),
    "evaluate_alerts": lambda c, r: c.evaluate_alerts(r[0], [_RULE]),
    "evaluate_alerts_fleet": lambda c, r: c.evaluate_alerts_fleet([_RULE], project_name="demo"),
    "build_snapshot_report": lambda c, r: c.build_snapshot_report(r[0]),
    "build_run_report": lambda c, r: c.build_run_report(r[0], r[1]),
    "build_multi_run_report": lambda c, r: c.build_multi_run_report(list(r)),
    "build_project_summary_report": lambda c, r: c.build_project_summary_report("demo"),
    "build_trend_report": lambda c, r: c.build_trend_report("acc", project_name="demo"),
    "build_alert_report": lambda c, r: c.build_alert_report(r[0], [_RULE]),
    "quarantined_runs": lambda c, r: c.quarantined_runs("demo"),
    "runs_with_event": lambda c, r: c.runs_with_event("note", "demo"),
    "runs_table": lambda c, r: c.runs_table(),
    "metrics_table": lambda c, r: c.metrics_table(),
    "events_table": lambda c, r: c.events_table(),
    "history": lambda c, r: list(c.history(r[0])),
}

_RULE = AlertRule(metric_key="acc", operator="lt", threshold=0.9, name="acc-low")


class Counts:
    """Calls of ``Workspace.head`` and of ``Projector.catch_up`` (and of those that folded
    events) while installed."""

    def __init__(self) -> None:
        self.heads = 0
        self.catch_ups = 0
        self.folds = 0

    def reset(self) -> None:
        self.heads = self.catch_ups = self.folds = 0


@pytest.fixture()
def counts(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counts]:
    found = Counts()
    head, catch_up = Workspace.head, Projector.catch_up

    def counted_head(self: Workspace) -> Any:
        found.heads += 1
        return head(self)

    def counted_catch_up(self: Projector, *args: Any, **kwargs: Any) -> int:
        found.catch_ups += 1
        events = catch_up(self, *args, **kwargs)
        found.folds += events > 0
        return events

    monkeypatch.setattr(Workspace, "head", counted_head)
    monkeypatch.setattr(Projector, "catch_up", counted_catch_up)
    yield found


def _measure(counts: Counts, read: Read, ctx: Any, refs: tuple[str, ...]) -> tuple[int, int]:
    counts.reset()
    read(ctx, refs)
    return counts.heads, counts.catch_ups


def _measure_cold(counts: Counts, read: Read, ctx: Any, refs: tuple[str, ...]) -> tuple[int, int]:
    counts.reset()
    read(ctx, refs)
    return counts.heads, counts.folds


@pytest.mark.parametrize("name", sorted(READS))
def test_a_read_takes_one_head_and_at_most_one_catch_up(
    name: str, workspace: tuple[Path, tuple[str, ...]], counts: Counts
) -> None:
    root, refs = workspace
    read = READS[name]
    ctx = open_ctx(root)
    try:
        cold = _measure_cold(counts, read, ctx, refs)
        warm = _measure(counts, read, ctx, refs)
        again = _measure(counts, read, ctx, refs)
    finally:
        ctx.close()
    assert cold[0] == 1, f"cold {name}: (heads, folds) = {cold}"
    assert warm[0] == 1 and warm[1] <= 1, f"warm {name}: (heads, catch-ups) = {warm}"
    assert again == warm


@pytest.mark.parametrize("name", sorted(READS))
def test_a_read_behind_another_writer_catches_up_once(
    name: str, workspace: tuple[Path, tuple[str, ...]], counts: Counts
) -> None:
    root, refs = workspace
    reader = open_ctx(root)
    writer = open_ctx(root)
    try:
        READS[name](reader, refs)
        fill(writer, ("c",))  # committed by another Contexta: the reader's projections lag
        behind = _measure(counts, READS[name], reader, refs)
    finally:
        writer.close()
        reader.close()
    assert behind[0] == 1 and behind[1] <= 1, f"behind {name}: (heads, catch-ups) = {behind}"


@pytest.mark.parametrize("name", sorted(READS))
def test_an_as_of_view_read_takes_one_head_and_at_most_one_catch_up(
    name: str, workspace: tuple[Path, tuple[str, ...]], counts: Counts
) -> None:
    root, refs = workspace
    ctx = open_ctx(root)
    try:
        READS[name](ctx, refs)  # the projections this read needs are in use
        view = ctx.as_of("2999-01-01T00:00:00Z")
        warm = [_measure(counts, READS[name], view, refs) for _ in range(2)]
    finally:
        ctx.close()
    for heads, catch_ups in warm:
        assert heads == 1 and catch_ups <= 1, f"as_of {name}: {(heads, catch_ups)}"


def test_the_figures_of_the_issue(
    workspace: tuple[Path, tuple[str, ...]], counts: Counts, capsys: pytest.CaptureFixture[str]
) -> None:
    """Warm ``compare_runs``: one head, at most one catch-up (was 14 and 24)."""
    root, refs = workspace
    ctx: Contexta = open_ctx(root)
    try:
        ctx.compare_runs(refs[0], refs[1])
        warm = _measure(counts, READS["compare_runs"], ctx, refs)
    finally:
        ctx.close()
    with capsys.disabled():
        print(f"\nwarm compare_runs: heads={warm[0]} catch_ups={warm[1]}")
    assert warm[0] == 1 and warm[1] <= 1
