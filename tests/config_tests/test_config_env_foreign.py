"""A ``CONTEXTA_*`` variable that is not shaped like a setting (a tool's own variable under our
prefix, such as the benchmark harness's former ``CONTEXTA_BENCH_VENVS``) is ignored with a
warning naming it; one shaped like a setting (one word, or a first word that is a section or
close to one) is still the typed error of Contexta 1.0 (a deliberate difference, README)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from contexta import Contexta
from contexta.common.errors import ConfigurationError
from contexta.config import load_config
from contexta.config.env import ENV_KEYS, ForeignEnvWarning
from tests.conftest import REPO


@pytest.mark.parametrize(
    "key",
    ["CONTEXTA_BENCH_VENVS", "CONTEXTA_BENCH_PYTHON", "CONTEXTA_HOME_DIR", "CONTEXTA_CI_TOKEN"],
)
def test_a_foreign_variable_warns_and_is_ignored(key: str) -> None:
    with pytest.warns(ForeignEnvWarning, match=re.escape(key)) as caught:
        config = load_config(env={key: "/somewhere", "CONTEXTA_PROJECT_NAME": "mine"})
    assert config.project_name == "mine"  # the settings beside it still apply
    assert issubclass(caught[0].category, UserWarning)


def test_a_foreign_variable_does_not_stop_the_facade(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTEXTA_BENCH_VENVS", str(tmp_path / "venvs"))
    with pytest.warns(ForeignEnvWarning, match="CONTEXTA_BENCH_VENVS"):
        ctx = Contexta(workspace=str(tmp_path / "ws"))
    ctx.close()


@pytest.mark.parametrize(
    "key",
    [
        "CONTEXTA_BOGUS",  # one word: a top-level setting's shape
        "CONTEXTA_RECORDS_SPEED",  # a known section, an unknown field
        "CONTEXTA_RECORD_DURABILITY_MODE",  # a section misspelt
        "CONTEXTA_WORKSPAC_ROOT_PATH",
        "CONTEXTA_PROJECT_NAMES",
    ],
)
def test_a_name_shaped_like_a_setting_is_still_an_error(key: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_config(env={key: "1"})
    assert info.value.code == "unknown_config_field" and key in info.value.message


def test_a_misspelt_setting_names_the_right_one() -> None:
    with pytest.raises(ConfigurationError) as info:
        load_config(env={"CONTEXTA_RECORD_DURABILITY_MODE": "flush"})
    assert "Did you mean CONTEXTA_RECORDS_DURABILITY_MODE?" in info.value.message


def test_every_setting_and_selector_is_still_read() -> None:
    assert "CONTEXTA_RECORDS_DURABILITY_MODE" in ENV_KEYS
    config = load_config(
        env={"CONTEXTA_RECORDS_DURABILITY_MODE": "fsync", "CONTEXTA_PROFILE": "test"}
    )
    assert config.records.durability_mode == "fsync"


def test_the_project_tools_do_not_use_its_prefix() -> None:
    """The benchmark harness names its own variables outside ``CONTEXTA_``."""
    for path in sorted((REPO / "benchmarks").glob("*")):
        if path.suffix not in (".py", ".sh", ".md"):
            continue
        names = set(re.findall(r"\bCONTEXTA_[A-Z0-9_]+", path.read_text()))
        foreign = {n for n in names if n not in ENV_KEYS and not n.startswith("CONTEXTA_PROFILE")}
        assert not foreign, f"{path.name} uses {sorted(foreign)}"


def test_the_benchmark_harness_starts_with_its_variable_set(tmp_path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-W",
            "error",
            "-c",
            "import benchmarks.run as r, os; print(r.venv_root())",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "BENCH_VENVS": str(tmp_path / "v")},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(tmp_path / "v")
