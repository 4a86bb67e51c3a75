"""1.0's store and recovery commands: ``artifact register|put`` (and ours: ``artifact get``), ``backup create``, ``restore
apply``, ``recover replay``.

Backups are the ledger-consistent backups of :mod:`contexta.recovery`: ``--output P`` writes
one zip archive ``P.zip`` as 1.0 did (1.0 zipped the workspace directory as it happened to be on
disk; here the archive holds the backup's manifest and files), ``--output-dir`` or the default a
backup directory. ``restore apply`` takes a backup name under ``recovery.backup_root``, a backup
directory or an archive, and ``--verify-only`` really verifies (every file hash and the ledger's
hash chain) instead of only checking that the path exists.
"""

from __future__ import annotations

import argparse
import os
import re
from dataclasses import replace
from pathlib import Path

from ...contract import ArtifactManifest
from ..output import escape
from .common import guard_os
from .compat_support import emit_result, facade, invalid

__all__ = ["register"]

#: the top-level commands ``register`` adds or extends (``contexta.cli.main`` runs only the
#: modules of the command it is given)
COMMANDS = ("artifact", "backup", "restore", "recover")

_NOT_KEBAB = re.compile(r"[^a-z0-9]+")


def register(commands: argparse._SubParsersAction) -> None:
    artifact = commands.add_parser("artifact", help="artifact operations")
    sub = artifact.add_subparsers(dest="artifact_command", metavar="ACTION")
    sub.required = True
    for name, text in (
        ("register", "store a file as an artifact of a run"),
        ("put", "alias of artifact register"),
    ):
        parser = sub.add_parser(name, help=text)
        parser.add_argument("artifact_kind", help="lower_snake kind, e.g. model_bundle")
        parser.add_argument("source_path")
        parser.add_argument(
            "--run",
            required=True,
            dest="run_ref",
            help="the run (run:<project>.<run>, <project>.<run> or a unique run id)",
        )
        parser.add_argument("--stage", dest="stage_ref", help="stage name or stage ref")
        parser.add_argument("--artifact-ref", help="default: artifact:<run>.<file stem>")
        parser.add_argument("--mode", choices=("copy", "move", "adopt"), default="copy")
        parser.set_defaults(handler=_artifact_register, creates_workspace=True)

    get = sub.add_parser("get", help="copy a stored artifact's body to a file")
    get.add_argument(
        "artifact_ref",
        help="artifact:<project>.<run>.<name> (the 'artifact:' prefix may be left out)",
    )
    get.add_argument(
        "-o",
        "--output",
        required=True,
        help="file to write (its directory must exist; an existing file is refused unless --force)",
    )
    get.add_argument("--force", action="store_true", help="replace an existing output file")
    get.set_defaults(handler=_artifact_get)

    backup = commands.add_parser("backup", help="workspace backups")
    sub = backup.add_subparsers(dest="backup_command", metavar="ACTION")
    sub.required = True
    create = sub.add_parser(
        "create",
        help="back up the ledger (to its committed head) and the "
        "artifact bodies, with a hash manifest",
    )
    create.add_argument("--label", help="backup name prefix (default: 'backup')")
    where = create.add_mutually_exclusive_group()
    where.add_argument(
        "--output", metavar="P", help="write the backup as one zip archive, P.zip (as Contexta 1.0)"
    )
    where.add_argument(
        "--output-dir",
        metavar="DIR",
        help="write the backup as a directory "
        "in DIR (default: recovery.backup_root, <workspace>/exports/backups)",
    )
    create.add_argument("--include-cache", action="store_true")
    create.add_argument("--include-exports", action="store_true")
    create.set_defaults(handler=_backup_create)

    restore = commands.add_parser("restore", help="restore workspace backups")
    sub = restore.add_subparsers(dest="restore_command", metavar="ACTION")
    sub.required = True
    apply = sub.add_parser("apply", help="verify a backup and restore it into a workspace")
    apply.add_argument(
        "backup_ref",
        help="backup name under recovery.backup_root (a name that "
        "leads outside it is refused), or the path of a backup directory or "
        "of a backup archive (.zip)",
    )
    apply.add_argument(
        "--target-workspace",
        help="restore here: a workspace, an empty directory or a new path (default: --workspace)",
    )
    apply.add_argument(
        "--verify-only",
        action="store_true",
        help="check every file hash and the ledger chain; change nothing",
    )
    apply.set_defaults(handler=_restore_apply)

    recover = commands.add_parser("recover", help="record recovery operations")
    sub = recover.add_subparsers(dest="recover_command", metavar="ACTION")
    sub.required = True
    replay = sub.add_parser(
        "replay", help="replay stored records from the ledger and report integrity (and any outbox)"
    )
    replay.add_argument(
        "--mode",
        choices=("strict", "tolerant"),
        default="tolerant",
        help="strict: fail when the ledger has damage",
    )
    replay.add_argument("--run")
    replay.add_argument("--stage")
    replay.add_argument("--record-type", choices=("event", "metric", "span", "degraded"))
    replay.set_defaults(handler=_recover_replay)


def _run_ref(ctx: object, text: str) -> str:
    from ...common.errors import InterpretationError

    try:
        return ctx.query_service.resolve_run(text)  # type: ignore[attr-defined]
    except InterpretationError:
        if text.strip().startswith("run:"):
            return text.strip()  # a manifest may name a run not put (yet)
        raise


def _artifact_register(args: argparse.Namespace) -> int:
    from ...common.clock import utc_now_text

    ctx = facade(args)
    source = Path(os.path.abspath(Path(args.source_path).expanduser()))  # a link stays a link
    run_ref = _run_ref(ctx, args.run_ref)
    run_value = run_ref.split(":", 1)[1]
    stem = _NOT_KEBAB.sub("-", source.stem.lower()).strip("-") or "artifact"
    stage = args.stage_ref
    if stage is not None and ":" not in stage:
        stage = f"stage:{run_value}.{stage}"
    manifest = ArtifactManifest(
        artifact_ref=args.artifact_ref or f"artifact:{run_value}.{stem}",
        artifact_kind=args.artifact_kind,
        created_at=utc_now_text(),
        producer_ref="cli.artifact-register",
        run_ref=run_ref,
        stage_execution_ref=stage,
        location_ref=source.name,
    )
    receipt = ctx.artifact_store.put_artifact(manifest, source, mode=args.mode)
    text = "\n".join(
        (
            f"Artifact registered: {escape(receipt.binding.artifact_ref)}",
            f"Path: {escape(receipt.path)}",
            f"Bytes written: {receipt.bytes_written}",
        )
    )
    return emit_result(args, receipt, text)


def _artifact_get(args: argparse.Namespace) -> int:
    """Copy the body through a temporary file beside the output, renamed into place, so the
    output is either the whole body or untouched."""
    import shutil
    import tempfile

    from ...common.errors import ConflictError

    ctx = facade(args)
    ref = args.artifact_ref.strip()
    ref = ref if ref.startswith("artifact:") else f"artifact:{ref}"
    handle = ctx.artifact_store.get_artifact(ref)
    output = Path(os.path.abspath(Path(args.output).expanduser()))
    if output.exists() and (output.is_dir() or not args.force):
        raise ConflictError(
            f"Output {str(output)!r} already exists"
            + (" and is a directory." if output.is_dir() else "; pass --force to replace it."),
            code="artifact_output_exists",
            details={"path": str(output)},
        )
    with guard_os("writing the artifact", output):
        fd, temp = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent)
        try:
            with os.fdopen(fd, "wb") as target, handle.path.open("rb") as body:
                shutil.copyfileobj(body, target)
            os.replace(temp, output)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    size = output.stat().st_size
    result = {
        "artifact_ref": ref,
        "path": str(output),
        "bytes": size,
        "sha256": handle.binding.hash_value,
    }
    text = (
        f"Wrote {escape(ref)} to {escape(output)} ({size} bytes, sha256 "
        f"{(handle.binding.hash_value or '')[:12]}...)."
    )
    return emit_result(args, result, text)


def _backup_create(args: argparse.Namespace) -> int:
    from ...recovery import create_workspace_backup, plan_workspace_backup
    from ...recovery.backup import archive_path, create_backup_archive

    ctx = facade(args)
    ctx.flush()
    plan = plan_workspace_backup(
        ctx.config,
        label=args.label or Path(ctx.workspace).name,
        include_cache=args.include_cache,
        include_exports=args.include_exports,
    )
    if args.output_dir:
        plan = replace(plan, backup_root=Path(args.output_dir).expanduser().resolve())
    if args.output:
        archive = archive_path(args.output)
        with guard_os("creating the backup archive", archive):
            result = create_backup_archive(ctx.config, plan, archive)
    else:
        with guard_os("creating the backup", plan.backup_root):
            result = create_workspace_backup(ctx.config, plan)
    details = result.details or {}
    text = "\n".join(
        (
            f"Backup created: {escape(result.location)}",
            f"Backup ref: {escape(result.backup_ref)}",
            f"Status: {result.status}",
            f"Last seq: {details['last_seq']}",
            f"Files: {details['file_count']}",
            f"Bytes written: {result.bytes_written}",
            *(f"  {escape(w)}" for w in result.warnings),
        )
    )
    emit_result(args, result, text)
    return 0 if result.status == "SUCCESS" else 1  # a degraded backup is kept, and said so


def _restore_apply(args: argparse.Namespace) -> int:
    from ...config import resolve_config
    from ...recovery import plan_restore, restore_workspace

    config = resolve_config(None, workspace=args.workspace)
    plan = plan_restore(
        config,
        args.backup_ref,
        target_workspace=args.target_workspace,
        verify_only=args.verify_only,
    )
    result = restore_workspace(config, plan)
    if args.verify_only:
        lines = [
            f"Verified backup: {escape(plan.source_root)}"
            if result.status == "SUCCESS"
            else f"Backup FAILED verification: {escape(plan.source_root)}"
        ]
        lines += [f"  {escape(w)}" for w in result.warnings]
    else:
        lines = [
            f"Restored backup {escape(result.backup_ref)} to {escape(result.target_workspace)}"
        ]
        if result.safety_backup_ref:
            lines.append(
                f"Safety backup of the previous workspace: {escape(result.safety_backup_ref)}"
            )
    lines += [f"  {escape(note)}" for note in result.verification_notes]
    emit_result(args, result, "\n".join(lines))
    return 0 if result.status == "SUCCESS" else 1


def _recover_replay(args: argparse.Namespace) -> int:
    from ...recovery import replay_outbox
    from ...store.records import ScanFilter

    ctx = facade(args)
    run = None if args.run is None else ctx.query_service.resolve_run(args.run)
    stage = args.stage
    if stage is not None and ":" not in stage:
        if run is None:
            raise invalid("--stage by name needs --run (or pass a full stage ref).")
        stage = f"stage:{run.split(':', 1)[1]}.{stage}"
    report = ctx.verify_ledger()
    damaged = [f for f in report.findings if f.severity == "error"]
    if damaged and args.mode == "strict":
        raise invalid(
            f"strict replay refused: the ledger has {len(damaged)} damaged place(s); "
            "run `contexta ledger verify`.",
            findings=[f.message for f in damaged[:10]],
        )
    records = sum(
        1
        for _ in ctx.record_store.scan(
            ScanFilter(run_ref=run, stage_execution_ref=stage, record_type=args.record_type)
        )
    )
    outbox = replay_outbox(ctx.config)
    warnings = [f.message for f in report.findings] + list(outbox.warnings)
    gaps = [f"{f.code}@seq={f.seq}" for f in damaged]
    integrity = "OK" if not report.findings else ("DEGRADED" if not damaged else "CORRUPT")
    payload = {
        "mode": args.mode,
        "record_count": records,
        "warnings": warnings,
        "known_gaps": gaps,
        "integrity_state": integrity,
        "last_seq": report.last_seq,
        "outbox": outbox,
    }
    text = "\n".join(
        (
            f"Replay mode: {args.mode}",
            f"Records: {records}",
            f"Warnings: {len(warnings)}",
            f"Known gaps: {len(gaps)}",
            f"Integrity: {integrity}",
        )
    )
    return emit_result(args, payload, text)
