"""Contexta 1.0's import path: the metadata store and its schema and repair helpers."""

from contexta.store.maintenance import (  # noqa: F401 (1.0 names beyond __all__)
    CURRENT_METADATA_STORE_SCHEMA_VERSION,
    MigrationPlan,
    MigrationResult,
    MigrationStep,
    RepairCandidate,
    RepairPlan,
    SchemaInspection,
    dry_run_migration_for,
    inspect_schema,
    migrate_for,
    plan_migration_for,
    plan_repairs,
)
from contexta.store.metadata_store import (  # noqa: F401 (1.0 names beyond __all__)
    MetadataStore,
    Repository,
    build_run_snapshot,
    check_integrity,
    nulls_last,
    parse_ref,
    ref_arg,
    registered_refs,
)
from contexta.store.standalone import (  # noqa: F401 (1.0 names beyond __all__)
    MetadataStoreConfig,
)

__all__ = ["MetadataStore", "Repository", "nulls_last", "parse_ref", "ref_arg", "registered_refs"]
