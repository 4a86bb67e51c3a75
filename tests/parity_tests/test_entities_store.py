"""``ctx.metadata_store`` repositories for deployments, batches, samples, environments,
relations and provenance (contract 4.2): one event per put, upserts, 1.0's list orders (recorded
from Contexta 1.0.0 on the data of ``_entities_data``), put-time referential checks and their
NotFoundError codes, read-only stores, integrity and metadata snapshots."""

from __future__ import annotations

from pathlib import Path

import pytest

from contexta.common.errors import NotFoundError, ReadOnlyStoreError, ValidationError
from contexta.contract import LineageEdge

from ._entities_data import Writer, build, open_ctx

R1 = "run:proj-a.r1"


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory):
    ctx = build(tmp_path_factory.mktemp("entities-store") / ".contexta")
    yield ctx
    ctx.close()


def _ids(items, field):
    return [str(getattr(i, field)) for i in items]


# ---------------------------------------------------------------------- list orders (1.0 answers)


def test_deployment_lists_follow_1_0_orders(ctx) -> None:
    dep = ctx.metadata_store.deployments
    field = "deployment_execution_ref"
    # by run: order_index NULLS LAST, started_at, ref
    assert _ids(dep.list_deployment_executions(run_ref=R1), field) == [
        "deployment:proj-a.canary",
        "deployment:proj-a.serve-b",
        "deployment:proj-a.serve-a",
    ]
    # by project: deployment_name first
    assert _ids(dep.list_deployment_executions(project_ref="project:proj-a"), field) == [
        "deployment:proj-a.canary",
        "deployment:proj-a.orphan",
        "deployment:proj-a.serve-a",
        "deployment:proj-a.serve-b",
        "deployment:proj-a.shadow",
    ]
    assert _ids(dep.list_deployment_executions(), field) == [
        "deployment:proj-a.canary",
        "deployment:proj-a.orphan",
        "deployment:proj-a.serve-a",
        "deployment:proj-a.serve-b",
        "deployment:proj-a.shadow",
        "deployment:proj-b.serve",
    ]
    # run_ref wins over project_ref
    assert (
        _ids(dep.list_deployment_executions(project_ref="project:proj-b", run_ref=R1), field)[0]
        == "deployment:proj-a.canary"
    )


def test_batch_lists_follow_1_0_orders(ctx) -> None:
    batches = ctx.metadata_store.batches
    field = "batch_execution_ref"
    assert _ids(batches.list_batch_executions(stage_ref="stage:proj-a.r1.train"), field) == [
        "batch:proj-a.r1.train.b0",
        "batch:proj-a.r1.train.b1",
        "batch:proj-a.r1.train.b2",
    ]
    by_run = [
        "batch:proj-a.r1.evaluate.b1",
        "batch:proj-a.r1.prepare.e0",
        "batch:proj-a.r1.train.b0",
        "batch:proj-a.r1.train.b1",
        "batch:proj-a.r1.train.b2",
    ]
    assert _ids(batches.list_batch_executions(run_ref=R1), field) == by_run
    assert _ids(batches.list_batch_executions(), field) == [*by_run, "batch:proj-a.r2.train.bx"]


def test_sample_lists_follow_1_0_orders(ctx) -> None:
    samples = ctx.metadata_store.samples
    field = "sample_observation_ref"
    assert _ids(samples.list_sample_observations(batch_ref="batch:proj-a.r1.train.b1"), field) == [
        "sample:proj-a.r1.train.b1.s2",
        "sample:proj-a.r1.train.b1.s1",
    ]
    # by stage: batch_ref NULLS LAST, observed_at, ref
    assert _ids(samples.list_sample_observations(stage_ref="stage:proj-a.r1.train"), field) == [
        "sample:proj-a.r1.train.b0.s9",
        "sample:proj-a.r1.train.b1.s2",
        "sample:proj-a.r1.train.b1.s1",
        "sample:proj-a.r1.train.s3",
    ]
    by_run = _ids(samples.list_sample_observations(run_ref=R1), field)
    assert by_run[0] == "sample:proj-a.r1.evaluate.s1"
    assert by_run[1:13] == [f"sample:proj-a.r1.prepare.e0.x{i:02d}" for i in range(12)]
    assert by_run[13:] == [
        "sample:proj-a.r1.train.b0.s9",
        "sample:proj-a.r1.train.b1.s2",
        "sample:proj-a.r1.train.b1.s1",
        "sample:proj-a.r1.train.s3",
    ]
    assert _ids(samples.list_sample_observations(), field) == by_run


def test_environment_relation_and_provenance_lists(ctx) -> None:
    ms = ctx.metadata_store
    assert _ids(ms.environments.list_environment_snapshots(R1), "environment_snapshot_ref") == [
        "environment:proj-a.r1.boot",
        "environment:proj-a.r1.final",
    ]
    rel = ms.relations
    # by recorded_at, then ref
    assert _ids(rel.list_relations_for_ref("artifact:proj-a.r1.model"), "relation_ref") == [
        "relation:proj-a.r1.produced",
        "relation:proj-a.r2.derived",
        "relation:proj-a.r1.deploy",
    ]
    assert _ids(rel.list_relations_for_source("artifact:proj-a.r2.model"), "relation_ref") == [
        "relation:proj-a.r2.derived"
    ]
    assert _ids(rel.list_relations_for_target("run:proj-a.r2"), "relation_ref") == [
        "relation:a-dataset",
        "relation:proj-a.r2.op",
    ]
    assert _ids(
        ms.provenance.list_provenance_for_relation("relation:proj-a.r1.produced"), "provenance_ref"
    ) == ["provenance:p1"]


def test_get_find_exists_and_argument_errors(ctx) -> None:
    dep = ctx.metadata_store.deployments
    got = dep.get_deployment_execution("deployment:proj-a.canary")
    assert (got.deployment_name, got.order_index, str(got.run_ref)) == ("canary", 0, R1)
    assert dep.find_deployment_execution("deployment:proj-a.none") is None
    assert [
        dep.exists_deployment_execution("deployment:proj-a.canary"),
        dep.exists_deployment_execution("deployment:proj-a.zz"),
    ] == [True, False]
    with pytest.raises(NotFoundError) as missing:
        dep.get_deployment_execution("deployment:proj-a.none")
    assert missing.value.code == "metadata_row_not_found"
    # 1.0 parses getter refs without a kind check: another kind is simply not found
    assert dep.find_deployment_execution(R1) is None
    with pytest.raises(ValidationError) as bad:
        dep.get_deployment_execution("proj-a.canary")
    assert bad.value.code == "stable_ref_invalid_text"
    with pytest.raises(ValueError) as wrong_kind:
        dep.list_deployment_executions(run_ref="project:proj-a")
    assert not isinstance(wrong_kind.value, ValidationError)  # builtin ValueError, as in 1.0
    rel = ctx.metadata_store.relations.get_relation("relation:a-dataset")
    assert (str(rel.source_ref), str(rel.target_ref)) == ("dataset:vendor.v1", "run:proj-a.r2")
    assert (
        ctx.metadata_store.provenance.get_provenance("provenance:p2").assertion_mode == "inferred"
    )


# ---------------------------------------------------------------------- referential checks


@pytest.fixture()
def writer(tmp_path: Path) -> Writer:
    return Writer(build(tmp_path / ".contexta"))


@pytest.mark.parametrize(
    ("put", "code"),
    [
        (
            lambda w: w.deployment("proj-zz", "x", "completed", "2025-02-01T15:00:00Z"),
            "metadata_missing_deployment_project",
        ),
        (
            lambda w: w.batch(
                "proj-a", "nope", "train", "b1", "completed", "2025-02-01T09:11:00Z", 1
            ),
            "metadata_missing_batch_run",
        ),
        (
            lambda w: w.batch(
                "proj-a", "r1", "nostage", "b1", "completed", "2025-02-01T09:11:00Z", 1
            ),
            "metadata_missing_batch_stage",
        ),
        (
            lambda w: w.sample("proj-a", "nope", "train", "s1", "2025-02-01T09:11:30Z"),
            "metadata_missing_sample_run",
        ),
        (
            lambda w: w.sample("proj-a", "r1", "nostage", "s1", "2025-02-01T09:11:30Z"),
            "metadata_missing_sample_stage",
        ),
        (
            lambda w: w.sample("proj-a", "r1", "train", "s1", "2025-02-01T09:11:30Z", "bnone"),
            "metadata_missing_sample_batch",
        ),
        (
            lambda w: w.environment("proj-a", "nope", "k", "2025-02-01T09:00:00Z", "3", "x", None),
            "metadata_missing_environment_run",
        ),
        (
            lambda w: w.relation(
                "bad", "used", "run:proj-a.nope", "artifact:proj-a.r1.x", "2025-02-01T12:00:00Z"
            ),
            "metadata_ref_not_found",
        ),
        (
            lambda w: w.relation(
                "bad2", "used", "run:proj-a.r1", "record:proj-a.r1.zzz", "2025-02-01T12:00:00Z"
            ),
            "metadata_ref_not_found",
        ),
        (
            lambda w: w.provenance("px", "nope", "2025-02-01T12:00:00Z"),
            "metadata_missing_provenance_relation",
        ),
    ],
    ids=[
        "deployment-project",
        "batch-run",
        "batch-stage",
        "sample-run",
        "sample-stage",
        "sample-batch",
        "environment-run",
        "relation-source",
        "relation-target",
        "provenance-relation",
    ],
)
def test_put_with_a_missing_owner_raises_its_code_and_writes_nothing(writer, put, code) -> None:
    before = len(list(writer.ctx.history()))
    with pytest.raises(NotFoundError) as err:
        put(writer)
    assert err.value.code == code
    assert len(list(writer.ctx.history())) == before


def test_deployment_run_ref_is_not_checked(writer) -> None:
    writer.deployment(
        "proj-a", "ghostly", "completed", "2025-02-01T15:00:00Z", None, "run:proj-a.nope"
    )
    assert writer.ms.deployments.exists_deployment_execution("deployment:proj-a.ghostly")


def test_relation_endpoints_registered_by_earlier_puts_are_accepted(writer) -> None:
    # artifact: and op: endpoints need no registration
    writer.relation(
        "new.a", "used", "op:proj-a.r9.s.fit", "artifact:proj-a.r9.unknown", "2025-02-01T12:00:00Z"
    )
    # an evidence ref of an earlier relation (record:proj-a.r1.m1 in the data) is registered
    writer.relation(
        "new.b", "observed_in", "record:proj-a.r1.m1", "run:proj-a.r2", "2025-02-01T12:00:00Z"
    )
    # 'dataset:vendor.v1' was registered as an evidence ref of 'proj-a.r1.train-used'
    writer.relation("new.c", "used", "run:proj-a.r3", "dataset:vendor.v1", "2025-02-01T12:00:00Z")
    # a provenance formation context registers its ref (op:, but any kind works the same way)
    writer.provenance("new.p", "new.c", "2025-02-01T12:00:00Z", formation="record:proj-a.r3.fresh")
    writer.relation(
        "new.d", "used", "record:proj-a.r3.fresh", "run:proj-a.r3", "2025-02-01T12:00:00Z"
    )
    refs = writer.ms.list_registered_refs()
    assert {
        "op:proj-a.r9.s.fit",
        "artifact:proj-a.r9.unknown",
        "record:proj-a.r3.fresh",
        "relation:new.d",
        "provenance:new.p",
        R1,
    } <= set(refs)
    assert list(refs) == sorted(refs)


def test_registration_survives_a_fresh_process(tmp_path: Path) -> None:
    root = tmp_path / ".contexta"
    build(root).close()
    again = Writer(open_ctx(root))
    again.relation(
        "later", "observed_in", "dataset:vendor.v1", "run:proj-a.r1", "2025-02-01T12:00:00Z"
    )
    with pytest.raises(NotFoundError):
        again.relation(
            "later2", "used", "dataset:other.v1", "run:proj-a.r1", "2025-02-01T12:00:00Z"
        )


# ---------------------------------------------------------------------- events, upserts


def test_each_put_is_one_event_and_re_puts_are_upserts(writer) -> None:
    ctx = writer.ctx
    kinds = (
        "deployment.put",
        "batch.put",
        "sample.put",
        "environment.put",
        "relation.put",
        "provenance.put",
    )
    counts = {k: len(list(ctx.history(kinds=k))) for k in kinds}
    assert counts == {
        "deployment.put": 6,
        "batch.put": 6,
        "sample.put": 17,
        "environment.put": 4,
        "relation.put": 10,
        "provenance.put": 4,
    }
    # moving a deployment to another run: one more event, listed only under the new run
    writer.deployment("proj-a", "canary", "completed", "2025-02-01T12:30:00Z", 0, "run:proj-a.r2")
    assert len(list(ctx.history(kinds="deployment.put"))) == 7
    events = [e for e in ctx.history(kinds="deployment.put") if e.ref == "deployment:proj-a.canary"]
    assert [e.model.status for e in events] == ["open", "completed"]
    dep = writer.ms.deployments
    assert dep.get_deployment_execution("deployment:proj-a.canary").status == "completed"
    assert "deployment:proj-a.canary" not in _ids(
        dep.list_deployment_executions(run_ref=R1), "deployment_execution_ref"
    )
    assert _ids(
        dep.list_deployment_executions(run_ref="run:proj-a.r2"), "deployment_execution_ref"
    ) == ["deployment:proj-a.canary", "deployment:proj-a.shadow"]
    # an edge re-put with new endpoints leaves the old endpoint's list
    writer.relation(
        "a-dataset", "consumed_by", "dataset:vendor.v1", "run:proj-a.r3", "2025-02-01T10:00:00Z"
    )
    assert "relation:a-dataset" not in _ids(
        writer.ms.relations.list_relations_for_target("run:proj-a.r2"), "relation_ref"
    )


def test_read_only_store_refuses_every_put(tmp_path: Path) -> None:
    root = tmp_path / ".contexta"
    build(root).close()
    from contexta.config import MetadataStoreConfig

    ctx = open_ctx(root, metadata=MetadataStoreConfig(read_only=True))
    w = Writer(ctx)
    before = len(list(ctx.history()))
    puts = [
        lambda: w.deployment("proj-a", "x", "completed", "2025-02-01T15:00:00Z"),
        lambda: w.batch("proj-a", "r1", "train", "b9", "completed", "2025-02-01T09:11:00Z", 1),
        lambda: w.sample("proj-a", "r1", "train", "s9x", "2025-02-01T09:11:30Z"),
        lambda: w.environment("proj-a", "r1", "k", "2025-02-01T09:00:00Z", "3", "x", None),
        lambda: w.relation(
            "ro", "used", "run:proj-a.r1", "artifact:proj-a.r1.x", "2025-02-01T12:00:00Z"
        ),
        lambda: w.provenance("ro", "a-dataset", "2025-02-01T12:00:00Z"),
    ]
    for put in puts:
        with pytest.raises(ReadOnlyStoreError) as err:
            put()
        assert err.value.code == "metadata_store_read_only"
    assert len(list(ctx.history())) == before
    assert len(ctx.metadata_store.deployments.list_deployment_executions()) == 6


def test_put_rejects_a_model_of_the_wrong_type(writer) -> None:
    edge = LineageEdge(
        relation_ref="relation:x",
        relation_type="used",
        source_ref=R1,
        target_ref="artifact:proj-a.r1.x",
        recorded_at="2025-02-01T12:00:00Z",
        origin_marker="explicit",
        confidence_marker="high",
    )
    with pytest.raises(ValidationError) as err:
        writer.ms.provenance.put_provenance(edge)  # type: ignore[arg-type]
    assert err.value.code == "metadata_invalid_model"
    assert isinstance(writer.ms.relations.put_relation(edge), LineageEdge)


# ---------------------------------------------------------------------- integrity, snapshot


def test_check_integrity_is_clean_on_a_store_written_through_the_repositories(ctx) -> None:
    report = ctx.metadata_store.check_integrity()
    assert (report.ok, report.issues, dict(report.issue_counts)) == (
        True,
        (),
        {"error": 0, "warning": 0},
    )
    assert report.store_schema_version == "1"


def test_check_integrity_flags_dangling_refs_written_around_the_checks(tmp_path: Path) -> None:
    from contexta.contract import Run
    from contexta.events import entity_event

    ctx = build(tmp_path / ".contexta")
    ws = ctx._workspace
    orphan = Run(
        run_ref="run:proj-x.lost",
        project_ref="project:proj-x",
        name="lost",
        status="open",
        started_at="2025-02-01T09:00:00Z",
    )
    ws.write((entity_event(orphan, "test"),))
    report = ctx.metadata_store.check_integrity()
    assert not report.ok
    assert [(i.code, i.ref) for i in report.issues] == [("missing_run_project", "run:proj-x.lost")]


def test_build_run_snapshot_scopes_relations_and_provenance(ctx) -> None:
    snap = ctx.metadata_store.build_run_snapshot(R1)
    assert snap.project.name == "Project A"
    assert [str(r.relation_ref) for r in snap.relations] == [
        "relation:proj-a.r1.batch",
        "relation:proj-a.r1.deploy",
        "relation:proj-a.r1.produced",
        "relation:proj-a.r1.rec",
        "relation:proj-a.r1.train-used",
    ]
    assert [str(p.provenance_ref) for p in snap.provenance] == ["provenance:p1", "provenance:p2"]
    assert snap.completeness_notes == ("record_plane_not_projected", "artifact_plane_not_projected")
    assert len(snap.samples) == 17 and len(snap.environments) == 2
    assert snap.to_dict()["run"]["run_ref"] == R1
    with pytest.raises(NotFoundError):
        ctx.metadata_store.build_run_snapshot("run:proj-a.nope")
