"""Engines fold: DuckDB and DataFusion give the built-in fold's tables, table by table."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from ledger import Ledger, LedgerReader, PendingEvent
from projections import Projector
from projections.engine import ALL_PROJECTIONS
from projections.engines import ENGINES, EngineError, engine_fold, events_table

KINDS = [
    "project.put", "run.put", "stage.put", "record.metric", "record.event", "record.span",
    "run.quarantine", "run.release", "artifact.put", "relation.put", "batch.put", "sample.put",
    "deployment.put", "environment.put", "tag.put",
]  # fmt: skip


def _generate(root: Path, events: int, seed: int) -> None:
    rng = random.Random(seed)
    ledger = Ledger(root, buffer_max_events=rng.randint(3, 300), roll_bytes=64 * 1024)
    for i in range(events):
        kind = rng.choice(KINDS)
        ledger.append(
            PendingEvent(
                kind=kind,
                ref=f"{kind}:{rng.randint(0, 50)}",
                project_ref=rng.choice([None, "project:p"]),
                run_ref=rng.choice([None, f"run:p.r{rng.randint(0, 9)}"]),
                stage_ref=rng.choice([None, "stage:p.r.s"]),
                valid_time=rng.choice([None, 1_700_000_000_000_000 + i]),
                key=rng.choice([None, "loss", "auc", "événement"]),
                value=rng.choice([None, rng.random(), float("nan")]),
                step=rng.choice([None, i]),
                actor="gen",
                body=rng.randbytes(rng.randint(0, 40)),
            )
        )
    ledger.close()


def _rows(table: pa.Table) -> list[tuple[object, ...]]:
    """Rows in order, NaN made comparable (NaN != NaN would fail any table with one)."""
    columns = [
        ["NaN" if isinstance(v, float) and math.isnan(v) else v for v in col.to_pylist()]
        for col in table.columns
    ]
    return list(zip(*columns, strict=True))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("seed", [1, 2])
def test_engine_fold_equals_the_builtin_fold(tmp_path: Path, engine: str, seed: int) -> None:
    _generate(tmp_path / "ledger", 3000, seed)
    reader = LedgerReader(tmp_path / "ledger")
    builtin = Projector(reader, tmp_path / "projections", persist=False)
    builtin.rebuild(save=False)
    events, _, _ = events_table(reader, reader.head())
    folded = engine_fold(events, engine)
    assert set(folded) == {cls.name for cls in ALL_PROJECTIONS}
    nonempty = 0
    for name, table in folded.items():
        expected = builtin.get(name).table()
        assert table.schema == expected.schema, name
        assert _rows(table) == _rows(expected), name
        nonempty += table.num_rows > 0
    assert nonempty >= 5  # the generated kinds reach most projections


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("events", [0, 1])
def test_an_empty_or_one_event_ledger_folds_as_the_builtin_fold(
    tmp_path: Path, engine: str, events: int
) -> None:
    _generate(tmp_path / "ledger", events, 3)
    reader = LedgerReader(tmp_path / "ledger")
    builtin = Projector(reader, tmp_path / "projections", persist=False)
    builtin.rebuild(save=False)
    folded = engine_fold(events_table(reader, reader.head())[0], engine)
    for name, table in folded.items():
        expected = builtin.get(name).table()
        assert table.schema == expected.schema, name
        assert _rows(table) == _rows(expected), name


def test_unknown_engine_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(EngineError) as caught:
        engine_fold(events_table(LedgerReader(tmp_path), LedgerReader(tmp_path).head())[0], "x")
    assert caught.value.code == "projection_engine_unknown"


def test_cli_rebuild_with_duckdb_saves_the_builtin_state(tmp_path: Path) -> None:
    from contexta import Contexta

    ws = tmp_path / "ws"
    ctx = Contexta(workspace=str(ws), config={"project_name": "demo"})
    for name, auc in [("a", 0.3), ("b", 0.9), ("c", 0.5)]:
        with ctx.run(name) as run, run.stage("evaluate") as stage:
            stage.metric("auc", auc)
    ctx.close()

    def rebuild(engine: str) -> dict[str, object]:
        done = subprocess.run(
            [sys.executable, "-m", "contexta.cli", "--workspace", str(ws), "--format", "json",
             "projections", "rebuild", "--engine", engine],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        again = Projector(LedgerReader(ws / "ledger"), ws / "projections")
        return {n: again.get(n).table() for n in again.names} | {"out": json.loads(done.stdout)}

    builtin, duck = rebuild("builtin"), rebuild("duckdb")
    assert builtin.pop("out")["events"] == duck.pop("out")["events"]  # type: ignore[index]
    for name, table in builtin.items():
        assert _rows(duck[name]) == _rows(table), name  # type: ignore[arg-type]
    check = Contexta(workspace=str(ws))
    assert check.select_best_run([r.run_id for r in check.list_runs("demo")], "auc",
                                 stage_name="evaluate") == "run:demo.b"  # fmt: skip
    check.close()
