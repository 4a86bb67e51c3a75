"""The artifact store (contract 4.12): content-addressed bodies, manifests as ledger events."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from contexta import Contexta
from contexta.common.errors import ConflictError, NotFoundError, ReadOnlyStoreError, ValidationError
from contexta.contract import ArtifactManifest
from contexta.store.artifacts import (
    BINDING_NAMESPACE,
    ArtifactError,
    ArtifactStore,
    ArtifactStoreConfig,
    ImportOutcome,
    VaultConfig,
    VerificationStatus,
    artifact_exists,
    export_artifact,
    get_artifact,
    import_export_package,
    inspect_store,
    list_refs,
    read_artifact_bytes,
    verify_artifact,
)

RUN = "run:vision.r1"


def manifest(key: str = "model", *, run: str = RUN, **extra: object) -> ArtifactManifest:
    return ArtifactManifest(
        artifact_ref=f"artifact:{run[4:]}.{key}",
        artifact_kind="model_bundle",
        created_at="2025-03-01T10:00:00Z",
        producer_ref="trainer",
        run_ref=run,
        location_ref=f"vault://{key}.bin",
        **extra,
    )  # type: ignore[arg-type]


def body(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.fixture()
def ctx(tmp_path: Path) -> Contexta:
    return Contexta(workspace=str(tmp_path / "ws"))


def puts(ctx: Contexta) -> list[object]:
    return [e.model for e in ctx.history(kinds="artifact.put")]


def test_vault_config_is_1_0s_import_path(tmp_path: Path) -> None:
    assert ArtifactStoreConfig is VaultConfig
    config = VaultConfig(root_path=str(tmp_path / "a"), default_ingest_mode="MOVE")
    assert config.root_path == (tmp_path / "a").resolve()
    assert config.default_ingest_mode.value == "move"
    with pytest.raises(ValidationError) as err:
        VaultConfig(verification_mode="paranoid")
    assert err.value.code == "artifact_store_invalid_verification_mode"


def test_copy_put_is_content_addressed_and_one_ledger_event(ctx: Contexta, tmp_path: Path) -> None:
    data = b"weights" * 1000
    source = body(tmp_path / "model.bin", data)
    receipt = ctx.artifact_store.put_artifact(manifest(), source)
    digest = hashlib.sha256(data).hexdigest()
    assert receipt.path == Path(ctx.workspace) / "artifacts" / "objects" / digest[:2] / digest[2:]
    assert receipt.path.read_bytes() == data and source.exists()
    assert receipt.bytes_written == len(data)
    binding = receipt.binding
    assert (binding.hash_value, binding.size_bytes, binding.ingest_mode, binding.source_name) == (
        digest,
        len(data),
        "copy",
        "model.bin",
    )
    assert binding.manifest_snapshot == manifest()  # the caller's manifest, untouched
    (stored,) = puts(ctx)
    (ext,) = stored.extensions
    assert ext.namespace == BINDING_NAMESPACE and ext.fields["hash_value"] == digest


def test_snapshot_lists_stored_artifacts(ctx: Contexta, tmp_path: Path) -> None:
    with ctx.run("r1") as run:
        pass
    m = manifest(run=run.ref)
    ctx.artifact_store.put_artifact(m, body(tmp_path / "m.bin", b"x"))
    (record,) = ctx.get_run_snapshot(run.ref).artifacts
    assert (record.artifact_ref, record.kind, record.location) == (
        str(m.artifact_ref),
        "model_bundle",
        "vault://model.bin",
    )


def test_reput_same_body_is_a_noop_and_a_new_body_conflicts(ctx: Contexta, tmp_path: Path) -> None:
    store = ctx.artifact_store
    store.put_artifact(manifest(), body(tmp_path / "a.bin", b"one"))
    again = store.put_artifact(manifest(), body(tmp_path / "b.bin", b"one"))
    assert again.bytes_written == 0 and len(puts(ctx)) == 1
    with pytest.raises(ConflictError) as err:
        store.put_artifact(manifest(), body(tmp_path / "c.bin", b"two"))
    assert err.value.code == "artifact_binding_conflict"
    assert store.read_artifact_bytes("artifact:vision.r1.model") == b"one"


def test_identical_bodies_are_stored_once(ctx: Contexta, tmp_path: Path) -> None:
    store = ctx.artifact_store
    first = store.put_artifact(manifest("a"), body(tmp_path / "a.bin", b"same"))
    second = store.put_artifact(manifest("b"), body(tmp_path / "b.bin", b"same"))
    assert first.path == second.path and second.bytes_written == 0
    assert store.list_refs() == ["artifact:vision.r1.a", "artifact:vision.r1.b"]
    assert inspect_store(store).orphan_count == 0


def test_move_and_adopt_modes(ctx: Contexta, tmp_path: Path) -> None:
    store = ctx.artifact_store
    moved = body(tmp_path / "moved.bin", b"move me")
    receipt = store.put_artifact(manifest("m"), moved, mode="move")
    assert not moved.exists() and receipt.binding.ingest_mode == "move"
    with pytest.raises(ValidationError) as err:
        store.put_artifact(manifest("x"), body(tmp_path / "x.bin", b"x"), mode="adopt")
    assert err.value.code == "artifact_store_invalid_adopt_source"
    staged = body(store.staging_path("big.bin"), b"staged body")
    adopted = store.put_artifact(manifest("s"), staged, mode="adopt")
    assert not staged.exists() and adopted.path.read_bytes() == b"staged body"


def test_reads_and_lookups(ctx: Contexta, tmp_path: Path) -> None:
    store = ctx.artifact_store
    store.put_artifact(manifest(), body(tmp_path / "a.bin", b"abc"))
    ref = "artifact:vision.r1.model"
    assert artifact_exists(store, ref) and not artifact_exists(store, "artifact:vision.r1.nope")
    assert read_artifact_bytes(store, ref) == b"abc"
    assert get_artifact(store, ref).binding.artifact_kind == "model_bundle"
    assert list_refs(store) == [ref]
    with pytest.raises(NotFoundError) as err:
        store.get_artifact("artifact:vision.r1.nope")
    assert err.value.code == "artifact_store_binding_not_found"


def test_verify_detects_tampering_missing_bodies_and_orphans(ctx: Contexta, tmp_path: Path) -> None:
    store = ctx.artifact_store
    good = store.put_artifact(manifest("good"), body(tmp_path / "g.bin", b"good"))
    bad = store.put_artifact(manifest("bad"), body(tmp_path / "b.bin", b"bad!"))
    gone = store.put_artifact(manifest("gone"), body(tmp_path / "x.bin", b"gone"))
    assert verify_artifact(store, "artifact:vision.r1.good").status is VerificationStatus.VERIFIED
    bad.path.write_bytes(b"BAD!")
    gone.path.unlink()
    orphan = store.object_path("ab" * 32)
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"nobody")
    report = store.verify_artifact("artifact:vision.r1.bad")
    assert (report.status, report.verified, report.exists) == (
        VerificationStatus.HASH_MISMATCH,
        False,
        True,
    )
    assert store.verify_artifact("artifact:vision.r1.gone").status is VerificationStatus.MISSING
    summary = inspect_store(store)
    assert (
        summary.artifact_count,
        summary.verified_count,
        summary.missing_count,
        summary.drift_count,
        summary.orphan_count,
    ) == (3, 1, 1, 1, 1)
    assert dict(summary.kinds) == {"model_bundle": 3}
    assert good.path.exists()


def test_manifest_claims_are_checked(ctx: Contexta, tmp_path: Path) -> None:
    source = body(tmp_path / "a.bin", b"12345")
    with pytest.raises(ArtifactError) as size:
        ctx.artifact_store.put_artifact(manifest(size_bytes=4), source)
    assert size.value.code == "artifact_store_size_mismatch"
    with pytest.raises(ArtifactError) as digest:
        ctx.artifact_store.put_artifact(manifest(hash_value="0" * 64), source)
    assert digest.value.code == "artifact_store_hash_mismatch"
    ok = manifest(size_bytes=5, hash_value=hashlib.sha256(b"12345").hexdigest())
    assert ctx.artifact_store.put_artifact(ok, source).bytes_written == 5
    assert puts(ctx)[0].size_bytes == 5


def test_a_standalone_store_shares_the_workspace_ledger(ctx: Contexta, tmp_path: Path) -> None:
    standalone = ArtifactStore(VaultConfig(root_path=Path(ctx.workspace) / "artifacts"))
    standalone.put_artifact(manifest(), body(tmp_path / "a.bin", b"shared"))
    standalone.close()
    assert ctx.artifact_store.read_artifact_bytes("artifact:vision.r1.model") == b"shared"
    assert len(puts(ctx)) == 1


def test_projections_rebuild_reproduces_the_store(
    ctx: Contexta, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from contexta.cli.main import main

    with ctx.run("r1") as run:
        pass
    ctx.artifact_store.put_artifact(manifest("a", run=run.ref), body(tmp_path / "a.bin", b"a"))
    ctx.artifact_store.put_artifact(manifest("b", run=run.ref), body(tmp_path / "b.bin", b"b"))
    before = [b.to_dict() for b in ctx.artifact_store.bindings()]
    artifacts = ctx.get_run_snapshot(run.ref).artifacts
    assert len(artifacts) == 2
    ctx.close()
    projections = Path(ctx.workspace) / "projections"
    assert main(["--workspace", ctx.workspace, "projections", "rebuild"]) == 0
    capsys.readouterr()
    assert projections.is_dir()
    fresh = Contexta(workspace=ctx.workspace)
    assert [b.to_dict() for b in fresh.artifact_store.bindings()] == before
    assert fresh.get_run_snapshot(run.ref).artifacts == artifacts


def test_export_then_import_into_another_workspace(ctx: Contexta, tmp_path: Path) -> None:
    ctx.artifact_store.put_artifact(manifest(), body(tmp_path / "model.bin", b"exported"))
    receipt = export_artifact(
        ctx.artifact_store, "artifact:vision.r1.model", export_root=tmp_path / "out"
    )
    assert receipt.export_directory.name == "artifact__vision.r1.model"
    assert receipt.body_path.read_bytes() == b"exported"
    assert receipt.package_metadata_path.is_file() and receipt.binding_path.is_file()
    other = Contexta(workspace=str(tmp_path / "other"))
    first = import_export_package(other.artifact_store, receipt.export_directory)
    assert (first.outcome, first.bytes_written) == (ImportOutcome.IMPORTED, 8)
    again = import_export_package(other.artifact_store, receipt.export_directory)
    assert again.outcome is ImportOutcome.IDEMPOTENT
    assert other.artifact_store.read_artifact_bytes("artifact:vision.r1.model") == b"exported"
    assert [e.kind for e in other.history()] == ["artifact.put"]


def test_import_conflict_policies(ctx: Contexta, tmp_path: Path) -> None:
    ctx.artifact_store.put_artifact(manifest(), body(tmp_path / "model.bin", b"new body"))
    package = export_artifact(
        ctx.artifact_store, "artifact:vision.r1.model", export_root=tmp_path / "out"
    ).export_directory
    other = Contexta(workspace=str(tmp_path / "other")).artifact_store
    other.put_artifact(manifest(), body(tmp_path / "old.bin", b"old body"))
    with pytest.raises(ConflictError):
        import_export_package(other, package)
    assert import_export_package(other, package, conflict_policy="skip").outcome is (
        ImportOutcome.SKIPPED
    )
    replaced = import_export_package(other, package, conflict_policy="replace")
    assert replaced.outcome is ImportOutcome.REPLACED
    assert replaced.quarantine_path is not None and replaced.quarantine_path.read_bytes() == (
        b"old body"
    )
    assert other.read_artifact_bytes("artifact:vision.r1.model") == b"new body"


def test_read_only_store_refuses_puts(ctx: Contexta, tmp_path: Path) -> None:
    root = Path(ctx.workspace) / "artifacts"
    ctx.artifact_store  # noqa: B018 - creates the layout
    store = ArtifactStore(VaultConfig(root_path=root, read_only=True), workspace=ctx._workspace)
    with pytest.raises(ReadOnlyStoreError) as err:
        store.put_artifact(manifest(), body(tmp_path / "a.bin", b"a"))
    assert err.value.code == "artifact_store_read_only"
    assert not os.listdir(root / "objects")
