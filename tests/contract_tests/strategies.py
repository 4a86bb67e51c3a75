"""Hypothesis strategies producing valid contract models of every type."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

import contexta.contract as c

ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))]
)
component = st.from_regex(r"[a-z0-9]{1,6}(-[a-z0-9]{1,4}){0,2}", fullmatch=True)
kebab = st.from_regex(r"[a-z][a-z0-9-]{0,6}(\.[a-z][a-z0-9-]{0,6}){0,2}", fullmatch=True)
snake = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
dotted_snake = st.from_regex(r"[a-z][a-z0-9_]{0,6}(\.[a-z][a-z0-9_]{0,6}){0,2}", fullmatch=True)
namespace = st.from_regex(r"[a-z][a-z0-9-]{0,6}(\.[a-z][a-z0-9-]{0,6}){1,2}", fullmatch=True)
# Any Unicode text except lone surrogates (msgpack/UTF-8 cannot carry them).
text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12).filter(
    lambda s: s.strip() != ""
)
optional_text = st.none() | text

moments = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=ZONES
)
# Timestamps in every accepted input form: aware/naive datetimes, 'Z' text, offset text.
timestamps = st.one_of(
    moments,
    moments.map(lambda m: m.replace(tzinfo=None)),
    moments.map(lambda m: m.isoformat()),
    moments.map(lambda m: m.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"),
)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    text,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
json_maps = st.none() | st.dictionaries(text, json_values, max_size=4)
string_maps = st.none() | st.dictionaries(text, text, max_size=4)
numbers = st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.floats(
    allow_nan=False, allow_infinity=False
)

extension_sets = st.builds(
    c.ExtensionFieldSet,
    namespace=namespace,
    fields=st.dictionaries(snake, json_values, min_size=1, max_size=3),
)


@st.composite
def extension_tuples(draw: st.DrawFn) -> tuple[c.ExtensionFieldSet, ...]:
    items = draw(st.lists(extension_sets, max_size=2, unique_by=lambda e: e.namespace))
    if items and draw(st.booleans()):
        first = items[0]
        readonly = draw(st.lists(st.sampled_from(sorted(first.fields)), max_size=2))
        items[0] = c.ExtensionFieldSet(first.namespace, first.fields, readonly)
    return tuple(items)


@st.composite
def scope(draw: st.DrawFn) -> dict[str, str]:
    """Values of a consistent project/run/stage/batch chain."""
    p, r, s, b, leaf = (draw(component) for _ in range(5))
    return {
        "project": p,
        "run": f"{p}.{r}",
        "stage": f"{p}.{r}.{s}",
        "batch": f"{p}.{r}.{s}.{b}",
        "stage_name": s,
        "batch_name": b,
        "leaf": leaf,
    }


@st.composite
def lifecycle(draw: st.DrawFn) -> dict[str, Any]:
    status = draw(st.sampled_from(["open", "completed", "failed", "cancelled"]))
    start = draw(moments)
    end = None if status == "open" else start + draw(st.timedeltas(timedelta(0), timedelta(days=9)))
    return {"status": status, "started_at": start, "ended_at": end}


@st.composite
def projects(draw: st.DrawFn) -> c.Project:
    return c.Project(
        f"project:{draw(component)}",
        draw(text),
        draw(timestamps),
        draw(optional_text),
        draw(string_maps),
        "1.0.0",
        draw(extension_tuples()),
    )


@st.composite
def runs(draw: st.DrawFn) -> c.Run:
    sc = draw(scope())
    life = draw(lifecycle())
    return c.Run(
        f"run:{sc['run']}",
        f"project:{sc['project']}",
        draw(text),
        **life,
        description=draw(optional_text),
        schema_version=draw(st.sampled_from(["1.0.0", "2"])),
        extensions=draw(extension_tuples()),
    )


order = st.none() | st.integers(min_value=0, max_value=2**40)


@st.composite
def stages(draw: st.DrawFn) -> c.StageExecution:
    sc = draw(scope())
    return c.StageExecution(
        f"stage:{sc['stage']}",
        f"run:{sc['run']}",
        sc["stage_name"],
        **draw(lifecycle()),
        order_index=draw(order),
        extensions=draw(extension_tuples()),
    )


@st.composite
def deployments(draw: st.DrawFn) -> c.DeploymentExecution:
    sc = draw(scope())
    with_run = draw(st.booleans())
    return c.DeploymentExecution(
        f"deployment:{sc['project']}.{sc['leaf']}",
        f"project:{sc['project']}",
        sc["leaf"],
        **draw(lifecycle()),
        order_index=draw(order),
        run_ref=f"run:{sc['run']}" if with_run else None,
        artifact_ref=draw(st.none() | st.just(f"artifact:{sc['run']}.{sc['leaf']}")),
        environment_snapshot_ref=draw(st.none() | st.just(f"environment:{sc['run']}.env")),
    )


@st.composite
def batches(draw: st.DrawFn) -> c.BatchExecution:
    sc = draw(scope())
    return c.BatchExecution(
        f"batch:{sc['batch']}",
        f"run:{sc['run']}",
        f"stage:{sc['stage']}",
        sc["batch_name"],
        **draw(lifecycle()),
        order_index=draw(order),
    )


@st.composite
def samples(draw: st.DrawFn) -> c.SampleObservation:
    sc = draw(scope())
    in_batch = draw(st.booleans())
    owner = sc["batch"] if in_batch else sc["stage"]
    return c.SampleObservation(
        f"sample:{owner}.{sc['leaf']}",
        f"run:{sc['run']}",
        f"stage:{sc['stage']}",
        sc["leaf"],
        draw(timestamps),
        f"batch:{sc['batch']}" if in_batch else None,
        draw(optional_text),
        draw(optional_text),
        extensions=draw(extension_tuples()),
    )


@st.composite
def operations(draw: st.DrawFn) -> c.OperationContext:
    sc = draw(scope())
    in_batch = draw(st.booleans())
    owner = sc["batch"] if in_batch else sc["stage"]
    return c.OperationContext(
        f"op:{owner}.{sc['leaf']}",
        f"run:{sc['run']}",
        f"stage:{sc['stage']}",
        sc["leaf"],
        draw(timestamps),
        f"batch:{sc['batch']}" if in_batch else None,
    )


@st.composite
def environments(draw: st.DrawFn) -> c.EnvironmentSnapshot:
    sc = draw(scope())
    return c.EnvironmentSnapshot(
        f"environment:{sc['run']}.{sc['leaf']}",
        f"run:{sc['run']}",
        draw(timestamps),
        draw(text),
        draw(text),
        draw(string_maps),
        draw(string_maps),
    )


correlations = st.builds(c.CorrelationRefs, optional_text, optional_text)

RECORD_FAMILIES = {
    "metric": "MetricRecord",
    "event": "StructuredEventRecord",
    "span": "TraceSpanRecord",
    "degraded": "DegradedRecord",
}


@st.composite
def envelopes(draw: st.DrawFn, record_type: str | None = None) -> c.RecordEnvelope:
    sc = draw(scope())
    record_type = record_type or draw(st.sampled_from(list(RECORD_FAMILIES)))
    observed = draw(moments)
    recorded = observed + draw(st.timedeltas(timedelta(0), timedelta(hours=3)))
    with_stage = draw(st.booleans())
    with_batch = with_stage and draw(st.booleans())
    owner = sc["batch"] if with_batch else sc["stage"]
    completeness = draw(st.sampled_from(["complete", "partial", "sampled", "unknown"]))
    degradation = draw(st.sampled_from(["none", "partial_failure", "capture_gap"]))
    if record_type == "degraded":
        completeness = draw(st.sampled_from(["absent", completeness]))
        degradation = draw(st.sampled_from(["capture_gap", "import_loss"]))
    return c.RecordEnvelope(
        f"record:{sc['run']}.{draw(component)}",
        record_type,
        recorded,
        observed,
        draw(kebab),
        f"run:{sc['run']}",
        draw(st.none() | st.just(f"deployment:{sc['project']}.dep")),
        f"stage:{sc['stage']}" if with_stage else None,
        f"batch:{sc['batch']}" if with_batch else None,
        draw(st.none() | st.just(f"sample:{owner}.{sc['leaf']}")) if with_stage else None,
        draw(st.none() | st.just(f"op:{owner}.{sc['leaf']}")) if with_stage else None,
        draw(correlations),
        completeness,
        degradation,
        "1.0.0",
        draw(extension_tuples()),
    )


subject_refs = st.none() | st.sampled_from(["run:p.r", "stage:p.r.s", "my_kind:x", "relation:a"])


@st.composite
def metric_payloads(draw: st.DrawFn) -> c.MetricPayload:
    return c.MetricPayload(
        draw(kebab),
        draw(numbers),
        draw(snake),
        draw(optional_text),
        draw(st.sampled_from(["run", "stage", "operation", "step", "slice"])),
        draw(subject_refs),
        draw(st.none() | dotted_snake),
        draw(string_maps),
        draw(st.none() | snake),
    )


event_payloads = st.builds(
    c.StructuredEventPayload,
    kebab,
    st.sampled_from(["debug", "info", "warning", "error", "critical"]),
    text,
    subject_refs,
    json_maps,
    st.sampled_from(["explicit_capture", "imported", "replayed"]),
)


@st.composite
def span_payloads(draw: st.DrawFn) -> c.TraceSpanPayload:
    start = draw(moments)
    end = start + draw(st.timedeltas(timedelta(0), timedelta(minutes=5)))
    return c.TraceSpanPayload(
        draw(text),
        draw(text),
        draw(optional_text),
        draw(text),
        start,
        end,
        draw(st.sampled_from(["ok", "error", "cancelled", "timeout"])),
        draw(st.sampled_from(["operation", "internal", "io", "network", "process"])),
        draw(json_maps),
        draw(st.lists(st.sampled_from(["run:p.r", "artifact:p.r.a"]), max_size=2)),
    )


degraded_payloads = st.builds(
    c.DegradedPayload,
    dotted_snake,
    st.sampled_from(["capture", "store", "import", "compatibility", "verification", "recovery"]),
    st.sampled_from(["warning", "error"]),
    text,
    subject_refs,
    st.sampled_from(["explicit_capture", "inferred"]),
    json_maps,
)

metric_records = st.builds(c.MetricRecord, envelopes("metric"), metric_payloads())
event_records = st.builds(c.StructuredEventRecord, envelopes("event"), event_payloads)
span_records = st.builds(c.TraceSpanRecord, envelopes("span"), span_payloads())
degraded_records = st.builds(c.DegradedRecord, envelopes("degraded"), degraded_payloads)


@st.composite
def artifacts(draw: st.DrawFn) -> c.ArtifactManifest:
    sc = draw(scope())
    with_stage = draw(st.booleans())
    return c.ArtifactManifest(
        f"artifact:{sc['run']}.{sc['leaf']}",
        draw(snake),
        draw(timestamps),
        draw(kebab),
        f"run:{sc['run']}",
        draw(text),
        stage_execution_ref=f"stage:{sc['stage']}" if with_stage else None,
        operation_context_ref=(
            draw(st.none() | st.just(f"op:{sc['stage']}.o")) if with_stage else None
        ),
        hash_value=draw(optional_text),
        size_bytes=draw(st.none() | st.integers(min_value=0, max_value=2**62)),
        attributes=draw(json_maps),
        extensions=draw(extension_tuples()),
    )


@st.composite
def lineage_edges(draw: st.DrawFn) -> c.LineageEdge:
    source, target = draw(
        st.lists(
            st.sampled_from(["run:p.r", "artifact:p.r.a", "my_kind:x", "stage:p.r.s"]),
            min_size=2,
            max_size=2,
            unique=True,
        )
    )
    return c.LineageEdge(
        f"relation:{draw(component)}",
        draw(st.sampled_from(["used", "derived_from"])),
        source,
        target,
        draw(timestamps),
        draw(st.sampled_from(["explicit", "imported", "inferred", "replayed"])),
        draw(st.sampled_from(["high", "medium", "low", "unknown"])),
        draw(st.none() | st.just("op:p.r.s.o")),
        draw(st.lists(st.sampled_from(["artifact:p.r.b", "run:p.q"]), max_size=2)),
    )


provenance_records = st.builds(
    c.ProvenanceRecord,
    component.map(lambda v: f"provenance:{v}"),
    component.map(lambda v: f"relation:{v}"),
    st.sampled_from(["explicit", "imported", "inferred", "replayed"]),
    timestamps,
    st.none() | st.just("stage:p.r.s"),
    st.none() | kebab,
    st.none() | st.just("artifact:p.r.a"),
)

stable_refs = st.builds(lambda kind, value: c.StableRef(kind, value), snake, component)

#: A strategy of valid instances for every model type.
MODELS: dict[type, st.SearchStrategy[Any]] = {
    c.StableRef: stable_refs,
    c.Project: projects(),
    c.Run: runs(),
    c.StageExecution: stages(),
    c.DeploymentExecution: deployments(),
    c.BatchExecution: batches(),
    c.SampleObservation: samples(),
    c.OperationContext: operations(),
    c.EnvironmentSnapshot: environments(),
    c.CorrelationRefs: correlations,
    c.RecordEnvelope: envelopes(),
    c.MetricPayload: metric_payloads(),
    c.MetricRecord: metric_records,
    c.StructuredEventPayload: event_payloads,
    c.StructuredEventRecord: event_records,
    c.TraceSpanPayload: span_payloads(),
    c.TraceSpanRecord: span_records,
    c.DegradedPayload: degraded_payloads,
    c.DegradedRecord: degraded_records,
    c.ArtifactManifest: artifacts(),
    c.LineageEdge: lineage_edges(),
    c.ProvenanceRecord: provenance_records,
    c.ExtensionFieldSet: extension_sets,
}
