"""Config classes: 1.0's fields and defaults, frozen, derived paths, constructor validation."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import sys
from pathlib import Path
from typing import Any

import pytest

import contexta.config as config_pkg
from contexta.common.errors import ConfigurationError
from contexta.config import (
    CaptureConfig,
    DiagnosticsPolicy,
    ExportSurfaceConfig,
    HTTPConfig,
    MetadataStoreConfig,
    RecordStoreConfig,
    RecoveryConfig,
    RetentionConfig,
    TrendPolicy,
    UnifiedConfig,
    WorkspaceConfig,
    build_schema_defaults,
    config_to_mapping,
    explicit_fields,
)

from ._c10_observed import C10_CLASS_FIELDS, C10_SCHEMA_DEFAULTS

OUR_NEW_FIELDS = {
    "CaptureConfig": ("producer",),
    "RecordStoreConfig": ("buffer_max_events", "buffer_max_ms", "sync_interval_ms"),
}
# Defaults we change on purpose (contract 8 / design): durability is "flush" by default.
OUR_DEFAULT_CHANGES = {"records.durability_mode": "flush"}
OUR_NEW_DEFAULTS = {
    "capture.producer": None,
    "records.buffer_max_events": 1024,
    "records.buffer_max_ms": 50.0,
    "records.sync_interval_ms": 1000.0,
}


def leaves(mapping: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        if isinstance(value, dict):
            out.update(leaves(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def expect_code(code: str, func: Any, *args: Any, **kwargs: Any) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as info:
        func(*args, **kwargs)
    assert info.value.code == code, info.value.message
    return info.value


# ---------------------------------------------------------------------------------------------
# Shape and defaults


def test_every_1_0_config_class_exists_with_its_fields_in_order() -> None:
    for name, c10_fields in C10_CLASS_FIELDS.items():
        cls = getattr(config_pkg, name)
        ours = tuple(f.name for f in dataclasses.fields(cls))
        assert ours == c10_fields + OUR_NEW_FIELDS.get(name, ()), name
        assert name in config_pkg.__all__


def test_schema_defaults_match_1_0_except_the_deliberate_changes() -> None:
    ours = {
        k: v
        for k, v in leaves(config_to_mapping(UnifiedConfig())).items()
        if not isinstance(v, Path)
    }
    expected = {**C10_SCHEMA_DEFAULTS, **OUR_DEFAULT_CHANGES, **OUR_NEW_DEFAULTS}
    assert ours == expected
    assert build_schema_defaults() == UnifiedConfig()


def test_configs_are_frozen_and_slotted() -> None:
    config = UnifiedConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.project_name = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.records.durability_mode = "fsync"  # type: ignore[misc]
    assert not hasattr(config, "__dict__")
    assert not hasattr(config.workspace, "__dict__")


def test_equal_configs_are_equal_and_hash_alike_whatever_was_explicit() -> None:
    implicit = UnifiedConfig()
    explicit = UnifiedConfig(
        project_name="default", records=RecordStoreConfig(durability_mode="flush")
    )
    assert implicit == explicit
    assert hash(implicit) == hash(explicit)
    assert explicit_fields(implicit) != explicit_fields(explicit)


def test_positional_construction_follows_field_order() -> None:
    config = UnifiedConfig("1", "test", "proj")
    assert (config.profile_name, config.project_name) == ("test", "proj")
    assert explicit_fields(config) == {"config_version", "profile_name", "project_name"}


# ---------------------------------------------------------------------------------------------
# Derived paths


def test_workspace_paths_are_absolute_against_the_cwd_and_derived_from_root(cwd: Path) -> None:
    ws = WorkspaceConfig()
    assert ws.root_path == cwd / ".contexta"
    for name in ("metadata", "records", "artifacts", "reports", "exports", "cache"):
        assert getattr(ws, f"{name}_path") == cwd / ".contexta" / name


def test_workspace_accepts_str_expands_user_and_keeps_given_paths(
    monkeypatch: pytest.MonkeyPatch, cwd: Path
) -> None:
    monkeypatch.setenv("HOME", str(cwd / "home"))
    ws = WorkspaceConfig(root_path="~/ws", cache_path="rel/cache")
    assert ws.root_path == cwd / "home" / "ws"
    assert ws.cache_path == cwd / "rel" / "cache"
    assert ws.metadata_path == cwd / "home" / "ws" / "metadata"


def test_paths_are_resolved_at_construction_not_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = tmp_path / "a"
    first.mkdir()
    monkeypatch.chdir(first)
    ws = WorkspaceConfig(root_path="w")
    monkeypatch.chdir(tmp_path)
    assert ws.root_path == first.resolve() / "w"


def test_unified_config_derives_store_and_recovery_paths(cwd: Path) -> None:
    config = UnifiedConfig(workspace=WorkspaceConfig(root_path="ws"))
    root = cwd / "ws"
    assert config.metadata.database_path == root / "metadata" / "ledger.db"
    assert config.records.root_path == root / "records"
    assert config.artifacts.root_path == root / "artifacts"
    assert config.recovery.outbox_root == root / "cache" / "outbox"
    assert config.recovery.backup_root == root / "exports" / "backups"
    assert config.recovery.restore_staging_root == root / "cache" / "restore"
    assert config.workspace.reports_path == root / "reports"


def test_given_store_and_recovery_paths_are_kept(cwd: Path) -> None:
    config = UnifiedConfig(
        metadata=MetadataStoreConfig(database_path="db/meta.db"),
        records=RecordStoreConfig(root_path="/abs/records"),
        recovery=RecoveryConfig(backup_root="b"),
    )
    assert config.metadata.database_path == cwd / "db" / "meta.db"
    assert config.records.root_path == Path("/abs/records")
    assert config.recovery.backup_root == cwd / "b"
    assert config.recovery.outbox_root == cwd / ".contexta" / "cache" / "outbox"


def test_derived_store_paths_follow_a_new_workspace_in_dataclasses_replace(cwd: Path) -> None:
    config = UnifiedConfig(records=RecordStoreConfig(root_path="/keep"))
    moved = dataclasses.replace(config, workspace=WorkspaceConfig(root_path="/new"))
    assert moved.metadata.database_path == Path("/new/metadata/ledger.db")
    assert moved.recovery.backup_root == Path("/new/exports/backups")
    assert moved.records.root_path == Path("/keep")


def test_pickle_and_deepcopy_keep_values_and_explicit_marks() -> None:
    config = UnifiedConfig(project_name="p", workspace=WorkspaceConfig(root_path="/w"))
    for clone in (pickle.loads(pickle.dumps(config)), copy.deepcopy(config), copy.copy(config)):
        assert clone == config
        assert explicit_fields(clone) == {"project_name", "workspace.root_path"}
    moved = dataclasses.replace(
        pickle.loads(pickle.dumps(config)), workspace=WorkspaceConfig(root_path="/v")
    )
    assert moved.metadata.database_path == Path("/v/metadata/ledger.db")


# ---------------------------------------------------------------------------------------------
# Constructor validation


@pytest.mark.parametrize(
    ("factory", "field"),
    [
        (lambda: UnifiedConfig(profile_name="prod"), "profile_name"),  # type: ignore[arg-type]
        (lambda: UnifiedConfig(project_name="  "), "project_name"),
        (lambda: UnifiedConfig(config_version=""), "config_version"),
        (lambda: UnifiedConfig(project_name=3), "project_name"),  # type: ignore[arg-type]
        (lambda: RecordStoreConfig(durability_mode="always"), "durability_mode"),  # type: ignore[arg-type]
        (lambda: RecordStoreConfig(buffer_max_events=0), "buffer_max_events"),
        (lambda: RecordStoreConfig(buffer_max_events=-5), "buffer_max_events"),
        (lambda: RecordStoreConfig(buffer_max_ms=0.0), "buffer_max_ms"),
        (lambda: RecordStoreConfig(buffer_max_ms=float("nan")), "buffer_max_ms"),
        (lambda: RecordStoreConfig(buffer_max_ms=float("inf")), "buffer_max_ms"),
        (lambda: RecordStoreConfig(buffer_max_events=True), "buffer_max_events"),
        (lambda: RecordStoreConfig(max_segment_bytes=0), "max_segment_bytes"),
        (lambda: RecordStoreConfig(read_only="yes"), "read_only"),  # type: ignore[arg-type]
        (lambda: WorkspaceConfig(root_path=None), "root_path"),  # type: ignore[arg-type]
        (lambda: WorkspaceConfig(root_path=""), "root_path"),
        (lambda: CaptureConfig(producer="  "), "producer"),
        (lambda: CaptureConfig(retry_attempts=-1), "retry_attempts"),
        (lambda: HTTPConfig(port=70000), "port"),
        (lambda: TrendPolicy(default_window_runs=0), "default_window_runs"),
        (lambda: RetentionConfig(cache_ttl_days=-1), "cache_ttl_days"),
        (lambda: ExportSurfaceConfig(csv_delimiter=";;"), "csv_delimiter"),
        (
            lambda: DiagnosticsPolicy(expected_terminal_stage_names="evaluate"),
            "expected_terminal_stage_names",
        ),  # type: ignore[arg-type]
        (lambda: UnifiedConfig(workspace="somewhere"), "workspace"),  # type: ignore[arg-type]
    ],
)
def test_invalid_values_raise_invalid_config_value(factory: Any, field: str) -> None:
    error = expect_code("invalid_config_value", factory)
    assert field in error.message
    assert error.details is not None and field in error.details["field"]


def test_durability_mode_accepts_flush_and_fsync() -> None:
    assert RecordStoreConfig(durability_mode="fsync").durability_mode == "fsync"
    assert RecordStoreConfig(durability_mode="flush").durability_mode == "flush"


def test_constructors_normalise_lists_ints_and_nested_mappings(cwd: Path) -> None:
    policy = DiagnosticsPolicy(expected_terminal_stage_names=["train"])  # type: ignore[arg-type]
    assert policy.expected_terminal_stage_names == ("train",)
    assert RecordStoreConfig(buffer_max_ms=5).buffer_max_ms == 5.0
    assert isinstance(RecordStoreConfig(buffer_max_ms=5).buffer_max_ms, float)
    config = UnifiedConfig(records={"durability_mode": "fsync"})  # type: ignore[arg-type]
    assert isinstance(config.records, RecordStoreConfig)
    assert config.records.durability_mode == "fsync"
    assert config.records.root_path == cwd / ".contexta" / "records"
    assert "records.durability_mode" in explicit_fields(config)


def test_unknown_field_in_nested_mapping_is_reported() -> None:
    error = expect_code("unknown_config_field", UnifiedConfig, records={"speed": 1})
    assert "speed" in error.message


def test_producer_accepts_a_name() -> None:
    assert CaptureConfig(producer="ci-bot").producer == "ci-bot"


def test_missing_config_field_is_raised_for_required_fields_by_the_builder() -> None:
    # No shipped class has a required field (as in 1.0); the builder still guards it.
    from contexta.config._fields import ConfigModel
    from contexta.config._schema import build, config_model

    @config_model
    @dataclasses.dataclass(frozen=True, slots=True)
    class NeedsName(ConfigModel):
        name: str

    error = expect_code("missing_config_field", build, NeedsName, {})
    assert "name" in error.message
    assert build(NeedsName, {"name": "x"}).name == "x"


@pytest.mark.skipif(sys.version_info < (3, 13), reason="copy.replace is new in Python 3.13")
def test_copy_replace_keeps_marks_and_re_derives() -> None:
    config = UnifiedConfig(project_name="p")
    moved = copy.replace(config, workspace=WorkspaceConfig(root_path="/n"))  # type: ignore[attr-defined]
    assert moved.metadata.database_path == Path("/n/metadata/ledger.db")
    assert explicit_fields(moved) == {"project_name", "workspace.root_path"}
    ws = copy.replace(moved.workspace, root_path="/m")  # type: ignore[attr-defined]
    assert ws.cache_path == Path("/m/cache")
