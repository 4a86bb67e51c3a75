"""Stores opened on their own, as 1.0 allowed: ``MetadataStore(MetadataStoreConfig(...))``,
``RecordStore(StoreConfig(root_path=...))`` (``ArtifactStore(VaultConfig(...))`` already does).

1.0 kept each plane in its own directory of a workspace (``<root>/metadata/ledger.db``,
``<root>/records``, ``<root>/artifacts``). Here the three share the workspace's ledger, so a
store opened on a plane's path opens the workspace that path belongs to: the parent of a
standard plane directory (or of any directory beside a ``ledger/``); any other directory is
taken as the workspace root itself. Stores opened standalone on the same workspace share one
:class:`~contexta.workspace.Workspace` in this process, so their writes keep one order.
"""

from __future__ import annotations

import threading
import weakref
from pathlib import Path
from typing import Any

from ..common.errors import ValidationError
from ..config.models import MetadataStoreConfig, RecordStoreConfig
from ..workspace import Workspace

__all__ = ["MetadataStoreConfig", "RecordStoreConfig", "StoreConfig", "open_standalone"]

#: 1.0's name of the record store's config
StoreConfig = RecordStoreConfig

_OPEN: weakref.WeakValueDictionary[Path, Workspace] = weakref.WeakValueDictionary()
_LOCK = threading.Lock()


def workspace_root(path: Path, plane: str) -> Path:
    """The workspace a plane directory ``path`` belongs to (see the module docstring)."""
    if path.name == plane or (path.parent / "ledger").is_dir():
        return path.parent
    return path


def _plane_path(config: Any) -> tuple[Path, str, str]:
    """(the plane directory, its standard name, the field it came from) of a store config."""
    if isinstance(config, MetadataStoreConfig):
        if config.database_path is None:
            raise ValidationError(
                "MetadataStore needs MetadataStoreConfig(database_path=...) when opened "
                "without a Contexta, e.g. '<workspace>/metadata/ledger.db'.",
                code="metadata_store_missing_database_path",
                details={"field": "database_path", "value": None},
            )
        return Path(config.database_path).expanduser().resolve().parent, "metadata", "database_path"
    if isinstance(config, RecordStoreConfig):
        if config.root_path is None:
            raise ValidationError(
                "RecordStore needs StoreConfig(root_path=...) when opened without a Contexta, "
                "e.g. '<workspace>/records'.",
                code="record_store_missing_root_path",
                details={"field": "root_path", "value": None},
            )
        return Path(config.root_path).expanduser().resolve(), "records", "root_path"
    raise ValidationError(
        f"A store opens on a Workspace or its config (MetadataStoreConfig, StoreConfig), got "
        f"{type(config).__name__}.",
        code="store_invalid_config",
        details={"type": type(config).__name__},
    )


def open_standalone(config: Any) -> tuple[Workspace, bool]:
    """The workspace a store config names (shared per root in this process), and read_only."""
    path, plane, _ = _plane_path(config)
    root = workspace_root(path, plane)
    read_only = bool(getattr(config, "read_only", False))
    with _LOCK:
        workspace = _OPEN.get(root)
        if workspace is None:
            options: dict[str, Any] = {}
            if isinstance(config, RecordStoreConfig):
                options = {
                    "durability": config.durability_mode,
                    "buffer_max_events": config.buffer_max_events,
                    "buffer_max_ms": config.buffer_max_ms,
                }
            workspace = Workspace(root, **options)
            _OPEN[root] = workspace
    return workspace, read_only
