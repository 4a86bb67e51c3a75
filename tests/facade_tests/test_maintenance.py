"""``Contexta.maintenance``: the public way to rebuild, check, repair and publish a workspace
(what the CLI's maintenance commands, the HTTP surface and the importers use)."""

from __future__ import annotations

from pathlib import Path

import pytest

from contexta import Contexta
from contexta.common.errors import IntegrityError
from contexta.contract import ArtifactManifest
from contexta.maintenance import Maintenance
from ledger import list_segments, segment_name
from ledger.segment import EOS, SCHEMA_MESSAGE

QUIET = {"capture": {"capture_environment_snapshot": False}, "project_name": "lab"}


@pytest.fixture()
def ctx(tmp_path: Path) -> Contexta:
    ctx = Contexta(workspace=str(tmp_path / "ws"), config=dict(QUIET))  # type: ignore[arg-type]
    with ctx.run("first") as run:
        run.metric("loss", 1.0)
    with ctx.run("second") as run:
        run.metric("loss", 0.5)
    ctx.flush()
    return ctx


def test_one_object_per_contexta_with_its_folders(ctx: Contexta, tmp_path: Path) -> None:
    assert isinstance(ctx.maintenance, Maintenance)
    assert ctx.maintenance is ctx.maintenance
    assert ctx.maintenance.root == tmp_path / "ws"
    assert ctx.maintenance.ledger_root == tmp_path / "ws" / "ledger"
    assert ctx.maintenance.projections_root == tmp_path / "ws" / "projections"
    assert ctx.maintenance.actor


def test_head_and_run_refs(ctx: Contexta) -> None:
    head = ctx.maintenance.head()
    assert head.seq == ctx.maintenance.committed_head().seq > 0
    assert ctx.maintenance.run_refs() == ["run:lab.first", "run:lab.second"]


def test_status_rebuild_and_fold(ctx: Contexta) -> None:
    head = ctx.maintenance.head().seq
    rows = {s.name: s for s in ctx.maintenance.status()}
    assert rows["runs"].head == head
    stats = ctx.maintenance.rebuild()
    assert stats.events == head and "runs" in stats.projections
    after = {s.name: s for s in ctx.maintenance.status()}
    assert after["runs"].behind == 0 and after["runs"].rows >= 2
    folded, saved = ctx.maintenance.fold(ctx.maintenance.head())
    assert folded == 0 and saved == []  # already caught up and saved


def test_verify_commits_the_buffer_first(ctx: Contexta) -> None:
    with ctx.run("third") as run:
        run.metric("loss", 0.1)
    report = ctx.maintenance.verify()
    assert report.ok and report.last_seq == ctx.maintenance.head().seq


def test_repair_is_a_dry_run_unless_asked(ctx: Contexta) -> None:
    ctx.close()
    active = list_segments(ctx.maintenance.ledger_root)[-1].path
    with open(active, "ab") as out:
        out.write(b"\x01torn tail bytes")
    size = active.stat().st_size
    planned = ctx.maintenance.repair()
    assert planned.dry_run and planned.actions
    assert active.stat().st_size == size  # nothing changed
    done = ctx.maintenance.repair(dry_run=False)
    assert not done.dry_run and done.torn_bytes == len(b"\x01torn tail bytes")
    assert active.stat().st_size == size - done.torn_bytes
    assert ctx.maintenance.verify().ok
    assert ctx.maintenance.repair().actions == []


def test_publish_copies_only_sealed_segments_and_refuses_damage(ctx: Contexta) -> None:
    assert ctx.maintenance.publish().written == []  # the only segment is the active one
    ctx.close()
    first = ctx.maintenance.ledger_root / segment_name(0)
    body = bytearray(first.read_bytes())
    body[len(body) // 2] ^= 0xFF  # damage inside a batch
    first.write_bytes(bytes(body) + EOS)  # ... of a segment that is sealed
    (ctx.maintenance.ledger_root / segment_name(1)).write_bytes(SCHEMA_MESSAGE)
    with pytest.raises(IntegrityError) as caught:
        ctx.maintenance.publish()
    assert caught.value.code


def test_put_once_writes_an_entity_only_when_its_ref_is_new(ctx: Contexta) -> None:
    manifest = ArtifactManifest(
        artifact_ref="artifact:lab.first.model",
        artifact_kind="checkpoint",
        created_at="2025-01-01T00:00:00Z",
        producer_ref="tests",
        run_ref="run:lab.first",
        location_ref="file:///nowhere/model.bin",
    )
    before = ctx.maintenance.head().seq
    assert ctx.maintenance.put_once(manifest, projection="artifacts") is True
    assert ctx.maintenance.put_once(manifest, projection="artifacts") is False
    assert ctx.maintenance.head().seq == before + 1


def test_tail_from_now_sees_only_later_commits(ctx: Contexta) -> None:
    tail = ctx.maintenance.tail()
    assert tail.read() == []
    with ctx.run("third") as run:
        run.metric("loss", 0.1)
    ctx.flush()
    kinds = [k for b in tail.read() for k in b.column("kind").to_pylist()]
    assert "run.put" in kinds and "record.metric" in kinds
    everything = ctx.maintenance.tail(after_seq=0)
    assert sum(b.num_rows for b in everything.read()) == ctx.maintenance.head().seq
