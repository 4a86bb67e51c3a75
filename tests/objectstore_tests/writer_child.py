"""A writer process for the concurrency tests.

``python writer_child.py BUCKET CACHE WRITER EVENTS PER_COMMIT [sync-only]``: appends EVENTS
events in groups of PER_COMMIT to its outbox and syncs after each group, printing
``local <n>`` once events 0..n-1 are committed locally and ``synced <n>`` once they are in the
store. ``sync-only`` only syncs what the outbox holds (a restart after a kill).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ledger.objectstore import ObjectLedger, S3Store
from tests.objectstore_tests.helpers import event


def main() -> None:
    bucket, cache, writer, total, per = sys.argv[1:6]
    ledger = ObjectLedger(S3Store(bucket), "ws", Path(cache), writer_id=writer)
    if len(sys.argv) > 6:
        report = ledger.sync(pull=False)
        print(f"restarted {report.events}", flush=True)
        return
    done = 0
    while done < int(total):
        n = min(int(per), int(total) - done)
        ledger.outbox.append_many([event(writer, i) for i in range(done, done + n)])
        ledger.outbox.commit()
        done += n
        print(f"local {done}", flush=True)
        ledger.sync(pull=False)
        print(f"synced {done}", flush=True)
    ledger.close()


if __name__ == "__main__":
    main()
