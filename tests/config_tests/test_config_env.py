"""``CONTEXTA_*`` variables: names (compared with 1.0's), parsing rules and errors.

Every test passes ``env=`` explicitly; the real process environment is never read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from contexta.common.errors import ConfigurationError
from contexta.config import (
    ENV_KEYS,
    PROFILE_ENV_KEY,
    PROFILE_OVERLAYS_ENV_KEY,
    UnifiedConfig,
    config_to_mapping,
    env_key_for,
    load_config,
)

from ._c10_observed import C10_ENV_KEYS

OUR_ENV_KEYS = {
    "CONTEXTA_CAPTURE_PRODUCER",
    "CONTEXTA_RECORDS_BUFFER_MAX_EVENTS",
    "CONTEXTA_RECORDS_BUFFER_MAX_MS",
    "CONTEXTA_RECORDS_SYNC_INTERVAL_MS",
}

# A non-default value for each literal field: (text, expected).
LITERAL_SAMPLES = {
    "contract.validation_mode": "lenient",
    "contract.compatibility_mode": "lenient",
    "capture.dispatch_failure_mode": "outbox",
    "records.durability_mode": "fsync",
    "records.layout_mode": "jsonl_segments",  # the only value
    "artifacts.default_ingest_mode": "move",
    "artifacts.verification_mode": "strict",
    "interpretation.comparison.metric_selection": "max",
    "interpretation.comparison.missing_stage_severity": "error",
    "interpretation.trend.metric_aggregation": "mean",
    "interpretation.alert.default_severity": "info",
    "recovery.replay_mode_default": "strict",
    "surfaces.cli.default_output_format": "json",
    "surfaces.cli.verbosity": "quiet",
    "retention.artifact_retention_mode": "enforced",
    "security.redaction_mode": "off",
}
INT_FIELDS = {
    "capture.retry_attempts",
    "records.max_segment_bytes",
    "records.buffer_max_events",
    "artifacts.chunk_size_bytes",
    "interpretation.search.default_limit",
    "interpretation.trend.default_window_runs",
    "interpretation.anomaly.min_baseline_runs",
    "surfaces.http.port",
    "retention.cache_ttl_days",
    "retention.report_ttl_days",
    "retention.export_ttl_days",
}
FLOAT_FIELDS = {
    "capture.retry_backoff_seconds",
    "records.buffer_max_ms",
    "records.sync_interval_ms",
    "interpretation.anomaly.z_score_threshold",
}


def leaves(mapping: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        if isinstance(value, dict):
            out.update(leaves(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def leaf(config: UnifiedConfig, path: str) -> Any:
    value: Any = config
    for part in path.split("."):
        value = getattr(value, part)
    return value


def sample(path: str, default: Any) -> tuple[str, Any]:
    """Env text and the value it must produce, different from the default where possible."""

    if path in LITERAL_SAMPLES:
        return LITERAL_SAMPLES[path], LITERAL_SAMPLES[path]
    if path in INT_FIELDS:
        return " 7 ", 7
    if path in FLOAT_FIELDS:
        return "1.5", 1.5
    if isinstance(default, bool):
        return ("off", False) if default else ("on", True)
    if isinstance(default, Path) or path.endswith(("_path", "_root")):
        return "/env/x", Path("/env/x")
    if isinstance(default, tuple):
        return "a, b,,c", ("a", "b", "c")
    if path == "surfaces.export.csv_delimiter":
        return ";", ";"
    return "from-env", "from-env"


def expect_code(code: str, **kwargs: Any) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as info:
        load_config(**kwargs)
    assert info.value.code == code, info.value.message
    return info.value


# ---------------------------------------------------------------------------------------------
# Names


def test_env_keys_are_1_0s_89_plus_our_three() -> None:
    assert len(C10_ENV_KEYS) == 89
    assert len(ENV_KEYS) == 93
    assert set(ENV_KEYS) == set(C10_ENV_KEYS) | OUR_ENV_KEYS
    assert [key for key in ENV_KEYS if key not in OUR_ENV_KEYS] == list(C10_ENV_KEYS)


def test_one_key_per_leaf_in_upper_snake_of_its_path() -> None:
    paths = [
        p
        for p in leaves(config_to_mapping(UnifiedConfig()))
        if p not in ("config_version", "profile_name")
    ]
    assert [env_key_for(p) for p in paths] == list(ENV_KEYS)
    assert env_key_for("interpretation.comparison.include_unchanged_metrics") == (
        "CONTEXTA_INTERPRETATION_COMPARISON_INCLUDE_UNCHANGED_METRICS"
    )


def test_every_leaf_variable_sets_its_field() -> None:
    defaults = leaves(config_to_mapping(load_config(env={})))
    checked = 0
    for path, default in defaults.items():
        if path in ("config_version", "profile_name"):
            continue
        text, expected = sample(path, default)
        config = load_config(env={env_key_for(path): text})
        assert leaf(config, path) == expected, path
        checked += 1
    assert checked == 93


# ---------------------------------------------------------------------------------------------
# Values


@pytest.mark.parametrize("text", ["true", "1", "yes", "on", "TRUE", " On "])
def test_true_spellings(text: str) -> None:
    assert load_config(env={"CONTEXTA_METADATA_READ_ONLY": text}).metadata.read_only is True


@pytest.mark.parametrize("text", ["false", "0", "no", "off", "False", "NO"])
def test_false_spellings(text: str) -> None:
    config = load_config(env={"CONTEXTA_SURFACES_CLI_COLOR": text})
    assert config.surfaces.cli.color is False


@pytest.mark.parametrize("text", ["maybe", "2", "y", "t"])
def test_other_boolean_text_is_invalid(text: str) -> None:
    error = expect_code("invalid_config_value", env={"CONTEXTA_METADATA_READ_ONLY": text})
    assert "CONTEXTA_METADATA_READ_ONLY" in error.message


@pytest.mark.parametrize("text", ["null", "none", "NULL", " None "])
def test_null_clears_optional_fields(text: str) -> None:
    config = load_config(env={"CONTEXTA_RETENTION_CACHE_TTL_DAYS": text})
    assert config.retention.cache_ttl_days is None


def test_null_on_an_optional_path_re_derives_it(cwd: Path) -> None:
    env = {"CONTEXTA_WORKSPACE_METADATA_PATH": "none", "CONTEXTA_WORKSPACE_ROOT_PATH": "/r"}
    config = load_config(env=env)
    assert config.workspace.metadata_path == Path("/r/metadata")


@pytest.mark.parametrize(
    "key",
    ["CONTEXTA_PROJECT_NAME", "CONTEXTA_WORKSPACE_ROOT_PATH", "CONTEXTA_RECORDS_DURABILITY_MODE"],
)
def test_null_on_a_required_field_is_invalid(key: str) -> None:
    error = expect_code("invalid_config_value", env={key: "null"})
    assert key in error.message


@pytest.mark.parametrize("text", ["", "   ", "\t"])
def test_blank_values_are_ignored(text: str) -> None:
    config = load_config(env={"CONTEXTA_PROJECT_NAME": text, "CONTEXTA_RECORDS_READ_ONLY": text})
    assert config.project_name == "default"
    assert config.records.read_only is False


def test_values_are_stripped() -> None:
    config = load_config(
        env={"CONTEXTA_PROJECT_NAME": "  proj  ", "CONTEXTA_RECORDS_DURABILITY_MODE": " fsync "}
    )
    assert config.project_name == "proj"
    assert config.records.durability_mode == "fsync"


def test_tuple_fields_take_comma_lists_and_brackets_for_empty() -> None:
    key = "CONTEXTA_INTERPRETATION_DIAGNOSTICS_EXPECTED_TERMINAL_STAGE_NAMES"
    config = load_config(env={key: "train, evaluate ,"})
    assert config.interpretation.diagnostics.expected_terminal_stage_names == ("train", "evaluate")
    config = load_config(env={key: "[]"})
    assert config.interpretation.diagnostics.expected_terminal_stage_names == ()


def test_path_variables_expand_user_and_resolve_against_cwd(
    cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(cwd / "home"))
    config = load_config(
        env={"CONTEXTA_WORKSPACE_ROOT_PATH": "~/ws", "CONTEXTA_RECOVERY_BACKUP_ROOT": "backups"}
    )
    assert config.workspace.root_path == cwd / "home" / "ws"
    assert config.records.root_path == cwd / "home" / "ws" / "records"
    assert config.recovery.backup_root == cwd / "backups"


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("CONTEXTA_RECORDS_DURABILITY_MODE", "FSYNC"),
        ("CONTEXTA_RECORDS_DURABILITY_MODE", "sometimes"),
        ("CONTEXTA_RECORDS_MAX_SEGMENT_BYTES", "abc"),  # 1.0 leaked a bare ValueError here
        ("CONTEXTA_RECORDS_MAX_SEGMENT_BYTES", "1.5"),
        ("CONTEXTA_RECORDS_BUFFER_MAX_EVENTS", "0"),
        ("CONTEXTA_RECORDS_BUFFER_MAX_MS", "-1"),
        ("CONTEXTA_RECORDS_BUFFER_MAX_MS", "nan"),
        ("CONTEXTA_INTERPRETATION_ANOMALY_Z_SCORE_THRESHOLD", "high"),
        ("CONTEXTA_SURFACES_HTTP_PORT", "99999"),
    ],
)
def test_unparsable_or_out_of_range_values_are_invalid(key: str, text: str) -> None:
    error = expect_code("invalid_config_value", env={key: text})
    assert key in error.message or key in str(error.details)


def test_our_record_buffer_variables() -> None:
    config = load_config(
        env={
            "CONTEXTA_RECORDS_BUFFER_MAX_EVENTS": "10",
            "CONTEXTA_RECORDS_BUFFER_MAX_MS": "2.5",
            "CONTEXTA_CAPTURE_PRODUCER": "ci@runner",
        }
    )
    assert config.records.buffer_max_events == 10
    assert config.records.buffer_max_ms == 2.5
    assert config.capture.producer == "ci@runner"


# ---------------------------------------------------------------------------------------------
# Names that are not ours, and selectors


@pytest.mark.parametrize("value", ["1", ""])
def test_unknown_key_is_an_error_even_when_blank(value: str) -> None:
    error = expect_code("unknown_config_field", env={"CONTEXTA_RECORD_DURABILITY_MODE": value})
    assert "CONTEXTA_RECORD_DURABILITY_MODE" in error.message
    assert error.details == {"env_key": "CONTEXTA_RECORD_DURABILITY_MODE"}


@pytest.mark.parametrize("key", ["CONTEXTA_CONFIG_VERSION", "CONTEXTA_PROFILE_NAME"])
@pytest.mark.parametrize("value", ["2", ""])
def test_config_version_and_profile_name_are_not_overridable(key: str, value: str) -> None:
    error = expect_code("non_overridable_config_key", env={key: value})
    assert key in error.message


def test_names_without_our_exact_prefix_are_ignored() -> None:
    config = load_config(env={"contexta_project_name": "x", "CONTEXTAPROJECT": "y", "PATH": "/bin"})
    assert config.project_name == "default"


def test_use_env_false_ignores_even_bad_variables() -> None:
    config = load_config(env={"CONTEXTA_BOGUS": "1", "CONTEXTA_PROFILE": "prod"}, use_env=False)
    assert config.profile_name == "local"


def test_profile_selector_variable() -> None:
    config = load_config(env={PROFILE_ENV_KEY: " test "})
    assert (config.profile_name, config.project_name) == ("test", "test")
    assert load_config(env={PROFILE_ENV_KEY: ""}).profile_name == "local"


def test_overlay_selector_variable_is_a_comma_list() -> None:
    config = load_config(env={PROFILE_OVERLAYS_ENV_KEY: "ci, readonly,"})
    assert config.records.read_only is True
    assert config.surfaces.cli.default_output_format == "json"


@pytest.mark.parametrize(
    ("key", "value"), [(PROFILE_ENV_KEY, "prod"), (PROFILE_OVERLAYS_ENV_KEY, "ci,turbo")]
)
def test_bad_selector_values(key: str, value: str) -> None:
    error = expect_code("invalid_profile_selector", env={key: value})
    assert key in error.message


def test_env_overrides_profile_values() -> None:
    config = load_config(
        profile="test",
        env={"CONTEXTA_PROJECT_NAME": "envp", "CONTEXTA_RECORDS_DURABILITY_MODE": "fsync"},
    )
    assert config.project_name == "envp"
    assert config.records.durability_mode == "fsync"


def test_read_env_patch_gives_a_nested_patch_like_1_0() -> None:
    from contexta.config.env import read_env_patch

    patch = read_env_patch(
        {
            "CONTEXTA_RECORDS_READ_ONLY": "on",
            "CONTEXTA_PROJECT_NAME": "p",
            "CONTEXTA_SURFACES_HTTP_PORT": "",
            "OTHER": "x",
        }
    )
    assert patch == {"records": {"read_only": True}, "project_name": "p"}
