"""Write views over the ledger: the metadata store and the record store."""

from .metadata_store import MetadataStore
from .record_store import (
    AppendReceipt,
    AppendRejection,
    AppendResult,
    DurabilityStatus,
    RecordStore,
    ScanFilter,
    StoredRecord,
)

__all__ = [
    "AppendReceipt",
    "AppendRejection",
    "AppendResult",
    "DurabilityStatus",
    "MetadataStore",
    "RecordStore",
    "ScanFilter",
    "StoredRecord",
]
