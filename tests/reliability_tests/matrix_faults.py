"""Drivers of the matrix rows that inject faults through the file-system seam: power loss
(durability modes), I/O errors (ENOSPC/EIO), crashes inside a projection save, and the
``flush`` window under ``kill -9``."""

from __future__ import annotations

import errno
import json
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from ledger import (
    DurabilityError,
    Head,
    Ledger,
    LedgerClosedError,
    LedgerError,
    LedgerIOError,
    LedgerReader,
    read_head,
)
from projections import Projector
from projections.engine import ALL_PROJECTIONS
from projections.records import RecordsProjection

from .faults import CrashFS, FaultyFS, PowerLossFS, SimulatedCrash, abandon, make_event
from .matrix import HERE, Tally, findings, ids_of, next_writer_carries_on, read_all

# ---------------------------------------------------------------------------- 8. power loss


def power_loss_matrix(workdir: Path, rounds: int, seed: int = 8) -> Tally:
    """Commit under :class:`PowerLossFS`, cut the power at a random instant (between commits
    or at a file-system call inside one), restart, and check what survived."""
    tally = Tally("power loss")
    rng = random.Random(seed)
    for r in range(rounds):
        durability = "fsync" if r % 2 == 0 else "flush"
        mode = "discard" if r % 4 < 2 else "random"
        root = workdir / f"pl{r}" / "ledger"
        root.mkdir(parents=True)
        power = PowerLossFS()
        crash_at = rng.randint(1, 80) if r % 3 else None
        fs = CrashFS(crash_at, partial=rng.random(), inner=power)
        writer = Ledger(root, durability=durability, roll_bytes=3000, fs=fs)
        acked = durable = i = 0
        try:
            for _ in range(rng.randint(1, 30)):
                n = rng.randint(1, 5)
                events = [make_event("p", i + j, size=30) for j in range(n)]
                info = writer.append_many(events) or writer.commit()
                i += n
                acked = i
                if info is not None and info.durability == "FSYNCED":
                    durable = i
        except SimulatedCrash:
            tally.bump("crashed inside a commit")
        abandon(writer)
        power.power_loss(mode, rng)
        tally.cases += 1
        tally.acked_events += durable
        where = f"round {r} ({durability}, {mode}, crash at {crash_at})"
        try:
            table = read_all(root)
        except Exception as exc:
            tally.fail(f"{where}: reading after the restart raised {exc!r}")
            continue
        seen = ids_of(table, "p")
        tally.events_checked += len(seen)
        if seen != list(range(len(seen))):
            tally.fail(f"{where}: survivors are not a prefix of the commits")
        if len(seen) < durable:
            tally.lost_events += durable - len(seen)
            tally.fail(f"{where}: {durable - len(seen)} events acknowledged FSYNCED were lost")
        if len(seen) > acked + 5:
            tally.fail(f"{where}: more events than were ever written")
        if durability == "fsync" and len(seen) < acked:
            tally.fail(f"{where}: fsync mode lost acknowledged commits")
        next_writer_carries_on(root, tally, where, fs=power)
    return tally


def flush_window_power_loss(workdir: Path, sync_interval_ms: float = 100.0) -> Tally:
    """``flush`` mode: a commit older than ``sync_interval_ms`` survives a power loss (the
    background thread fsynced it), while the newest commit may not."""
    tally = Tally("flush window, power loss")
    root = workdir / "flushwin" / "ledger"
    root.mkdir(parents=True)
    power = PowerLossFS()
    writer = Ledger(root, fs=power, sync_interval_ms=sync_interval_ms)
    writer.append_many([make_event("old", i) for i in range(10)])
    first = writer.commit()
    time.sleep(sync_interval_ms * 3 / 1000)
    writer.append_many([make_event("new", i) for i in range(10)])
    second = writer.commit()
    abandon(writer)
    power.power_loss("discard")
    table = read_all(root)
    tally.cases = 1
    tally.acked_events = 10
    tally.events_checked = table.num_rows
    if first is None or first.durability != "FLUSHED" or second is None:
        tally.fail(f"unexpected commit statuses {first}, {second}")
    if ids_of(table, "old") != list(range(10)):
        tally.lost_events = 10 - len(ids_of(table, "old"))
        tally.fail("the commit older than the sync interval did not survive")
    if ids_of(table, "new"):
        tally.fail("the newest, never-fsynced commit survived a discard-all power loss")
    next_writer_carries_on(root, tally, "after the loss", fs=power)
    return tally


_WINDOW_CHILD = r"""
import sys, time
sys.path.insert(0, sys.argv[2])
from faults import make_event
from ledger import Ledger
ledger = Ledger(sys.argv[1])  # defaults: flush, 1024 events, 50 ms
n, sleep_ms = int(sys.argv[3]), float(sys.argv[4])
for i in range(n):
    ledger.append(make_event("w", i))
time.sleep(sleep_ms / 1000)
print("slept", flush=True)
for i in range(n, n + 5):
    ledger.append(make_event("w", i))
print("more", flush=True)
time.sleep(60)
"""


def flush_window_kill(workdir: Path, cases: tuple[tuple[int, float], ...]) -> Tally:
    """``kill -9`` a process that appended ``n`` events and slept ``sleep_ms``: with a sleep
    longer than ``buffer_max_ms`` (50) all ``n`` events are in the ledger; without, what is
    lost is the last events, fewer than ``buffer_max_events`` (1024), as the README promises.
    (Not "the first 1024 are there": a pause in the loop, such as pyarrow's one-time import of
    pandas once ``DIRECT_BUDGET`` events were built without it, lets the timer commit part of the buffer
    first, and the full buffer then ends at another event.)"""
    tally = Tally("flush window, kill -9")
    for k, (n, sleep_ms) in enumerate(cases):
        root = workdir / f"win{k}" / "ledger"
        proc = subprocess.Popen(
            [sys.executable, "-c", _WINDOW_CHILD, str(root), str(HERE), str(n), str(sleep_ms)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if line.strip() != "slept":
            proc.kill()
            tally.fail(f"case {k}: child said {line!r}: {proc.communicate()[1][-300:]}")
            continue
        proc.stdout.readline()  # "more": appended within the window, may be lost
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        seen = ids_of(read_all(root), "w")
        tally.cases += 1
        expect = n if sleep_ms > 50 else max(0, n - 1023)
        tally.acked_events += expect
        tally.events_checked += len(seen)
        if seen[:expect] != list(range(expect)):
            tally.lost_events += max(0, expect - len(seen))
            tally.fail(
                f"case {k} (n={n}, slept {sleep_ms} ms): {len(seen)} events, want >= {expect}"
            )
    return tally


# ---------------------------------------------------------------------------- 6. I/O errors

OPS = ("pwrite", "fsync", "replace", "fsync_dir", "open")


def io_fault_matrix(workdir: Path, nths: tuple[int, ...] = (1, 2, 4)) -> Tally:
    """Inject ENOSPC and EIO into each file-system operation (at its n-th call, until healed)
    in both durability modes; the ledger stays valid, errors are typed, fsync failures are
    fatal, and after healing a reopen carries on."""
    tally = Tally("disk full and I/O errors")
    case = 0
    for op in OPS:
        for err in (errno.ENOSPC, errno.EIO):
            for durability in ("flush", "fsync"):
                for nth in nths:
                    case += 1
                    _io_case(workdir / f"io{case}" / "ledger", op, err, durability, nth, tally)
    return tally


def _io_case(root: Path, op: str, err: int, durability: str, nth: int, tally: Tally) -> None:
    where = f"{op} {errno.errorcode[err]} {durability} call {nth}"
    fs = FaultyFS(op, err, nth=nth, times=None)
    writer = Ledger(root, durability=durability, roll_bytes=1500, fs=fs, sync_interval_ms=None)
    committed: set[int] = set()  # events whose commit returned (or was reported committed)
    taken: set[int] = set()  # events an append call accepted (did not raise for)
    attempted = 0
    fatal = False
    for c in range(10):
        events = [make_event("e", attempted + j, size=30) for j in range(3)]
        pending = set(range(attempted, attempted + 3))
        attempted += 3
        for step in ("append", "commit"):
            try:
                if step == "append":
                    writer.append_many(events)  # raises a background commit's error, unbuffered
                    taken |= pending
                else:
                    writer.commit()
                    committed |= taken
            except DurabilityError:
                fatal = True
                tally.bump("fsync failures made fatal")
                try:
                    writer.append(make_event("e", 10_000))
                    tally.fail(f"{where}: the writer accepted an append after a failed fsync")
                except LedgerClosedError:
                    pass
                break
            except LedgerIOError as exc:
                tally.bump("typed I/O errors raised")
                if exc.details.get("errno") not in (err, None) or not exc.message:
                    tally.fail(f"{where}: unclear error {exc!r}")
                if exc.details.get("committed"):
                    committed |= taken
            except Exception as exc:
                tally.fail(f"{where}: {step} {c} raised {type(exc).__name__}: {exc}")
                fatal = True
                break
        if fatal:
            break
        errors = findings(root, errors_only=True) if root.exists() else []
        if errors:
            tally.fail(f"{where}: verify found damage while faulty: {errors}")
    tally.cases += 1
    tally.bump("faults injected", fs.injected)
    fs.heal()
    if not fatal:
        try:
            writer.close()  # commits what stayed buffered
            committed = set(taken)
        except LedgerError as exc:
            tally.fail(f"{where}: closing after the fault healed raised {exc!r}")
    table = read_all(root) if root.exists() else None
    seen = ids_of(table, "e") if table is not None else []
    tally.events_checked += len(seen)
    tally.acked_events += len(committed)
    if len(seen) != len(set(seen)):
        tally.fail(f"{where}: duplicated events")
    missing = committed - set(seen)
    if missing:
        tally.lost_events += len(missing)
        tally.fail(f"{where}: {len(missing)} committed events missing")
    if root.exists():
        next_writer_carries_on(root, tally, where)


# ---------------------------------------------------------------------------- 5. projections


def projection_crash_matrix(
    workdir: Path, *, every_projection: bool, power_loss: bool, seed: int = 5
) -> Tally:
    """Crash at every file-system step of a projection save (write temp, fsync, rename, fsync
    dir), optionally followed by a power loss; the reopened state always matches its
    checkpoint and catches up to the rebuild."""
    tally = Tally("projection save crash" + (" + power loss" if power_loss else ""))
    classes = ALL_PROJECTIONS if every_projection else (RecordsProjection,)
    base = workdir / ("pcp" if power_loss else "pc")
    root = base / "ledger"
    heads: dict[int, Head] = {}
    writer = Ledger(root)
    for b in range(8):
        writer.append_many([make_event("x", b * 10 + i) for i in range(10)])
        writer.commit()
        head = read_head(root)
        assert head is not None
        heads[head.seq] = head
        if b == 3:
            first = Projector(LedgerReader(root), base / "proj", classes=classes)
            first.catch_up()
            first.save()
    writer.close()
    saved = base / "proj-A"
    shutil.copytree(base / "proj", saved)
    counter = CrashFS(None)
    shutil.copytree(saved, base / "probe")  # count the steps of the very save that will crash
    probe = Projector(LedgerReader(root), base / "probe", classes=classes, fs=counter)
    probe.catch_up()
    probe.save()
    steps = counter.calls
    reference = {
        c.name: Projector(LedgerReader(root), base, persist=False, classes=classes) for c in classes
    }
    rng = random.Random(seed)
    for k in range(1, steps + 1):
        shutil.rmtree(base / "proj")
        shutil.copytree(saved, base / "proj")
        power = PowerLossFS() if power_loss else None
        crash = CrashFS(k, partial=rng.random(), inner=power)
        projector = Projector(LedgerReader(root), base / "proj", classes=classes, fs=crash)
        projector.catch_up()
        try:
            projector.save()
            tally.fail(f"step {k}: no crash happened")
        except SimulatedCrash:
            pass
        if power is not None:
            power.power_loss("random" if k % 2 else "discard", rng)
        tally.cases += 1
        _check_reopen(
            root, base / "proj", classes, heads, reference, tally, f"step {k} ({crash.trace[-1]})"
        )
    tally.notes["steps per save"] = steps
    return tally


def _check_reopen(
    root: Path,
    folder: Path,
    classes: tuple,
    heads: dict[int, Head],
    reference: dict[str, Projector],
    tally: Tally,
    where: str,
) -> None:
    try:
        reopened = Projector(LedgerReader(root), folder, classes=classes)
        statuses = {s.name: s for s in reopened.status()}
    except Exception as exc:
        tally.fail(f"{where}: reopening raised {exc!r}")
        return
    for cls in classes:
        status = statuses[cls.name]
        checkpoint = status.checkpoint
        if checkpoint not in (0, 40, 80):
            tally.fail(f"{where}: {cls.name} loaded checkpoint {checkpoint}")
            continue
        loaded = reopened._slots[cls.name].projection.table()
        if checkpoint:
            ref = Projector(LedgerReader(root), folder, persist=False, classes=(cls,))
            expect = ref.get(cls.name, heads[checkpoint]).table()
            if not loaded.equals(expect):
                tally.fail(f"{where}: {cls.name} state does not match checkpoint {checkpoint}")
        tally.events_checked += loaded.num_rows
        tally.bump(f"reopened at {checkpoint}")
        final = reopened.get(cls.name).table()
        full = reference[cls.name].get(cls.name).table()
        if not final.equals(full):
            tally.fail(f"{where}: {cls.name} after catch-up differs from the rebuild")


def dump(tally: Tally) -> str:
    """One JSON line per tally (for the report)."""
    return json.dumps(tally.__dict__)


__all__ = [
    "dump",
    "flush_window_kill",
    "flush_window_power_loss",
    "io_fault_matrix",
    "power_loss_matrix",
    "projection_crash_matrix",
]
