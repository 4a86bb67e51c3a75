"""File-system operations on paths a user names: restore, backup, artifact register, import
and export, fed ``../`` refs, absolute paths, symlinks pointing out, paths inside the ledger or
projections, directories that are not workspaces, wrong-shape manifests and tampered bodies.

Each is refused with a typed error (through the CLI: a non-zero exit, an ``error [code]``
line, no traceback); nothing outside the root is touched, nothing stored is lost, and
``contexta ledger verify`` is clean afterwards. The kill tests restore in a child process and
``kill -9`` it after each file-system call: the workspace is always the old one or the new one,
whole, and the next open finishes or rolls back what was left.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contexta import Contexta
from contexta.cli import main
from contexta.common.errors import ContextaError, IntegrityError, ValidationError
from contexta.contract import ArtifactManifest
from contexta.recovery import (
    BackupError,
    RestoreError,
    create_workspace_backup,
    plan_restore,
    plan_workspace_backup,
    restore_workspace,
)
from contexta.store.artifacts import export_artifact
from ledger import list_segments, read_head, verify

QUIET = {"capture": {"capture_environment_snapshot": False}}
CHILD = Path(__file__).with_name("_child_restore.py")


# ---------------------------------------------------------------------------- helpers


def open_ctx(root: Path) -> Contexta:
    return Contexta(workspace=str(root), config=dict(QUIET))


def model(ref: str, key: str = "model") -> ArtifactManifest:
    return ArtifactManifest(
        artifact_ref=f"artifact:{ref[4:]}.{key}",
        artifact_kind="model_bundle",
        created_at="2025-01-01T00:00:00Z",
        producer_ref="trainer",
        run_ref=ref,
        location_ref=f"{key}.bin",
    )


def train(ctx: Contexta, name: str, body: bytes, tmp: Path) -> None:
    with ctx.run(name) as run, run.stage("train") as stage:
        stage.metric("loss", 0.5)
    source = tmp / f"{name}.bin"
    source.write_bytes(body)
    ctx.artifact_store.put_artifact(model(run.ref), source)


def tree(root: Path) -> dict[str, Any]:
    """Every entry under ``root`` (not following links): kind and content hash or link text."""
    out: dict[str, Any] = {}
    if not os.path.lexists(root):
        return out
    for top, dirs, names in os.walk(root, followlinks=False):
        for name in dirs + names:
            path = Path(top) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                out[rel] = ("link", os.readlink(path))
            elif path.is_dir():
                out[rel] = ("dir",)
            else:
                out[rel] = ("file", hashlib.sha256(path.read_bytes()).hexdigest())
    return out


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def refused(capsys: pytest.CaptureFixture[str], code: str, *args: str) -> str:
    """Run the CLI; it must exit non-zero with ``error [code]`` and no traceback."""
    rc, out, err = cli(capsys, *args)
    assert rc != 0, out
    assert f"error [{code}]" in err, err
    assert "Traceback" not in out + err
    return err


def ledger_clean(capsys: pytest.CaptureFixture[str], ws: Path) -> None:
    rc, out, _ = cli(capsys, "--workspace", str(ws), "ledger", "verify")
    assert rc == 0 and "OK" in out, out


def run_names(ws: Path) -> list[str]:
    ctx = open_ctx(ws)
    try:
        return sorted(r.name for r in ctx.list_runs())
    finally:
        ctx.close()


@pytest.fixture()
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    ctx = open_ctx(root)
    train(ctx, "baseline", b"baseline weights", tmp_path)
    ctx.close()
    return root


@pytest.fixture()
def backup(ws: Path) -> Path:
    ctx = open_ctx(ws)
    try:
        result = create_workspace_backup(ctx.config, plan_workspace_backup(ctx.config, label="b"))
    finally:
        ctx.close()
    assert result.location is not None
    return result.location


def config_of(ws: Path) -> Any:
    ctx = open_ctx(ws)
    ctx.close()
    return ctx.config


# ---------------------------------------------------------------------------- restore targets


def _artifacts_and_projections(target: Path) -> None:
    (target / "artifacts").mkdir(parents=True)
    (target / "artifacts" / "precious.bin").write_bytes(b"not a workspace's")
    (target / "projections").mkdir()
    (target / "projections" / "notes.txt").write_text("mine")


def _unrelated_files(target: Path) -> None:
    target.mkdir(parents=True)
    (target / "thesis.tex").write_text("years of work")


def _ledger_is_a_file(target: Path) -> None:
    target.mkdir(parents=True)
    (target / "ledger").write_text("a file named ledger")


def _a_file(target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("a file, not a directory")


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (_artifacts_and_projections, "recovery_target_not_workspace"),
        (_unrelated_files, "recovery_target_not_workspace"),
        (_ledger_is_a_file, "recovery_target_not_workspace"),
        (_a_file, "recovery_target_not_directory"),
    ],
)
def test_restore_refuses_a_target_that_is_not_a_workspace(
    ws: Path, backup: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Any, code: str
) -> None:
    """Item 2: a directory with artifacts/ and projections/ but no ledger was deleted."""
    target = tmp_path / "target"
    make(target)
    before = tree(tmp_path / "target") if target.is_dir() else target.read_bytes()
    refused(
        capsys,
        code,
        "--workspace",
        str(ws),
        "restore",
        "apply",
        backup.name,
        "--target-workspace",
        str(target),
    )
    assert (tree(target) if target.is_dir() else target.read_bytes()) == before
    with pytest.raises(RestoreError) as err:
        config = config_of(ws)
        restore_workspace(config, plan_restore(config, backup.name, target_workspace=target))
    assert err.value.code == code
    assert (tree(target) if target.is_dir() else target.read_bytes()) == before


def test_restore_into_an_empty_directory_or_a_new_path_works(
    ws: Path, backup: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for target in (tmp_path / "empty", tmp_path / "new" / "nested"):
        if target.name == "empty":
            target.mkdir()
        rc, _, err = cli(
            capsys,
            "--workspace",
            str(ws),
            "restore",
            "apply",
            backup.name,
            "--target-workspace",
            str(target),
        )
        assert rc == 0, err
        assert run_names(target) == ["baseline"]
        ledger_clean(capsys, target)
        assert not [p for p in target.iterdir() if p.name.startswith(".contexta-restore-")]


# ---------------------------------------------------------------------------- restore refs


def test_a_ref_leading_out_of_the_backup_root_is_refused_and_the_backup_kept(
    ws: Path, backup: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Item 8: a ``../`` ref deleted the backup it named, then raised FileNotFoundError."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copytree(backup, elsewhere / backup.name)
    before = tree(elsewhere)
    escape = os.path.relpath(elsewhere / backup.name, backup.parent)
    assert escape.startswith("..")
    refused(
        capsys,
        "recovery_backup_ref_escape",
        "--workspace",
        str(ws),
        "restore",
        "apply",
        escape,
        "--target-workspace",
        str(tmp_path / "t"),
    )
    refused(
        capsys,
        "recovery_backup_ref_escape",
        "--workspace",
        str(ws),
        "restore",
        "apply",
        escape,
        "--verify-only",
    )
    assert tree(elsewhere) == before and not (tmp_path / "t").exists()
    (backup.parent / "linked").symlink_to(elsewhere / backup.name)
    refused(
        capsys,
        "recovery_backup_ref_escape",
        "--workspace",
        str(ws),
        "restore",
        "apply",
        "linked",
        "--target-workspace",
        str(tmp_path / "t"),
    )
    refused(
        capsys,
        "recovery_backup_not_found",
        "--workspace",
        str(ws),
        "restore",
        "apply",
        str(tmp_path),
        "--target-workspace",
        str(tmp_path / "t"),
    )
    assert tree(elsewhere) == before and not (tmp_path / "t").exists()
    ledger_clean(capsys, ws)


def test_a_backup_inside_what_the_restore_replaces_is_refused(
    ws: Path, backup: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inside = ws / "artifacts" / "kept-backup"
    shutil.copytree(backup, inside)
    before = tree(ws)
    refused(
        capsys,
        "recovery_backup_inside_target",
        "--workspace",
        str(ws),
        "restore",
        "apply",
        str(inside),
    )
    assert tree(ws) == before
    backup_before = tree(backup)
    refused(
        capsys,
        "recovery_backup_inside_target",
        "--workspace",
        str(ws),
        "restore",
        "apply",
        backup.name,
        "--target-workspace",
        str(backup / "workspace" / "nested"),
    )
    assert tree(backup) == backup_before
    config = config_of(ws)
    for bad in ("a\x00b", "   "):
        with pytest.raises(RestoreError) as err:
            plan_restore(config, bad)
        assert err.value.code == "recovery_backup_ref_invalid"


# ---------------------------------------------------------------------------- backup contents


def test_verify_only_fails_and_apply_refuses_unlisted_files_and_symlinks(
    ws: Path, backup: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Item 13: an unlisted file and a symlink pointing out were 'Verified' and copied in."""
    secret = tmp_path / "secret.txt"
    secret.write_text("outside the backup")
    (backup / "workspace" / "artifacts" / "planted.bin").write_bytes(b"unlisted")
    (backup / "workspace" / "cache").mkdir()
    (backup / "workspace" / "cache" / "link").symlink_to(secret)
    rc, out, err = cli(
        capsys, "--workspace", str(ws), "restore", "apply", backup.name, "--verify-only"
    )
    assert rc == 1 and "FAILED verification" in out and "Traceback" not in err
    assert "unlisted:workspace/artifacts/planted.bin" in out
    assert "symlink:workspace/cache/link" in out
    target = tmp_path / "target"
    refused(
        capsys,
        "recovery_backup_corrupt",
        "--workspace",
        str(ws),
        "restore",
        "apply",
        backup.name,
        "--target-workspace",
        str(target),
    )
    assert not target.exists() and secret.read_text() == "outside the backup"


def test_a_listed_file_replaced_by_a_symlink_to_identical_bytes_is_refused(
    ws: Path, backup: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = json.loads((backup / "manifest.json").read_text())
    name = next(n for n in manifest["files"] if "/objects/" in n)
    outside = tmp_path / "same-bytes"
    shutil.copyfile(backup / name, outside)
    (backup / name).unlink()
    (backup / name).symlink_to(outside)
    rc, out, _ = cli(
        capsys, "--workspace", str(ws), "restore", "apply", backup.name, "--verify-only"
    )
    assert rc == 1 and f"symlink:{name}" in out
    refused(
        capsys,
        "recovery_backup_corrupt",
        "--workspace",
        str(ws),
        "restore",
        "apply",
        backup.name,
        "--target-workspace",
        str(tmp_path / "t"),
    )


def test_restore_copies_only_listed_files(ws: Path, backup: Path, tmp_path: Path) -> None:
    config = config_of(ws)
    target = tmp_path / "target"
    restore_workspace(config, plan_restore(config, backup.name, target_workspace=target))
    listed = json.loads((backup / "manifest.json").read_text())["files"]
    restored = {
        f"workspace/{rel}"
        for rel, kind in tree(target).items()
        if kind[0] == "file" and rel.split("/")[0] in ("ledger", "artifacts")
    }
    assert restored == {n for n in listed if n.split("/")[1] in ("ledger", "artifacts")}


WRONG_SHAPES: list[tuple[str, Any, str]] = [
    ("list", [], "<root>"),
    ("no-format", {"files": {}, "head": {"seq": 0, "chain": ""}}, "format"),
    ("files-list", {"files": []}, "files"),
    ("fact-int", {"files": {"workspace/ledger/HEAD": 5}}, "files[workspace/ledger/HEAD]"),
    (
        "size-text",
        {"files": {"workspace/ledger/HEAD": {"size": "9", "sha256": "0" * 64}}},
        "files[workspace/ledger/HEAD].size",
    ),
    (
        "sha-short",
        {"files": {"workspace/ledger/HEAD": {"size": 9, "sha256": "ab"}}},
        "files[workspace/ledger/HEAD].sha256",
    ),
    ("dotdot-name", {"files": {"workspace/../../x": {"size": 1, "sha256": "0" * 64}}}, "files"),
    ("absolute-name", {"files": {"/etc/passwd": {"size": 1, "sha256": "0" * 64}}}, "files"),
    ("head-list", {"head": []}, "head"),
    ("head-seq-text", {"head": {"seq": "7", "chain": "x"}}, "head.seq"),
]


@pytest.mark.parametrize(
    ("label", "patch", "field"), WRONG_SHAPES, ids=[w[0] for w in WRONG_SHAPES]
)
def test_a_wrong_shape_manifest_is_a_typed_error_naming_the_field(
    ws: Path,
    backup: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    label: str,
    patch: Any,
    field: str,
) -> None:
    """Item 18: valid JSON of the wrong shape raised AttributeError / KeyError / TypeError."""
    path = backup / "manifest.json"
    data = json.loads(path.read_text())
    if isinstance(patch, dict) and "format" in data and label != "no-format":
        data.update(patch)
    else:
        data = patch
    path.write_text(json.dumps(data))
    config = config_of(ws)
    for verify_only in (True, False):
        with pytest.raises(RestoreError) as err:
            restore_workspace(
                config,
                plan_restore(
                    config, backup.name, verify_only=verify_only, target_workspace=tmp_path / "t"
                ),
            )
        assert err.value.code == "recovery_manifest_invalid"
        assert err.value.details is not None and err.value.details["field"] == field
    refused(
        capsys,
        "recovery_manifest_invalid",
        "--workspace",
        str(ws),
        "restore",
        "apply",
        backup.name,
        "--verify-only",
    )
    assert not (tmp_path / "t").exists()


# ---------------------------------------------------------------------------- backup create


def test_backup_output_inside_the_workspace_data_is_refused(
    ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = tree(ws / "ledger")
    for inside in (
        ws / "ledger",
        ws / "ledger" / "sub",
        ws / "projections",
        ws / "artifacts" / "objects",
    ):
        refused(
            capsys,
            "recovery_backup_root_inside_workspace_data",
            "--workspace",
            str(ws),
            "backup",
            "create",
            "--output",
            str(inside),
        )
    assert tree(ws / "ledger") == before and not (ws / "ledger" / "sub").exists()
    config = config_of(ws)
    plan = plan_workspace_backup(config)
    for ref in ("../escaped", "/abs", "a/b", ".."):
        from dataclasses import replace

        with pytest.raises(BackupError) as err:
            create_workspace_backup(config, replace(plan, backup_ref=ref))
        assert err.value.code == "recovery_backup_ref_invalid"
    assert not (tmp_path / "escaped").exists() and not (ws / "exports" / "escaped").exists()
    rc, out, err = cli(
        capsys, "--workspace", str(ws), "backup", "create", "--label", "../../evil/../x"
    )
    assert rc == 0, err
    made = Path(
        next(line for line in out.splitlines() if line.startswith("Backup created: "))[
            len("Backup created: ") :
        ]
    )
    assert made.parent == ws / "exports" / "backups" and ".." not in made.name
    ledger_clean(capsys, ws)


def test_backup_never_follows_a_symlink_out(ws: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not copy")
    (ws / "artifacts" / "objects" / "zz").mkdir()
    (ws / "artifacts" / "objects" / "zz" / "link").symlink_to(secret)
    (ws / "artifacts" / "outside-dir").symlink_to(tmp_path, target_is_directory=True)
    config = config_of(ws)
    result = create_workspace_backup(config, plan_workspace_backup(config))
    assert result.location is not None
    files = json.loads((result.location / "manifest.json").read_text())["files"]
    assert not [n for n in files if "link" in n or "outside-dir" in n]
    assert not any(p.is_symlink() for p in result.location.rglob("*"))
    assert "symlink_skipped:workspace/artifacts/objects/zz/link" in result.warnings
    assert (
        restore_workspace(config, plan_restore(config, result.backup_ref, verify_only=True)).status
        == "SUCCESS"
    )


# ---------------------------------------------------------------------------- artifact register


def _run_ref(ws: Path) -> str:
    ctx = open_ctx(ws)
    try:
        run_id = str(ctx.list_runs()[0].run_id)
        return run_id if run_id.startswith("run:") else f"run:{run_id}"
    finally:
        ctx.close()


def test_register_move_of_a_ledger_segment_is_refused(
    ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Item 10: moving a file of the ledger moved the active segment into objects/."""
    segment = list_segments(ws / "ledger")[-1].path
    run = _run_ref(ws)
    link = tmp_path / "innocent.bin"
    link.symlink_to(segment)
    before = tree(ws / "ledger")
    for source in (segment, ws / "ledger" / ".." / "ledger" / segment.name, link):
        for mode in ("move", "copy"):
            refused(
                capsys,
                "artifact_store_source_in_workspace",
                "--workspace",
                str(ws),
                "artifact",
                "register",
                "model_bundle",
                str(source),
                "--run",
                run,
                "--mode",
                mode,
            )
    (ws / "projections").mkdir(exist_ok=True)
    state = ws / "projections" / "state.bin"
    state.write_bytes(b"projection state")
    refused(
        capsys,
        "artifact_store_source_in_workspace",
        "--workspace",
        str(ws),
        "artifact",
        "register",
        "model_bundle",
        str(state),
        "--run",
        run,
        "--mode",
        "move",
    )
    assert state.read_bytes() == b"projection state"
    assert tree(ws / "ledger") == before and link.is_symlink()
    ledger_clean(capsys, ws)
    assert run_names(ws) == ["baseline"]


def test_register_move_never_moves_a_symlink_target_or_a_stored_body(
    ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _run_ref(ws)
    target = tmp_path / "real.bin"
    target.write_bytes(b"the link's target")
    link = tmp_path / "link.bin"
    link.symlink_to(target)
    refused(
        capsys,
        "artifact_store_symlink_source",
        "--workspace",
        str(ws),
        "artifact",
        "register",
        "model_bundle",
        str(link),
        "--run",
        run,
        "--mode",
        "move",
    )
    assert target.read_bytes() == b"the link's target" and link.is_symlink()
    body = next(p for p in (ws / "artifacts" / "objects").rglob("*") if p.is_file())
    refused(
        capsys,
        "artifact_store_source_in_store",
        "--workspace",
        str(ws),
        "artifact",
        "register",
        "model_bundle",
        str(body),
        "--run",
        run,
        "--mode",
        "move",
        "--artifact-ref",
        "artifact:default.baseline.again",
    )
    assert body.is_file()
    rc, _, err = cli(
        capsys,
        "--workspace",
        str(ws),
        "artifact",
        "register",
        "model_bundle",
        str(link),
        "--run",
        run,
        "--mode",
        "copy",
    )
    assert rc == 0, err
    assert target.read_bytes() == b"the link's target" and link.is_symlink()
    ctx = open_ctx(ws)
    try:
        summary = ctx.artifact_store.inspect_store()
        assert (summary.missing_count, summary.drift_count) == (0, 0)
    finally:
        ctx.close()
    ledger_clean(capsys, ws)


def test_register_move_of_a_hard_linked_file_does_not_share_its_inode(
    ws: Path, tmp_path: Path
) -> None:
    first = tmp_path / "first.bin"
    first.write_bytes(b"linked body")
    second = tmp_path / "second.bin"
    os.link(first, second)
    ctx = open_ctx(ws)
    try:
        receipt = ctx.artifact_store.put_artifact(
            model(_run_ref(ws), "linked"), second, mode="move"
        )
    finally:
        ctx.close()
    assert not second.exists()
    first.write_bytes(b"changed later")
    assert receipt.path.read_bytes() == b"linked body"


# ---------------------------------------------------------------------------- packages


@pytest.fixture()
def package(ws: Path, tmp_path: Path) -> Path:
    ctx = open_ctx(ws)
    try:
        return export_artifact(
            ctx.artifact_store, "artifact:default.baseline.model", export_root=tmp_path / "out"
        ).export_directory
    finally:
        ctx.close()


def _import(root: Path, package: Path) -> Any:
    ctx = open_ctx(root)
    try:
        return ctx.artifact_store.import_export_package(package)
    finally:
        ctx.close()


def _puts(root: Path) -> int:
    ctx = open_ctx(root)
    try:
        return len(list(ctx.history(kinds="artifact.put")))
    finally:
        ctx.close()


def _edit_meta(package: Path, **changes: Any) -> None:
    path = package / "export.package.json"
    meta = json.loads(path.read_text())
    meta.update(changes)
    path.write_text(json.dumps(meta))


def test_a_package_body_outside_the_package_is_refused(package: Path, tmp_path: Path) -> None:
    """Item 11: body_file ``../../secret.txt`` or absolute imported a file from outside."""
    secret = tmp_path / "secret.txt"
    secret.write_text("outside the package")
    other = tmp_path / "other"
    relative = os.path.relpath(secret, package)
    for body_file in (relative, str(secret), "sub/../../secret.txt"):
        _edit_meta(package, body_file=body_file)
        with pytest.raises(ValidationError) as err:
            _import(other, package)
        assert err.value.code == "artifact_export_package_path_escape"
    (package / "linked.bin").symlink_to(secret)
    _edit_meta(package, body_file="linked.bin")
    with pytest.raises(ValidationError) as err:
        _import(other, package)
    assert err.value.code == "artifact_export_package_invalid"
    assert _puts(other) == 0 and secret.read_text() == "outside the package"


def test_a_tampered_package_body_is_a_typed_integrity_error(package: Path, tmp_path: Path) -> None:
    """Item 12: a body that no longer matched its manifest's sha256 was imported silently."""
    meta = json.loads((package / "export.package.json").read_text())
    (package / meta["body_file"]).write_bytes(b"tampered weights")
    other = tmp_path / "other"
    with pytest.raises(IntegrityError) as err:
        _import(other, package)
    assert err.value.code == "artifact_export_package_hash_mismatch"
    assert _puts(other) == 0
    assert not [p for p in (other / "artifacts").rglob("*") if p.is_file()]


def _meta_list(package: Path) -> None:
    (package / "export.package.json").write_text("[]")


def _manifest_list(package: Path) -> None:
    (package / "manifest.snapshot.json").write_text("[1, 2]")


def _no_created_at(package: Path) -> None:
    path = package / "manifest.snapshot.json"
    data = json.loads(path.read_text())
    del data["created_at"]
    path.write_text(json.dumps(data))


def _body_file_int(package: Path) -> None:
    _edit_meta(package, body_file=7)


def _hash_value_int(package: Path) -> None:
    _edit_meta(package, hash_value=12)


def _binding_file_escape(package: Path) -> None:
    _edit_meta(package, binding_file="../x.json")


def _deep_json(package: Path) -> None:
    (package / "export.package.json").write_text("[" * 100_000 + "]" * 100_000)


@pytest.mark.parametrize(
    ("damage", "field"),
    [
        (_meta_list, "export.package.json"),
        (_manifest_list, "manifest.snapshot.json"),
        (_no_created_at, "manifest.snapshot.json:created_at"),
        (_body_file_int, "body_file"),
        (_hash_value_int, "export.package.json:hash_value"),
        (_binding_file_escape, "binding_file"),
        (_deep_json, "export.package.json"),
    ],
)
def test_a_malformed_package_is_a_typed_error_naming_the_field(
    package: Path, tmp_path: Path, damage: Any, field: str
) -> None:
    """Item 18: malformed packages raised raw AttributeError / KeyError / TypeError."""
    damage(package)
    other = tmp_path / "other"
    with pytest.raises(ValidationError) as err:
        _import(other, package)
    assert err.value.details is not None and err.value.details["field"] == field
    assert _puts(other) == 0


def test_export_never_writes_into_the_ledger_or_through_a_symlink(
    ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = open_ctx(ws)
    try:
        for inside in (ws / "ledger", ws / "projections" / "x"):
            with pytest.raises(ValidationError) as err:
                export_artifact(
                    ctx.artifact_store, "artifact:default.baseline.model", export_root=inside
                )
            assert err.value.code == "artifact_export_root_in_workspace"
        victim = tmp_path / "victim.txt"
        victim.write_text("keep me")
        out = tmp_path / "out" / "artifact__default.baseline.model"
        out.mkdir(parents=True)
        (out / "baseline.bin").symlink_to(victim)
        (out / "export.package.json").symlink_to(victim)
        receipt = export_artifact(
            ctx.artifact_store, "artifact:default.baseline.model", export_root=tmp_path / "out"
        )
    finally:
        ctx.close()
    assert victim.read_text() == "keep me"
    assert receipt.body_path.read_bytes() == b"baseline weights"
    assert not receipt.body_path.is_symlink()
    assert not (ws / "ledger" / "artifact__default.baseline.model").exists()
    ledger_clean(capsys, ws)
    other = tmp_path / "other"
    assert _import(other, receipt.export_directory).outcome.value == "imported"


# ---------------------------------------------------------------------------- kill -9 in restore


def _object_names(root: Path) -> set[str]:
    objects = root / "objects"
    return {
        p.relative_to(objects).as_posix()
        for p in objects.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    }


def _whole(ws: Path, state: dict[str, Any]) -> bool:
    """The ledger verifies at exactly this state's head and every body it binds is there."""
    report = verify(ws / "ledger")
    if not report.ok or (report.last_seq, report.chain) != state["head"]:
        return False
    for name in state["objects"]:
        path = ws / "artifacts" / "objects" / name
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != name.replace(
            "/", ""
        ):
            return False
    return True


def _spawn(ws: Path, backup: Path, kill_at: int, strategy: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CHILD), str(ws), str(backup), str(ws), str(kill_at), strategy],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture()
def crash_setup(tmp_path: Path) -> Iterator[tuple[Path, Path, dict[str, Any], dict[str, Any]]]:
    """A workspace (old: two runs, two bodies) and a backup of its earlier state (new: one run,
    one body), kept outside the workspace and copied back before each kill."""
    ws = tmp_path / "ws"
    ctx = open_ctx(ws)
    train(ctx, "baseline", b"baseline weights", tmp_path)
    result = create_workspace_backup(ctx.config, plan_workspace_backup(ctx.config, label="b"))
    new_head = read_head(ws / "ledger")
    new_objects = _object_names(ws / "artifacts")
    train(ctx, "after", b"after weights", tmp_path)
    ctx.close()
    old_report = verify(ws / "ledger")
    old = {
        "head": (old_report.last_seq, old_report.chain),
        "objects": _object_names(ws / "artifacts"),
        "runs": ["after", "baseline"],
    }
    assert new_head is not None and result.location is not None
    new = {"head": (new_head.seq, new_head.chain), "objects": new_objects, "runs": ["baseline"]}
    kept = tmp_path / "kept-backup"
    shutil.move(str(result.location), kept)
    pristine = tmp_path / "pristine"
    shutil.copytree(ws, pristine, symlinks=True)
    yield ws, kept, old, new


def _kill_and_check(
    tmp_path: Path,
    ws: Path,
    kept: Path,
    old: dict[str, Any],
    new: dict[str, Any],
    kill_at: int,
    strategy: str,
) -> str:
    shutil.rmtree(ws)
    shutil.copytree(tmp_path / "pristine", ws, symlinks=True)
    proc = _spawn(ws, kept, kill_at, strategy)
    assert proc.returncode == -9, (kill_at, proc.returncode, proc.stderr[-2000:])
    last = proc.stderr.strip().splitlines()[-1]
    if strategy == "exchange":  # no recovery needed: the workspace is whole at every instant
        assert _whole(ws, old) or _whole(ws, new), (kill_at, last)
    names = run_names(ws)  # opening finishes or rolls back the interrupted restore
    assert not [p for p in ws.iterdir() if p.name.startswith(".contexta-restore-")]
    state = old if names == old["runs"] else new
    assert names == state["runs"] and _whole(ws, state), (kill_at, last, names)
    ctx = open_ctx(ws)
    try:
        summary = ctx.artifact_store.inspect_store()
        assert (summary.missing_count, summary.drift_count) == (0, 0), (kill_at, last)
    finally:
        ctx.close()
    assert main(["--workspace", str(ws), "ledger", "verify"]) == 0
    return "new" if state is new else "old"


def _kill_points(tmp_path: Path, ws: Path, kept: Path, strategy: str) -> list[str]:
    """The file-system calls of one whole restore, in order (a run without a kill)."""
    proc = _spawn(ws, kept, 0, strategy)
    assert proc.returncode == 0, proc.stderr[-2000:]
    ops = [line for line in proc.stderr.splitlines() if line.startswith("op ")]
    shutil.rmtree(ws)
    shutil.copytree(tmp_path / "pristine", ws, symlinks=True)
    return ops


def _sample(ops: list[str], ws: Path) -> list[int]:
    """The fast sample: the call before the journal (the copy is incomplete: roll back), the
    swap of the ledger (exchange, or the first of the three renames) and the call after it."""
    journal = next(
        (
            i
            for i, op in enumerate(ops, 1)
            if op.split()[2] == "replace" and op.endswith("JOURNAL.tmp")
        ),
        2,
    )
    ledger = next(
        i
        for i, op in enumerate(ops, 1)
        if op.split()[3:4] == [str(ws / "ledger")] and op.split()[2] in ("rename", "exchange")
    )
    return sorted({journal - 1, ledger, min(ledger + 1, len(ops))})


@pytest.mark.parametrize("strategy", ["exchange", "renames"])
def test_kill_minus_9_during_restore_leaves_the_old_or_the_new_workspace(
    tmp_path: Path, crash_setup: Any, capsys: pytest.CaptureFixture[str], strategy: str
) -> None:
    """Item 9: a crash between moving the old ledger aside and putting the new one in place
    left no ledger ("No runs.", "OK 0 events")."""
    ws, kept, old, new = crash_setup
    ops = _kill_points(tmp_path, ws, kept, strategy)
    outcomes = [
        _kill_and_check(tmp_path, ws, kept, old, new, at, strategy) for at in _sample(ops, ws)
    ]
    assert "old" in outcomes and "new" in outcomes


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["exchange", "renames"])
def test_kill_minus_9_at_every_call_of_a_restore(
    tmp_path: Path, crash_setup: Any, strategy: str
) -> None:
    ws, kept, old, new = crash_setup
    ops = _kill_points(tmp_path, ws, kept, strategy)
    outcomes = [
        _kill_and_check(tmp_path, ws, kept, old, new, at, strategy) for at in range(1, len(ops) + 1)
    ]
    assert outcomes.count("new") >= 1 and outcomes.count("old") >= 1


def test_an_interrupted_restore_is_finished_by_the_next_restore(
    tmp_path: Path, crash_setup: Any
) -> None:
    ws, kept, _, new = crash_setup
    ops = _kill_points(tmp_path, ws, kept, "renames")
    park = next(
        i for i, op in enumerate(ops, 1) if op.split()[2:4] == ["rename", str(ws / "ledger")]
    )
    proc = _spawn(ws, kept, park, "renames")
    assert proc.returncode == -9
    assert not (ws / "ledger").exists()  # the window a plain two-rename swap leaves open
    config = config_of(tmp_path / "cfg")
    restore_workspace(config, plan_restore(config, str(kept), target_workspace=ws))
    assert not [p for p in ws.iterdir() if p.name.startswith(".contexta-restore-")]
    assert _whole(ws, new) and run_names(ws) == new["runs"]


def test_disk_errors_during_a_restore_are_typed_and_lose_nothing(
    tmp_path: Path, crash_setup: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from contexta.recovery import restore as restore_module

    ws, kept, old, new = crash_setup
    config = config_of(tmp_path / "cfg")

    def full(*_: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(restore_module, "_copy_listed", full)
        with pytest.raises(RestoreError) as err:
            restore_workspace(config, plan_restore(config, str(kept), target_workspace=ws))
    assert err.value.code == "recovery_staging_failed"
    assert not [p for p in ws.iterdir() if p.name.startswith(".contexta-restore-")]
    assert _whole(ws, old)
    with monkeypatch.context() as patch:
        patch.setattr(restore_module, "exchange", full)
        with pytest.raises(RestoreError) as err:
            restore_workspace(config, plan_restore(config, str(kept), target_workspace=ws))
    assert err.value.code == "recovery_apply_failed"
    assert _whole(ws, old) or _whole(ws, new)
    assert run_names(ws) == new["runs"] and _whole(ws, new)  # the next open finished it
    assert not [p for p in ws.iterdir() if p.name.startswith(".contexta-restore-")]


def test_restore_in_place_keeps_exports_and_leaves_no_orphan_bodies(
    tmp_path: Path, crash_setup: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    ws, kept, _, new = crash_setup
    ctx = open_ctx(ws)
    try:
        exported = export_artifact(ctx.artifact_store, "artifact:default.after.model")
    finally:
        ctx.close()
    assert exported.export_directory.is_relative_to(ws / "artifacts" / "exports")
    rc, out, err = cli(capsys, "--workspace", str(ws), "restore", "apply", str(kept))
    assert rc == 0, err
    assert "Safety backup of the previous workspace" in out
    assert exported.body_path.read_bytes() == b"after weights"
    assert _whole(ws, new) and _object_names(ws / "artifacts") == new["objects"]
    ctx = open_ctx(ws)
    try:
        summary = ctx.artifact_store.inspect_store()
        assert (summary.artifact_count, summary.orphan_count, summary.missing_count) == (1, 0, 0)
    finally:
        ctx.close()
    ledger_clean(capsys, ws)


def test_errors_are_contexta_errors() -> None:
    assert issubclass(RestoreError, ContextaError) and issubclass(BackupError, ContextaError)
