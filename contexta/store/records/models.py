"""Contexta 1.0's import path; see :mod:`contexta.store.record_store`."""

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
from contexta.store.record_store import (  # noqa: F401 (1.0 names beyond __all__)
    AppendReceipt,
    AppendRejection,
    AppendResult,
    DegradedRecord,
    DurabilityStatus,
    MetricRecord,
    RecordStore,
    ScanFilter,
    StoredRecord,
    StructuredEventRecord,
    TraceSpanRecord,
    ValidationError,
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
