"""A process that reads, or writes a few events, never imports pandas.

pyarrow imports pandas, when it is installed, on the first conversion of Python values, and
through ``pyarrow.dataset`` on the first use of Acero (a hash group-by): 0.25-1.4 s and about
50 MiB of a new process. Each case below runs in a fresh interpreter, with pandas installed,
and reports whether pandas (or Acero) was imported by the time it ended: the daily CLI
commands, the facade's queries, a small append, a tag and a quarantine, a training loop with
the local capture copy, and a writer of fewer than ``DIRECT_BUDGET`` events. A writer past it
does import it, in the appending thread, before its events are buffered.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pandas")

RUN = "run:purchase-intent-model.run-2025-04-14"
OTHER = "run:purchase-intent-model.run-2025-03-28"

#: runs the CLI's ``main`` with the arguments given as JSON, then tells what was imported
CLI = """
import json, sys
from contexta.cli import main
code = main(json.loads(sys.argv[1]))
print(json.dumps({"code": code, "pandas": "pandas" in sys.modules,
                  "acero": "pyarrow.acero" in sys.modules}), file=sys.stderr)
"""

FACADE = """
import json, sys
from datetime import UTC, datetime
from contexta import Contexta
from contexta.contract import MetricPayload, MetricRecord, RecordEnvelope

ctx = Contexta(workspace=sys.argv[1])
seen = {}
runs = [r.run_id for r in ctx.list_runs()]
seen["list"] = "pandas" in sys.modules
ctx.select_best_run(runs, "accuracy", stage_name="evaluate")
seen["best"] = "pandas" in sys.modules
ctx.get_run_snapshot(sys.argv[2])
seen["snapshot"] = "pandas" in sys.modules
ctx.compare_runs(sys.argv[2], sys.argv[3])
seen["compare"] = "pandas" in sys.modules
ctx.as_of(datetime.now(UTC)).get_run_snapshot(sys.argv[2])
seen["as_of"] = "pandas" in sys.modules
list(ctx.history(sys.argv[2]))
seen["history"] = "pandas" in sys.modules
now = datetime.now(UTC).replace(tzinfo=None).isoformat() + "Z"
run = sys.argv[2]
result = ctx.record_store.append(
    MetricRecord(
        envelope=RecordEnvelope(
            record_ref=run.replace("run:", "record:", 1) + ".probe",
            record_type="metric", recorded_at=now, observed_at=now, producer_ref="test",
            run_ref=run, stage_execution_ref=run.replace("run:", "stage:", 1) + ".evaluate",
        ),
        payload=MetricPayload(metric_key="probe", value=1.0, value_type="float64",
                              aggregation_scope="stage"),
    )
)
ctx.close()
seen["append"] = "pandas" in sys.modules
seen["stored"] = not result.rejected
seen["acero"] = "pyarrow.acero" in sys.modules
print(json.dumps(seen))
"""


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CONTEXTA_")}


def _python(script: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``script`` run by a fresh interpreter with ``args``; it must exit 0."""
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(),
    )
    assert done.returncode == 0, done.stderr
    return done


def _cli(cwd: Path, *args: str) -> dict[str, object]:
    done = _python(CLI, json.dumps(list(args)), cwd=cwd)
    report: dict[str, object] = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] == 0, (args, done.stdout, done.stderr)
    return report


@pytest.mark.parametrize(
    "args",
    [
        ("runs",),
        ("run", "list"),
        ("run", "show", RUN),
        ("compare", RUN, OTHER),
        ("best", "accuracy", "--stage", "evaluate"),
        ("best", "accuracy", "--stage", "evaluate", "--as-of", "2026-01-01T00:00:00Z"),
        ("audit", "replay", "--run", RUN),
        ("audit", "replay"),
        ("trend", "accuracy", "--stage", "evaluate"),
        ("aggregate", "accuracy", "--stage", "evaluate"),
        ("diagnostics", RUN),
        ("lineage", RUN),
        ("search", "runs", "2025-04"),
        ("tag", "data.checked", "--message", "looked at", "--run", RUN),
        ("quarantine", "--reason", "contaminated", RUN),
        ("release", "--reason", "cleaned", RUN),
        ("projections", "rebuild"),
        ("ledger", "verify"),
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_a_cli_command_imports_no_pandas(seeded: Path, args: tuple[str, ...]) -> None:
    report = _cli(seeded, *args)
    assert report["pandas"] is False, f"contexta {' '.join(args)} imported pandas"
    assert report["acero"] is False, f"contexta {' '.join(args)} loaded Acero"


def test_a_rebuild_of_many_batches_imports_no_pandas(tmp_path: Path) -> None:
    """A rebuild whose chunks hold several written batches merges their row indexes (a
    compute function over a constant, which must not go through the converter)."""
    setup = """
import sys
from contexta import Contexta
ctx = Contexta(workspace=sys.argv[1])
with ctx.run("bulk") as run:
    run.stage("train").close()
    n = 150_000
    ctx.log_metrics(run=run, stage="train", key="loss", steps=list(range(n)),
                    values=[1.0 / (i + 1) for i in range(n)])
ctx.close()
"""
    _python(setup, str(tmp_path / ".contexta"))
    report = _cli(tmp_path, "projections", "rebuild")
    assert report["pandas"] is False
    again = _cli(tmp_path, "run", "show", "bulk")
    assert again["pandas"] is False


def test_facade_reads_and_a_small_append_import_no_pandas(seeded: Path) -> None:
    done = _python(FACADE, str(seeded / ".contexta"), RUN, OTHER)
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["stored"] is True
    imported = [step for step, value in seen.items() if step != "stored" and value]
    assert imported == []


def test_a_training_sized_writer_under_the_budget_never_imports_pandas(tmp_path: Path) -> None:
    """Full commits (the buffer's 1,024 events) and small ones alike are built without the
    converter until ``DIRECT_BUDGET`` events were: a process that writes fewer (a training
    job, a 27,000-event ingest) never pays for pandas, and its events read back whole."""
    script = """
import sys
from ledger import Ledger, LedgerReader, PendingEvent
import ledger.writer as writer
ledger = Ledger(sys.argv[1])
for c in range(20):
    ledger.append_many([PendingEvent("m", ref=f"r{c}.{i}", value=float(i), step=i, valid_time=i)
                        for i in range(1_024 if c % 2 else 7)])
ledger.close()
seen = ["pandas" in sys.modules, writer._WARM[0], writer._DIRECT_BUILT[0]]
table = LedgerReader(sys.argv[1]).read_table()
refs = [f"r{c}.{i}" for c in range(20) for i in range(1_024 if c % 2 else 7)]
print(*seen, table.column("ref").to_pylist() == refs, table.column("seq").to_pylist()[-1])
"""
    done = _python(script, str(tmp_path / "ledger"))
    events = 10 * 1_024 + 10 * 7
    assert done.stdout.split() == ["False", "False", str(events), "True", str(events)]


def test_a_training_loop_with_the_local_capture_copy_imports_no_pandas(tmp_path: Path) -> None:
    """Scope metrics with and without steps, of a stage and of its run (the copy's lines of
    several templates in one flush), an event, a value written with an exponent, and the 1.0
    default local capture copy written at every flush and at close."""
    script = """
import json, sys
from contexta import Contexta
ctx = Contexta(workspace=sys.argv[1], config={"project_name": "loop"})
with ctx.run("r1") as run:
    with run.stage("train") as train:
        for i in range(6_000):
            train.metric("loss", 1.0 / (i + 1), step=i)
            if i % 3 == 0:
                run.metric("lr", i / 6_000)
        train.event("epoch", message="done")
    with run.stage("evaluate") as evaluate:
        evaluate.metric("tiny", 1e-9)
ctx.close()
pandas = "pandas" in sys.modules
lines = [json.loads(line) for line in open(sys.argv[1] + "/cache/capture/record.jsonl")]
metrics = [line["payload"]["payload"] for line in lines
           if line["payload"]["envelope"]["record_type"] == "metric"]
keys = [metric["metric_key"] for metric in metrics]
tiny = [metric["value"] for metric in metrics if metric["metric_key"] == "tiny"]
print(json.dumps({"pandas": pandas, "loss": keys.count("loss"), "lr": keys.count("lr"),
                  "tiny": tiny}))
"""
    done = _python(script, str(tmp_path / ".contexta"))
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"pandas": False, "loss": 6_000, "lr": 2_000, "tiny": [1e-9]}


def test_the_append_that_finds_the_budget_spent_readies_the_converter_before_buffering(
    tmp_path: Path,
) -> None:
    """Past ``DIRECT_BUDGET`` events built without the converter, the next append imports
    pandas itself (no commit pays for it while holding the flush window), and the commits
    after it use the converter: a long-running writer does not pay the slower build for as
    long as it runs. (The budget is lowered in the child to keep the test short.)"""
    script = """
import sys
from ledger import Ledger, PendingEvent
import ledger.writer as writer
import pyarrow as pa
writer.DIRECT_BUDGET = 3_000
ledger = Ledger(sys.argv[1], buffer_max_events=1_000)
for c in range(3):
    ledger.append_many([PendingEvent("m", ref=f"r{c}.{i}") for i in range(1_000)])
spent = writer._DIRECT_BUILT[0]
before = "pandas" in sys.modules
ledger.append(PendingEvent("m", ref="last"))
after = "pandas" in sys.modules
buffered = ledger.buffered
calls = []
real = pa.array
pa.array = lambda *a, **k: calls.append(len(a[0])) or real(*a, **k)
ledger.commit()
pa.array = real
ledger.close()
print(spent, before, after, buffered, writer._DIRECT_BUILT[0], calls)
"""
    done = _python(script, str(tmp_path / "ledger"))
    assert done.stdout.split() == ["3000", "False", "True", "1", "3000", "[1]"]


def test_a_commit_does_not_wait_while_another_thread_readies_the_converter(
    tmp_path: Path,
) -> None:
    """pyarrow holds its lock for the whole pandas import that readies the converter: a
    commit of buffered events meanwhile (the flush timer's, another thread's) is built
    without it and does not wait, so the flush window holds while an appending thread
    pays for the import."""
    script = """
import sys, threading, time
from ledger import Ledger, PendingEvent
import ledger.writer as writer
ledger = Ledger(sys.argv[1], buffer_max_events=100_000, buffer_max_ms=60_000)
ledger.append_many([PendingEvent("m", ref=f"r{i}") for i in range(10)])
ledger.commit()  # the first commit opens the files; the one measured below only commits
ledger.append_many([PendingEvent("m", ref=f"s{i}") for i in range(10)])
warm = threading.Thread(target=writer.warm_conversion)
warm.start()
while "pandas" not in sys.modules:  # the import is under way
    time.sleep(0.0002)
info = ledger.commit()
print(warm.is_alive(), info.count)
warm.join()
ledger.close()
"""
    done = _python(script, str(tmp_path / "ledger"))
    assert done.stdout.split() == ["True", "10"]


#: one run's history, first with the run lookup alone, then through the query service
HISTORY = """
import json, sys
from contexta import Contexta
ctx = Contexta(workspace=sys.argv[1])
alone = [e.seq for e in ctx.history(sys.argv[2])]
heavy = ("contexta.interpretation.workspace_queries", "contexta.interpretation.results")
loaded = [m for m in heavy if m in sys.modules]
ctx.get_run_snapshot(sys.argv[2])
short = sys.argv[2].split(":", 1)[1]
again = [e.seq for e in ctx.history(short)]
print(json.dumps({"alone": alone, "loaded": loaded, "again": again}))
"""


def test_one_runs_history_loads_neither_the_query_service_nor_the_result_types(
    seeded: Path,
) -> None:
    """``history(run)`` resolves the run with ``interpretation.run_lookup`` alone (about 20 ms
    of a new process's first call); the events are those found through the query service."""
    done = _python(HISTORY, str(seeded / ".contexta"), RUN)
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["loaded"] == []
    assert seen["alone"] and seen["alone"] == seen["again"]


def test_the_lazy_result_names_are_the_result_types() -> None:
    import contexta.interpretation as interpretation
    from contexta.interpretation import results

    assert set(interpretation._RESULTS) == set(results.__all__)
    assert all(getattr(interpretation, n) is getattr(results, n) for n in results.__all__)
