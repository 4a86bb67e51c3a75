"""Facade entity queries and snapshot completeness (contract 1.3, 1.4, 4.4, 4.5): the answers
Contexta 1.0.0 gave on the data of ``_entities_data`` are pinned as literals; the few places we
differ on purpose name their decision."""

from __future__ import annotations

from pathlib import Path

import pytest

from contexta.common.errors import InterpretationError, ValidationError
from contexta.contract import ArtifactManifest
from contexta.events import entity_event
from contexta.interpretation import entities
from contexta.interpretation.workspace_queries import QueryService

from ._entities_data import Writer, build, open_ctx

R1 = "run:proj-a.r1"
PREP = [f"sample:proj-a.r1.prepare.e0.x{i:02d}" for i in range(12)]
R1_SAMPLES = [
    "sample:proj-a.r1.evaluate.s1",
    *PREP,
    "sample:proj-a.r1.train.b0.s9",
    "sample:proj-a.r1.train.b1.s2",
    "sample:proj-a.r1.train.b1.s1",
    "sample:proj-a.r1.train.s3",
]
R1_BATCHES = [
    "batch:proj-a.r1.evaluate.b1",
    "batch:proj-a.r1.prepare.e0",
    "batch:proj-a.r1.train.b0",
    "batch:proj-a.r1.train.b1",
    "batch:proj-a.r1.train.b2",
]
TRAIN_BATCHES = R1_BATCHES[2:]


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory):
    ctx = build(tmp_path_factory.mktemp("entities-queries") / ".contexta")
    yield ctx
    ctx.close()


def _ids(items, field):
    return [getattr(i, field) for i in items]


# ---------------------------------------------------------------------- snapshots (1.0 answers)


def test_snapshot_of_r1_matches_1_0(ctx) -> None:
    snap = ctx.get_run_snapshot(R1)
    assert _ids(snap.deployments, "deployment_id") == [
        "deployment:proj-a.canary",
        "deployment:proj-a.serve-b",
        "deployment:proj-a.serve-a",
    ]
    assert _ids(snap.batches, "batch_id") == R1_BATCHES
    assert [b.order for b in snap.batches] == [0, 0, 0, 1, 0]  # None order shows as 0, sorts last
    assert _ids(snap.samples, "sample_id") == R1_SAMPLES
    assert _ids(snap.artifacts, "artifact_ref") == [
        "artifact:proj-a.r1.ckpt",
        "artifact:proj-a.r1.data",
        "artifact:proj-a.r1.model",
    ]
    assert _ids(snap.relations, "relation_ref") == [
        "relation:proj-a.r1.batch",
        "relation:proj-a.r1.deploy",
        "relation:proj-a.r1.produced",
        "relation:proj-a.r1.rec",
        "relation:proj-a.r1.train-used",
        "relation:proj-a.r2.derived",
    ]
    assert snap.completeness_notes == ()
    # the latest provenance (by asserted_at) among relations of the run, its stages, artifacts
    # and deployments: p3 sits on r2's derived_from edge into r1's model
    assert snap.provenance.provenance_ref == "provenance:p3"
    assert snap.provenance.run_id == R1
    links = [(link.kind, link.ref) for link in snap.evidence_links]
    assert links[:4] == [
        ("run", R1),
        ("deployment", "deployment:proj-a.canary"),
        ("deployment", "deployment:proj-a.serve-b"),
        ("deployment", "deployment:proj-a.serve-a"),
    ]
    assert links[4:7] == [
        ("stage", f"stage:proj-a.r1.{s}") for s in ("prepare", "train", "evaluate")
    ]
    assert links[7:12] == [("batch", b) for b in R1_BATCHES]
    assert links[12:22] == [("sample", s) for s in R1_SAMPLES[:10]]
    assert links[22:25] == [
        ("artifact", "artifact:proj-a.r1.ckpt"),
        ("artifact", "artifact:proj-a.r1.data"),
        ("artifact", "artifact:proj-a.r1.model"),
    ]
    assert links[25:] == [("record", f"record:proj-a.r1.m{i}") for i in (1, 2, 3, 4, 5, 10, 11)]
    assert [link.label for link in snap.evidence_links[22:25]] == [
        "checkpoint",
        "dataset_snapshot",
        "model_bundle",
    ]


def test_snapshot_records_of_other_entities_carry_1_0_fields(ctx) -> None:
    snap = ctx.get_run_snapshot(R1)
    dep = snap.deployments[1]
    assert (dep.project_name, dep.name, dep.status, dep.run_id, dep.artifact_ref, dep.order) == (
        "Project A",
        "serve-b",
        "completed",
        R1,
        "artifact:proj-a.r1.model",
        1,
    )
    sample = next(s for s in snap.samples if s.sample_id == "sample:proj-a.r1.train.b1.s1")
    assert (sample.batch_id, sample.stage_id, sample.retention_class, sample.name) == (
        "batch:proj-a.r1.train.b1",
        "stage:proj-a.r1.train",
        "short",
        "s1",
    )
    model = snap.artifacts[2]
    assert (model.kind, model.stage_id, model.location, model.size_bytes, model.created_at) == (
        "model_bundle",
        "stage:proj-a.r1.train",
        "vault://r1/model.bin",
        7,
        "2025-02-01T11:00:00Z",
    )
    assert model.hash_value == "4f93e5df395c7b831bbd760bdc8b7b74ad21079f5dd5e844b06432255fcef16f"
    rel = snap.relations[0]
    assert (
        rel.relation_type,
        rel.source_ref,
        rel.target_ref,
        rel.origin_marker,
        rel.confidence_marker,
    ) == (
        "observed_in",
        "sample:proj-a.r1.train.b1.s1",
        "batch:proj-a.r1.train.b1",
        "explicit",
        "high",
    )


@pytest.mark.parametrize(
    ("run_id", "notes", "relations", "provenance"),
    [
        (
            "r2",
            ("sample_list_empty", "missing_stage_records:deploy-check"),
            [
                "relation:a-dataset",
                "relation:chain.one",
                "relation:proj-a.r2.derived",
                "relation:proj-a.r2.op",
            ],
            "provenance:p3",
        ),
        (
            "r3",
            ("stage_list_empty", "deployment_list_empty", "provenance_missing"),
            ["relation:proj-a.r3.env"],
            None,
        ),
        (
            "run:proj-a.r0",
            (
                "stage_list_empty",
                "deployment_list_empty",
                "artifact_list_empty",
                "relation_scope_empty",
                "record_scope_empty",
                "provenance_missing",
            ),
            [],
            None,
        ),
        (
            "r1b",
            (
                "deployment_list_empty",
                "batch_list_empty",
                "artifact_list_empty",
                "relation_scope_empty",
                "record_scope_empty",
                "provenance_missing",
                "missing_stage_records:train",
            ),
            [],
            None,
        ),
    ],
)
def test_snapshot_notes_relations_and_provenance_match_1_0(
    ctx, run_id, notes, relations, provenance
) -> None:
    snap = ctx.get_run_snapshot(run_id)
    assert snap.completeness_notes == notes
    assert _ids(snap.relations, "relation_ref") == relations
    assert (snap.provenance.provenance_ref if snap.provenance else None) == provenance


# ---------------------------------------------------------------------- list_* (contract 1.3)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (
            {},
            [
                "deployment:proj-a.canary",
                "deployment:proj-a.orphan",
                "deployment:proj-a.serve-a",
                "deployment:proj-a.serve-b",
                "deployment:proj-a.shadow",
                "deployment:proj-b.serve",
            ],
        ),
        (
            {"project_name": "Project A"},
            [
                "deployment:proj-a.canary",
                "deployment:proj-a.orphan",
                "deployment:proj-a.serve-a",
                "deployment:proj-a.serve-b",
                "deployment:proj-a.shadow",
            ],
        ),
        ({"project_name": "project:proj-b"}, ["deployment:proj-b.serve"]),
        ({"project_name": "proj-b"}, ["deployment:proj-b.serve"]),
        ({"project_name": "nope"}, []),
        ({"project_name": "nope", "run_id": "zzz"}, []),  # unknown project wins before the run
        (
            {"run_id": "r1"},
            ["deployment:proj-a.canary", "deployment:proj-a.serve-b", "deployment:proj-a.serve-a"],
        ),
        ({"run_id": " run:proj-a.ghost "}, ["deployment:proj-a.orphan"]),  # run_ref never checked
        ({"run_id": "run:proj-a.zzz"}, []),
        ({"project_name": "proj-b", "run_id": "r2"}, ["deployment:proj-a.shadow"]),
    ],
)
def test_list_deployments(ctx, kwargs, expected) -> None:
    assert _ids(ctx.list_deployments(**kwargs), "deployment_id") == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("r1",), R1_BATCHES),
        (("r1", "train"), TRAIN_BATCHES),
        (("r1", "r1.train"), TRAIN_BATCHES),
        (("r1", "stage:proj-a.r1.evaluate"), ["batch:proj-a.r1.evaluate.b1"]),
        (("proj-a.r1", "train"), TRAIN_BATCHES),  # decision 8.1
        (("run:proj-a.zz",), []),
        (("r2", "prepare"), []),
        (("r1", "deploy-check"), []),  # QUIRK: resolved workspace-wide (r2's stage)
    ],
)
def test_list_batches(ctx, args, expected) -> None:
    assert _ids(ctx.list_batches(*args), "batch_id") == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("r1",), R1_SAMPLES),
        (
            ("r1", "train"),
            [
                "sample:proj-a.r1.train.b0.s9",
                "sample:proj-a.r1.train.b1.s2",
                "sample:proj-a.r1.train.b1.s1",
                "sample:proj-a.r1.train.s3",
            ],
        ),
        (("r1", "train", "b1"), ["sample:proj-a.r1.train.b1.s2", "sample:proj-a.r1.train.b1.s1"]),
        # QUIRK: the first batch named b1 in run order is evaluate's, which has no samples
        (("r1", None, "b1"), []),
        (
            ("r1", None, "train.b1"),
            ["sample:proj-a.r1.train.b1.s2", "sample:proj-a.r1.train.b1.s1"],
        ),
        (("r1", None, "batch:proj-a.r1.train.b0"), ["sample:proj-a.r1.train.b0.s9"]),
        (("r1", "evaluate"), ["sample:proj-a.r1.evaluate.s1"]),
        (("r1", "prepare", "e0"), PREP),
        (("run:proj-a.zz",), []),
    ],
)
def test_list_samples(ctx, args, expected) -> None:
    assert _ids(ctx.list_samples(*args), "sample_id") == expected


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.list_batches("zz"), "Run not found: zz"),
        (lambda c: c.list_batches("r1", "nostage"), "Stage not found: nostage"),
        (lambda c: c.list_samples("zz"), "Run not found: zz"),
        (lambda c: c.list_samples("r1", None, "bz"), "Batch not found: bz"),
        (lambda c: c.list_deployments(run_id="zzz"), "Run not found: zzz"),
        (lambda c: c.list_batches("r0", "train"), "Stage not found: train"),  # 3 workspace-wide
    ],
)
def test_unresolvable_bare_ids_raise_builtin_lookup_error(ctx, call, message) -> None:
    with pytest.raises(LookupError) as err:
        call(ctx)
    assert type(err.value) is LookupError
    assert str(err.value) == message


def test_malformed_full_refs_raise_validation_errors(ctx) -> None:
    with pytest.raises(ValidationError) as err:
        ctx.list_batches("run:Proj_A.r1")
    assert err.value.code.startswith("stable_ref_invalid")


def test_get_provenance_and_unknown_runs(ctx) -> None:
    assert ctx.get_provenance("r1").provenance_ref == "provenance:p3"
    assert ctx.get_provenance("r2").run_id == "run:proj-a.r2"
    assert ctx.get_provenance("r3") is None
    with pytest.raises(InterpretationError) as err:
        ctx.get_provenance("zz")
    assert err.value.code == "query_run_not_found"


@pytest.mark.parametrize(
    ("ref", "run"),
    [
        ("artifact:proj-a.r1.model", R1),
        ("r2.model", "run:proj-a.r2"),
        ("ckpt", R1),
        ("model", None),  # ambiguous suffix
        ("artifact:proj-a.zz.model", None),
        ("zz", None),
        ("artifact:Bad_Ref", None),
    ],
)
def test_get_artifact_origin(ctx, ref, run) -> None:
    snap = ctx.get_artifact_origin(ref)
    assert (None if snap is None else snap.run.run_id) == run


def test_artifact_origin_of_an_artifact_without_its_run(tmp_path: Path) -> None:
    ctx = build(tmp_path / ".contexta")
    lost = ArtifactManifest(
        artifact_ref="artifact:proj-a.gone.model",
        artifact_kind="model_bundle",
        created_at="2025-02-01T11:00:00Z",
        producer_ref="scenario",
        run_ref="run:proj-a.gone",
        location_ref="vault://gone",
    )
    ctx._workspace.write((entity_event(lost, "test"),))
    with pytest.raises(InterpretationError) as err:
        ctx.get_artifact_origin("artifact:proj-a.gone.model")
    assert err.value.code == "query_artifact_origin_incomplete"
    assert err.value.cause.code == "query_run_not_found"


# ---------------------------------------------------------------------- comparison (4.5)


def test_compare_runs_artifacts_provenance_notes_and_links_match_1_0(ctx) -> None:
    cmp = ctx.compare_runs("r1", "r2")
    assert cmp.summary == "Compared r1 and r2: 4 stage rows, 6 metric deltas, 3 artifact changes."
    assert [
        (
            a.artifact_kind,
            a.left_ref,
            a.right_ref,
            a.change,
            a.change_detail,
            [link.ref for link in a.evidence_links],
        )
        for a in cmp.artifact_changes
    ] == [
        (
            "checkpoint",
            "artifact:proj-a.r1.ckpt",
            "artifact:proj-a.r2.ckpt-a",
            "ambiguous",
            "left=1, right=2",
            [],
        ),
        (
            "feature_set",
            None,
            "artifact:proj-a.r2.deep",
            "added",
            None,
            ["artifact:proj-a.r2.deep"],
        ),
        (
            "model_bundle",
            "artifact:proj-a.r1.model",
            "artifact:proj-a.r2.model",
            "changed",
            "hash_changed",
            ["artifact:proj-a.r1.model", "artifact:proj-a.r2.model"],
        ),
    ]
    prov = cmp.provenance_comparison
    assert (
        prov.code_revision_changed,
        prov.config_hash_changed,
        prov.environment_changed,
        prov.dataset_refs_changed,
    ) == (False, False, False, False)
    assert (
        prov.left_provenance.provenance_ref
        == prov.right_provenance.provenance_ref
        == "provenance:p3"
    )
    assert [(n.severity, n.summary, dict(n.details)) for n in cmp.completeness_notes] == [
        ("warning", "right:sample_list_empty", {"run_id": "run:proj-a.r2"}),
        ("warning", "right:missing_stage_records:deploy-check", {"run_id": "run:proj-a.r2"}),
        ("warning", "missing_stage:deploy-check", {"left_present": False, "right_present": True}),
        ("warning", "missing_stage:evaluate", {"left_present": True, "right_present": False}),
    ]
    # both snapshots' links, then stage and artifact-change links, deduplicated
    assert len(cmp.evidence_links) == 47
    assert [(link.kind, link.ref) for link in cmp.evidence_links[-4:]] == [
        ("record", "record:proj-a.r2.m6"),
        ("record", "record:proj-a.r2.m7"),
        ("record", "record:proj-a.r2.m8"),
        ("record", "record:proj-a.r2.m12"),
    ]
    sparse = cmp.stage_comparisons[0].metric_deltas[0]
    assert (sparse.stage_name, sparse.metric_key, dict(sparse.completeness_notes[0].details)) == (
        "deploy-check",
        "throughput",
        {"left_value": 120.0, "right_value": None},
    )


def test_compare_runs_provenance_and_artifact_removals(ctx) -> None:
    cmp = ctx.compare_runs("r2", "r3")
    assert cmp.summary == "Compared r2 and r3: 3 stage rows, 4 metric deltas, 4 artifact changes."
    assert [(a.artifact_kind, a.change, a.change_detail) for a in cmp.artifact_changes] == [
        ("checkpoint", "removed", None),
        ("dataset_snapshot", "removed", None),
        ("feature_set", "removed", None),
        ("model_bundle", "changed", "hash_changed"),
    ]
    assert [link.ref for link in cmp.artifact_changes[0].evidence_links] == [
        "artifact:proj-a.r2.ckpt-a",
        "artifact:proj-a.r2.ckpt-b",
    ]
    prov = cmp.provenance_comparison
    assert (
        prov.code_revision_changed,
        prov.config_hash_changed,
        prov.dataset_refs_changed,
        prov.right_provenance,
    ) == (True, True, True, None)
    same = ctx.compare_runs("r1", "r1")
    assert same.summary == "Compared r1 and r1: 3 stage rows, 0 metric deltas, 0 artifact changes."
    assert ctx.compare_runs("r3", "r0").provenance_comparison is None


def test_compare_runs_same_hash_and_location_is_no_change(tmp_path: Path) -> None:
    ctx = build(tmp_path / ".contexta")
    w = Writer(ctx)
    w.artifact("r3", "data", "dataset_snapshot", b"data-1", location="vault://r1/data.bin")
    w.artifact("r3", "other", "report_bundle", b"x")
    cmp = ctx.compare_runs("r1", "r3")
    assert [(a.artifact_kind, a.change) for a in cmp.artifact_changes] == [
        ("checkpoint", "removed"),
        ("report_bundle", "added"),
    ]
    w.artifact("r3", "data", "dataset_snapshot", b"data-1", location="vault://elsewhere/data.bin")
    changed = {
        a.artifact_kind: a.change_detail for a in ctx.compare_runs("r1", "r3").artifact_changes
    }
    assert changed["dataset_snapshot"] == "location_changed"


def test_compare_multiple_runs_matches_1_0_and_does_not_crash_on_mixed_levels(ctx) -> None:
    multi = ctx.compare_multiple_runs(["r3", "r0", "r1b", "r3"])
    assert multi.summary == "Compared 3 runs: 1 metric rows and 1 artifact kind summaries."
    assert [(r.metric_key, r.stage_name, r.values, r.best_run_id) for r in multi.metric_table] == [
        ("accuracy", None, (0.7, None, None), "r3")
    ]
    assert [(r.artifact_kind, r.counts) for r in multi.artifact_kind_counts] == [
        ("model_bundle", (1, 0, 0))
    ]
    assert [(n.summary, dict(n.details)) for n in multi.completeness_notes] == [
        ("stage_list_empty", {"run_id": "run:proj-a.r3"}),
        ("deployment_list_empty", {"run_id": "run:proj-a.r3"}),
        ("provenance_missing", {"run_id": "run:proj-a.r3"}),
        ("artifact_list_empty", {"run_id": "run:proj-a.r0"}),
        ("relation_scope_empty", {"run_id": "run:proj-a.r0"}),
        ("record_scope_empty", {"run_id": "run:proj-a.r0"}),
        ("batch_list_empty", {"run_id": "run:proj-b.r1b"}),
        ("missing_stage_records:train", {"run_id": "run:proj-b.r1b"}),
    ]
    assert len(multi.evidence_links) == 6
    # 1.0 raised TypeError here (run-level and stage metrics mixed); decision 8.2
    mixed = ctx.compare_multiple_runs(["r2", "r3", "r1b"])
    assert [(r.artifact_kind, r.counts) for r in mixed.artifact_kind_counts] == [
        ("checkpoint", (2, 0, 0)),
        ("dataset_snapshot", (1, 0, 0)),
        ("feature_set", (1, 0, 0)),
        ("model_bundle", (1, 1, 0)),
    ]
    first = mixed.metric_table[0]
    assert (first.stage_name, first.metric_key) == (None, "accuracy")


# ---------------------------------------------------------------------- as of, rebuild, reopen


def _answers(ctx_or_qs) -> dict:
    qs = ctx_or_qs if isinstance(ctx_or_qs, QueryService) else ctx_or_qs.query_service
    return {
        "snapshot": qs.snapshot(R1).to_dict(),
        "deployments": [d.to_dict() for d in entities.list_deployments(qs)],
        "batches": [b.to_dict() for b in entities.list_batches(qs, "r1", "train")],
        "samples": [s.to_dict() for s in entities.list_samples(qs, "r1", None, "train.b1")],
        "compare": qs.compare_runs("r1", "r2").to_dict(),
        "multi": qs.compare_multiple_runs(["r1", "r2", "r3"]).to_dict(),
    }


def test_projection_rebuild_and_a_fresh_process_give_the_same_answers(tmp_path: Path) -> None:
    root = tmp_path / ".contexta"
    ctx = build(root)
    before = _answers(ctx)
    ctx._workspace.projector.rebuild()
    assert _answers(ctx) == before
    ctx.close()
    assert _answers(open_ctx(root)) == before


def test_cli_projection_rebuild_gives_the_same_answers(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    ctx = build(tmp_path / ".contexta")
    before = _answers(ctx)
    ctx.close()
    done = run_cli(tmp_path, "--workspace", ".contexta", "projections", "rebuild")
    assert "Rebuilt" in done.stdout
    assert _answers(open_ctx(tmp_path / ".contexta")) == before


def test_queries_answer_as_of_a_past_transaction_time(tmp_path: Path) -> None:
    ctx = build(tmp_path / ".contexta")
    w = Writer(ctx)
    then = list(ctx.history())[-1].tx_time
    before = _answers(ctx)
    w.deployment("proj-a", "late", "failed", "2025-02-01T16:00:00Z", 3, R1)
    w.batch("proj-a", "r1", "train", "b3", "failed", "2025-02-01T09:13:00Z", 2)
    w.sample("proj-a", "r1", "train", "s4", "2025-02-01T09:11:45Z", "b1")
    w.artifact("r1", "extra", "report_bundle", b"late")
    w.relation("late.edge", "reported_by", "artifact:proj-a.r1.extra", R1, "2025-02-01T16:00:00Z")
    w.provenance("late.p", "late.edge", "2025-02-02T00:00:00Z", policy="policy.v9")
    assert _answers(ctx) != before
    past = QueryService(ctx._workspace, ctx.config, int(then.timestamp() * 1_000_000))
    assert _answers(past) == before
    assert ctx.get_run_snapshot("r1").provenance.provenance_ref == "provenance:late.p"


def test_the_read_surface_answers_as_of_its_time(tmp_path: Path) -> None:
    """The read surface pinned at a past transaction time (what an as-of view is) answers
    every entity query as of that time."""
    from contexta.reads import Reads

    ctx = build(tmp_path / ".contexta")
    then = list(ctx.history())[-1].tx_time
    w = Writer(ctx)
    w.batch("proj-a", "r1", "train", "b3", "failed", "2025-02-01T09:13:00Z", 2)
    w.relation(
        "late",
        "reported_by",
        "artifact:proj-a.r1.model",
        "artifact:proj-a.r9.x",
        "2025-02-02T00:00:00Z",
    )

    view = Reads(ctx._workspace, ctx.config, int(then.timestamp() * 1_000_000))
    assert _ids(view.list_batches("r1", "train"), "batch_id") == TRAIN_BATCHES
    assert len(ctx.list_batches("r1", "train")) == 4
    assert [i.subject_ref for i in view.diagnose_run("r1").issues].count(
        "batch:proj-a.r1.train.b3"
    ) == 0
    assert "relation:late" not in {
        e.relation_ref for e in view.traverse_lineage(R1, max_depth=4).edges
    }
    assert "relation:late" in {e.relation_ref for e in ctx.traverse_lineage(R1, max_depth=4).edges}
    assert view.audit_reproducibility("r1").reproducibility_status == "complete"
