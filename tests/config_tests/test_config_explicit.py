"""Decision 8.8: environment variables apply to every field the caller did not set explicitly,
also for a ``UnifiedConfig`` object handed to the facade (``resolve_config``)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from contexta.common.errors import ConfigurationError
from contexta.config import (
    InterpretationConfig,
    RecordStoreConfig,
    TrendPolicy,
    UnifiedConfig,
    WorkspaceConfig,
    apply_env_overrides,
    explicit_fields,
    load_config,
    replace_unified_config,
    resolve_config,
)

ENV = {
    "CONTEXTA_PROJECT_NAME": "env-project",
    "CONTEXTA_WORKSPACE_ROOT_PATH": "/env-root",
    "CONTEXTA_RECORDS_DURABILITY_MODE": "fsync",
    "CONTEXTA_RECORDS_BUFFER_MAX_EVENTS": "8",
    "CONTEXTA_INTERPRETATION_TREND_DEFAULT_WINDOW_RUNS": "5",
}


# ---------------------------------------------------------------------------------------------
# A UnifiedConfig object


def test_env_applies_to_a_default_object() -> None:
    config = resolve_config(UnifiedConfig(), env=ENV)
    assert config.project_name == "env-project"
    assert config.workspace.root_path == Path("/env-root")
    assert config.records.durability_mode == "fsync"
    assert config.records.buffer_max_events == 8
    assert config.interpretation.trend.default_window_runs == 5


def test_env_never_overrides_fields_named_in_constructors() -> None:
    config = UnifiedConfig(
        project_name="mine",
        workspace=WorkspaceConfig(root_path="/mine"),
        records=RecordStoreConfig(durability_mode="flush"),
        interpretation=InterpretationConfig(trend=TrendPolicy(default_window_runs=20)),
    )
    resolved = resolve_config(config, env=ENV)
    assert resolved.project_name == "mine"
    assert resolved.workspace.root_path == Path("/mine")
    assert resolved.records.durability_mode == "flush"  # explicit, even though it is the default
    assert resolved.interpretation.trend.default_window_runs == 20
    assert resolved.records.buffer_max_events == 8  # not named: env applies


def test_explicitness_is_per_leaf_within_a_nested_object() -> None:
    config = UnifiedConfig(records=RecordStoreConfig(buffer_max_events=99))
    resolved = resolve_config(config, env=ENV)
    assert resolved.records.buffer_max_events == 99
    assert resolved.records.durability_mode == "fsync"


def test_env_root_moves_derived_paths_of_an_object() -> None:
    config = UnifiedConfig(records=RecordStoreConfig(root_path="/records-here"))
    resolved = resolve_config(config, env={"CONTEXTA_WORKSPACE_ROOT_PATH": "/r"})
    assert resolved.workspace.metadata_path == Path("/r/metadata")
    assert resolved.metadata.database_path == Path("/r/metadata/ledger.db")
    assert resolved.artifacts.root_path == Path("/r/artifacts")
    assert resolved.recovery.outbox_root == Path("/r/cache/outbox")
    assert resolved.recovery.backup_root == Path("/r/exports/backups")
    assert resolved.records.root_path == Path("/records-here")


def test_env_on_a_derived_path_of_an_object_with_an_explicit_root() -> None:
    config = UnifiedConfig(workspace=WorkspaceConfig(root_path="/w"))
    resolved = resolve_config(
        config,
        env={"CONTEXTA_WORKSPACE_ROOT_PATH": "/ignored", "CONTEXTA_WORKSPACE_CACHE_PATH": "/c"},
    )
    assert resolved.workspace.root_path == Path("/w")
    assert resolved.workspace.cache_path == Path("/c")
    assert resolved.recovery.restore_staging_root == Path("/c/restore")
    assert resolved.workspace.exports_path == Path("/w/exports")


def test_the_object_comes_back_unchanged_when_nothing_applies() -> None:
    config = UnifiedConfig(project_name="mine")
    assert resolve_config(config, env={}) is config
    assert resolve_config(config, env={"CONTEXTA_PROJECT_NAME": "env"}) is config


def test_resolved_object_keeps_its_marks_so_resolving_again_is_stable() -> None:
    config = UnifiedConfig(project_name="mine")
    once = resolve_config(config, env=ENV)
    assert explicit_fields(once) == {"project_name"}
    assert resolve_config(once, env=ENV) == once
    # Values that came from the environment are not explicit: a different env wins next time.
    assert (
        resolve_config(
            once, env={"CONTEXTA_RECORDS_BUFFER_MAX_EVENTS": "3"}
        ).records.buffer_max_events
        == 3
    )


def test_workspace_and_profile_are_ignored_with_an_object_as_in_1_0() -> None:
    config = UnifiedConfig(project_name="mine")
    resolved = resolve_config(config, workspace="/other", profile="test", env={})
    assert resolved is config


def test_env_errors_surface_with_an_object() -> None:
    for env, code in (
        ({"CONTEXTA_BOGUS": "1"}, "unknown_config_field"),
        ({"CONTEXTA_PROFILE_NAME": "test"}, "non_overridable_config_key"),
        ({"CONTEXTA_PROFILE": "prod"}, "invalid_profile_selector"),
        ({"CONTEXTA_RECORDS_DURABILITY_MODE": "often"}, "invalid_config_value"),
    ):
        with pytest.raises(ConfigurationError) as info:
            resolve_config(UnifiedConfig(), env=env)
        assert info.value.code == code


def test_profile_selector_variables_do_not_rewrite_an_object() -> None:
    config = resolve_config(
        UnifiedConfig(), env={"CONTEXTA_PROFILE": "test", "CONTEXTA_PROFILE_OVERLAYS": "readonly"}
    )
    assert config.profile_name == "local"
    assert config.records.read_only is False


def test_mapping_given_to_a_constructor_counts_as_explicit() -> None:
    config = UnifiedConfig(records={"durability_mode": "flush"})  # type: ignore[arg-type]
    assert resolve_config(config, env=ENV).records.durability_mode == "flush"


def test_dataclasses_replace_marks_the_fields_it_passes() -> None:
    replaced = dataclasses.replace(UnifiedConfig(), project_name="mine")
    resolved = resolve_config(replaced, env=ENV)
    assert resolved.project_name == "mine"
    assert resolved.records.durability_mode == "fsync"  # nested objects kept their own marks


def test_replace_unified_config_adds_the_patch_to_the_marks() -> None:
    config = replace_unified_config(
        UnifiedConfig(project_name="mine"), {"records": {"buffer_max_events": 4}}
    )
    assert explicit_fields(config) == {"project_name", "records.buffer_max_events"}
    resolved = apply_env_overrides(config, env=ENV)
    assert (resolved.project_name, resolved.records.buffer_max_events) == ("mine", 4)
    assert resolved.records.durability_mode == "fsync"


# ---------------------------------------------------------------------------------------------
# load_config with an object


def test_load_config_with_an_object_applies_env_unless_use_env_is_false() -> None:
    config = UnifiedConfig()
    assert load_config(config=config, env=ENV).project_name == "env-project"
    assert load_config(config=config, env=ENV, use_env=False) is config


@pytest.mark.parametrize(
    "kwargs",
    [
        {"profile": "test"},
        {"overlays": ["ci"]},
        {"config_file": "x.json"},
        {"workspace": "w"},
        {"project_name": "p"},
    ],
)
def test_load_config_rejects_an_object_with_resolution_inputs(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_config(config=UnifiedConfig(), env={}, **kwargs)
    assert info.value.code == "invalid_config_input"
    assert next(iter(kwargs)) in info.value.message


# ---------------------------------------------------------------------------------------------
# A mapping or nothing


def test_resolve_without_config_is_load_config(cwd: Path) -> None:
    config = resolve_config(env={"CONTEXTA_PROJECT_NAME": "envp"})
    assert config == load_config(env={"CONTEXTA_PROJECT_NAME": "envp"})
    assert config.workspace.root_path == cwd / ".contexta"


def test_env_root_applies_when_no_workspace_is_given() -> None:
    # 1.0's facade always passed workspace=".contexta" and so ignored this variable (quirk 7.9).
    config = resolve_config(None, env={"CONTEXTA_WORKSPACE_ROOT_PATH": "/env-root"})
    assert config.workspace.root_path == Path("/env-root")
    assert config.records.root_path == Path("/env-root/records")


def test_given_workspace_beats_the_env_root(cwd: Path) -> None:
    config = resolve_config(None, workspace="ws", env={"CONTEXTA_WORKSPACE_ROOT_PATH": "/env-root"})
    assert config.workspace.root_path == cwd / "ws"


def test_mapping_root_and_test_profile_root_survive_without_workspace(cwd: Path) -> None:
    mapped = resolve_config({"workspace": {"root_path": "mapped"}}, env={})
    assert mapped.workspace.root_path == cwd / "mapped"
    tested = resolve_config(profile="test", env={})
    assert tested.workspace.root_path == cwd / ".contexta-test"


def test_mapping_leaves_beat_env_and_the_rest_takes_env() -> None:
    config = resolve_config({"project_name": "mapped"}, profile="test", env=ENV)
    assert config.profile_name == "test"
    assert config.project_name == "mapped"
    assert config.records.durability_mode == "fsync"
    assert explicit_fields(config) == {"project_name"}


def test_load_config_marks_only_caller_choices_as_explicit(tmp_path: Path) -> None:
    file = tmp_path / "c.json"
    file.write_text('{"records": {"max_segment_bytes": 10}}', encoding="utf-8")
    config = load_config(
        profile="test",
        config_file=file,
        env={},
        config={"records": {"read_only": True}},
        workspace="w",
        project_name="p",
    )
    assert explicit_fields(config) == {"records.read_only", "workspace.root_path", "project_name"}
    # File values are not explicit: the facade's env pass may still override them.
    resolved = resolve_config(
        config,
        env={"CONTEXTA_RECORDS_MAX_SEGMENT_BYTES": "20", "CONTEXTA_RECORDS_READ_ONLY": "false"},
    )
    assert resolved.records.max_segment_bytes == 20
    assert resolved.records.read_only is True
