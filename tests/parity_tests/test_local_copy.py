"""The default local capture copy (``cache/capture/<family>.jsonl``) writes every line exactly as
1.0's ``LocalJsonlSink`` writes it (``json.dumps``: keys sorted, compact, Python's number forms),
whichever path made the line: the per-scope template of capture records or the reference."""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path
from typing import Any

import msgspec
import pytest

from contexta import Contexta
from contexta.capture.builtin_sinks import LocalJsonlSink, _local_line
from contexta.capture.local_copy import LocalCaptureFile
from contexta.capture.results import PayloadFamily
from contexta.contract import (
    ExtensionFieldSet,
    MetricPayload,
    MetricRecord,
    RecordEnvelope,
    StructuredEventPayload,
    StructuredEventRecord,
)

from ._fake_tools import records

NUMBERS = [0.5, 1e-5, 9.9e-5, 1e-4, 1e16, 9999999999999998.0, 2.5e-300, -0.0, 7, -(2**62)]
ODD = [math.nan, math.inf, -math.inf]


def _ctx(root: Path, **kwargs: Any) -> Contexta:
    config = {"project_name": "copy", "capture": {"capture_environment_snapshot": False}}
    return Contexta(workspace=str(root / ".contexta"), config=config, **kwargs)


def _lines(root: Path, family: str = "record") -> list[str]:
    path = root / ".contexta" / "cache" / "capture" / f"{family}.jsonl"
    return path.read_text(encoding="utf-8").split("\n")[:-1]


def _sink_line(record: Any, captured_at: str, tmp: Path) -> str:
    """What 1.0's LocalJsonlSink writes for ``record``, at ``captured_at``."""
    sink = LocalJsonlSink(tmp)
    sink.capture(family="RECORD", payload=record)
    written = (tmp / "record.jsonl").read_text(encoding="utf-8").split("\n")[:-1][-1]
    stamp = json.loads(written)["captured_at"]
    return written.replace(f'"captured_at":"{stamp}"', f'"captured_at":"{captured_at}"', 1)


def _check_against_the_sink(lines: list[str], stored: dict[str, Any], tmp: Path) -> None:
    assert len(lines) == len(stored)
    for line in lines:
        entry = json.loads(line)
        record = stored[entry["payload_ref"]]
        assert line == _sink_line(record, entry["captured_at"], tmp), entry["payload_ref"]


def test_scope_metrics_are_written_as_1_0_writes_them(tmp_path: Path) -> None:
    """Exponents as ``1e-05``/``1e+16`` and NaN/Infinity as Python writes them (msgspec would
    write ``1e-5``, ``1e16`` and ``null``), ints as ints, tags and units as given."""
    ctx = _ctx(tmp_path)
    with ctx.run("numbers") as run, run.stage("train") as stage:
        for step, value in enumerate([*NUMBERS, *ODD]):
            stage.metric("train_loss", value, step=step)
        stage.metric("loss/val", 0.25, unit="nats", tags={"split": "val"})
        stage.metric("valAcc", 0.75, aggregation_scope="stage")
        run.metric("F1", 1e-7)
    ctx.flush()
    stored = {s.record_ref: s.record for s in ctx.record_store.scan()}
    lines = _lines(tmp_path)
    _check_against_the_sink(lines, stored, tmp_path / "sink")
    values = [json.loads(line)["payload"]["payload"]["value"] for line in lines[:13]]
    assert '"value":1e-05,' in lines[1] and '"value":1e+16,' in lines[4]
    assert '"value":NaN,' in lines[10] and '"value":-Infinity,' in lines[12]
    assert values[:10] == NUMBERS and all(math.isnan(v) or math.isinf(v) for v in values[10:])


def test_records_of_every_kind_and_shape_equal_the_reference(tmp_path: Path) -> None:
    """Records the template must not vouch for (extensions, attributes, mappings shaped like a
    ref, a str record ref) and the plain ones, added directly: every line equals the reference."""
    base = records()
    metric = base[0]
    shaped = MetricRecord(
        envelope=metric.envelope,
        payload=MetricPayload(
            metric_key="train.loss",
            value=1e-9,
            value_type="float",
            tags={"kind": "run", "value": "p.r"},
        ),
    )
    extended = MetricRecord(
        envelope=RecordEnvelope(
            record_ref="record:p.r.ext",
            record_type="metric",
            recorded_at="2025-01-01T00:00:02.5Z",
            observed_at="2025-01-01T00:00:01Z",
            producer_ref="tests",
            run_ref="run:p.r",
            extensions=(ExtensionFieldSet(namespace="team.ml", fields={"a": 1.0, "b": 1e-6}),),
        ),
        payload=metric.payload,
    )
    event = StructuredEventRecord(
        envelope=RecordEnvelope(
            record_ref="record:p.r.ev",
            record_type="event",
            recorded_at="2025-01-01T00:00:02Z",
            observed_at="2025-01-01T00:00:02Z",
            producer_ref="tests",
            run_ref="run:p.r",
        ),
        payload=StructuredEventPayload(
            event_key="note",
            level="info",
            message='größe "quoted" \u2028 line',
            attributes={"ref": {"kind": "x", "value": "y"}, "lr": 1e-5, "n": [1, 2.5e20]},
        ),
    )
    items = [*base, shaped, extended, event, base[1], metric]
    copy = LocalCaptureFile(tmp_path / "copy")
    for item in items:
        copy.add(PayloadFamily.RECORD, item)
    assert copy.flush() == len(items)
    lines = (tmp_path / "copy" / "record.jsonl").read_text(encoding="utf-8").split("\n")[:-1]
    assert len(lines) == len(items)
    for line, item in zip(lines, items, strict=True):
        stamp = json.loads(line)["captured_at"]
        assert line == _local_line(stamp, "local-jsonl", PayloadFamily.RECORD, item)
        assert line == _sink_line(item, stamp, tmp_path / "sink")
    by_ref = {json.loads(line)["payload_ref"]: line for line in lines}
    assert '"ref":"x:y"' in by_ref["record:p.r.ev"]  # 1.0 reads a kind/value map as a ref
    assert '"tags":"run:p.r"' in lines[items.index(shaped)]


def test_scopes_of_several_runs_and_stages_each_get_their_own_lines(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    for name in ("a", "b"):
        with ctx.run(name) as run:
            for stage_name, key in (("train", "loss"), ("eval", "acc")):
                with run.stage(stage_name) as stage:
                    for step in range(3):
                        stage.metric(key, 1.0 / (step + 1), step=step)
                        run.event("epoch.end", message=f"epoch {step}")
                        stage.event("stage.note", message="note")
            run.metric("final", 0.5)
    ctx.close()
    stored = {s.record_ref: s.record for s in ctx.record_store.scan()}
    _check_against_the_sink(_lines(tmp_path), stored, tmp_path / "sink")
    stages = {
        json.loads(line)["payload"]["envelope"]["stage_execution_ref"] for line in _lines(tmp_path)
    }
    assert len(stages) == 5  # two runs x (train, eval) and the run-level records (None)


@pytest.mark.parametrize("threads", [4])
def test_lines_added_from_threads_during_flushes_are_each_written_once(
    tmp_path: Path, threads: int
) -> None:
    copy = LocalCaptureFile(tmp_path / "copy")
    record = records()[0]
    per_thread = 3000
    stop = threading.Event()

    def add() -> None:
        for _ in range(per_thread):
            copy.add(PayloadFamily.RECORD, record)

    def flush() -> None:
        while not stop.is_set():
            copy.flush()

    flusher = threading.Thread(target=flush)
    flusher.start()
    workers = [threading.Thread(target=add) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    stop.set()
    flusher.join()
    copy.flush()
    lines = (tmp_path / "copy" / "record.jsonl").read_text(encoding="utf-8").split("\n")[:-1]
    assert len(lines) == threads * per_thread
    assert all(line.endswith('"sink_name":"local-jsonl"}') for line in lines)


# ---------------------------------------------------------------- the scope template's lines

_FLOAT_EDGES = [
    1e-4,
    -1e-4,
    9.999999999999999e-05,
    1e16,
    -1e16,
    9999999999999998.0,
    -9999999999999998.0,
    0.0,
    -0.0,
    5e-324,
    2.2250738585072014e-308,
    1.7976931348623157e308,
    0.1 + 0.2,
    1 / 3,
    123456789.12345679,
    1e22,
    1e-7,
    0.00012,
]


def _factory(run: str = "p.r", stage: str | None = "p.r.train") -> Any:
    import itertools

    from contexta.capture._build import RecordFactory
    from contexta.contract import StableRef

    return RecordFactory(
        run_ref=StableRef("run", run),
        producer_ref="contexta",
        schema_version="1.0.0",
        counter=itertools.count(),
        token="abcd",
        stage_ref=None if stage is None else StableRef("stage", stage),
    )


def _written(copy: LocalCaptureFile, path: Path) -> list[str]:
    copy.flush()
    return path.read_text(encoding="utf-8").split("\n")[:-1]


def _assert_reference(lines: list[str], items: list[Any]) -> None:
    assert len(lines) == len(items)
    for line, item in zip(lines, items, strict=True):
        stamp = json.loads(line)["captured_at"]
        assert line == _local_line(stamp, "local-jsonl", PayloadFamily.RECORD, item), line


def _random_floats(count: int, seed: int) -> list[float]:
    """Finite floats of every magnitude: random bit patterns (most far outside the usual
    range) and random digits scaled from 1e-8 to 1e18 (around both of repr's switches to an
    exponent)."""
    import random
    import struct

    rng = random.Random(seed)
    out: list[float] = []
    while len(out) < count:
        value = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
        if math.isfinite(value):
            out.append(value)
        out.append(rng.choice((1, -1)) * rng.random() * 10.0 ** rng.randint(-8, 18))
    return out


def test_metric_lines_equal_the_reference_for_floats_of_every_magnitude(
    tmp_path: Path,
) -> None:
    """A scope's metric line is its template filled in, the number written as Python's json
    writes it: every line equals the reference, around repr's switches to an exponent too."""
    factory = _factory()
    values = [*_FLOAT_EDGES, *_random_floats(4000, seed=13)]
    items = [factory.metric("train_loss", value) for value in values]
    copy = LocalCaptureFile(tmp_path / "copy")
    for item in items:
        copy.add_record(item)
    _assert_reference(_written(copy, tmp_path / "copy" / "record.jsonl"), items)


def test_awkward_values_keys_and_tags_in_one_queue_equal_the_reference(tmp_path: Path) -> None:
    """Non-finite values, ints of every size the contract takes, numpy-like scalars, tags with
    and without a step, unicode tag values, keys of the logged grammar, all in one queue."""

    class Scalar:  # a numpy-like scalar: a real number through __float__
        def __float__(self) -> float:
            return 2.5e-5

    factory = _factory()
    items = [
        factory.metric("loss", 1e-05),
        factory.metric("loss", 1e16, step=3),
        factory.metric("loss/val", math.nan, step=4),
        factory.metric("loss/val", -math.inf),
        factory.metric("valAcc", math.inf, unit="ratio"),
        factory.metric("epoch_time_s", 7),
        factory.metric("epoch_time_s", -(2**63)),
        factory.metric("epoch_time_s", 2**63 - 1, step=2**63 - 1),
        factory.metric("F1", Scalar()),
        factory.metric("F1 score", 0.5, tags={"split": 'größe \u2028 "q"'}),
        factory.metric("train.loss", 0.5, tags={"kind": "run", "value": "p.r"}),
        factory.metric("loss", 0.25, aggregation_scope="stage", summary_basis="final"),
        factory.metric("loss", 1e-300, step=0),
    ]
    copy = LocalCaptureFile(tmp_path / "copy")
    for item in items:
        copy.add_record(item)
    lines = _written(copy, tmp_path / "copy" / "record.jsonl")
    _assert_reference(lines, items)
    values = [json.loads(line)["payload"]["payload"]["value"] for line in lines]
    assert '"value":1e-05,' in lines[0] and '"value":1e+16,' in lines[1]
    assert '"value":NaN,' in lines[2] and '"value":-Infinity,' in lines[3]
    assert values[5:8] == [7, -(2**63), 2**63 - 1] and values[8] == 2.5e-5


def test_a_queue_of_several_scopes_and_families_keeps_its_order(tmp_path: Path) -> None:
    """Metrics of two scopes, events, spans, degraded records and hand-built records (a str
    record ref, extensions) interleaved: each line in the order added, each equal to the
    reference."""
    train, evaluate = _factory(), _factory("p.r", "p.r.eval")
    run_level = _factory("p.other", None)
    base = records()
    extended = MetricRecord(
        envelope=RecordEnvelope(
            record_ref="record:p.r.ext",
            record_type="metric",
            recorded_at="2025-01-01T00:00:02.5Z",
            observed_at="2025-01-01T00:00:01Z",
            producer_ref="tests",
            run_ref="run:p.r",
            extensions=(ExtensionFieldSet(namespace="team.ml", fields={"a": 1e-6}),),
        ),
        payload=base[0].payload,
    )
    items: list[Any] = []
    for step in range(5):
        items.append(train.metric("loss", 1.0 / (step + 1), step=step))
        items.append(evaluate.metric("acc", step / 7))
        items.append(run_level.metric("lr", 10.0**-step))
        items.append(train.event("epoch.end", f"epoch {step}"))
        items.append(base[step % len(base)])
        items.append(extended)
    copy = LocalCaptureFile(tmp_path / "copy")
    for item in items:
        copy.add_record(item)
    _assert_reference(_written(copy, tmp_path / "copy" / "record.jsonl"), items)


def test_queued_metrics_are_written_at_1024_and_at_flush(tmp_path: Path) -> None:
    factory = _factory()
    copy = LocalCaptureFile(tmp_path / "copy")
    path = tmp_path / "copy" / "record.jsonl"
    for step in range(copy.limit - 1):
        copy.add_record(factory.metric("loss", 0.5, step=step))
    assert not path.exists()  # queued
    copy.add_record(factory.metric("loss", 0.5, step=copy.limit - 1))
    assert len(path.read_text(encoding="utf-8").split("\n")[:-1]) == copy.limit
    copy.add_record(factory.metric("loss", 0.5))
    assert len(path.read_text(encoding="utf-8").split("\n")[:-1]) == copy.limit
    assert copy.flush() == 1
    steps = [json.loads(line)["payload"]["payload"]["tags"] for line in _written(copy, path)]
    assert steps[:-1] == [{"step": str(step)} for step in range(copy.limit)]
    assert not steps[-1]


def test_a_run_end_writes_the_queued_metrics_of_a_scope(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    with ctx.run("ends") as run, run.stage("train") as stage:
        for step in range(10):
            stage.metric("loss", 1.0 / (step + 1), step=step)
        assert not (tmp_path / ".contexta" / "cache" / "capture" / "record.jsonl").exists()
    assert len(_lines(tmp_path)) == 10
    ctx.close()


@pytest.mark.parametrize("seed", [3, 14, 15])
def test_a_column_of_floats_is_written_as_json_writes_each(seed: int) -> None:
    """The flush writes a run of plain metrics' values at once: through msgspec's text when it
    shows no number outside repr's fixed range, else one by one. Both ways, every value's text
    is ``json.dumps``'s, for columns wholly inside that range, and mixed."""
    import random

    from contexta.capture.local_copy import _float_column

    rng = random.Random(seed)
    inside = [round(rng.uniform(-1e6, 1e6), rng.randint(0, 6)) for _ in range(500)]
    inside += [0.0, -0.0, 1e-4, -1e-4, 9999999999999998.0, 1e15, 0.37, 100.0]
    encoded = msgspec.json.encode(inside)
    assert not any(mark in encoded for mark in (b"e", b"n", b"0.0000"))  # the one-pass way
    mixed = [*inside, *_random_floats(500, seed), *ODD, 1e-5, 1e16, 2.5e-300]
    rng.shuffle(mixed)
    for values in (inside, [*inside, 10.00001], mixed, mixed[:1], [0.5]):
        assert _float_column(values).to_pylist() == [json.dumps(v) for v in values]
