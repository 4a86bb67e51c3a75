"""``contexta watch`` and ``contexta projections watch`` as a person runs them."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from contexta import Contexta
from contexta.cli.commands.watch import format_event
from projections import Projector

from .builders import event, metric, seed_run


def _cli(workspace: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "contexta.cli", "--workspace", str(workspace), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def _started(proc: subprocess.Popen[str]) -> None:
    assert proc.stderr is not None
    line = proc.stderr.readline()
    assert line.startswith(("watching ", "keeping ")), line + proc.stderr.read()


def _writer(workspace: Path) -> Contexta:
    ctx = Contexta(workspace=workspace)
    seed_run(ctx, "demo", "r1", stages=("train", "eval"))
    ctx.flush()
    return ctx


def test_watch_prints_one_line_per_event_until_ctrl_c(workspace: Path, processes) -> None:
    writer = _writer(workspace)
    proc = _cli(workspace, "watch")
    processes.append(proc)
    _started(proc)
    writer.record_store.append_many(
        [
            metric("demo", "r1", "loss", 0.25, "m1"),
            event("demo", "r1", "epoch-done", "epoch 1 finished", "e1", stage="eval"),
        ]
    )
    writer.flush()
    assert proc.stdout is not None
    lines = [proc.stdout.readline(), proc.stdout.readline()]
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert out == "" and "Traceback" not in err
    assert "stopped after 2 events (last seq" in err
    first = lines[0].split()
    assert first[0].endswith("Z") and first[1].startswith("#")
    assert first[2:] == ["demo.r1", "train", "metric", "loss", "0.25"]
    assert lines[1].split()[2:] == [
        "demo.r1",
        "eval",
        "event",
        "epoch-done",
        "[info]",
        "epoch",
        "1",
        "finished",
    ]


def test_watch_filters_and_prints_json_lines(workspace: Path, processes) -> None:
    writer = _writer(workspace)
    seed_run(writer, "demo", "r2")
    writer.flush()
    proc = _cli(
        workspace,
        "--format",
        "json",
        "watch",
        "--run",
        "demo.r1",
        "--kind",
        "metric",
        "--key",
        "acc",
        "loss",
        "--timeout",
        "0.5",
    )
    processes.append(proc)
    _started(proc)
    writer.record_store.append_many(
        [
            metric("demo", "r1", "loss", 0.5, "m1"),
            metric("demo", "r2", "loss", 0.6, "m2"),  # another run
            metric("demo", "r1", "lr", 0.1, "m3"),  # another key
            event("demo", "r1", "loss", "not a metric", "e1"),  # another kind
            metric("demo", "r1", "acc", 0.7, "m4"),
        ]
    )
    writer.flush()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["kind"], r["key"], r["value"]) for r in rows] == [
        ("record.metric", "loss", 0.5),
        ("record.metric", "acc", 0.7),
    ]
    assert rows[0]["seq"] < rows[1]["seq"]
    assert rows[0]["model"]["payload"]["metric_key"] == "loss"


def test_projections_watch_keeps_saved_projections_at_the_head(workspace: Path, processes):
    writer = _writer(workspace)
    proc = _cli(workspace, "projections", "watch", "--interval", "0")
    processes.append(proc)
    _started(proc)
    assert proc.stdout is not None
    first = proc.stdout.readline()  # the first fold and save, at start
    assert first.startswith("seq ") and "saved" in first
    writer.record_store.append_many(
        metric("demo", "r1", "loss", float(i), f"m{i}") for i in range(50)
    )
    writer.flush()
    head = writer._workspace.ledger.head().seq
    while True:
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else ""
        if int(line.split()[1]) >= head:
            break
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "Traceback" not in err
    # a short-lived reader now opens the saved state and has nothing left to fold
    reader = Contexta(workspace=workspace)._workspace
    projector = Projector(reader.ledger, workspace / "projections")
    assert projector.catch_up() == 0
    assert {s.saved_checkpoint for s in projector.status()} == {head}


def test_format_event_lines_for_entities(workspace: Path) -> None:
    ctx = _writer(workspace)
    lines = [format_event(e) for e in ctx.history()]
    assert [line.split()[2:] for line in lines] == [
        ["-", "-", "project.put", "demo", "project:demo"],
        ["demo.r1", "-", "run.put", "r1", "open"],
        ["demo.r1", "train", "stage.put", "train", "open"],
        ["demo.r1", "eval", "stage.put", "eval", "open"],
    ]
