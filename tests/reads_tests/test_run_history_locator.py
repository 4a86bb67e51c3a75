"""One run's history reads only the batches the run locator names, and answers exactly what a
scan of the whole ledger answers: generated ledgers (several segments, runs spanning them,
the active segment, events without a run), a locator behind the head, a damaged or missing
locator, quarantines and tags after the fact, as-of cuts, and the CLI's ``audit replay --run``.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contexta import Contexta
from contexta.common.errors import IntegrityError
from contexta.events import quarantine_event
from contexta.history import LedgerEvent, batch_events, iter_history, run_locator
from contexta.workspace import Workspace
from ledger import CorruptionError, Head, Ledger, LedgerReader, PendingEvent
from projections.kinds import QUARANTINE, RELEASE
from projections.run_batches import RUN_BATCHES, RunLocator
from tests.conftest import run_cli

RUNS = [f"run:p.r{i}" for i in range(5)]


def _pending(kind: str, run: str | None, i: int) -> PendingEvent:
    """A decodable event (a quarantine note); ``run`` None leaves its run_ref empty."""
    event = quarantine_event(kind, run or RUNS[0], f"reason {i}", "tester")
    return event._replace(run_ref=run, ref=run or "project:p")


def scan_history(ws: Workspace, run: str, kinds=None, upto_us=None, head=None) -> list[LedgerEvent]:  # type: ignore[no-untyped-def]
    """The reference: every committed batch read and filtered (what history did before)."""
    out: list[LedgerEvent] = []
    for batch in ws.events(head=head):
        out.extend(batch_events(batch, run_ref=run, kinds=kinds, upto_us=upto_us))
    return out


commits = st.lists(
    st.lists(
        st.tuples(st.sampled_from([*RUNS, None]), st.sampled_from([QUARANTINE, RELEASE])),
        min_size=1,
        max_size=12,
    ),
    min_size=1,
    max_size=14,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(commits, st.data())
def test_located_history_equals_the_scan(tmp_path_factory, plan, data) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("ws")
    ledger = Ledger(root / "ledger", roll_bytes=1_500)  # several segments, runs spanning them
    i = 0
    for n, commit in enumerate(plan):
        ledger.append_many([_pending(kind, run, i + k) for k, (run, kind) in enumerate(commit)])
        ledger.commit()
        i += len(commit)
        if data.draw(st.booleans(), label=f"locate after commit {n}"):
            # a locator consulted (and saved) part-way: later processes start behind the head
            locator = RunLocator(ledger, root / "projections", save_after=1)
            locator.locate(RUNS[0], ledger.head())
    ledger.close()
    assert len(list((root / "ledger").glob("segment-*"))) >= 1
    ws = Workspace(root)
    try:
        head = ws.head()
        times = sorted({e.tx_time for e in scan_history(ws, RUNS[0]) + scan_history(ws, RUNS[1])})
        upto = None
        if times and data.draw(st.booleans(), label="as of"):
            cut = data.draw(st.sampled_from(times), label="cut")
            upto = int(cut.timestamp() * 1_000_000)
        kinds = data.draw(st.sampled_from([None, (QUARANTINE,), (RELEASE,)]), label="kinds")
        for run in [*RUNS, "run:p.absent"]:
            located = list(iter_history(ws, run_ref=run, kinds=kinds, upto_us=upto, head=head))
            assert located == scan_history(ws, run, kinds, upto, head), run
    finally:
        ws.close()


def _build(root: Path, commits: int = 12, per_commit: int = 7, roll_bytes: int = 6_000) -> None:
    """Runs 0-2 interleaved (some events without a run) over segments of a few batches."""
    ledger = Ledger(root / "ledger", roll_bytes=roll_bytes)
    i = 0
    for _ in range(commits):
        events = [
            _pending(QUARANTINE if k % 3 else RELEASE, RUNS[(i + k) % 3] if k % 4 else None, i + k)
            for k in range(per_commit)
        ]
        ledger.append_many(events)
        ledger.commit()
        i += per_commit
    ledger.close()


def _all_runs_match(root: Path) -> None:
    ws = Workspace(root)
    try:
        for run in RUNS:
            assert list(iter_history(ws, run_ref=run)) == scan_history(ws, run), run
    finally:
        ws.close()


def _saved_locator(root: Path) -> Path:
    ledger = LedgerReader(root / "ledger")
    RunLocator(ledger, root / "projections", save_after=1).locate(RUNS[0], ledger.head())
    folder = root / "projections" / RUN_BATCHES
    assert (folder / "MANIFEST.json").is_file()
    return folder


def test_a_locator_behind_the_head_catches_up(tmp_path: Path) -> None:
    _build(tmp_path, commits=4)
    _saved_locator(tmp_path)
    ledger = Ledger(tmp_path / "ledger", roll_bytes=1_500)
    for k in range(30):  # more events for every run, in new segments, after the save
        ledger.append_many([_pending(RELEASE, RUNS[k % 5], 1000 + k)])
        ledger.commit()
    ledger.close()
    ws = Workspace(tmp_path)
    try:
        for run in RUNS:
            found = list(iter_history(ws, run_ref=run))
            assert found == scan_history(ws, run)
            assert any(e.seq > 28 for e in found), run  # the events appended after the save
    finally:
        ws.close()


@pytest.mark.parametrize("lag", [3, 40])
def test_a_loaded_locator_behind_reads_the_tail_or_catches_up(tmp_path: Path, lag: int) -> None:
    """In one process: a small lag is read after the located batches (no fold); a lag of
    ``save_after`` events or more is folded and saved. Either way every event is found."""
    _build(tmp_path, commits=4)
    ws = Workspace(tmp_path)
    try:
        locator = run_locator(ws)
        locator.save_after = 20
        assert list(iter_history(ws, run_ref=RUNS[1])) == scan_history(ws, RUNS[1])
        loaded = locator.locate(RUNS[1], ws.head())[1]
        writer = Ledger(tmp_path / "ledger", roll_bytes=6_000)
        for k in range(lag):
            writer.append_many([_pending(RELEASE, RUNS[k % 3], 500 + k)])
            writer.commit()
        writer.close()
        head = ws.head()
        for run in RUNS:
            assert list(iter_history(ws, run_ref=run, head=head)) == scan_history(
                ws, run, head=head
            )
        complete_to = locator.locate(RUNS[1], head)[1]
        if lag < locator.save_after:
            assert complete_to == loaded < head.seq  # the tail was read, not folded
        else:
            assert complete_to == head.seq
            saved = json.loads(
                (tmp_path / "projections" / RUN_BATCHES / "MANIFEST.json").read_text()
            )
            assert head.seq == saved["checkpoint"]["seq"]
    finally:
        ws.close()


@pytest.mark.parametrize("damage", ["chunk", "index", "manifest", "missing", "foreign"])
def test_a_damaged_or_missing_locator_is_rebuilt(tmp_path: Path, damage: str) -> None:
    _build(tmp_path / "a")
    folder = _saved_locator(tmp_path / "a")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix == ".arrow")
    if damage == "chunk":
        chunk = next(p for p in files if ".index." not in p.name and "run_ref" not in p.name)
        chunk.write_bytes(chunk.read_bytes()[: chunk.stat().st_size // 2])
    elif damage == "index":
        for path in folder.iterdir():
            if "run_ref" in path.name:
                path.write_bytes(b"not an index")
    elif damage == "manifest":
        (folder / "MANIFEST.json").write_text("{")
    elif damage == "missing":
        shutil.rmtree(folder)
    else:  # a locator saved for another ledger (a restored or replaced workspace)
        _build(tmp_path / "b", commits=5, per_commit=3)
        other = _saved_locator(tmp_path / "b")
        shutil.rmtree(folder)
        shutil.copytree(other, folder)
    _all_runs_match(tmp_path / "a")


def test_a_current_locator_reads_only_the_runs_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _build(tmp_path, commits=20)
    _saved_locator(tmp_path)
    ws = Workspace(tmp_path)
    try:
        expected = scan_history(ws, RUNS[1])
        holding = {e.seq for e in expected}
        reads: list[tuple[int, int]] = []
        read_batch = LedgerReader.read_batch

        def counting(self, segment, offset, head=None):  # type: ignore[no-untyped-def]
            reads.append((segment, offset))
            return read_batch(self, segment, offset, head)

        def no_scan(*args, **kwargs):  # type: ignore[no-untyped-def]
            raise AssertionError("history of one run scanned the ledger")

        monkeypatch.setattr(LedgerReader, "read_batch", counting)
        monkeypatch.setattr(LedgerReader, "frames", no_scan)
        fresh = Workspace(tmp_path)  # a new process: nothing cached
        try:
            assert list(iter_history(fresh, run_ref=RUNS[1])) == expected
        finally:
            monkeypatch.undo()
            fresh.close()
        batches = {
            (s, f.offset)
            for s, f in LedgerReader(tmp_path / "ledger").frames()
            if holding & set(range(f.first_seq, f.first_seq + f.count))
        }
        assert reads and set(reads) == batches
        assert len(reads) == len(batches)
    finally:
        ws.close()


# ---------------------------------------------------------------------- by-offset reads


def _frames(root: Path) -> list[tuple[int, object]]:
    return list(LedgerReader(root / "ledger").frames())


def test_read_located_refuses_a_batch_that_does_not_hold_the_seq(tmp_path: Path) -> None:
    _build(tmp_path)
    reader = LedgerReader(tmp_path / "ledger")
    head = reader.head()
    (_s0, f0), (s1, f1) = _frames(tmp_path)[:2]
    assert reader.read_located(s1, f1.offset, f1.first_seq, head).first_seq == f1.first_seq
    with pytest.raises(CorruptionError) as raised:
        reader.read_located(s1, f1.offset, f0.first_seq, head)
    assert raised.value.details["reason"] == "misplaced_batch"
    assert raised.value.details["offset"] == f1.offset


def test_read_located_checks_the_head_batch_and_the_chain_link(tmp_path: Path) -> None:
    _build(tmp_path, roll_bytes=1 << 30)  # one segment: the last batch ends at the head
    reader = LedgerReader(tmp_path / "ledger")
    head = reader.head()
    frames = _frames(tmp_path)
    last_segment, last = frames[-1]
    assert (last_segment, last.offset + last.length) == (head.segment, head.offset)
    assert reader.read_located(last_segment, last.offset, last.first_seq, head) is not None
    forged = Head(**{**dataclasses.asdict(head), "chain": "0" * len(head.chain)})
    with pytest.raises(CorruptionError) as raised:
        reader.read_located(last_segment, last.offset, last.first_seq, forged)
    assert raised.value.details["reason"] == "head_mismatch"
    (sa, a), (sb, b) = next((x, y) for x, y in itertools.pairwise(frames) if x[0] == y[0])
    assert reader.read_located(sb, b.offset, b.first_seq, head, (sa, a)) is not None
    stray = dataclasses.replace(a, chain="f" * len(a.chain))
    with pytest.raises(CorruptionError) as raised:
        reader.read_located(sb, b.offset, b.first_seq, head, (sa, stray))
    assert raised.value.details["reason"] == "unlinked_segment"


def test_history_of_a_damaged_located_batch_raises_a_typed_error(tmp_path: Path) -> None:
    _build(tmp_path)
    folder = _saved_locator(tmp_path)
    assert folder.is_dir()
    reader = LedgerReader(tmp_path / "ledger")
    segment, frame = _frames(tmp_path)[3]
    path = reader.segment_path(segment)
    data = bytearray(path.read_bytes())
    data[frame.offset + frame.length - 12] ^= 0xFF  # a flipped byte in the batch body
    path.write_bytes(bytes(data))
    (tmp_path / "ledger" / "verified.json").unlink(missing_ok=True)
    run = next(r for r in frame.batch.column("run_ref").to_pylist() if r)
    ws = Workspace(tmp_path)
    try:
        with pytest.raises(IntegrityError):
            list(iter_history(ws, run_ref=run))
    finally:
        ws.ledger.close()


# ---------------------------------------------------------------------- the public surface


def test_history_and_as_of_after_quarantines_and_tags_equal_the_scan(seeded: Path) -> None:
    ctx = Contexta(workspace=seeded / ".contexta")
    ws = ctx._workspace
    ws.ledger.roll_bytes = 6_000  # the quality events land in new segments
    runs = [r.run_id for r in ctx.list_runs()]
    everything = list(ctx.history())
    middle = everything[len(everything) // 2].tx_time
    known_then = [e.ref for e in everything if e.kind == "run.put" and e.tx_time <= middle]
    assert known_then
    ctx.quarantine_runs(runs[:2], reason="late labels")
    ctx.tag_runs("data.check", message="checked", run_ids=runs[1:3])
    ctx.release_runs(runs[:1], reason="relabelled")
    head = ws.head()
    for run in runs:
        live = list(ctx.history(run))
        assert live == scan_history(ws, run, head=head), run
        assert {e.kind for e in live} >= {"run.put"}
    view = ctx.as_of(middle)
    for run in dict.fromkeys(known_then):
        past = list(view.history(run))
        assert past == scan_history(ws, run, upto_us=view.as_of_us, head=head), run
    ctx.close()


def test_audit_replay_of_one_run_equals_the_full_replay_filtered(seeded: Path) -> None:
    ctx = Contexta(workspace=seeded / ".contexta")
    runs = [r.run_id for r in ctx.list_runs()]
    ctx.quarantine_runs(runs[-1:], reason="vendor clamp")
    ctx.close()
    every = [
        json.loads(line)
        for line in run_cli(
            seeded, "--workspace", ".contexta", "--format", "json", "audit", "replay"
        ).stdout.splitlines()
    ]
    for run in (runs[0], runs[-1]):
        one = [
            json.loads(line)
            for line in run_cli(
                seeded,
                "--workspace",
                ".contexta",
                "--format",
                "json",
                "audit",
                "replay",
                "--run",
                run,
            ).stdout.splitlines()
        ]
        assert one and one == [e for e in every if e["run_ref"] == run]


def test_the_locator_is_kept_per_workspace(tmp_path: Path) -> None:
    _build(tmp_path)
    ws = Workspace(tmp_path)
    try:
        assert run_locator(ws) is run_locator(ws)
    finally:
        ws.close()


# ---------------------------------------------------------------------- rebuild


@pytest.mark.parametrize("how", ["api", "cli"])
def test_projections_rebuild_saves_the_locator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """After ``projections rebuild`` the first history of a run in a new process reads the
    located batches: the locator was folded and saved with the other projections."""
    _build(tmp_path, commits=20)
    ws = Workspace(tmp_path)
    try:
        expected = scan_history(ws, RUNS[2])
    finally:
        ws.close()
    assert not (tmp_path / "projections" / RUN_BATCHES).exists()
    if how == "cli":
        run_cli(tmp_path, "--workspace", str(tmp_path), "projections", "rebuild")
    else:
        ctx = Contexta(workspace=str(tmp_path))
        try:
            ctx.maintenance.rebuild()
        finally:
            ctx.close()
    assert (tmp_path / "projections" / RUN_BATCHES).is_dir()

    def no_scan(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("history of one run scanned the ledger")

    monkeypatch.setattr(LedgerReader, "frames", no_scan)
    fresh = Workspace(tmp_path)  # a new process: nothing cached
    try:
        assert list(iter_history(fresh, run_ref=RUNS[2])) == expected
    finally:
        monkeypatch.undo()
        fresh.close()
