"""The object ledger protocol in one process: commit, pull, exactly once, fencing, verify."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger import CorruptionError
from ledger.objectstore import ObjectLedger, ObjectStoreError, S3Store, WriterFencedError

from .helpers import event, mirror_refs


def _open(bucket: str, cache: Path, writer: str | None = None, **kw) -> ObjectLedger:
    return ObjectLedger(S3Store(bucket), "ws", cache, writer_id=writer, **kw)


def _append(ledger: ObjectLedger, writer: str, numbers: range) -> None:
    ledger.outbox.append_many([event(writer, n) for n in numbers])
    ledger.outbox.commit()


def test_one_writer_sync_then_a_reader_pulls_the_same_log(bucket: str, tmp_path: Path) -> None:
    writer = _open(bucket, tmp_path / "w", "w1")
    _append(writer, "w1", range(10))
    report = writer.sync()
    assert (report.commits, report.events) == (1, 10)
    reader = _open(bucket, tmp_path / "r", "r1")
    pulled = reader.pull()
    assert pulled.adopted == 1
    assert mirror_refs(tmp_path / "r") == [f"w1:{n}" for n in range(10)]
    assert mirror_refs(tmp_path / "w") == mirror_refs(tmp_path / "r")
    # the mirror holds the store's sealed bytes: same chain hash at the head everywhere
    assert reader.mirror.head().chain == writer.mirror.head().chain == writer.verify()["chain"]
    writer.close()
    reader.close()


def test_two_writers_interleave_into_one_gap_free_chain(bucket: str, tmp_path: Path) -> None:
    a = _open(bucket, tmp_path / "a", "a")
    b = _open(bucket, tmp_path / "b", "b")
    expected: list[str] = []
    for round_ in range(4):
        for name, ledger in (("a", a), ("b", b)):
            numbers = range(round_ * 5, round_ * 5 + 5)
            _append(ledger, name, numbers)
            ledger.sync(pull=False)
            expected += [f"{name}:{n}" for n in numbers]
    a.pull()
    assert mirror_refs(tmp_path / "a") == expected
    summary = a.verify()
    assert summary["events"] == 40 and summary["head_seq"] == 40
    assert summary["fences"] == 2 and summary["commits"] == 8 and not summary["orphans"]


class _RaceOnUpload(S3Store):
    """A store whose first batch upload lets another writer commit first (the race)."""

    def __init__(self, bucket: str, other: ObjectLedger) -> None:
        super().__init__(bucket)
        self.other: ObjectLedger | None = other

    def put(self, key: str, data: bytes) -> None:
        super().put(key, data)
        other, self.other = self.other, None
        if other is not None and "/writers/" in key:
            other.sync(pull=False)


def test_a_lost_race_retries_at_the_next_number(bucket: str, tmp_path: Path) -> None:
    b = _open(bucket, tmp_path / "b", "b")
    _append(b, "b", range(3))
    b.sync(pull=False)  # b claims its epoch: manifests 1, 2
    a = ObjectLedger(_RaceOnUpload(bucket, b), "ws", tmp_path / "a", writer_id="a")
    _append(a, "a", range(3))
    _append(b, "b", range(3, 6))
    report = a.sync(pull=False)  # a's fence wins 3; b commits 4 while a uploads for 4
    assert report.commits == 1 and report.lost_races == 1
    b.pull()
    refs = mirror_refs(tmp_path / "b")
    assert refs == [f"b:{n}" for n in range(6)] + [f"a:{n}" for n in range(3)]
    assert len(a.verify()["orphans"]) == 1  # the upload for the lost number: no manifest names it


def test_sync_twice_and_after_a_lost_local_state_sends_each_event_once(
    bucket: str, tmp_path: Path
) -> None:
    w = _open(bucket, tmp_path / "w", "w")
    _append(w, "w", range(20))
    w.sync()
    assert w.sync().commits == 0  # nothing new: nothing sent
    _append(w, "w", range(20, 25))
    # the cache forgets every manifest it read (as if killed before recording them)
    (tmp_path / "w" / "remote" / "manifests.jsonl").unlink()
    w.close()
    again = _open(bucket, tmp_path / "w", "w")
    report = again.sync()
    assert (report.commits, report.events) == (1, 5)
    assert mirror_refs(tmp_path / "w") == [f"w:{n}" for n in range(25)]


def test_offline_writer_keeps_writing_then_syncs_exactly_once(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, s3_env: dict[str, str]
) -> None:
    online = _open(bucket, tmp_path / "w", "w")
    _append(online, "w", range(5))
    online.sync()
    online.close()
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # the store is unreachable
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    offline = _open(bucket, tmp_path / "w", "w")
    _append(offline, "w", range(5, 50))  # writing locally still works
    with pytest.raises(ObjectStoreError):
        offline.sync()
    assert offline.outbox.head().seq == 50
    offline.close()
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_env["AWS_ENDPOINT_URL"])  # back online
    back = _open(bucket, tmp_path / "w", "w")
    first, second = back.sync(), back.sync()
    assert (first.events, second.events) == (45, 0)
    assert mirror_refs(tmp_path / "w") == [f"w:{n}" for n in range(50)]


def test_a_fenced_stale_writer_gets_the_typed_error_and_writes_nothing(
    bucket: str, tmp_path: Path
) -> None:
    old = _open(bucket, tmp_path / "old", "job-7")
    _append(old, "old", range(3))
    old.sync()
    new = _open(bucket, tmp_path / "new", "job-7")  # the job restarted elsewhere, same id
    _append(new, "new", range(3))
    new.sync()
    _append(old, "old", range(3, 6))
    store = S3Store(bucket)
    before = sorted(store.list("ws/"))
    with pytest.raises(WriterFencedError) as caught:
        old.sync()
    assert caught.value.code == "ledger_writer_fenced"
    assert caught.value.details == {"writer": "job-7", "epoch": 1, "current": 2}
    assert sorted(store.list("ws/")) == before  # nothing written
    assert old.outbox.head().seq == 6  # its events are still in its outbox
    new.pull()
    assert mirror_refs(tmp_path / "new") == [f"old:{n}" for n in range(3)] + [
        f"new:{n}" for n in range(3)
    ]


def test_a_damaged_batch_object_is_a_corruption_error_naming_it(
    bucket: str, tmp_path: Path
) -> None:
    w = _open(bucket, tmp_path / "w", "w")
    _append(w, "w", range(5))
    w.sync(pull=False)
    store = S3Store(bucket)
    key = next(iter(store.list("ws/writers/")))
    data = bytearray(store.get(key))
    data[len(data) // 2] ^= 0xFF
    store.put(key, bytes(data))
    reader = _open(bucket, tmp_path / "r", "r")
    with pytest.raises(CorruptionError) as caught:
        reader.pull()
    assert caught.value.details["file"] == key
    assert reader.mirror.head().seq == 0  # nothing adopted from a damaged batch
    with pytest.raises(CorruptionError):
        w.verify()


def test_big_outboxes_are_sent_in_bounded_batches(bucket: str, tmp_path: Path) -> None:
    w = _open(bucket, tmp_path / "w", "w", max_batch_events=7)
    _append(w, "w", range(30))
    report = w.sync()
    assert (report.commits, report.events) == (5, 30)
    assert mirror_refs(tmp_path / "w") == [f"w:{n}" for n in range(30)]


class _DiesAt(S3Store):
    """A store whose process 'dies' (raises) at one step of the first commit: after the batch
    upload, or after the manifest create (before anything local records it)."""

    def __init__(self, bucket: str, step: str) -> None:
        super().__init__(bucket)
        self.step = step

    def put(self, key: str, data: bytes) -> None:
        super().put(key, data)
        if self.step == "after_upload" and "/writers/" in key:
            self.step = ""
            raise KeyboardInterrupt("killed after the upload")

    def create(self, key: str, data: bytes) -> None:
        super().create(key, data)
        if self.step == "after_create" and b'"type":"commit"' in data:
            self.step = ""
            raise KeyboardInterrupt("killed after the create")


@pytest.mark.parametrize("step", ["after_upload", "after_create"])
def test_a_writer_killed_mid_commit_resyncs_exactly_once(
    bucket: str, tmp_path: Path, step: str
) -> None:
    dying = ObjectLedger(_DiesAt(bucket, step), "ws", tmp_path / "w", writer_id="w")
    _append(dying, "w", range(8))
    with pytest.raises(KeyboardInterrupt):
        dying.sync()
    dying.close()
    restarted = _open(bucket, tmp_path / "w", "w")  # same cache: same outbox, same epoch
    report = restarted.sync()
    assert report.events == (8 if step == "after_upload" else 0)
    assert restarted.sync().events == 0
    assert mirror_refs(tmp_path / "w") == [f"w:{n}" for n in range(8)]
    summary = restarted.verify()
    assert summary["events"] == 8
    assert len(summary["orphans"]) == (1 if step == "after_upload" else 0)


def test_a_rewritten_manifest_breaks_the_chain_and_is_reported(bucket: str, tmp_path: Path) -> None:
    w = _open(bucket, tmp_path / "w", "w")
    for start in (0, 5):
        _append(w, "w", range(start, start + 5))
        w.sync(pull=False)
    store = S3Store(bucket)
    import json

    key = "ws/manifest/00000000000000000002"
    outer = json.loads(store.get(key))
    outer["manifest"]["chain"] = "f" * 32  # a forged chain hash, with a matching CRC
    import zlib

    body = json.dumps(outer["manifest"], sort_keys=True, separators=(",", ":"))
    outer["crc"] = zlib.crc32(body.encode())
    store.put(key, json.dumps(outer).encode())
    with pytest.raises(CorruptionError) as caught:
        _open(bucket, tmp_path / "r", "r").pull()
    assert caught.value.details["file"] in (key, "ws/manifest/00000000000000000003")
    with pytest.raises(CorruptionError):
        w.verify()
