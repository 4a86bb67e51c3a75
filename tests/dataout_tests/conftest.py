"""Generated workspaces for the data-out tests: projects, runs with new versions, parameters
and labels, stages, metric points (run level and per stage, with and without a step, repeated
appends), structured events, quarantines and releases, and moments to look back at."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from contexta import Contexta
from contexta.config import UnifiedConfig, WorkspaceConfig
from contexta.contract import (
    ExtensionFieldSet,
    MetricPayload,
    MetricRecord,
    Project,
    RecordEnvelope,
    Run,
    StageExecution,
    StructuredEventPayload,
    StructuredEventRecord,
)

BASE = datetime(2025, 1, 1, tzinfo=UTC)
PROJECTS = ("p", "q")
STAGES = ("train", "eval")
KEYS = ("loss", "acc", "val.loss")


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def open_ctx(root: Path) -> Contexta:
    return Contexta(
        config=UnifiedConfig(project_name="p", workspace=WorkspaceConfig(root_path=root))
    )


def run_model(
    project: str,
    i: int,
    version: int,
    minute: int,
    done: bool,
    params: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
) -> Run:
    extensions = []
    if params:
        extensions.append(ExtensionFieldSet(namespace="contexta.params", fields={"values": params}))
    if tags:
        extensions.append(ExtensionFieldSet(namespace="contexta.tags", fields={"values": tags}))
    start = BASE + timedelta(minutes=minute)
    return Run(
        run_ref=f"run:{project}.r{i}",
        project_ref=f"project:{project}",
        name=f"r{i}-v{version}",
        status="completed" if done else "open",
        started_at=iso(start),
        ended_at=iso(start + timedelta(hours=1)) if done else None,
        extensions=tuple(extensions),
    )


def metric(
    run: str, n: int, key: str, value: float, second: int, stage: str | None, step: str | None
) -> MetricRecord:
    at = iso(BASE + timedelta(seconds=second))
    return MetricRecord(
        envelope=RecordEnvelope(
            record_ref=f"record:{run[4:]}.m{n}",
            record_type="metric",
            recorded_at=at,
            observed_at=at,
            producer_ref="test",
            run_ref=run,
            stage_execution_ref=None if stage is None else f"stage:{run[4:]}.{stage}",
        ),
        payload=MetricPayload(
            metric_key=key,
            value=value,
            value_type="float64",
            tags=None if step is None else {"step": step},
        ),
    )


def event(run: str, n: int, second: int) -> StructuredEventRecord:
    at = iso(BASE + timedelta(seconds=second))
    return StructuredEventRecord(
        envelope=RecordEnvelope(
            record_ref=f"record:{run[4:]}.e{n}",
            record_type="event",
            recorded_at=at,
            observed_at=at,
            producer_ref="test",
            run_ref=run,
        ),
        payload=StructuredEventPayload(event_key="data.check", level="info", message=f"n{n}"),
    )


# one operation: (kind, run index, small ints/floats) -- interpreted by ``build``
ops = st.lists(
    st.one_of(
        st.tuples(
            st.just("run"), st.integers(0, 5), st.integers(0, 30), st.booleans(), st.integers(0, 3)
        ),
        st.tuples(
            st.just("metric"),
            st.integers(0, 5),
            st.sampled_from(KEYS),
            st.floats(-1e6, 1e6, allow_nan=False),
            st.integers(0, 20),
            st.sampled_from((None, *STAGES)),
            st.sampled_from((None, "3", "x", "12")),
        ),
        st.tuples(st.just("again"), st.integers(0, 5)),
        st.tuples(st.just("event"), st.integers(0, 5), st.integers(0, 20)),
        st.tuples(st.just("quarantine"), st.integers(0, 5)),
        st.tuples(st.just("release"), st.integers(0, 5)),
        st.tuples(
            st.just("moment"),
        ),
    ),
    min_size=1,
    max_size=40,
)


@dataclass
class Built:
    ctx: Contexta
    moments: list[datetime] = field(default_factory=list)


def _run_ref(i: int) -> str:
    return f"run:{PROJECTS[i % 2]}.r{i}"


def build(ctx: Contexta, operations: list[tuple[Any, ...]]) -> Built:
    store = ctx.metadata_store
    for project in PROJECTS:
        store.projects.put_project(
            Project(project_ref=f"project:{project}", name=f"{project}-name", created_at=iso(BASE))
        )
    built = Built(ctx)
    versions: dict[int, int] = {}
    sent: list[MetricRecord] = []
    n = 0
    for op in operations:
        kind = op[0]
        n += 1
        if kind == "run":
            _, i, minute, done, labels = op
            versions[i] = versions.get(i, 0) + 1
            params = {"lr": str(labels / 10), "Batch Size": str(32 * labels)} if labels else None
            tags = {"team": f"t{labels}"} if labels % 2 else None
            store.runs.put_run(
                run_model(PROJECTS[i % 2], i, versions[i], minute, done, params, tags)
            )
            if versions[i] == 1:
                for order, stage in enumerate(STAGES):
                    store.stages.put_stage_execution(
                        StageExecution(
                            stage_execution_ref=f"stage:{PROJECTS[i % 2]}.r{i}.{stage}",
                            run_ref=_run_ref(i),
                            stage_name=stage,
                            status="open",
                            started_at=iso(BASE),
                            order_index=order,
                        )
                    )
            continue
        if kind == "moment":
            ctx.flush()
            last = max((e.tx_time for e in ctx.history()), default=None)
            if last is not None:
                built.moments.append(last)
            time.sleep(0.002)
            continue
        i = op[1]
        if i not in versions:
            continue
        run = _run_ref(i)
        if kind == "metric":
            _, _, key, value, second, stage, step = op
            record = metric(run, n, key, value, second, stage, step)
            sent.append(record)
            ctx.record_store.append(record)
        elif kind == "again":
            mine = [r for r in sent if str(r.envelope.run_ref) == run]
            if mine:
                ctx.record_store.append(mine[-1])
        elif kind == "event":
            ctx.record_store.append(event(run, n, op[2]))
        elif kind == "quarantine":
            ctx.quarantine_runs([run], reason=f"bad {n}")
        elif kind == "release":
            ctx.release_runs([run], reason=f"ok {n}")
    ctx.flush()
    return built
