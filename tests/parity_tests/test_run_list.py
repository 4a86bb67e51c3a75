"""``list_runs`` with filters (contract 4.4): 1.0's pipeline and ordering quirk, pinned from
Contexta 1.0.0 on the data of ``_entities_data``; the validation codes of ``RunListQuery``,
``MetricCondition`` and ``TimeRange``; decision 8.6 (instants, not strings)."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pytest

from contexta.common.errors import ValidationError
from contexta.interpretation import MetricCondition, RunListQuery, TimeRange
from contexta.interpretation.run_list import filtered_runs
from contexta.interpretation.workspace_queries import QueryService

from ._entities_data import Writer, build

A = "Project A"


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory):
    ctx = build(tmp_path_factory.mktemp("run-list") / ".contexta")
    yield ctx
    ctx.close()


def ids(rows) -> list[str]:
    return [r.run_id for r in rows]


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        (
            (),
            {},
            ["run:proj-a.r3", "run:proj-a.r0", "run:proj-a.r1", "run:proj-a.r2", "run:proj-b.r1b"],
        ),
        # any option flips to newest first (QUIRK kept)
        ((), {"status": "completed"}, ["run:proj-a.r2", "run:proj-b.r1b", "run:proj-a.r1"]),
        ((A,), {"status": "completed"}, ["run:proj-a.r2", "run:proj-a.r1"]),
        ((A,), {"limit": 2}, ["run:proj-a.r2", "run:proj-a.r0"]),
        ((A,), {"offset": 1}, ["run:proj-a.r0", "run:proj-a.r1", "run:proj-a.r3"]),
        (
            (A,),
            {"sort_desc": False},
            ["run:proj-a.r3", "run:proj-a.r0", "run:proj-a.r1", "run:proj-a.r2"],
        ),
        (
            (A,),
            {"sort_by": "name"},
            ["run:proj-a.r3", "run:proj-a.r2", "run:proj-a.r1", "run:proj-a.r0"],
        ),
        # equal ended_at keep repository order; the open run (None) sorts as "" (last when desc)
        (
            (A,),
            {"sort_by": "ended_at"},
            ["run:proj-a.r3", "run:proj-a.r1", "run:proj-a.r2", "run:proj-a.r0"],
        ),
        (
            (),
            {
                "time_range": TimeRange(
                    started_after="2025-02-01T09:00:00Z", started_before="2025-02-01T09:30:00Z"
                )
            },
            ["run:proj-b.r1b", "run:proj-a.r0", "run:proj-a.r1"],
        ),
        (
            (),
            {"metric_conditions": [MetricCondition("accuracy", "GTE", 0.9)]},
            ["run:proj-a.r2", "run:proj-a.r1"],
        ),
        (
            (),
            {"metric_conditions": [MetricCondition("loss", "lt", 0.45, stage_name="train")]},
            ["run:proj-a.r1"],
        ),
        ((), {"metric_conditions": [MetricCondition("throughput", "ne", 100)]}, ["run:proj-a.r1"]),
        (
            ("proj-b",),
            {"query": RunListQuery(project_name=A, status="completed")},
            ["run:proj-a.r1", "run:proj-a.r2"],
        ),  # query.project_name wins; its sort_desc is False
        (("proj-b",), {"query": RunListQuery(sort_desc=True)}, ["run:proj-b.r1b"]),
        ((), {"tags": {"a": "b"}}, []),  # runs carry no tags
        (("nope",), {"status": "completed"}, []),
    ],
)
def test_list_runs_matches_1_0(ctx, args, kwargs, expected) -> None:
    assert ids(ctx.list_runs(*args, **kwargs)) == expected


def test_filtered_runs_builds_the_query_like_the_facade(ctx) -> None:
    qs = ctx.query_service
    assert ids(filtered_runs(qs, A, status="completed")) == ["run:proj-a.r2", "run:proj-a.r1"]
    # an empty tags mapping is an option in 1.0 (tags is not None): newest first
    assert ids(filtered_runs(qs, A, tags={})) == [
        "run:proj-a.r2",
        "run:proj-a.r0",
        "run:proj-a.r1",
        "run:proj-a.r3",
    ]
    # 1.0's hidden run-id filter travels in tags
    chosen = RunListQuery(tags={"__run_ids__": "run:proj-a.r1,run:proj-a.r3"})
    assert ids(filtered_runs(qs, None, query=chosen)) == ["run:proj-a.r3", "run:proj-a.r1"]


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda: TimeRange(started_after=""), "query_invalid_time_range"),
        (
            lambda: TimeRange(
                started_after="2025-02-02T00:00:00Z", started_before="2025-02-01T00:00:00Z"
            ),
            "query_invalid_time_range",
        ),
        (lambda: TimeRange(started_before="yesterday"), "query_invalid_time_range"),
        (lambda: TimeRange(started_after=5), "query_invalid_time_range"),
        (lambda: MetricCondition("", "gt", 1), "query_invalid_metric_condition"),
        (lambda: MetricCondition("x", "foo", 1), "query_invalid_metric_condition"),
        (lambda: MetricCondition("x", "gt", True), "query_invalid_metric_condition"),
        (lambda: MetricCondition("x", "gt", "1"), "query_invalid_metric_condition"),
        (lambda: MetricCondition("x", "gt", 1, stage_name=" "), "query_invalid_metric_condition"),
        (lambda: RunListQuery(limit=0), "query_invalid_run_list_query"),
        (lambda: RunListQuery(limit=True), "query_invalid_run_list_query"),
        (lambda: RunListQuery(offset=-1), "query_invalid_run_list_query"),
        (lambda: RunListQuery(sort_by="status"), "query_invalid_run_list_query"),
        (lambda: RunListQuery(sort_desc=1), "query_invalid_run_list_query"),
        (lambda: RunListQuery(tags={"a": 1}), "query_invalid_run_list_query"),
        (lambda: RunListQuery(tags=["a"]), "query_invalid_run_list_query"),
        (lambda: RunListQuery(time_range="x"), "query_invalid_run_list_query"),
        (lambda: RunListQuery(project_name=" "), "query_invalid_run_list_query"),
        (lambda: RunListQuery(status=""), "query_invalid_run_list_query"),
        (lambda: RunListQuery(metric_conditions=("accuracy",)), "query_invalid_run_list_query"),
    ],
)
def test_validation_codes(make, code) -> None:
    with pytest.raises(ValidationError) as err:
        make()
    assert err.value.code == code


def test_bad_sort_key_through_the_facade(ctx) -> None:
    with pytest.raises(ValidationError) as err:
        ctx.list_runs(A, sort_by="status")
    assert err.value.code == "query_invalid_run_list_query"


def test_operator_is_normalised_and_models_are_frozen() -> None:
    condition = MetricCondition("x", " GT ", 1)
    assert condition.operator == "gt"
    with pytest.raises(AttributeError):
        condition.operator = "lt"  # type: ignore[misc]
    assert RunListQuery().sort_desc is False
    assert RunListQuery(metric_conditions=[condition]).metric_conditions == (condition,)


def test_import_paths_of_1_0() -> None:
    import contexta.interpretation as interpretation
    import contexta.interpretation.query as query

    for name in ("MetricCondition", "RunListQuery", "TimeRange"):
        assert getattr(query, name) is getattr(interpretation, name)
    assert query.RunSnapshot is interpretation.RunSnapshot


def test_instants_not_strings_decision_8_6(tmp_path: Path) -> None:
    ctx = build(tmp_path / ".contexta")
    w = Writer(ctx)
    w.run("proj-b", "half", "2025-03-01T00:00:00.500000Z", status="open")
    w.run("proj-b", "whole", "2025-03-01T00:00:00Z", status="open")
    w.run("proj-b", "offset", "2025-03-01T02:00:00.250000+02:00", status="open")  # = 00:00:00.25Z
    # 1.0 compared text: ".500000Z" < "Z", so it put "half" before "whole"
    assert ids(
        ctx.list_runs(
            "proj-b", sort_desc=False, time_range=TimeRange(started_after="2025-03-01T00:00:00Z")
        )
    ) == ["run:proj-b.whole", "run:proj-b.offset", "run:proj-b.half"]
    # and 1.0 kept "whole" here ("...00Z" >= "...00.250000Z" as text)
    after = TimeRange(started_after="2025-03-01T00:00:00.250000Z")
    assert ids(ctx.list_runs("proj-b", time_range=after)) == [
        "run:proj-b.half",
        "run:proj-b.offset",
    ]
    # zone offsets and aware datetimes are bounds too; a naive date reads as UTC midnight
    from datetime import datetime

    assert ids(
        ctx.list_runs(
            "proj-b", time_range=TimeRange(started_before="2025-03-01T02:00:00.300000+02:00")
        )
    ) == ["run:proj-b.offset", "run:proj-b.whole", "run:proj-b.r1b"]
    assert ids(
        ctx.list_runs(
            "proj-b",
            time_range=TimeRange(started_after=datetime(2025, 3, 1, 0, 0, 0, 400000, tzinfo=UTC)),
        )
    ) == ["run:proj-b.half"]
    assert ids(ctx.list_runs("proj-b", time_range=TimeRange(started_before="2025-03-01"))) == [
        "run:proj-b.whole",
        "run:proj-b.r1b",
    ]


def test_metric_conditions_take_the_latest_observation(tmp_path: Path) -> None:
    ctx = build(tmp_path / ".contexta")
    w = Writer(ctx)
    w.metric("r2", "accuracy", 0.5, "prepare", observed="2025-02-01T11:30:00Z")
    assert ids(ctx.list_runs(metric_conditions=[MetricCondition("accuracy", "gte", 0.9)])) == [
        "run:proj-a.r1"
    ]
    # stage None and no run-level value: the latest of any stage
    w.metric("r1", "accuracy", 0.95, None, observed="2025-02-01T08:00:00Z")
    assert ids(ctx.list_runs(metric_conditions=[MetricCondition("accuracy", "gt", 0.94)])) == [
        "run:proj-a.r1"
    ]
    assert ids(ctx.list_runs(metric_conditions=[MetricCondition("accuracy", "lt", 0.6)])) == [
        "run:proj-a.r2"
    ]


def test_filters_answer_as_of_a_past_time(tmp_path: Path) -> None:
    ctx = build(tmp_path / ".contexta")
    then = list(ctx.history())[-1].tx_time
    w = Writer(ctx)
    w.run("proj-a", "r9", "2025-02-01T11:30:00Z")
    w.metric("r2", "accuracy", 0.1, "prepare", observed="2025-02-01T11:45:00Z")
    cond = [MetricCondition("accuracy", "gte", 0.9)]
    assert ids(ctx.list_runs(A, metric_conditions=cond)) == ["run:proj-a.r1"]
    past = ctx.as_of(then)
    assert ids(past.list_runs(A, metric_conditions=cond)) == ["run:proj-a.r2", "run:proj-a.r1"]
    qs = QueryService(ctx._workspace, ctx.config, int(then.timestamp() * 1_000_000))
    assert ids(filtered_runs(qs, A, status="completed")) == ["run:proj-a.r2", "run:proj-a.r1"]
    assert ids(ctx.list_runs(A, status="completed"))[0] == "run:proj-a.r9"
