"""Trust in what sorts last: segments, HEAD and staged files are believed only when they link
to the log before them (seq and chain hash), never because of their name.

A workspace with three runs spread over several segments is damaged the ways files get
damaged by hand (a stray copy of an old segment under a name that sorts last, garbage, an
empty file, a missing, swapped or replaced middle segment, bytes after a seal, a garbage or
foreign HEAD, staged temp files), then read through the facade and the CLI and repaired. Every
case checks: no silent wrong answer with exit 0, HEAD never moves back, no seq is used twice,
`ledger verify` is clean after a repair, and no acknowledged event is lost.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pytest

from contexta import Contexta
from contexta.cli import main
from contexta.common.errors import ContextaError
from contexta.contract import (
    MetricPayload,
    MetricRecord,
    Project,
    RecordEnvelope,
    Run,
    StageExecution,
)
from ledger import (
    CorruptionError,
    Ledger,
    LedgerReader,
    list_segments,
    read_head,
    segment_name,
    verify,
)
from ledger.head import HEAD_SIZE, Head

from .faults import make_event

RUNS = {"run-a": 0.91, "run-b": 0.94, "run-c": 0.97}
BEST = "run:demo.run-c"


def _put_run(ctx: Contexta, name: str, auc: float) -> None:
    run = f"run:demo.{name}"
    at = "2025-04-02T09:00:00Z"
    ctx.metadata_store.runs.put_run(
        Run(
            run_ref=run,
            project_ref="project:demo",
            name=name,
            status="completed",
            started_at=at,
            ended_at=at,
        )
    )
    stage = f"stage:demo.{name}.evaluate"
    ctx.metadata_store.stages.put_stage_execution(
        StageExecution(
            stage_execution_ref=stage,
            run_ref=run,
            stage_name="evaluate",
            status="completed",
            started_at=at,
            ended_at=at,
        )
    )
    ctx.record_store.append(
        MetricRecord(
            envelope=RecordEnvelope(
                record_ref=f"record:demo.{name}.auc",
                record_type="metric",
                recorded_at=at,
                observed_at=at,
                producer_ref="demo",
                run_ref=run,
                stage_execution_ref=stage,
            ),
            payload=MetricPayload(metric_key="auc", value=auc, value_type="float64"),
        )
    )
    ctx.flush()


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three runs: the project and the first two runs each in a sealed segment (the writer
    rolls after every commit), the third run committed in the active segment."""
    ws = tmp_path_factory.mktemp("stray") / "ws"
    ctx = Contexta(workspace=str(ws))
    ctx._workspace.ledger.roll_bytes = 1
    ctx.metadata_store.projects.put_project(
        Project(project_ref="project:demo", name="demo", created_at="2025-04-01T00:00:00Z")
    )
    ctx.flush()
    names = list(RUNS)
    for name in names[:-1]:
        _put_run(ctx, name, RUNS[name])
    ctx._workspace.ledger.roll_bytes = 1 << 30
    _put_run(ctx, names[-1], RUNS[names[-1]])
    ctx.close()
    segments = list_segments(ws / "ledger")
    assert len(segments) >= 4 and read_head(ws / "ledger").segment == segments[-1].index
    assert segments[-1].size > list_segments(ws / "ledger")[0].size // 4  # the active has batches
    return ws


@pytest.fixture
def ws(pristine: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "ws"
    shutil.copytree(pristine, copy)
    return copy


# ------------------------------------------------------------------ damage


def _segments(ws: Path) -> list[Path]:
    return [s.path for s in list_segments(ws / "ledger")]


def _write(path: Path, data: bytes) -> None:
    if path.exists():
        os.chmod(path, path.stat().st_mode | stat.S_IWUSR)
    path.write_bytes(data)


def _next_name(ws: Path, offset: int = 1) -> Path:
    return ws / "ledger" / segment_name(list_segments(ws / "ledger")[-1].index + offset)


def stray_next(ws: Path) -> None:
    """A copy of an old sealed segment under the next segment number."""
    shutil.copy(_segments(ws)[1], _next_name(ws))


def stray_far(ws: Path) -> None:
    """A copy of an old sealed segment under the highest segment number."""
    shutil.copy(_segments(ws)[1], ws / "ledger" / segment_name(999_999_999_999))


def stray_copy_of_active(ws: Path) -> None:
    shutil.copy(_segments(ws)[-1], _next_name(ws))


def stray_two(ws: Path) -> None:
    first, second = _segments(ws)[1], _segments(ws)[2]
    shutil.copy(first, _next_name(ws, 1))
    shutil.copy(second, _next_name(ws, 2))


def stray_garbage(ws: Path) -> None:
    """A file that is not Arrow at all, under the next segment number."""
    _next_name(ws).write_bytes(b"this is not an arrow stream\n" * 40)


def stray_empty_file(ws: Path) -> None:
    _next_name(ws).write_bytes(b"")


def stray_with_garbage_head(ws: Path) -> None:
    stray_next(ws)
    _write(ws / "ledger" / "HEAD", os.urandom(HEAD_SIZE))


def bytes_after_seal(ws: Path) -> None:
    sealed = _segments(ws)[1]
    _write(sealed, sealed.read_bytes() + b"appended by a tool after the seal")


def garbage_head(ws: Path) -> None:
    _write(ws / "ledger" / "HEAD", os.urandom(HEAD_SIZE))


def foreign_head(ws: Path) -> None:
    """A well-formed HEAD (valid CRC, right offset) whose chain is another log's."""
    head = read_head(ws / "ledger")
    assert head is not None
    data = replace(head, chain="f" * 32).to_bytes()
    _write(ws / "ledger" / "HEAD", data + b" " * (HEAD_SIZE - 1 - len(data)) + b"\n")


def head_short_seq(ws: Path) -> None:
    """A well-formed HEAD at the right offset naming one seq less than the batch ending there
    (readers used to cut the last event off: `best` then answered another run)."""
    head = read_head(ws / "ledger")
    assert head is not None
    data = replace(head, seq=head.seq - 1).to_bytes()
    _write(ws / "ledger" / "HEAD", data + b" " * (HEAD_SIZE - 1 - len(data)) + b"\n")


def stale_head(ws: Path) -> None:
    """HEAD as it stood when the ledger had only its first segment (a copy from long ago)."""
    first = list_segments(ws / "ledger")[0]
    old = Head(seq=1, segment=0, offset=first.size - 8, chain="0" * 32)
    data = old.to_bytes()
    _write(ws / "ledger" / "HEAD", data + b" " * (HEAD_SIZE - 1 - len(data)) + b"\n")


def staged_files(ws: Path) -> None:
    """Temp files a crashed roll, HEAD rewrite or projection save can leave, and names that
    only look like segments."""
    old = _segments(ws)[1]
    shutil.copy(old, _next_name(ws).with_name(_next_name(ws).name + ".tmp"))
    (ws / "ledger" / "HEAD.tmp.4242").write_bytes(os.urandom(HEAD_SIZE))
    shutil.copy(old, ws / "ledger" / "segment-9.arrows")
    shutil.copy(old, ws / "ledger" / f"{old.stem} (copy).arrows")


def missing_middle(ws: Path) -> None:
    _segments(ws)[2].unlink()


def swapped(ws: Path) -> None:
    one, two = _segments(ws)[1], _segments(ws)[2]
    tmp = one.with_name("swap")
    one.rename(tmp)
    two.rename(one)
    tmp.rename(two)


def replaced_middle(ws: Path) -> None:
    """A middle segment overwritten by a copy of another one."""
    one, two = _segments(ws)[1], _segments(ws)[2]
    _write(two, one.read_bytes())


def garbage_middle(ws: Path) -> None:
    _write(_segments(ws)[2], b"not arrow" * 100)


Damage = Callable[[Path], None]
#: damage that repair clears without losing an acknowledged event
REPAIRABLE: list[Damage] = [
    stray_next,
    stray_far,
    stray_copy_of_active,
    stray_two,
    stray_garbage,
    stray_empty_file,
    stray_with_garbage_head,
    bytes_after_seal,
    garbage_head,
    foreign_head,
    head_short_seq,
    stale_head,
]
#: damage that leaves reads and writes correct: repair has nothing to move
HARMLESS: list[Damage] = [staged_files]
#: committed events are missing or out of place: repair refuses unless told to salvage
BROKEN: list[Damage] = [missing_middle, swapped, replaced_middle, garbage_middle]
ALL = REPAIRABLE + HARMLESS + BROKEN


# ------------------------------------------------------------------ checks


def _cli(ws: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["--workspace", str(ws), *args])
    out = capsys.readouterr()
    text = out.out + out.err
    assert "Traceback" not in text
    return code, text


def _events(ws: Path) -> pa.Table:
    return LedgerReader(ws / "ledger").read_table()


def _assert_reads_right_or_refuse(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every read answers right, or fails with a typed error: never a wrong answer, exit 0."""
    code, out = _cli(ws, capsys, "runs")
    if code == 0:
        assert all(f"run:demo.{name}" in out for name in RUNS), out
    else:
        assert "error [ledger_corrupt]" in out and "segment" in out.lower(), out
    code, out = _cli(ws, capsys, "best", "auc", "--stage", "evaluate")
    if code == 0:
        assert BEST in out, out
    else:
        assert "error [" in out, out
    try:
        ctx = Contexta(workspace=str(ws))
        runs = ctx.list_runs("demo")
        assert sorted(r.name for r in runs) == sorted(RUNS)
        assert ctx.select_best_run([r.run_id for r in runs], "auc", stage_name="evaluate") == BEST
    except ContextaError as exc:
        assert exc.code == "ledger_corrupt"


def _assert_whole(ws: Path, before: pa.Table) -> None:
    """`verify` is clean and every acknowledged event is there, in place, seqs gap-free."""
    report = verify(ws / "ledger")
    assert report.ok and not report.findings, report.findings
    after = _events(ws)
    assert after.slice(0, before.num_rows).equals(before)
    assert after.column("seq").to_pylist() == list(range(1, after.num_rows + 1))


def _write_one_more_run(ws: Path) -> None:
    with Contexta(workspace=str(ws)) as ctx:
        _put_run(ctx, "run-d", 0.5)


# ------------------------------------------------------------------ the family


@pytest.mark.parametrize("damage", ALL, ids=lambda d: d.__name__)
def test_reads_are_right_or_refuse(
    ws: Path, damage: Damage, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _events(ws)
    damage(ws)
    _assert_reads_right_or_refuse(ws, capsys)
    try:  # a plain ledger reader (what read-only processes and the live tail use)
        assert LedgerReader(ws / "ledger").read_table().equals(before)
    except CorruptionError as exc:
        assert exc.details.get("file")


@pytest.mark.parametrize("damage", REPAIRABLE + HARMLESS, ids=lambda d: d.__name__)
def test_repair_keeps_every_event_and_never_moves_head_back(
    ws: Path, damage: Damage, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _events(ws)
    head = read_head(ws / "ledger")
    assert head is not None
    damage(ws)
    listing = sorted(p.name for p in (ws / "ledger").iterdir())
    code, dry = _cli(ws, capsys, "ledger", "repair")
    assert code == 0, dry
    assert sorted(p.name for p in (ws / "ledger").iterdir()) == listing  # a dry run changes nothing
    code, done = _cli(ws, capsys, "ledger", "repair", "--apply")
    assert code == 0, done
    # the dry run listed exactly what --apply did (the move names differ only by time stamp)
    assert [line.split(" to ")[0] for line in dry.splitlines() if line.startswith("Would")] == [
        line.replace("Did:", "Would:").split(" to ")[0]
        for line in done.splitlines()
        if line.startswith("Did")
    ]
    repaired = read_head(ws / "ledger")
    assert repaired is not None and repaired.seq == head.seq  # never backwards, never ahead
    _assert_whole(ws, before)
    assert _cli(ws, capsys, "ledger", "verify")[0] == 0
    _assert_reads_right_or_refuse(ws, capsys)
    _write_one_more_run(ws)  # the next write continues the log: no seq is used twice
    after = read_head(ws / "ledger")
    assert after is not None and after.seq > head.seq
    _assert_whole(ws, before)


@pytest.mark.parametrize("damage", REPAIRABLE, ids=lambda d: d.__name__)
def test_the_damage_is_reported_before_repair(ws: Path, damage: Damage) -> None:
    damage(ws)
    assert verify(ws / "ledger").findings


@pytest.mark.parametrize(
    "damage", [stray_next, stray_far, stray_copy_of_active, stray_garbage], ids=lambda d: d.__name__
)
def test_a_writer_never_adopts_an_unlinked_segment(ws: Path, damage: Damage) -> None:
    """Opening the ledger to write: refuse with a typed error naming the stray, or write after
    the real head; never continue the stray's seqs."""
    before = _events(ws)
    head = read_head(ws / "ledger")
    assert head is not None
    damage(ws)
    try:
        _write_one_more_run(ws)
    except ContextaError as exc:
        assert exc.code == "ledger_corrupt" and "segment-" in exc.message
        # nothing was written: the log up to the old head is intact, HEAD did not move
        assert LedgerReader(ws / "ledger").read_table(head).equals(before)
        assert read_head(ws / "ledger") == head
        return
    after = read_head(ws / "ledger")
    assert after is not None and after.seq > head.seq
    table = LedgerReader(ws / "ledger").read_table(after)
    assert table.slice(0, before.num_rows).equals(before)


@pytest.mark.parametrize("damage", BROKEN, ids=lambda d: d.__name__)
def test_repair_refuses_a_broken_log_and_says_what_to_do(
    ws: Path, damage: Damage, capsys: pytest.CaptureFixture[str]
) -> None:
    damage(ws)
    listing = {p.name: p.stat().st_size for p in (ws / "ledger").iterdir()}
    for args in (("ledger", "repair"), ("ledger", "repair", "--apply")):
        code, out = _cli(ws, capsys, *args)
        assert code == 1, out
        assert "error [ledger_corrupt]" in out and "segment-" in out
        assert "contexta restore" in out or "Rename" in out or "name back" in out, out
        assert "--salvage" in out
    assert {p.name: p.stat().st_size for p in (ws / "ledger").iterdir()} == listing
    assert _cli(ws, capsys, "ledger", "verify")[0] == 1


@pytest.mark.parametrize("damage", BROKEN, ids=lambda d: d.__name__)
def test_salvage_cuts_a_broken_log_honestly(
    ws: Path, damage: Damage, capsys: pytest.CaptureFixture[str]
) -> None:
    """Salvage cuts at the first segment that does not continue the log, says which seqs
    left it, keeps the cut files under ledger/torn/, and leaves a log `verify` passes."""
    before = _events(ws)
    damage(ws)
    listed = {p.name for p in _segments(ws)}
    code, out = _cli(ws, capsys, "ledger", "repair", "--apply", "--salvage")
    assert code == 0, out
    assert "are no longer in the log" in out and "torn/" in out
    assert _cli(ws, capsys, "ledger", "verify")[0] == 0
    after = _events(ws)
    assert after.num_rows < before.num_rows
    assert after.equals(before.slice(0, after.num_rows))  # a prefix of the log, nothing else
    assert f"seq {after.num_rows + 1}..{before.num_rows}" in out, out
    cut = listed - {p.name for p in _segments(ws)}
    torn = [t.name for t in (ws / "ledger" / "torn").iterdir()]
    assert cut and all(any(t.startswith(name) for t in torn) for name in cut), (cut, torn)
    _write_one_more_run(ws)
    assert verify(ws / "ledger").ok


# ------------------------------------------------------------------ the reported defects


def test_repair_does_not_adopt_a_stray_segment_nor_reuse_seqs(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A stray copy of an old segment named after the active one: `repair --apply` used to
    adopt it (HEAD went back from seq 10 to 4) and the next write reused seq 5."""
    head = read_head(ws / "ledger")
    assert head is not None
    stray_next(ws)
    assert _cli(ws, capsys, "ledger", "repair", "--apply")[0] == 0
    assert read_head(ws / "ledger").seq == head.seq
    _write_one_more_run(ws)
    seqs = _events(ws).column("seq").to_pylist()
    assert seqs == sorted(set(seqs)) and seqs[-1] > head.seq
    assert _cli(ws, capsys, "ledger", "verify")[0] == 0


def test_a_stray_segment_never_drops_committed_runs_silently(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`contexta runs` used to omit two runs and `best` to answer run-a, both exit 0."""
    stray_next(ws)
    code, out = _cli(ws, capsys, "runs")
    assert code != 0 and "segment-" in out and "does not continue the log" in out
    code, out = _cli(ws, capsys, "best", "auc", "--stage", "evaluate")
    assert code != 0 and "run:demo.run-a" not in out


def test_repair_clears_a_non_arrow_stray_and_bytes_after_a_seal(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _events(ws)
    sealed = _segments(ws)[1]
    size = sealed.stat().st_size
    stray = _next_name(ws)
    stray_garbage(ws)
    bytes_after_seal(ws)
    assert _cli(ws, capsys, "runs")[0] != 0
    code, out = _cli(ws, capsys, "ledger", "repair", "--apply")
    assert code == 0 and out.count("Did: moved") == 2, out
    assert sealed.stat().st_size == size and not sealed.stat().st_mode & 0o222
    assert sorted(p.name.split(".")[0] for p in (ws / "ledger" / "torn").iterdir()) == [
        sealed.stem,
        stray.stem,
    ]
    _assert_whole(ws, before)


@pytest.mark.parametrize("rows", [1, 3, 16, 200])
def test_the_last_batch_found_from_the_end_is_the_last_batch_walked(
    tmp_path: Path, rows: int
) -> None:
    """Recovery links the active segment to the one before it by that segment's last batch,
    searched backwards from its end; event bodies full of bytes that look like message
    framing must not mislead it (checked against a walk of every batch's framing)."""
    from ledger.recovery import last_frame, segment_bounds

    root = tmp_path / "l"
    writer = Ledger(root, roll_bytes=6_000)
    lookalike = b"\xff\xff\xff\xff\x08\x00\x00\x00" * 40
    for commit in range(10):
        writer.append_many(
            [
                make_event("x", commit * rows + i)._replace(body=lookalike + bytes([commit]))
                for i in range(rows)
            ]
        )
        writer.commit()
    writer.close()
    segments = list_segments(root)
    assert len(segments) > 2
    walked = [segment_bounds(info).last for info in segments]
    assert [last_frame(info) for info in segments] == walked
    assert all(last is not None for last in walked[:-1])


@pytest.mark.parametrize(
    ("damage", "code", "which"),
    [
        (missing_middle, "segment_missing", 2),
        (stray_next, "unlinked_segment", None),
        (stray_far, "unlinked_segment", None),
        (swapped, "unlinked_segment", 1),
    ],
    ids=["missing_middle", "stray_next", "stray_far", "swapped"],
)
def test_verify_names_the_missing_or_unlinked_segment_file(
    ws: Path, damage: Damage, code: str, which: int | None
) -> None:
    names = [p.name for p in _segments(ws)]
    damage(ws)
    expected = names[which] if which is not None else _segments(ws)[-1].name
    findings = [f for f in verify(ws / "ledger").findings if f.code == code]
    assert findings and findings[0].severity == "error"
    assert Path(findings[0].file).name == expected and "repair" in findings[0].message


@pytest.mark.parametrize(
    "damage", [missing_middle, swapped, replaced_middle], ids=lambda d: d.__name__
)
def test_without_a_readable_head_a_broken_log_is_still_refused(
    ws: Path, damage: Damage, capsys: pytest.CaptureFixture[str]
) -> None:
    """With HEAD unreadable, repair cannot tell from it what was committed: segments holding
    seqs past the log's end are never taken for strays and moved aside without --salvage."""
    damage(ws)
    garbage_head(ws)
    listing = sorted(p.name for p in _segments(ws))
    code, out = _cli(ws, capsys, "ledger", "repair", "--apply")
    assert code == 1 and "error [ledger_corrupt]" in out and "--salvage" in out, out
    assert sorted(p.name for p in _segments(ws)) == listing


def test_ledger_commands_on_a_ledger_that_is_a_file(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`verify` and `repair` name the file and refuse with a typed error (they used to print a
    traceback or report nothing to repair)."""
    shutil.rmtree(ws / "ledger")
    (ws / "ledger").write_text("not a folder")
    for args in (("ledger", "verify"), ("ledger", "repair"), ("ledger", "repair", "--apply")):
        code, out = _cli(ws, capsys, *args)
        assert code == 2 and "error [workspace_damaged]" in out and str(ws / "ledger") in out, out
    assert (ws / "ledger").read_text() == "not a folder"
