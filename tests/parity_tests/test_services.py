"""Interpretation services over a repository: ``QueryService(repository)``, ``CompareService``,
``ctx.repository``/``ctx.query_service``/``ctx.compare_service``, and a repository a caller
builds in memory, each compared with 1.0's recorded answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from contexta.common.errors import InterpretationError
from contexta.config import ComparisonPolicy

from ._services_c10 import C10_MEMORY, C10_MISSING_RUN, C10_POLICY_DELTAS, C10_WORKSPACE
from ._services_data import MemoryRepository, answers, build, memory_copy


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Any:
    ctx = build(tmp_path_factory.mktemp("services"))
    yield ctx
    ctx.close()


def _services(repository: Any) -> tuple[Any, Any]:
    from contexta.interpretation.compare import CompareService
    from contexta.interpretation.query import QueryService

    query = QueryService(repository)
    return query, CompareService(query)


def test_facade_services_answer_as_1_0(ctx: Any) -> None:
    assert answers(ctx.query_service, ctx.compare_service) == C10_WORKSPACE


def test_query_service_over_ctx_repository_answers_as_1_0(ctx: Any) -> None:
    assert answers(*_services(ctx.repository)) == C10_WORKSPACE


def test_an_in_memory_repository_answers_as_1_0(ctx: Any) -> None:
    assert answers(*_services(memory_copy(ctx.repository))) == C10_MEMORY


def test_in_memory_repository_is_a_composite_repository(ctx: Any) -> None:
    from contexta.interpretation.query import QueryService
    from contexta.interpretation.repositories import CompositeRepository

    memory = memory_copy(ctx.repository)
    assert isinstance(memory, CompositeRepository)
    assert isinstance(ctx.repository, CompositeRepository)
    service = QueryService(memory)
    assert isinstance(service, QueryService)
    assert service.repository is memory


def test_compare_service_policy_applies_without_changing_the_query_service(ctx: Any) -> None:
    from contexta.interpretation.compare import CompareService

    query, plain = _services(memory_copy(ctx.repository))
    policy = ComparisonPolicy(include_unchanged_metrics=True, metric_selection="max")
    compared = CompareService(query, config=policy).compare_runs("run:svc.base", "run:svc.tuned")
    deltas = [
        (row.stage_name, d.metric_key, d.left_value, d.right_value)
        for row in compared.stage_comparisons
        for d in row.metric_deltas
    ]
    assert deltas == C10_POLICY_DELTAS
    # the plain service (and the shared query service) still drop unchanged metrics
    again = plain.compare_runs("run:svc.base", "run:svc.tuned")
    assert ("train", "acc") not in [
        (r.stage_name, d.metric_key) for r in again.stage_comparisons for d in r.metric_deltas
    ]


@pytest.mark.parametrize("repository", ["memory", "workspace"])
def test_missing_run_is_a_typed_error(ctx: Any, repository: str) -> None:
    repo = memory_copy(ctx.repository) if repository == "memory" else ctx.repository
    query, _ = _services(repo)
    with pytest.raises(InterpretationError) as caught:
        query.get_run_snapshot("run:svc.nope")
    assert (type(caught.value).__name__, caught.value.code) == C10_MISSING_RUN


def test_an_empty_repository_lists_nothing_and_refuses_comparisons() -> None:
    from contexta.interpretation import ComparisonError

    query, compare = _services(MemoryRepository())
    assert query.list_projects() == () and query.list_runs() == ()
    with pytest.raises(ComparisonError):
        compare.compare_multiple_runs(["run:svc.base"])
    with pytest.raises(InterpretationError):
        compare.compare_runs("run:svc.base", "run:svc.tuned")


def test_workspace_query_service_still_takes_a_workspace(ctx: Any, tmp_path: Path) -> None:
    from contexta.interpretation.workspace_queries import QueryService

    direct = QueryService(ctx._workspace, ctx.config)
    assert type(direct) is QueryService
    assert type(ctx.query_service) is QueryService  # one query implementation in the product
    assert direct.get_run_snapshot("tuned") == ctx.get_run_snapshot("tuned")
