"""A writer process for the kill tests: commits numbered events and acknowledges each commit
on stdout *after* it returned (``ack <first_seq> <count> <first_i> <last_i> <status>``).

Usage: ``python _child_writer.py ROOT TAG DURABILITY KILL_AT COMMITS BATCH ROLL_BYTES PARTIAL``
(``KILL_AT`` 0: no kill point, the parent kills at random). Exit 0 after all commits.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from faults import KillFS, make_event

from ledger import Ledger


def main() -> None:
    root, tag, durability = sys.argv[1], sys.argv[2], sys.argv[3]
    kill_at, commits, batch, roll_bytes = (int(v) for v in sys.argv[4:8])
    partial = float(sys.argv[8])
    fs = KillFS(kill_at or None, partial=partial)
    ledger = Ledger(
        root, durability=durability, roll_bytes=roll_bytes, fs=fs, buffer_max_events=10_000
    )
    print("ready", flush=True)
    i = 0
    for c in range(commits):
        n = 1 + (c * 7) % batch
        events = [make_event(tag, i + j, size=40) for j in range(n)]
        info = ledger.append_many(events) or ledger.commit()
        print(f"ack {info.first_seq} {info.count} {i} {i + n - 1} {info.durability}", flush=True)
        i += n
    ledger.close()
    print("done", flush=True)


if __name__ == "__main__":
    main()
