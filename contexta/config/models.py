"""The config classes: frozen, slotted dataclasses with Contexta 1.0's fields and defaults.

Constructors validate every field (``ConfigurationError`` with code ``invalid_config_value``)
and remember which fields the caller named (see :mod:`contexta.config._schema`). Fields that
are ours, not 1.0's, come last in their class so 1.0's positional order is kept:
``CaptureConfig.producer`` and ``RecordStoreConfig.buffer_max_events`` / ``buffer_max_ms``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast, get_args

from ._fields import ConfigModel, checked
from ._schema import check_fields, config_model, mark_derived

__all__ = [
    "PROFILE_NAMES",
    "PROFILE_OVERLAY_NAMES",
    "AlertPolicy",
    "AnomalyPolicy",
    "ArtifactStoreConfig",
    "CLIConfig",
    "CaptureConfig",
    "ComparisonPolicy",
    "ContractConfig",
    "DiagnosticsPolicy",
    "ExportSurfaceConfig",
    "HTMLConfig",
    "HTTPConfig",
    "InterpretationConfig",
    "MetadataStoreConfig",
    "NotebookConfig",
    "ProfileName",
    "ProfileOverlayName",
    "RecordStoreConfig",
    "RecoveryConfig",
    "ReportPolicy",
    "RetentionConfig",
    "SearchPolicy",
    "SecurityConfig",
    "SurfaceConfig",
    "TrendPolicy",
    "UnifiedConfig",
    "WorkspaceConfig",
]

ProfileName = Literal["local", "test"]
ProfileOverlayName = Literal["debug", "ci", "readonly", "forensic"]
PROFILE_NAMES: tuple[str, ...] = get_args(ProfileName)
PROFILE_OVERLAY_NAMES: tuple[str, ...] = get_args(ProfileOverlayName)


@config_model
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class WorkspaceConfig(ConfigModel):
    """Workspace root and the storage paths under it (absolute, ``~`` expanded)."""

    root_path: Path = Path(".contexta")
    metadata_path: Path | None = None
    records_path: Path | None = None
    artifacts_path: Path | None = None
    reports_path: Path | None = None
    exports_path: Path | None = None
    cache_path: Path | None = None
    create_missing_dirs: bool = True

    def __post_init__(self) -> None:
        check_fields(self)
        derived = []
        for name in ("metadata", "records", "artifacts", "reports", "exports", "cache"):
            if getattr(self, f"{name}_path") is None:
                object.__setattr__(self, f"{name}_path", self.root_path / name)
                derived.append(f"{name}_path")
        object.__setattr__(self, "_derived", frozenset(derived))


@config_model
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class ContractConfig(ConfigModel):
    """Contract validation and serialisation policy."""

    schema_version: str = "1.0.0"
    validation_mode: Literal["strict", "lenient"] = "strict"
    compatibility_mode: Literal["strict", "lenient"] = "strict"
    deterministic_serialization: bool = True

    def __post_init__(self) -> None:
        check_fields(self)


@config_model
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class CaptureConfig(ConfigModel):
    """Runtime capture posture. ``producer`` (ours) is the actor recorded for audit."""

    producer_ref: str = "sdk.python.local"
    capture_environment_snapshot: bool = True
    capture_installed_packages: bool = True
    capture_code_revision: bool = True
    capture_config_snapshot: bool = True
    retry_attempts: int = checked(0, ge=0)
    retry_backoff_seconds: float = checked(0.0, ge=0)
    dispatch_failure_mode: Literal["raise", "outbox"] = "raise"
    write_degraded_marker_on_partial_failure: bool = True
    producer: str | None = checked(None, nonblank=True)  # None = "user@host:pid" at write time

    def __post_init__(self) -> None:
        check_fields(self)


@config_model
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class MetadataStoreConfig(ConfigModel):
    """Metadata plane settings (``database_path`` defaults to ``<metadata_path>/ledger.db``)."""

    storage_adapter: str = "duckdb"
    database_path: Path | None = None
    auto_create: bool = True
    read_only: bool = False
    auto_migrate: bool = False

    def __post_init__(self) -> None:
        check_fields(self)


@config_model
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class RecordStoreConfig(ConfigModel):
    """Record plane settings.

    ``durability_mode``: ``"flush"`` (default) hands each commit to the OS; ``"fsync"`` also
    forces it to disk. ``buffer_max_events`` / ``buffer_max_ms`` (ours) bound the window of
    buffered appends: a buffer is committed when either limit is reached. ``sync_interval_ms``
    (ours) bounds what a power loss can take in ``flush`` mode: a writer fsyncs once its oldest
    unsynced commit is that old.
    """

    root_path: Path | None = None
    max_segment_bytes: int = checked(1_048_576, gt=0)
    durability_mode: Literal["flush", "fsync"] = "flush"
    layout_mode: Literal["jsonl_segments"] = "jsonl_segments"
    layout_version: str = "1"
    enable_indexes: bool = True
    read_only: bool = False
    buffer_max_events: int = checked(1024, gt=0)
    buffer_max_ms: float = checked(50.0, gt=0, finite=True)
    sync_interval_ms: float = checked(1000.0, gt=0, finite=True)

    def __post_init__(self) -> None:
        check_fields(self)


@config_model
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class ArtifactStoreConfig(ConfigModel):
    """Artifact plane settings."""

    root_path: Path | None = None
    default_ingest_mode: Literal["copy", "move", "adopt"] = "copy"
    verification_mode: Literal["none", "stored", "manifest_if_available", "strict"] = (
        "manifest_if_available"
    )
    create_missing_dirs: bool = True
    layout_version: str = "v1"
    chunk_size_bytes: int = checked(1_048_576, gt=0)
    read_only: bool = False

    def __post_init__(self) -> None:
        check_fields(self)


@config_model
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class ComparisonPolicy(ConfigModel):
    """How ``compare_runs`` picks and reports metric values."""

    metric_selection: Literal["latest", "max", "min", "mean"] = "latest"
    include_unchanged_metrics: bool = False
    missing_stage_severity: Literal["info", "warning", "error"] = "warning"

    def __post_init__(self) -> None:
        check_fields(self)


@config_model
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class DiagnosticsPolicy(ConfigModel):
    """Which issues ``diagnose_run`` reports."""

    require_metrics_for_completed_stages: bool = True
    detect_degraded_records: bool = True
    expected_terminal_stage_names: tuple[str, ...] = ("evaluate", "package")

    def __post_init__(self) -> None:
        check_fields(self)


@config_model
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class ReportPolicy(ConfigModel):
    """Which sections reports include."""

    include_completeness_notes: bool = True
    include_lineage_summary: bool = True
    include_evidence_summary: bool = True

    def __post_init__(self) -> None:
        check_fields(self)


@config_model
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class SearchPolicy(ConfigModel):
    """Search defaults."""

    default_limit: int = checked(50, ge=0)
    text_match_fields: tuple[str, ...] = ("name", "tags", "status")
    case_sensitive: bool = False

    def __post_init__(self) -> None:
        check_fields(self)


@config_model
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class TrendPolicy(ConfigModel):
    """Trend window and aggregation."""

    default_window_runs: int = checked(20, ge=1)
    metric_aggregation: Literal["latest", "max", "min", "mean"] = "latest"

    def __post_init__(self) -> None:
        check_fields(self)


@config_model
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class AnomalyPolicy(ConfigModel):
    """Anomaly detection defaults."""

    z_score_threshold: float = 2.5
    min_baseline_runs: int = checked(3, ge=0)
    monitored_metrics: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_fields(self)


@config_model
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class AlertPolicy(ConfigModel):
    """Alert evaluation defaults."""

    stop_on_first_trigger: bool = False
    default_severity: Literal["info", "warning", "error"] = "warning"

    def __post_init__(self) -> None:
        check_fields(self)


@config_model
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class InterpretationConfig(ConfigModel):
    """Query-side policies (``ctx.config.interpretation.*``)."""

    comparison: ComparisonPolicy = field(default_factory=ComparisonPolicy)
    diagnostics: DiagnosticsPolicy = field(default_factory=DiagnosticsPolicy)
    reports: ReportPolicy = field(default_factory=ReportPolicy)
    search: SearchPolicy = field(default_factory=SearchPolicy)
    trend: TrendPolicy = field(default_factory=TrendPolicy)
    anomaly: AnomalyPolicy = field(default_factory=AnomalyPolicy)
    alert: AlertPolicy = field(default_factory=AlertPolicy)

    def __post_init__(self) -> None:
        check_fields(self)


@config_model
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class RecoveryConfig(ConfigModel):
    """Backup, restore and replay settings (roots derived from the workspace when None)."""

    outbox_root: Path | None = None
    backup_root: Path | None = None
    restore_staging_root: Path | None = None
    replay_mode_default: Literal["strict", "tolerant"] = "tolerant"
    require_plan_before_apply: bool = True
    create_backup_before_restore: bool = True

    def __post_init__(self) -> None:
        check_fields(self)


@config_model
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class CLIConfig(ConfigModel):
    """CLI output defaults."""

    default_output_format: Literal["text", "json"] = "text"
    verbosity: Literal["quiet", "normal", "debug", "forensic"] = "normal"
    color: bool = True

    def __post_init__(self) -> None:
        check_fields(self)


@config_model
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class HTTPConfig(ConfigModel):
    """Embedded HTTP surface."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = checked(8765, ge=0, le=65535)
    open_browser: bool = False

    def __post_init__(self) -> None:
        check_fields(self)


@config_model
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class HTMLConfig(ConfigModel):
    """HTML surface."""

    enabled: bool = True
    inline_charts: bool = True

    def __post_init__(self) -> None:
        check_fields(self)


@config_model
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class NotebookConfig(ConfigModel):
    """Notebook surface."""

    enabled: bool = True

    def __post_init__(self) -> None:
        check_fields(self)


@config_model
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class ExportSurfaceConfig(ConfigModel):
    """Export surface."""

    csv_delimiter: str = checked(",", length=1)
    html_inline_charts: bool = True
    include_completeness_notes: bool = True

    def __post_init__(self) -> None:
        check_fields(self)


@config_model
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class SurfaceConfig(ConfigModel):
    """Delivery surfaces."""

    cli: CLIConfig = field(default_factory=CLIConfig)
    http: HTTPConfig = field(default_factory=HTTPConfig)
    html: HTMLConfig = field(default_factory=HTMLConfig)
    notebook: NotebookConfig = field(default_factory=NotebookConfig)
    export: ExportSurfaceConfig = field(default_factory=ExportSurfaceConfig)

    def __post_init__(self) -> None:
        check_fields(self)


@config_model
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class RetentionConfig(ConfigModel):
    """Retention windows (days; None = keep)."""

    cache_ttl_days: int | None = checked(7, ge=0)
    report_ttl_days: int | None = checked(None, ge=0)
    export_ttl_days: int | None = checked(None, ge=0)
    artifact_retention_mode: Literal["manual", "planned", "enforced"] = "manual"
    records_compaction_enabled: bool = False

    def __post_init__(self) -> None:
        check_fields(self)


@config_model
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class SecurityConfig(ConfigModel):
    """Redaction and secret handling."""

    redaction_mode: Literal["safe_default", "strict", "off"] = "safe_default"
    environment_variable_allowlist: tuple[str, ...] = ()
    secret_key_patterns: tuple[str, ...] = ("token", "secret", "password", "passwd", "key")
    allow_unredacted_local_exports: bool = False
    encryption_provider: str | None = None

    def __post_init__(self) -> None:
        check_fields(self)


@config_model
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class UnifiedConfig(ConfigModel):
    """The root config. Store and recovery paths left None follow the workspace paths."""

    config_version: str = checked("1", nonblank=True)
    profile_name: ProfileName = "local"
    project_name: str = checked("default", nonblank=True)
    workspace: WorkspaceConfig = field(default_factory=WorkspaceConfig)
    contract: ContractConfig = field(default_factory=ContractConfig)
    capture: CaptureConfig = field(default_factory=CaptureConfig)
    metadata: MetadataStoreConfig = field(default_factory=MetadataStoreConfig)
    records: RecordStoreConfig = field(default_factory=RecordStoreConfig)
    artifacts: ArtifactStoreConfig = field(default_factory=ArtifactStoreConfig)
    interpretation: InterpretationConfig = field(default_factory=InterpretationConfig)
    recovery: RecoveryConfig = field(default_factory=RecoveryConfig)
    surfaces: SurfaceConfig = field(default_factory=SurfaceConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    security: SecurityConfig = field(default_factory=SecurityConfig)

    def __post_init__(self) -> None:
        check_fields(self)
        ws = self.workspace
        metadata, cache = cast(Path, ws.metadata_path), cast(Path, ws.cache_path)
        self._derive("metadata", database_path=metadata / "ledger.db")
        self._derive("records", root_path=cast(Path, ws.records_path))
        self._derive("artifacts", root_path=cast(Path, ws.artifacts_path))
        self._derive(
            "recovery",
            outbox_root=cache / "outbox",
            backup_root=cast(Path, ws.exports_path) / "backups",
            restore_staging_root=cache / "restore",
        )

    def _derive(self, section: str, **paths: Path) -> None:
        """Fill the section's path fields that are None or were derived before."""

        sub = getattr(self, section)
        due = {
            name: value
            for name, value in paths.items()
            if getattr(sub, name) is None or name in sub._derived
        }
        if due:
            object.__setattr__(self, section, mark_derived(sub, **due))
