"""Select-best over ids given as a list: the Arrow path for distinct, known plain-string ids
answers (and fails) as the reference's loop, and the shortcuts it takes when the arrays are
already in the same order leave the answer unchanged.

The ids mix full refs, ``<project>.<run>``, bare names, unknown ids, repeats, ``StableRef``
objects and ``str`` subclasses, in lists and tuples; the values have ties and non-finite
numbers; some runs are quarantined.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contexta.contract import StableRef
from contexta.contract.field_validators import logged_grammar
from contexta.interpretation.workspace_queries import QueryService
from projections import query
from tests.perf_tests.reference_queries import ReferenceQueryService
from tests.perf_tests.test_clustered_rows import RUNS, _append, _open, _setup
from tests.perf_tests.test_select_best_arrow import VALUES, _every_rule, metric


class Text(str):
    """A ``str`` subclass: not a plain string, so never taken by the Arrow path."""


def _spelled(i: int, how: str) -> Any:
    return {
        "full": f"run:p.r{i}",
        "dotted": f"p.r{i}",
        "bare": f"r{i}",
        "ref": StableRef.parse(f"run:p.r{i}"),
        "sub": Text(f"p.r{i}"),
    }[how]


one_id = st.one_of(
    st.tuples(st.integers(0, RUNS - 1), st.sampled_from(["full", "dotted"])).map(
        lambda t: _spelled(*t)
    ),
    st.tuples(st.integers(0, RUNS - 1), st.sampled_from(["bare", "ref", "sub"])).map(
        lambda t: _spelled(*t)
    ),
    st.sampled_from(["p.zz", "run:p.zz", "zz", "run:p.r0.train", " p.r1"]),
)


def _answer(service: QueryService, ids: Any, key: str, kwargs: dict[str, Any]) -> Any:
    """The answer, or the error's type and code."""
    try:
        return service.select_best_run(ids, key, **kwargs)
    except Exception as error:  # compared, not swallowed
        return type(error).__name__, getattr(error, "code", None)


@settings(max_examples=40, deadline=None)
@given(
    metrics=st.lists(metric, max_size=30),
    quarantined=st.sets(st.integers(0, RUNS - 1), max_size=2),
    ids=st.one_of(
        st.lists(one_id, min_size=0, max_size=7),
        # the common shapes: every id one spelling, no repeats, some order
        st.tuples(st.sampled_from(["full", "dotted"]), st.permutations(range(RUNS))).map(
            lambda t: [_spelled(i, t[0]) for i in t[1]]
        ),
    ),
    as_tuple=st.booleans(),
)
def test_ids_given_answer_and_fail_as_the_loop(
    tmp_path_factory: pytest.TempPathFactory,
    metrics: list[tuple[str, int, str | None, float]],
    quarantined: set[int],
    ids: list[Any],
    as_tuple: bool,
) -> None:
    ctx = _open(tmp_path_factory.mktemp("given") / "ws")
    _setup(ctx)
    with logged_grammar():
        _append(ctx, metrics, 0)
    if quarantined:
        ctx.quarantine_runs([f"run:p.r{i}" for i in sorted(quarantined)], reason="bad data")
    fast = QueryService(ctx._workspace, ctx.config)
    reference = ReferenceQueryService(ctx._workspace, ctx.config)
    given_ids = tuple(ids) if as_tuple else list(ids)
    for key, kwargs in _every_rule():
        got = _answer(fast, given_ids, key, kwargs)
        assert got == _answer(reference, list(ids), key, kwargs), (ids, key, kwargs)
        if isinstance(got, (str, StableRef)):
            assert any(got is i for i in ids)  # the caller's own object is returned
    ctx.close()


def _once_per_run(ctx: Any, order: list[int]) -> None:
    """One ``accuracy`` per run at the evaluate stage, appended in ``order``."""
    rng = random.Random(7)
    points = [("accuracy", run, "evaluate", rng.choice(VALUES)) for run in order]
    with logged_grammar():
        _append(ctx, points, 0)


@pytest.mark.parametrize("written", ["in order", "shuffled"])
@pytest.mark.parametrize("asked", ["in order", "reversed"])
def test_in_order_shortcuts_answer_as_the_lookups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, written: str, asked: str
) -> None:
    """When the ids are every run in the order they were written, and each run's value sits
    at its one stage in the same order, no hash lookup is made; in any other order they are,
    and both answer as the reference."""
    ctx = _open(tmp_path / "ws")
    _setup(ctx)
    order = list(range(RUNS))
    if written == "shuffled":
        order = [1, 3, 0, 2]
    _once_per_run(ctx, order)
    fast = QueryService(ctx._workspace, ctx.config)
    reference = ReferenceQueryService(ctx._workspace, ctx.config)
    ids = [f"p.r{i}" for i in range(RUNS)]
    if asked == "reversed":
        ids.reverse()
    fast.select_best_run(ids, "a", stage_name="evaluate")  # the tables loaded, nothing found
    lookups: list[int] = []
    for name in ("is_in", "index_in"):
        real = getattr(pc, name)

        def spy(values: Any, *args: Any, _real: Any = real, **kwargs: Any) -> Any:
            lookups.append(len(values))
            return _real(values, *args, **kwargs)

        monkeypatch.setattr(pc, name, spy)
    for key, kwargs in _every_rule():
        if key != "accuracy" or kwargs["stage_name"] != "evaluate":
            continue
        got = fast.select_best_run(ids, key, **kwargs)
        assert got == reference.select_best_run(ids, key, **kwargs), kwargs
    runs_sized = [n for n in lookups if n == RUNS]
    if written == "in order" and asked == "in order":
        assert runs_sized == []  # the ids, the runs and the stage rows lined up
    else:
        assert runs_sized  # looked up by hashing
    ctx.close()


def test_distinct_known_ids_skip_the_python_resolve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Distinct ``<project>.<run>`` (or full ref) strings never reach ``resolve_many``; an
    unknown one among them does, and fails as before."""
    ctx = _open(tmp_path / "ws")
    _setup(ctx)
    _once_per_run(ctx, list(range(RUNS)))
    fast = QueryService(ctx._workspace, ctx.config)
    reference = ReferenceQueryService(ctx._workspace, ctx.config)
    calls: list[int] = []
    real = QueryService.resolve_many

    def spy(self: QueryService, run_ids: Any) -> list[str]:
        calls.append(len(run_ids))
        return real(self, run_ids)

    monkeypatch.setattr(QueryService, "resolve_many", spy)
    for ids in ([f"p.r{i}" for i in range(RUNS)], tuple(f"run:p.r{i}" for i in range(RUNS))):
        assert fast.select_best_run(ids, "accuracy", stage_name="evaluate") == (
            reference.select_best_run(list(ids), "accuracy", stage_name="evaluate")
        )
    assert calls == []
    with pytest.raises(Exception) as raised:
        fast.select_best_run(["p.r0", "p.zz"], "accuracy", stage_name="evaluate")
    assert getattr(raised.value, "code", None) == "query_run_not_found"
    assert calls == [2]
    ctx.close()


keys_and_values = st.lists(
    st.tuples(
        st.one_of(st.none(), st.text(alphabet="abc", min_size=1, max_size=3)),
        st.one_of(st.none(), st.floats(-10, 10, allow_nan=False)),
        st.integers(0, 3),
    ),
    max_size=30,
    unique_by=lambda row: row[0],
)


@settings(max_examples=60, deadline=None)
@given(rows=keys_and_values, mode=st.sampled_from(["latest", "max", "min"]), ordered=st.booleans())
def test_one_row_per_key_is_its_own_selection(
    rows: list[tuple[str | None, float | None, int]], mode: str, ordered: bool
) -> None:
    """``value_columns`` of rows whose keys are distinct (the shortcut, which neither sorts
    nor groups) equals Arrow's group-by of the same rows: the latest (last after sorting by
    valid time, then seq) or the greatest or smallest value, a null value staying null."""
    if ordered:
        rows = sorted(rows, key=lambda r: (r[0] is not None, r[0] or ""))
    table = pa.table(
        {
            "run_ref": pa.array([r[0] for r in rows], pa.string()),
            "value": pa.array([r[1] for r in rows], pa.float64()),
            "valid_time": pa.array([r[2] for r in rows], pa.timestamp("us", tz="UTC")),
            "seq": pa.array(range(1, len(rows) + 1), pa.int64()),
        }
    )
    assert query.all_distinct(table.column("run_ref"))
    keys, values = query.value_columns(table, mode)
    got = dict(zip(keys.to_pylist(), values.to_pylist(), strict=True))
    ordered_rows = table.sort_by(
        [("run_ref", "ascending"), ("valid_time", "ascending"), ("seq", "ascending")]
    )
    how = "last" if mode == "latest" else mode
    grouped = ordered_rows.group_by("run_ref", use_threads=False).aggregate([("value", how)])
    want = dict(zip(grouped.column(0).to_pylist(), grouped.column(1).to_pylist(), strict=True))
    assert got == want
    assert len(keys) == len(rows)
