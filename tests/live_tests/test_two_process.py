"""Two processes: a writer commits while a reader in this process follows it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from contexta import Contexta
from ledger import list_segments

from .procs import spawn_writer


def _answer(proc: subprocess.Popen[str]) -> str:
    line = proc.stdout.readline() if proc.stdout else ""
    if not line:
        raise AssertionError(f"writer died: {proc.stderr.read() if proc.stderr else ''}")
    return line.strip()


def test_watch_receives_every_event_once_in_order_across_rolls(workspace: Path, processes):
    reader = Contexta(workspace=workspace)
    events = reader.watch(timeout=30)  # starts after the current (empty) head
    writer = spawn_writer(workspace, "burst", 10_000, 250, 100_000)
    processes.append(writer)
    seen = []
    losses = []
    running_at_first = None
    for event in events:
        if running_at_first is None:
            running_at_first = writer.poll() is None
        seen.append(event.seq)
        if event.kind == "record.metric":
            losses.append(event.value)
            if len(losses) == 10_000:
                break
    events.close()
    assert _answer(writer) == f"done {seen[-1]}"
    assert writer.wait(timeout=30) == 0
    assert seen == list(range(1, seen[-1] + 1))  # every seq, once, in order
    assert losses == [float(i) for i in range(10_000)]
    assert running_at_first  # followed while the writer was still writing
    assert len(list_segments(workspace / "ledger")) >= 3  # followed across segment rolls


def test_queries_after_a_writer_flush_reflect_it(workspace: Path, processes):
    writer = spawn_writer(workspace, "serve", stdin=True)
    processes.append(writer)
    assert writer.stdin is not None

    def send(line: str) -> str:
        writer.stdin.write(line + "\n")
        writer.stdin.flush()
        return _answer(writer)

    send("run base 0.5")
    reader = Contexta(workspace=workspace)  # long-lived: the same object sees every round
    assert [r.name for r in reader.list_runs("live")] == ["base"]
    for round_, accuracy in enumerate((0.7, 0.6, 0.9, 0.8), start=1):
        name = f"cand-{round_}"
        send(f"run {name} {accuracy}")
        names = {r.name for r in reader.list_runs("live")}
        assert names == {"base"} | {f"cand-{i}" for i in range(1, round_ + 1)}
        snapshot = reader.get_run_snapshot(f"live.{name}")
        assert [(r.key, r.value) for r in snapshot.records] == [("accuracy", accuracy)]
        assert [s.name for s in snapshot.stages] == ["evaluate"]
        ids = sorted(f"live.{n}" for n in names)
        best = max([0.5, 0.7, 0.6, 0.9, 0.8][: round_ + 1])
        expected = {0.5: "base", 0.7: "cand-1", 0.6: "cand-2", 0.9: "cand-3", 0.8: "cand-4"}[best]
        assert reader.select_best_run(ids, "accuracy", stage_name="evaluate") == f"live.{expected}"
    # a later metric on an existing run moves the best run at once
    send("metric base accuracy 0.95")
    ids = [f"live.{r.name}" for r in reader.list_runs("live")]
    assert reader.select_best_run(ids, "accuracy", stage_name="evaluate") == "live.base"
    writer.stdin.write("quit\n")
    writer.stdin.close()
    assert writer.wait(timeout=30) == 0
