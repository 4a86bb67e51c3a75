"""Contexta 1.0's import path: the record store, its replay and maintenance helpers."""

from contexta.contract.records import (  # noqa: F401 (1.0 names beyond __all__)
    CanonicalRecord,
)
from contexta.store.maintenance import (  # noqa: F401 (1.0 names beyond __all__)
    check_integrity,
    export_jsonl,
    rebuild_indexes,
    repair_truncated_tails,
)
from contexta.store.record_replay import (  # noqa: F401 (1.0 names beyond __all__)
    IntegrityIssue,
    IntegrityReport,
    IntegrityState,
    KnownGap,
    RepairReport,
    ReplayError,
    ReplayMode,
    ReplayResult,
)
from contexta.store.record_store import (
    AppendReceipt,
    AppendRejection,
    AppendResult,
    DurabilityStatus,
    RecordStore,
    ScanFilter,
    StoredRecord,
)
from contexta.store.standalone import (  # noqa: F401 (1.0 names beyond __all__)
    RecordStoreConfig,
    StoreConfig,
)

__all__ = [
    "AppendReceipt",
    "AppendRejection",
    "AppendResult",
    "DurabilityStatus",
    "RecordStore",
    "ScanFilter",
    "StoredRecord",
]
