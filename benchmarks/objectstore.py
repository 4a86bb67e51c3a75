"""Object-store ledger benchmarks: commits/s and events/s with 1, 4 and 8 writer processes
through the S3 API on loopback (moto, requests serialised as S3's atomic create needs), and the
engine fold rate against the built-in fold.

    uv run python benchmarks/objectstore.py --quick     # small sizes
    uv run python benchmarks/objectstore.py             # 10M events for the fold

Prints one JSON object per measurement. Not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SERVER = REPO / "tests" / "objectstore_tests" / "moto_serial.py"
ENV = {"AWS_ACCESS_KEY_ID": "b", "AWS_SECRET_ACCESS_KEY": "b", "AWS_DEFAULT_REGION": "us-east-1"}


def _writer(bucket: str, cache: str, name: str, commits: int, per: int) -> None:
    from ledger import PendingEvent
    from ledger.objectstore import ObjectLedger, S3Store

    store = S3Store(bucket)
    ledger = ObjectLedger(store, "bench", Path(cache), writer_id=name)
    ledger.sync(pull=False)  # claim the epoch before the clock starts
    print("ready", flush=True)
    sys.stdin.readline()  # every writer starts at once
    start = time.perf_counter()
    for c in range(commits):
        ledger.outbox.append_many(
            [
                PendingEvent(
                    "record.metric",
                    ref=f"{name}:{c}:{i}",
                    key="loss",
                    value=1.0,
                    step=i,
                    body=b"x" * 64,
                )
                for i in range(per)
            ]
        )
        ledger.outbox.commit()
        ledger.sync(pull=False)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "requests": store.requests}), flush=True)


def bench_writers(endpoint: str, writers: int, commits: int, per: int) -> dict[str, object]:
    from ledger.objectstore import S3Store

    bucket = f"bench-{uuid.uuid4().hex[:12]}"
    S3Store(bucket).create_bucket()
    tmp = Path(tempfile.mkdtemp())
    env = {**os.environ, **ENV, "AWS_ENDPOINT_URL": endpoint}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--writer",
                bucket,
                str(tmp / f"w{i}"),
                f"w{i}",
                str(commits),
                str(per),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(writers)
    ]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    wall = max(r["seconds"] for r in results)
    total = writers * commits
    return {
        "measure": "commit",
        "writers": writers,
        "events_per_commit": per,
        "commits_per_s": round(total / wall, 1),
        "events_per_s": round(total * per / wall, 1),
        "requests_per_commit": round(sum(r["requests"] for r in results) / total, 2),
    }


def bench_fold(events: int) -> Iterator[dict[str, object]]:
    from ledger import Ledger, LedgerReader, PendingEvent
    from projections import Projector
    from projections.engine import _EVENTS_WITH_LOCATOR
    from projections.engines import ENGINES, engine_fold, events_table

    root = Path(tempfile.mkdtemp()) / "ledger"
    rng = random.Random(1)
    ledger = Ledger(root, buffer_max_events=65_536)
    kinds = ["record.metric"] * 8 + ["run.put", "stage.put", "record.event"]
    for i in range(events):
        ledger.append(
            PendingEvent(
                rng.choice(kinds),
                ref=f"r{i}",
                run_ref=f"run:p.r{i % 1000}",
                key="loss",
                value=rng.random(),
                step=i,
                body=b"b" * 16,
            )
        )
    ledger.close()
    reader = LedgerReader(root)
    start = time.perf_counter()
    Projector(reader, root.parent / "p", persist=False).rebuild(save=False)
    builtin = time.perf_counter() - start
    yield (
        {
            "measure": "fold",
            "engine": "builtin",
            "events": events,
            "events_per_s": round(events / builtin),
        }
    )
    for engine in ENGINES:
        engine_fold(_EVENTS_WITH_LOCATOR.empty_table(), engine)  # the engine's import
        start = time.perf_counter()
        table, _, _ = events_table(reader, reader.head())
        read = time.perf_counter() - start
        engine_fold(table, engine)
        total = time.perf_counter() - start
        yield (
            {
                "measure": "fold",
                "engine": engine,
                "events": events,
                "events_per_s": round(events / total),
                "read_s": round(read, 3),
                "fold_s": round(total - read, 3),
            }
        )


def main() -> None:
    if sys.argv[1:2] == ["--writer"]:
        bucket, cache, name, commits, per = sys.argv[2:7]
        _writer(bucket, cache, name, int(commits), int(per))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, str(SERVER), str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        endpoint = f"http://127.0.0.1:{port}"
        os.environ.update({**ENV, "AWS_ENDPOINT_URL": endpoint})
        commits = 10 if args.quick else 50
        for writers in (1, 4, 8):
            print(json.dumps(bench_writers(endpoint, writers, commits, 1000)), flush=True)
        for row in bench_fold(200_000 if args.quick else 10_000_000):
            print(json.dumps(row), flush=True)
    finally:
        if server.stdout is not None:
            server.stdout.close()
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
