"""Select-best in Arrow answers as the loop over candidates (the reference service).

Values with ties, signed zeros, NaN and infinities; quarantined runs; ids given as full refs,
as ``<project>.<run>`` and both for the same run; every stage choice and direction.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contexta.contract.field_validators import logged_grammar
from contexta.interpretation.workspace_queries import QueryService
from tests.perf_tests.reference_queries import ReferenceQueryService
from tests.perf_tests.test_clustered_rows import KEYS, RUNS, STAGES, _append, _open, _setup

VALUES = [0.0, -0.0, 1.0, 0.5, -2.0, float("nan"), float("inf"), float("-inf")]

metric = st.tuples(
    st.sampled_from(KEYS[:2]),
    st.integers(0, RUNS - 1),
    st.sampled_from([None, *STAGES]),
    st.sampled_from(VALUES),
)


def _every_rule() -> Iterator[tuple[str, dict[str, Any]]]:
    """(metric key, keyword arguments) for each key, stage choice, direction and quarantine rule."""
    for key in KEYS[:2]:
        for stage in (None, *STAGES):
            for higher in (True, False):
                for include in (True, False):
                    yield (
                        key,
                        {
                            "stage_name": stage,
                            "higher_is_better": higher,
                            "include_quarantined": include,
                        },
                    )


run_id = st.integers(0, RUNS - 1).flatmap(lambda i: st.sampled_from([f"run:p.r{i}", f"p.r{i}"]))


@settings(max_examples=30, deadline=None)
@given(
    metrics=st.lists(metric, max_size=30),
    quarantined=st.sets(st.integers(0, RUNS - 1), max_size=2),
    ids=st.lists(run_id, min_size=2, max_size=8),
)
def test_select_best_in_arrow_answers_as_the_loop(
    tmp_path_factory: pytest.TempPathFactory,
    metrics: list[tuple[str, int, str | None, float]],
    quarantined: set[int],
    ids: list[str],
) -> None:
    ctx = _open(tmp_path_factory.mktemp("best") / "ws")
    _setup(ctx)
    with logged_grammar():  # as runtime capture builds them: non-finite values are stored
        _append(ctx, metrics, 0)
    if quarantined:
        ctx.quarantine_runs([f"run:p.r{i}" for i in sorted(quarantined)], reason="bad data")
    fast = QueryService(ctx._workspace, ctx.config)
    reference = ReferenceQueryService(ctx._workspace, ctx.config)
    if len({str(i) for i in ids}) < 2:
        ids = [*ids, "run:p.r0", "run:p.r1"]
    for key, kwargs in _every_rule():
        got = fast.select_best_run(ids, key, **kwargs)
        assert got == reference.select_best_run(ids, key, **kwargs), (key, kwargs)
        assert got is None or got in ids
    ctx.close()


@settings(max_examples=25, deadline=None)
@given(
    metrics=st.lists(metric, max_size=30),
    quarantined=st.sets(st.integers(0, RUNS - 1), max_size=2),
)
def test_best_over_every_listed_run_answers_as_the_loop(
    tmp_path_factory: pytest.TempPathFactory,
    metrics: list[tuple[str, int, str | None, float]],
    quarantined: set[int],
) -> None:
    """``contexta best`` without ``--run``: the listed refs in Arrow, never as a Python list,
    answer as the reference's ``best_of`` over ``list_runs``' ids."""
    ctx = _open(tmp_path_factory.mktemp("listed") / "ws")
    _setup(ctx)
    with logged_grammar():
        _append(ctx, metrics, 0)
    if quarantined:
        ctx.quarantine_runs([f"run:p.r{i}" for i in sorted(quarantined)], reason="bad data")
    fast = QueryService(ctx._workspace, ctx.config)
    reference = ReferenceQueryService(ctx._workspace, ctx.config)
    ids = [r.run_id for r in reference.list_runs()]
    assert fast.listed_run_ids() == ids
    for key, kwargs in _every_rule():
        expected = reference.best_of(ids, key, **kwargs)
        assert fast.best_listed(None, key, **kwargs) == (expected, len(ids)), (key, kwargs)
    ctx.close()
