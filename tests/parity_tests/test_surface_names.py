"""1.0's names and deeper import paths resolve here, to the same objects as our own paths."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.parity_tests._surface_c10 import C10_CONSTANTS, C10_MODULE_NAMES


@pytest.mark.parametrize("module_name", sorted(C10_MODULE_NAMES))
def test_every_name_of_each_1_0_module_imports(module_name: str) -> None:
    module = importlib.import_module(module_name)
    missing = [name for name in C10_MODULE_NAMES[module_name] if not hasattr(module, name)]
    assert missing == []


def test_from_import_of_deep_paths_gives_the_same_objects() -> None:
    import contexta
    import contexta.contract as contract
    import contexta.interpretation as interpretation
    from contexta.api.client import Contexta as ClientContexta
    from contexta.contract.models.records import METRIC_AGGREGATION_SCOPES, MetricRecord
    from contexta.contract.serialization import deserialize_run
    from contexta.contract.validation.report import ValidationIssue
    from contexta.interpretation.lineage.service import LineageError, LineagePolicy
    from contexta.interpretation.query.service import QueryService

    assert ClientContexta is contexta.Contexta
    assert MetricRecord is contract.MetricRecord
    assert deserialize_run is contract.deserialize_run
    assert ValidationIssue is contract.ValidationIssue
    assert LineagePolicy is interpretation.LineagePolicy
    assert LineageError is interpretation.LineageError
    assert QueryService is interpretation.query.QueryService
    assert C10_CONSTANTS["METRIC_AGGREGATION_SCOPES"] == METRIC_AGGREGATION_SCOPES


@pytest.mark.parametrize("name", sorted(C10_CONSTANTS))
def test_contract_constants_have_1_0_values(name: str) -> None:
    import contexta.contract.models as models

    assert getattr(models, name) == C10_CONSTANTS[name]


def test_a_deeper_1_0_path_is_a_module_of_its_own_giving_the_same_objects() -> None:
    import contexta.interpretation.trend as trend
    import contexta.interpretation.trend.models as models

    assert models is not trend
    assert models.__spec__ is not None
    assert models.__spec__.name == "contexta.interpretation.trend.models"
    assert trend.__spec__ is not None and trend.__spec__.name == "contexta.interpretation.trend"
    assert models.__all__ == trend.__all__
    assert all(getattr(models, name) is getattr(trend, name) for name in trend.__all__)


def test_unknown_names_below_an_aliased_parent_still_fail() -> None:
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("contexta.interpretation.query.nothing_here")
    with pytest.raises(AttributeError):
        _ = importlib.import_module("contexta.contract.serialization").deserialize_nothing


def test_deep_paths_work_in_a_fresh_interpreter_without_importing_contexta_first() -> None:
    code = (
        "from contexta.store.records.models import AppendReceipt\n"
        "from contexta.common.time import iso_utc_now\n"
        "from contexta.contract.models.context import RUN_STAGE_STATUSES\n"
        "import sys\n"
        "assert iso_utc_now().endswith('Z')\n"
        "assert 'contexta.interpretation.trend_analysis' not in sys.modules\n"
        "print(RUN_STAGE_STATUSES)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "('open', 'completed', 'failed', 'cancelled')"
