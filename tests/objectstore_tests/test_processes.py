"""Eight writer processes on one bucket: concurrent, killed with SIGKILL, restarted."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ledger.objectstore import ObjectLedger, S3Store

from .conftest import child_env
from .helpers import mirror_refs

CHILD = Path(__file__).resolve().parent / "writer_child.py"


def _spawn(env: dict[str, str], bucket: str, cache: Path, writer: str, *args: str):
    return subprocess.Popen(
        [sys.executable, str(CHILD), bucket, str(cache), writer, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _check_log(bucket: str, tmp_path: Path, acked: dict[str, int], totals: dict[str, int]) -> None:
    """The merged log is gap-free and verifies; each writer's events are there once, in its
    order, and include every acknowledged one (and nothing it never wrote)."""
    reader = ObjectLedger(S3Store(bucket), "ws", tmp_path / "reader", writer_id="reader")
    reader.pull()
    refs = mirror_refs(tmp_path / "reader")
    assert len(refs) == len(set(refs))
    summary = reader.verify()
    assert summary["events"] == summary["head_seq"] == len(refs)
    for writer, total in totals.items():
        mine = [int(r.split(":")[1]) for r in refs if r.split(":")[0] == writer]
        assert mine == list(range(len(mine))), writer  # in order, no gap, no duplicate
        assert acked[writer] <= len(mine) <= total, writer
    reader.close()


def _run(
    bucket: str,
    tmp_path: Path,
    env: dict[str, str],
    writers: int,
    events: int,
    per: int,
    kill: bool,
    seed: int,
) -> None:
    """``writers`` processes append ``events`` each, ``per`` a commit and a sync; with
    ``kill``, half of them are killed with SIGKILL after a random number of local commits
    (anywhere in the sync that follows), then restarted to sync their outbox."""
    rng = random.Random(seed)
    names = [f"w{i}" for i in range(writers)]
    procs = {n: _spawn(env, bucket, tmp_path / n, n, str(events), str(per)) for n in names}
    lines: dict[str, list[str]] = {n: [] for n in names}
    readers = [
        threading.Thread(target=lambda n=n: lines[n].extend(procs[n].stdout), daemon=True)
        for n in names
    ]
    for thread in readers:
        thread.start()
    commits = -(-events // per)
    victims = (
        {n: rng.randint(1, max(1, commits - 1)) for n in rng.sample(names, writers // 2)}
        if kill
        else {}
    )
    while any(p.poll() is None for p in procs.values()):
        for n, after in list(victims.items()):
            if sum(line.startswith("local") for line in lines[n]) >= after:
                time.sleep(rng.uniform(0, 0.05))  # somewhere in the sync that follows
                os.kill(procs[n].pid, signal.SIGKILL)
                del victims[n]
        time.sleep(0.005)
    for thread in readers:
        thread.join()
    acked: dict[str, int] = {}
    for n, proc in procs.items():
        err = proc.stderr.read() if proc.stderr is not None else ""
        proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        assert proc.returncode in (0, -signal.SIGKILL), err
        local = [int(line.split()[1]) for line in lines[n] if line.startswith("local")]
        acked[n] = max(local, default=0)
        if proc.returncode != 0:  # restart the killed writer: it sends its outbox
            again = _spawn(env, bucket, tmp_path / n, n, "0", "0", "sync-only")
            _, err2 = again.communicate(timeout=300)
            assert again.returncode == 0, err2
    if kill:  # someone was really killed
        assert any(p.returncode == -signal.SIGKILL for p in procs.values())
    _check_log(bucket, tmp_path, acked, dict.fromkeys(names, events))


def test_writer_processes_append_concurrently(
    bucket: str, tmp_path: Path, s3_env: dict[str, str]
) -> None:
    """The fast sample (3 processes); the 8-process runs are marked slow below."""
    _run(bucket, tmp_path, child_env(s3_env), 3, 20, 10, kill=False, seed=1)


def test_kill_minus_9_of_writer_processes_loses_nothing_acknowledged(
    bucket: str, tmp_path: Path, s3_env: dict[str, str]
) -> None:
    _run(bucket, tmp_path, child_env(s3_env), 4, 60, 4, kill=True, seed=2)


@pytest.mark.slow
def test_eight_writer_processes_append_concurrently(
    bucket: str, tmp_path: Path, s3_env: dict[str, str]
) -> None:
    _run(bucket, tmp_path, child_env(s3_env), 8, 60, 10, kill=False, seed=1)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(3, 9))
def test_kill_minus_9_of_eight_writers_matrix(
    bucket: str, tmp_path: Path, s3_env: dict[str, str], seed: int
) -> None:
    _run(bucket, tmp_path, child_env(s3_env), 8, 400, 4, kill=True, seed=seed)
