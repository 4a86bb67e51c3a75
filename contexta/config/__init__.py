"""Configuration: Contexta 1.0's config classes, profiles and ``CONTEXTA_*`` variables.

``from contexta.config import UnifiedConfig, WorkspaceConfig, RecoveryConfig, load_config``.

Every config class is a frozen dataclass with 1.0's fields and defaults, validated in its
constructor (``ConfigurationError``; codes ``invalid_config_value``, ``unknown_config_field``,
``invalid_profile_selector``, ``non_overridable_config_key``, ``missing_config_field``, plus
1.0's ``invalid_config_input`` and the config-file codes ``config_file_not_found``,
``unsupported_config_file``, ``invalid_config_file``).

The rule for environment variables (decision 8.8, differing from 1.0)
----------------------------------------------------------------------
A ``CONTEXTA_*`` variable applies to its field whenever the caller did not set that field
explicitly. Explicit means: named in a config object's constructor
(``UnifiedConfig(project_name="x")``, ``WorkspaceConfig(root_path=...)`` -- each nested object
remembers its own), present in a ``config=`` mapping, or given as ``project_name=`` /
``workspace=``. Defaults, profile values and config-file values are not explicit, so the
environment overrides them. This holds for ``load_config`` and equally for a
``UnifiedConfig`` object handed to ``Contexta(config=...)``: the facade calls
:func:`resolve_config`, which applies the environment to the object's non-explicit leaves and
recomputes derived paths. 1.0 instead used such an object as is, and always passed
``workspace=".contexta"`` so ``CONTEXTA_WORKSPACE_ROOT_PATH`` never applied; here ``workspace``
overrides only when given. :func:`explicit_fields` lists a config's explicit leaves.
``dataclasses.replace`` passes every field, so all fields of its result count as explicit;
:func:`replace_unified_config` keeps the marks.

Our additions: ``records.durability_mode`` ``"flush"`` (default everywhere) or ``"fsync"``;
``records.buffer_max_events`` (1024) and ``records.buffer_max_ms`` (50.0), the bounded window
of buffered appends; ``capture.producer`` (None = ``user@host:pid``), the actor recorded for
audit. Each has its variable like any other field.
"""

from .env import (
    CANONICAL_ENV_PREFIX,
    ENV_KEYS,
    NON_OVERRIDABLE_ENV_KEYS,
    PROFILE_ENV_KEY,
    PROFILE_OVERLAYS_ENV_KEY,
    apply_env_overrides,
    env_key_for,
)
from .loader import (
    build_schema_defaults,
    build_unified_config,
    config_to_mapping,
    explicit_fields,
    load_config,
    load_profile,
    make_local_config,
    make_test_config,
    merge_config_patch,
    replace_unified_config,
    resolve_config,
)
from .models import (
    PROFILE_NAMES,
    PROFILE_OVERLAY_NAMES,
    AlertPolicy,
    AnomalyPolicy,
    ArtifactStoreConfig,
    CaptureConfig,
    CLIConfig,
    ComparisonPolicy,
    ContractConfig,
    DiagnosticsPolicy,
    ExportSurfaceConfig,
    HTMLConfig,
    HTTPConfig,
    InterpretationConfig,
    MetadataStoreConfig,
    NotebookConfig,
    ProfileName,
    ProfileOverlayName,
    RecordStoreConfig,
    RecoveryConfig,
    ReportPolicy,
    RetentionConfig,
    SearchPolicy,
    SecurityConfig,
    SurfaceConfig,
    TrendPolicy,
    UnifiedConfig,
    WorkspaceConfig,
)
from .profiles import OVERLAY_APPLICATION_ORDER

__all__ = [
    "CANONICAL_ENV_PREFIX",
    "ENV_KEYS",
    "NON_OVERRIDABLE_ENV_KEYS",
    "OVERLAY_APPLICATION_ORDER",
    "PROFILE_ENV_KEY",
    "PROFILE_NAMES",
    "PROFILE_OVERLAYS_ENV_KEY",
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
    "apply_env_overrides",
    "build_schema_defaults",
    "build_unified_config",
    "config_to_mapping",
    "env_key_for",
    "explicit_fields",
    "load_config",
    "load_profile",
    "make_local_config",
    "make_test_config",
    "merge_config_patch",
    "replace_unified_config",
    "resolve_config",
]
