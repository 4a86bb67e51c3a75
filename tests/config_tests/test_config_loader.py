"""``load_config``: profiles, overlays, selector precedence, files, mappings, keywords."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from contexta.common.errors import ConfigurationError
from contexta.config import (
    OVERLAY_APPLICATION_ORDER,
    PROFILE_NAMES,
    PROFILE_OVERLAY_NAMES,
    RecordStoreConfig,
    UnifiedConfig,
    build_unified_config,
    config_to_mapping,
    load_config,
    load_profile,
    make_local_config,
    make_test_config,
    merge_config_patch,
    replace_unified_config,
)

from ._c10_observed import C10_OVERLAY_DIFFS, C10_PROFILE_DIFFS

NO_ENV: dict[str, str] = {}


def leaves(config: UnifiedConfig) -> dict[str, Any]:
    def walk(mapping: dict[str, Any], prefix: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in mapping.items():
            if isinstance(value, dict):
                out.update(walk(value, f"{prefix}{key}."))
            elif not isinstance(value, Path):
                out[f"{prefix}{key}"] = value
        return out

    return walk(config_to_mapping(config), "")


def expect_code(code: str, **kwargs: Any) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as info:
        load_config(**kwargs)
    assert info.value.code == code, info.value.message
    return info.value


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------
# Profiles and overlays


def test_profile_and_overlay_names() -> None:
    assert PROFILE_NAMES == ("local", "test")
    assert PROFILE_OVERLAY_NAMES == ("debug", "ci", "readonly", "forensic")
    assert OVERLAY_APPLICATION_ORDER == ("debug", "forensic", "ci", "readonly")


def test_profiles_differ_from_defaults_as_in_1_0_except_durability(cwd: Path) -> None:
    defaults = leaves(UnifiedConfig())
    for profile in PROFILE_NAMES:
        config = load_config(profile=profile, env=NO_ENV)
        diff = {k: v for k, v in leaves(config).items() if v != defaults[k]}
        expected = {
            k: v for k, v in C10_PROFILE_DIFFS[profile].items() if k != "records.durability_mode"
        }  # "flush" is our default everywhere
        assert diff == expected, profile
        assert config.records.durability_mode == "flush"
    assert load_config(env=NO_ENV).workspace.root_path == cwd / ".contexta"
    assert load_config(profile="test", env=NO_ENV).workspace.root_path == cwd / ".contexta-test"


@pytest.mark.parametrize("overlay", ["debug", "ci", "readonly", "forensic"])
def test_each_overlay_changes_what_it_changed_in_1_0(overlay: str) -> None:
    base = leaves(load_config(env=NO_ENV))
    config = load_config(overlays=[overlay], env=NO_ENV)
    diff = {k: v for k, v in leaves(config).items() if v != base[k]}
    assert diff == C10_OVERLAY_DIFFS[overlay]


def test_overlays_apply_in_fixed_order_whatever_was_asked() -> None:
    for asked in (["debug", "forensic"], ["forensic", "debug"], "forensic, debug"):
        config = load_config(overlays=asked, env=NO_ENV)
        assert config.surfaces.cli.verbosity == "forensic"


def test_overlays_stack() -> None:
    config = load_config(profile="test", overlays=["readonly", "ci"], env=NO_ENV)
    assert config.project_name == "test"
    assert config.metadata.read_only and config.records.read_only and config.artifacts.read_only
    assert config.surfaces.cli.color is False


@pytest.mark.parametrize(
    ("kwargs", "bad"), [({"profile": "prod"}, "prod"), ({"overlays": ["ci", "turbo"]}, "turbo")]
)
def test_bad_selectors_in_arguments(kwargs: dict[str, Any], bad: str) -> None:
    error = expect_code("invalid_profile_selector", env=NO_ENV, **kwargs)
    assert bad in error.message


def test_profile_precedence_default_file_env_argument(tmp_path: Path) -> None:
    file = write(tmp_path / "c.json", json.dumps({"profile": "test", "overlays": ["ci"]}))
    assert load_config(env=NO_ENV).profile_name == "local"
    from_file = load_config(config_file=file, env=NO_ENV)
    assert from_file.profile_name == "test" and from_file.surfaces.cli.color is False
    from_env = load_config(
        config_file=file, env={"CONTEXTA_PROFILE": "local", "CONTEXTA_PROFILE_OVERLAYS": "readonly"}
    )
    assert from_env.profile_name == "local"
    assert from_env.records.read_only is True and from_env.surfaces.cli.color is True
    from_arg = load_config(
        profile="test",
        overlays=[],
        config_file=file,
        env={"CONTEXTA_PROFILE": "local", "CONTEXTA_PROFILE_OVERLAYS": "readonly"},
    )
    assert from_arg.profile_name == "test" and from_arg.records.read_only is False


def test_load_profile_and_make_helpers(cwd: Path) -> None:
    config = load_profile("test", overlays=["readonly"], workspace="w", project_name="p")
    assert (config.profile_name, config.project_name) == ("test", "p")
    assert config.workspace.root_path == cwd / "w" and config.records.read_only
    env = {"CONTEXTA_PROJECT_NAME": "envp"}
    assert make_local_config(env=env).project_name == "envp"
    assert make_test_config(env=env).project_name == "test"  # env off by default, as 1.0
    assert make_test_config(env=env, use_env=True).project_name == "envp"


# ---------------------------------------------------------------------------------------------
# Config files


def test_json_file_patches_the_profile(tmp_path: Path, cwd: Path) -> None:
    file = write(
        tmp_path / "c.json",
        json.dumps(
            {
                "project_name": "from-file",
                "workspace": {"root_path": "ws"},
                "records": {"durability_mode": "fsync", "buffer_max_events": "64"},
                "interpretation": {"diagnostics": {"expected_terminal_stage_names": ["train"]}},
            }
        ),
    )
    config = load_config(config_file=file, env=NO_ENV)
    assert config.project_name == "from-file"
    assert config.workspace.root_path == cwd / "ws"
    assert config.metadata.database_path == cwd / "ws" / "metadata" / "ledger.db"
    assert config.records.durability_mode == "fsync"
    assert config.records.buffer_max_events == 64
    assert config.interpretation.diagnostics.expected_terminal_stage_names == ("train",)


def test_toml_file_with_selectors(tmp_path: Path) -> None:
    file = write(
        tmp_path / "c.toml",
        """
profile = "test"
overlays = "readonly"
project_name = "toml-proj"

[records]
buffer_max_ms = 12.5

[interpretation.comparison]
include_unchanged_metrics = true
""",
    )
    config = load_config(config_file=str(file), env=NO_ENV)
    assert (config.profile_name, config.project_name) == ("test", "toml-proj")
    assert config.records.read_only is True
    assert config.records.buffer_max_ms == 12.5
    assert config.interpretation.comparison.include_unchanged_metrics is True


def test_env_beats_file_and_mapping_beats_env(tmp_path: Path) -> None:
    file = write(
        tmp_path / "c.json",
        json.dumps({"project_name": "file", "records": {"durability_mode": "fsync"}}),
    )
    env = {"CONTEXTA_PROJECT_NAME": "env", "CONTEXTA_RECORDS_DURABILITY_MODE": "flush"}
    config = load_config(config_file=file, env=env)
    assert config.project_name == "env" and config.records.durability_mode == "flush"
    config = load_config(config_file=file, env=env, config={"project_name": "mapping"})
    assert config.project_name == "mapping" and config.records.durability_mode == "flush"
    config = load_config(
        config_file=file, env=env, config={"project_name": "mapping"}, project_name="keyword"
    )
    assert config.project_name == "keyword"


@pytest.mark.parametrize(
    ("name", "text", "code"),
    [
        ("missing.json", None, "config_file_not_found"),
        ("c.yaml", "a: 1", "unsupported_config_file"),
        ("c.json", "{not json", "invalid_config_file"),
        ("c.toml", "= broken", "invalid_config_file"),
        ("c.json", "[1, 2]", "invalid_config_file"),
        ("c.json", '{"profile": 3}', "invalid_config_file"),
        ("c.json", '{"overlays": 3}', "invalid_config_file"),
        ("c.json", '{"profile": "prod"}', "invalid_profile_selector"),
        ("c.json", '{"records": {"speed": 1}}', "unknown_config_field"),
        ("c.json", '{"records": {"durability_mode": "always"}}', "invalid_config_value"),
    ],
)
def test_file_errors(tmp_path: Path, name: str, text: str | None, code: str) -> None:
    path = tmp_path / name
    if text is not None:
        write(path, text)
    error = expect_code(code, config_file=path, env=NO_ENV)
    assert name in error.message


def test_unreadable_file_is_translated(tmp_path: Path) -> None:
    directory = tmp_path / "dir.json"
    directory.mkdir()
    error = expect_code("invalid_config_file", config_file=directory, env=NO_ENV)
    assert error.cause is not None


# ---------------------------------------------------------------------------------------------
# Mappings and keywords


def test_mapping_values_are_coerced_like_1_0() -> None:
    config = load_config(
        env=NO_ENV,
        config={
            "records": {"max_segment_bytes": "12", "read_only": "yes"},
            "security": {"secret_key_patterns": "a,b"},
            "retention": {"cache_ttl_days": None},
        },
    )
    assert config.records.max_segment_bytes == 12
    assert config.records.read_only is True
    assert config.security.secret_key_patterns == ("a", "b")
    assert config.retention.cache_ttl_days is None


@pytest.mark.parametrize(
    ("mapping", "code", "mentions"),
    [
        ({"bogus": 1}, "unknown_config_field", "bogus"),
        ({"profile": "test"}, "unknown_config_field", "profile"),
        ({"records": {"speed": 1}}, "unknown_config_field", "speed"),
        (
            {"interpretation": {"trend": {"window": 3}}},
            "unknown_config_field",
            "interpretation.trend",
        ),
        (
            {"records": {"max_segment_bytes": 12.0}},
            "invalid_config_value",
            "records.max_segment_bytes",
        ),
        ({"metadata": {"read_only": 1}}, "invalid_config_value", "metadata.read_only"),
        ({"workspace": "x"}, "invalid_config_value", "workspace"),
        ({"workspace": {"root_path": None}}, "invalid_config_value", "workspace.root_path"),
        ({"project_name": ""}, "invalid_config_value", "project_name"),
        ({"profile_name": "prod"}, "invalid_config_value", "profile_name"),
        ({"records": {"buffer_max_ms": -1}}, "invalid_config_value", "records.buffer_max_ms"),
    ],
)
def test_mapping_errors(mapping: dict[str, Any], code: str, mentions: str) -> None:
    error = expect_code(code, env=NO_ENV, config=mapping)
    assert mentions in error.message


def test_profile_name_is_a_field_in_mappings_not_a_selector() -> None:
    config = load_config(env=NO_ENV, config={"profile_name": "test"})
    assert config.profile_name == "test"
    assert config.project_name == "default"  # the local profile's values remain


def test_config_must_be_a_mapping_or_a_config() -> None:
    expect_code("invalid_config_input", env=NO_ENV, config=["project_name"])


def test_workspace_keyword_moves_derived_paths_but_not_given_ones(cwd: Path) -> None:
    config = load_config(env=NO_ENV, workspace="ws", config={"workspace": {"cache_path": "/cache"}})
    assert config.workspace.root_path == cwd / "ws"
    assert config.records.root_path == cwd / "ws" / "records"
    assert config.workspace.cache_path == Path("/cache")
    assert config.recovery.outbox_root == Path("/cache/outbox")


def test_workspace_keyword_beats_env_and_mapping_root(cwd: Path) -> None:
    config = load_config(
        workspace="kw",
        config={"workspace": {"root_path": "map"}},
        env={"CONTEXTA_WORKSPACE_ROOT_PATH": "/env"},
    )
    assert config.workspace.root_path == cwd / "kw"


def test_bad_keywords() -> None:
    expect_code("invalid_config_value", env=NO_ENV, project_name=" ")
    expect_code("invalid_config_value", env=NO_ENV, workspace="")


def test_build_replace_and_merge_helpers(cwd: Path) -> None:
    built = build_unified_config({"records": {"durability_mode": "fsync"}})
    assert built.records.durability_mode == "fsync"
    moved = replace_unified_config(built, {"workspace": {"root_path": "/elsewhere"}})
    assert moved.records.durability_mode == "fsync"
    assert moved.metadata.database_path == Path("/elsewhere/metadata/ledger.db")
    assert merge_config_patch({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}}) == {"a": {"b": 1, "c": 3}}


def test_config_object_inside_a_mapping_replaces_that_section() -> None:
    config = load_config(
        profile="test", env=NO_ENV, config={"records": RecordStoreConfig(max_segment_bytes=10)}
    )
    assert config.records.max_segment_bytes == 10
    assert config.records.durability_mode == "flush"
