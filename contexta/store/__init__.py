"""Write views over the ledger: the metadata store and the record store.

Each name is imported from its module on first access: a process that appends records through
the record store does not load the metadata store and its checks (about 11 ms).
"""

from importlib import import_module
from typing import Any

#: public name -> the module defining it
_HOMES = {
    "AppendReceipt": "record_store",
    "AppendRejection": "record_store",
    "AppendResult": "record_store",
    "DurabilityStatus": "record_store",
    "MetadataStore": "metadata_store",
    "RecordStore": "record_store",
    "ScanFilter": "record_store",
    "StoredRecord": "record_store",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
