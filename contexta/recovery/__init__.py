"""Backup, restore and replay for ledger workspaces (1.0's ``contexta.recovery`` surface).

``plan = plan_workspace_backup(config)``; ``create_workspace_backup(config, plan)`` copies the
ledger up to its committed head and the artifact bodies with a hash manifest;
``restore_workspace(config, plan_restore(config, ref, verify_only=True))`` checks every hash and
the ledger chain; without ``verify_only`` it restores (into ``target_workspace`` if given).
"""

from .backup import create_workspace_backup, plan_workspace_backup
from .errors import BackupError, RecoveryError, ReplayError, RestoreError
from .models import (
    BackupPlan,
    BackupResult,
    ImportResult,
    RecoveryResult,
    ReplayBatchResult,
    ReplayEntryResult,
    RestorePlan,
    RestoreResult,
)
from .replay import replay_outbox
from .restore import plan_restore, recover_interrupted_restores, restore_workspace, verify_backup

__all__ = [
    "BackupError",
    "BackupPlan",
    "BackupResult",
    "ImportResult",
    "RecoveryError",
    "RecoveryResult",
    "ReplayBatchResult",
    "ReplayEntryResult",
    "ReplayError",
    "RestoreError",
    "RestorePlan",
    "RestoreResult",
    "create_workspace_backup",
    "plan_restore",
    "plan_workspace_backup",
    "recover_interrupted_restores",
    "replay_outbox",
    "restore_workspace",
    "verify_backup",
]
