"""``contexta ledger verify|repair``.

``verify`` reads every segment (CRCs, chain, seq continuity, batch metadata, sealing, HEAD) and
prints one line per finding naming the file, byte offset and seq; it exits 0 when there is no
finding and 1 when there is any (warnings such as a torn tail included). ``repair`` is a dry
run unless ``--apply``: it moves aside to ``ledger/torn/`` (never deletes) a torn tail, stray
segment files that do not continue the log, and bytes after a sealed segment's end marker, then
republishes the head. A missing, swapped or replaced segment inside the committed log cannot be
repaired without losing events: it exits 1 and says what to do. ``--salvage`` cuts the log at
such damage instead, and says which seqs left the log.
"""

from __future__ import annotations

import argparse

from ledger import CorruptionError, LedgerError

from ..output import emit, emit_json
from .common import open_workspace

#: the top-level commands ``register`` adds or extends (``contexta.cli.main`` runs only the
#: modules of the command it is given)
COMMANDS = ("ledger",)


def register(commands: argparse._SubParsersAction) -> None:
    group = commands.add_parser("ledger", help="verify or repair the ledger files")
    sub = group.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    verify = sub.add_parser(
        "verify",
        help="check every CRC, the chain, seq continuity and segment metadata "
        "(exit 1 on any finding)",
    )
    verify.set_defaults(handler=_verify)
    repair = sub.add_parser(
        "repair",
        help="move a torn tail, stray segments and bytes after a seal to ledger/torn/ "
        "(dry run unless --apply)",
    )
    mode = repair.add_mutually_exclusive_group()
    mode.add_argument(
        "--dry-run",
        dest="dry_run",
        action="store_true",
        default=True,
        help="report what would be done (the default)",
    )
    mode.add_argument(
        "--apply",
        dest="dry_run",
        action="store_false",
        help="do it: move what is listed to ledger/torn/ and republish the head",
    )
    repair.add_argument(
        "--salvage",
        action="store_true",
        help="also cut the log at damage before the head (a damaged batch, a "
        "missing, swapped or replaced segment); the seqs after it leave the log "
        "(their bytes are kept in ledger/torn/)",
    )
    repair.set_defaults(handler=_repair)


def _verify(args: argparse.Namespace) -> int:
    ctx = open_workspace(args)
    report = ctx.verify_ledger()
    if args.format == "json":
        emit_json(report.to_dict())
    else:
        for f in report.findings:
            emit(
                f"{f.severity.upper()} {f.code}: {f.message} (file {f.file}, offset {f.offset}, seq {f.seq})"
            )
        state = "OK" if report.ok else "DAMAGED"
        emit(
            f"{state}: {report.events} events, {report.batches} batches, {report.segments} segment(s), "
            f"last seq {report.last_seq}, {len(report.findings)} finding(s)."
        )
    return 1 if report.findings else 0


def _repair(args: argparse.Namespace) -> int:
    maintenance = open_workspace(args).maintenance
    try:
        report = maintenance.repair(dry_run=args.dry_run, salvage=args.salvage)
    except LedgerError as exc:
        details = {k: v for k, v in exc.details.items() if k in ("file", "offset", "seq", "reason")}
        hint = (
            ""
            if args.salvage or "--salvage" in exc.message or not isinstance(exc, CorruptionError)
            else (" To cut the log at the damage, run `contexta ledger repair --apply --salvage`.")
        )
        if args.format == "json":
            emit_json({"error": {"code": exc.code, "message": exc.message, "details": details}})
        else:
            emit(f"error [{exc.code}]: {exc.message}{hint}")
        return 1
    if args.format == "json":
        emit_json(
            {
                "dry_run": report.dry_run,
                "actions": report.actions,
                "torn_offset": report.torn_offset,
                "torn_bytes": report.torn_bytes,
                "torn_path": report.torn_path,
                "head_seq": report.head.seq if report.head else 0,
                "lost_seqs": [report.lost_from_seq, report.lost_to_seq]
                if report.lost_from_seq is not None
                else None,
            }
        )
        return 0
    if not report.actions:
        emit("Nothing to repair: the active segment ends at the committed head.")
        return 0
    verb = "Would" if report.dry_run else "Did"
    for action in report.actions:
        emit(f"{verb}: {action}")
    if report.dry_run:
        emit("Dry run: nothing was changed. Run `contexta ledger repair --apply` to do it.")
    return 0
