"""Drivers of the reliability matrix, shared by the tests and ``benchmarks/reliability_report.py``.

Each driver runs one row of the matrix with a given size and returns a :class:`Tally`: how many
cases ran (kills, offsets, bytes, faults), how many events were checked, how many acknowledged
events were lost, and every violated expectation as a sentence. Tests assert the violations
are empty; the report prints the counts.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from ledger import (
    CorruptionError,
    Head,
    Ledger,
    LedgerReader,
    list_segments,
    read_head,
    verify,
)
from ledger.head import HEAD_NAME

from .faults import NoSyncFS, make_event, truncate_at

HERE = Path(__file__).resolve().parent
CHILD = HERE / "_child_writer.py"


@dataclass
class Tally:
    """What one matrix row did and found."""

    name: str
    cases: int = 0
    events_checked: int = 0
    acked_events: int = 0
    lost_events: int = 0
    violations: list[str] = field(default_factory=list)
    notes: dict[str, int] = field(default_factory=dict)

    def fail(self, message: str) -> None:
        if len(self.violations) < 50:
            self.violations.append(message)

    def bump(self, key: str, n: int = 1) -> None:
        self.notes[key] = self.notes.get(key, 0) + n


# ---------------------------------------------------------------------------- reading


def read_all(root: Path) -> pa.Table:
    """Every event a fresh reader sees (its head derived as recovery would, if need be)."""
    return LedgerReader(root).read_table()


def ids_of(table: pa.Table, tag: str) -> list[int]:
    prefix = f"{tag}:".encode()
    out = []
    for body in table.column("body").to_pylist():
        if body.startswith(prefix):
            out.append(int(body[len(prefix) :].split(b".")[0]))
    return out


def check_seq(table: pa.Table, tally: Tally, where: str) -> None:
    seqs = table.column("seq").to_pylist()
    if seqs != list(range(1, len(seqs) + 1)):
        tally.fail(f"{where}: seq is not gap-free 1..{len(seqs)}")


def findings(root: Path, *, errors_only: bool = False) -> list[str]:
    report = verify(root)
    return [
        f"{f.severity} {f.code} {Path(f.file).name}@{f.offset} seq {f.seq}"
        for f in report.findings
        if not errors_only or f.severity == "error"
    ]


def next_writer_carries_on(root: Path, tally: Tally, where: str, **kwargs: object) -> None:
    """A new writer commits one event right after the last visible seq; verify is clean."""
    before = read_all(root).num_rows
    writer = Ledger(root, **kwargs)  # type: ignore[arg-type]
    try:
        info = writer.append_many([make_event("next", before)]) or writer.commit()
    finally:
        writer.close()
    if info is None or info.first_seq != before + 1:
        tally.fail(
            f"{where}: the next writer committed at {info and info.first_seq}, not {before + 1}"
        )
    left = findings(root)
    if left:
        tally.fail(f"{where}: verify after the next writer: {left}")


# ---------------------------------------------------------------------------- 1. kill -9


def _spawn(
    root: Path,
    tag: str,
    durability: str,
    kill_at: int,
    commits: int,
    batch: int,
    roll_bytes: int,
    partial: float,
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            str(CHILD),
            str(root),
            tag,
            durability,
            str(kill_at),
            str(commits),
            str(batch),
            str(roll_bytes),
            str(partial),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _acks(lines: list[str]) -> list[tuple[int, int, int, int]]:
    out = []
    for line in lines:
        parts = line.split()
        if parts and parts[0] == "ack":
            out.append((int(parts[1]), int(parts[2]), int(parts[3]), int(parts[4])))
    return out


def kill_writer_mid_commit(
    root: Path,
    tag: str,
    *,
    kill_at: int,
    durability: str = "flush",
    commits: int = 40,
    batch: int = 9,
    roll_bytes: int = 6000,
    partial: float = 0.5,
) -> tuple[list[tuple[int, int, int, int]], int, str]:
    """Run a writer process that SIGKILLs itself at its ``kill_at``-th file-system call (a
    ``pwrite`` there is cut to ``partial`` of its bytes first). Returns its acknowledged
    commits ``(first_seq, count, first_i, last_i)``, its return code and its stderr."""
    proc = _spawn(root, tag, durability, kill_at, commits, batch, roll_bytes, partial)
    out, err = proc.communicate(timeout=120)
    return _acks(out.splitlines()), proc.returncode, err


def kill_writer_at_random(
    root: Path,
    tag: str,
    rng: random.Random,
    *,
    durability: str = "flush",
    max_acks: int = 25,
    batch: int = 9,
    roll_bytes: int = 6000,
) -> tuple[list[tuple[int, int, int, int]], int, str]:
    """Run a writer process committing as fast as it can and ``kill -9`` it after a random
    number of acknowledged commits plus a random sub-millisecond delay."""
    proc = _spawn(root, tag, durability, 0, 100_000, batch, roll_bytes, 0.5)
    assert proc.stdout is not None
    lines = [proc.stdout.readline()]  # "ready"
    want = rng.randint(0, max_acks)
    while len(lines) <= want:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
    time.sleep(rng.random() / 1000)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    lines.extend(proc.stdout.read().splitlines())  # what the text buffer already holds, too
    assert proc.stderr is not None
    err = proc.stderr.read()
    proc.stdout.close()
    proc.stderr.close()
    return _acks(lines), proc.returncode, err


def kill_matrix(workdir: Path, kills: int, seed: int = 1) -> Tally:
    """Kill -9 writers ``kills`` times (half at file-system kill points, half at random
    moments) on one ledger; after each kill check the prefix property and that the next
    writer carries on with a clean verify."""
    tally = Tally("kill -9 mid-commit")
    rng = random.Random(seed)
    root = workdir / "kill-ledger"
    for round_ in range(kills):
        tag = f"k{round_}"
        durability = "fsync" if round_ % 2 else "flush"
        batch = 9
        if round_ % 4 < 2:
            kill_at = rng.randint(1, 60)
            partial = rng.choice((0.0, 0.01, 0.5, 0.99))
            acks, code, err = kill_writer_mid_commit(
                root, tag, kill_at=kill_at, durability=durability, partial=partial, batch=batch
            )
            tally.bump("kill points")
        else:
            acks, code, err = kill_writer_at_random(
                root, tag, rng, durability=durability, batch=batch
            )
            tally.bump("random-time kills")
        if code != -signal.SIGKILL:
            tally.fail(f"round {round_}: writer exited {code}, not killed: {err[-300:]}")
            continue
        tally.cases += 1
        acked = acks[-1][3] + 1 if acks else 0
        tally.acked_events += acked
        try:
            table = read_all(root)
        except Exception as exc:
            tally.fail(f"round {round_}: reading after the kill raised {exc!r}")
            continue
        check_seq(table, tally, f"round {round_}")
        seen = ids_of(table, tag)
        tally.events_checked += table.num_rows
        if seen != list(range(len(seen))):
            tally.fail(f"round {round_}: {tag} events are not a prefix in order")
        if len(seen) < acked:
            tally.lost_events += acked - len(seen)
            tally.fail(f"round {round_}: {acked - len(seen)} acknowledged events lost")
        if len(seen) > acked + batch:
            tally.fail(f"round {round_}: {len(seen) - acked} events past the last ack visible")
        for first_seq, _count, first_i, _ in acks:
            if table.column("body")[first_seq - 1].as_py() != f"{tag}:{first_i}".encode().ljust(
                40, b"."
            ):
                tally.fail(f"round {round_}: ack at seq {first_seq} does not hold {tag}:{first_i}")
                break
        errors = findings(root, errors_only=True)
        if errors:
            tally.fail(f"round {round_}: verify after the kill found damage: {errors}")
        if round_ % 5 == 4 or round_ == kills - 1:
            next_writer_carries_on(root, tally, f"round {round_}", roll_bytes=6000)
    return tally


# ---------------------------------------------------------------------------- 2. torn tail


def build_ledger(
    root: Path,
    *,
    batches: int = 6,
    per_batch: int = 7,
    roll_bytes: int = 4000,
    size: int = 40,
    durability: str = "flush",
) -> list[Head]:
    """A ledger with several segments; returns the published head after each commit."""
    writer = Ledger(root, roll_bytes=roll_bytes, durability=durability, fs=NoSyncFS())
    heads = []
    for b in range(batches):
        writer.append_many(
            [make_event("b", b * per_batch + i, size=size) for i in range(per_batch)]
        )
        writer.commit()
        heads.append(read_head(root) or Head())
    writer.close()
    return heads


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in root.iterdir() if p.is_file()}


def _restore(root: Path, files: dict[str, bytes]) -> None:
    shutil.rmtree(root / "torn", ignore_errors=True)
    for path in root.iterdir():
        if path.is_file() and path.name not in files:
            path.unlink()
    for name, data in files.items():
        target = root / name
        if target.exists():
            os.chmod(target, 0o644)
        target.write_bytes(data)


def torn_tail_matrix(workdir: Path, offsets: int | None = None, seed: int = 2) -> Tally:
    """Cut the active segment at every byte offset of its last batch (or ``offsets`` sampled
    ones), with HEAD as the torn commit left it (before the batch) or missing."""
    tally = Tally("torn tail")
    root = workdir / "torn-ledger"
    writer = Ledger(root, roll_bytes=1 << 30, fs=NoSyncFS())
    for b in range(4):
        writer.append_many([make_event("t", b * 5 + i, size=60) for i in range(5)])
        writer.commit()
    before = (root / HEAD_NAME).read_bytes()
    head_before = read_head(root)
    writer.append_many([make_event("t", 20 + i, size=20) for i in range(3)])
    writer.close()
    assert head_before is not None
    segment = list_segments(root)[-1].path
    start, end = head_before.offset, segment.stat().st_size
    files = _snapshot(root)
    files[HEAD_NAME] = before  # the torn commit never published its head
    cuts = list(range(start, end))
    if offsets is not None and offsets < len(cuts):
        rng = random.Random(seed)
        cuts = sorted({start, start + 1, start + 8, end - 1, *rng.sample(cuts, offsets)})
    expected = [b"t:%d" % i for i in range(20)]
    for n, cut in enumerate(cuts):
        for head_state in ("stale", "missing") if n % 3 == 0 else ("stale",):
            _restore(root, files)
            truncate_at(segment, cut)
            if head_state == "missing":
                (root / HEAD_NAME).unlink()
            tally.cases += 1
            where = f"cut at {cut} (head {head_state})"
            try:
                table = read_all(root)
            except Exception as exc:
                tally.fail(f"{where}: reader raised {exc!r}")
                continue
            got = [b.split(b".")[0] for b in table.column("body").to_pylist()]
            tally.events_checked += len(got)
            if got != expected:
                tally.fail(f"{where}: reader saw {len(got)} events, not the 20 earlier ones")
            report = verify(root)
            torn = [f for f in report.findings if f.code == "torn_tail"]
            if [f for f in report.findings if f.severity == "error"]:
                tally.fail(f"{where}: verify reported damage {findings(root)}")
            if cut > start and (not torn or torn[0].offset != start):
                tally.fail(f"{where}: verify did not report the torn tail at {start}")
            try:
                writer = Ledger(root, roll_bytes=1 << 30, fs=NoSyncFS())
                writer.append(make_event("after", 0))
                writer.close()
            except Exception as exc:
                tally.fail(f"{where}: opening a writer raised {exc!r}")
                continue
            rec = writer.last_recovery
            moved = sorted((root / "torn").glob("*.torn")) if (root / "torn").exists() else []
            if cut > start:
                if rec is None or rec.torn_bytes != cut - start or rec.torn_offset != start:
                    tally.fail(f"{where}: recovery reported {rec and rec.torn_bytes} torn bytes")
                if len(moved) != 1 or moved[0].read_bytes() != files[segment.name][start:cut]:
                    tally.fail(f"{where}: the torn bytes were not moved aside intact")
            table = read_all(root)
            if table.num_rows != 21 or table.column("seq").to_pylist() != list(range(1, 22)):
                tally.fail(f"{where}: after the next writer {table.num_rows} events")
            left = findings(root)
            if left:
                tally.fail(f"{where}: verify after recovery: {left}")
    tally.notes["batch bytes"] = end - start
    return tally


# ---------------------------------------------------------------------------- 3. flipped bytes


def flip_matrix(workdir: Path, per_batch: int | None = None, seed: int = 3) -> Tally:
    """Change one byte at every position (or ``per_batch`` sampled ones) of a committed batch
    in a sealed segment and of one in the active segment."""
    from .faults import flip_byte

    tally = Tally("flipped bytes")
    root = workdir / "flip-ledger"
    build_ledger(root, batches=6, per_batch=3, roll_bytes=2500, size=30)
    writer = Ledger(root, roll_bytes=1 << 30, fs=NoSyncFS())
    for b in range(2):
        writer.append_many([make_event("a", b * 3 + i, size=30) for i in range(3)])
        writer.commit()
    writer.close()
    segments = list_segments(root)
    reader = LedgerReader(root)
    frames = [(idx, f.offset, f.length) for idx, f in reader.frames()]
    head = read_head(root)
    assert head is not None and len(segments) >= 2
    sealed = next(f for f in frames if f[0] < head.segment)
    active = next(f for f in frames if f[0] == head.segment)
    rng = random.Random(seed)
    masks = (0xFF, 0x01, 0x80, 0x10)
    for idx, offset, length in (sealed, active):
        path = root / segments[idx].path.name
        positions = list(range(offset, offset + length))
        if per_batch is not None and per_batch < len(positions):
            positions = sorted(
                {offset, offset + 4, offset + length - 1, *rng.sample(positions, per_batch)}
            )
        for pos in positions:
            mask = masks[pos % len(masks)]
            flip_byte(path, pos, mask)
            tally.cases += 1
            where = f"{path.name} byte {pos} ^ {mask:#x}"
            try:
                report = verify(root)
                errors = [f for f in report.findings if f.severity == "error"]
                if not errors:
                    tally.fail(f"{where}: verify found nothing")
                elif errors[0].file != str(path) or errors[0].offset != offset:
                    tally.fail(f"{where}: verify named {errors[0].file}@{errors[0].offset}")
            except Exception as exc:
                tally.fail(f"{where}: verify raised {exc!r}")
            try:
                LedgerReader(root).read_table()
                tally.fail(f"{where}: the reader returned data")
            except CorruptionError as exc:
                if exc.details.get("file") != str(path) or exc.details.get("offset") != offset:
                    tally.fail(f"{where}: reader error names {exc.details}")
            except Exception as exc:
                tally.fail(f"{where}: the reader raised {exc!r}, not CorruptionError")
            flip_byte(path, pos, mask)
    tally.notes["sealed batch bytes"] = sealed[2]
    tally.notes["active batch bytes"] = active[2]
    if findings(root):
        tally.fail("the ledger is not clean after undoing the flips")
    return tally


# ---------------------------------------------------------------------------- 4. concurrency

_CONCURRENT_WRITER = r"""
import json, sys
sys.path.insert(0, sys.argv[5])
from faults import make_event
from ledger import Ledger
root, tag, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
w = int(tag[1:])
ledger = Ledger(root, buffer_max_events=1 + (w * 13) % 40, roll_bytes=200_000)
commits = []
for i in range(n):
    info = ledger.append(make_event(tag, i))
    if info is None and i % 17 == 0:
        info = ledger.commit()
    if info is not None:
        commits.append((info.first_seq, info.count))
info = ledger.commit()
if info is not None:
    commits.append((info.first_seq, info.count))
ledger.close()
json.dump(commits, open(out, "w"))
"""

_CONCURRENT_READER = r"""
import json, os, sys, time
sys.path.insert(0, sys.argv[4])
from ledger import LedgerReader
from projections import Projector
root, stop, out = sys.argv[1], sys.argv[2], sys.argv[3]
use_projections = sys.argv[5] == "1"
reader = LedgerReader(root)
projector = Projector(LedgerReader(root), os.path.join(os.path.dirname(root), "projections")) if use_projections else None
last, reads, problems = 0, 0, []
while True:
    done = os.path.exists(stop)
    head = reader.head()
    for batch in reader.batches(head, after_seq=last):
        seqs = batch.column("seq").to_pylist()
        if seqs[0] != last + 1 or seqs != list(range(seqs[0], seqs[0] + len(seqs))):
            problems.append(f"gap: expected {last + 1}, got {seqs[0]}..{seqs[-1]}")
        if len(set(batch.column("actor").to_pylist())) != 1:
            problems.append(f"batch at seq {seqs[0]} mixes writers")
        last = seqs[-1]
    if projector is not None:
        rows = projector.get("records", head).num_rows
        if rows != head.seq:
            problems.append(f"records projection has {rows} rows at head {head.seq}")
        if reads % 7 == 0:
            projector.save(["records"])
    reads += 1
    if done:
        break
    time.sleep(0.002)
json.dump({"reads": reads, "last": last, "problems": problems[:20]}, open(out, "w"))
"""


def concurrency_run(workdir: Path, writers: int, appends: int, readers: int = 2) -> Tally:
    """``writers`` processes append ``appends`` events each while ``readers`` processes read."""
    tally = Tally("concurrent writers")
    root = workdir / "conc" / "ledger"
    root.mkdir(parents=True)
    stop = workdir / "conc" / "STOP"
    rprocs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _CONCURRENT_READER,
                str(root),
                str(stop),
                str(workdir / f"reader{r}.json"),
                str(HERE),
                "1" if r == 1 else "0",
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        for r in range(readers)
    ]
    wprocs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _CONCURRENT_WRITER,
                str(root),
                f"w{w}",
                str(appends),
                str(workdir / f"writer{w}.json"),
                str(HERE),
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(writers)
    ]
    for w, proc in enumerate(wprocs):
        _, err = proc.communicate(timeout=600)
        if proc.returncode != 0 or err.strip():
            tally.fail(f"writer {w} exited {proc.returncode}: {err.strip()[-400:]}")
    stop.touch()
    reads = 0
    for r, proc in enumerate(rprocs):
        _, err = proc.communicate(timeout=600)
        if proc.returncode != 0 or err.strip():
            tally.fail(f"reader {r} exited {proc.returncode}: {err.strip()[-400:]}")
            continue
        result = json.loads((workdir / f"reader{r}.json").read_text())
        reads += result["reads"]
        for problem in result["problems"]:
            tally.fail(f"reader {r}: {problem}")
        if result["last"] != writers * appends:
            tally.fail(f"reader {r} ended at seq {result['last']}")
    table = read_all(root)
    tally.cases = writers * appends
    tally.events_checked = table.num_rows
    tally.acked_events = writers * appends
    check_seq(table, tally, "final")
    bodies = table.column("body").to_pylist()
    for w in range(writers):
        mine = ids_of(table, f"w{w}")
        if mine != list(range(appends)):
            lost = appends - len(set(mine))
            tally.lost_events += max(0, lost)
            tally.fail(
                f"writer {w}: {len(mine)} events, {len(set(mine))} distinct, order kept: "
                f"{mine == sorted(mine)}"
            )
        commits = json.loads((workdir / f"writer{w}.json").read_text())
        tally.bump("commits", len(commits))
        for first, count in commits:
            rows = bodies[first - 1 : first - 1 + count]
            if len(rows) != count or any(not b.startswith(f"w{w}:".encode()) for b in rows):
                tally.fail(f"writer {w}: commit at seq {first} is not {count} of its events")
                break
    tally.notes["reader passes"] = reads
    left = findings(root)
    if left:
        tally.fail(f"verify: {left}")
    return tally
