"""The notebook surface: ``ctx.notebook``, the ``display_*`` helpers, ``NotebookFragment``,
``_repr_html_`` on results, DataFrame rows, the adapters namespaces and the CSV helpers;
compared with 1.0's recorded rows and texts."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from contexta.common.errors import ContextaError

from ._notebook_c10 import C10_FRAGMENT_TEXTS, C10_TABLE_ROWS
from ._services_data import build


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Any:
    ctx = build(tmp_path_factory.mktemp("notebook"))
    yield ctx
    ctx.close()


def _values(ctx: Any) -> dict[str, Any]:
    return {
        "snapshot": ctx.get_run_snapshot("run:svc.tuned"),
        "comparison": ctx.compare_runs("run:svc.base", "run:svc.tuned"),
        "multi": ctx.compare_multiple_runs(["run:svc.base", "run:svc.tuned", "run:svc.broken"]),
        "trend": ctx.get_metric_trend("loss", project_name="svc", stage_name="train"),
        "report": ctx.build_snapshot_report("run:svc.tuned"),
    }


def _once(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """1.0's report rows with its completeness notes listed once (decision 8.7)."""
    out = []
    for row in rows:
        if row["section_title"] == "Completeness Notes":
            row = dict(row, body="\n".join(dict.fromkeys(row["body"].split("\n"))))
        out.append(row)
    return out


@pytest.mark.parametrize("name", sorted(C10_TABLE_ROWS))
def test_dataframe_rows_are_1_0s(ctx: Any, name: str) -> None:
    from contexta.notebook import table_rows

    rows = table_rows(_values(ctx)[name])
    if name == "trend":
        rows = [{k: v for k, v in r.items() if k != "captured_at"} for r in rows]
    expected = C10_TABLE_ROWS[name]
    assert rows == (_once(expected) if name == "report" else expected)


def test_fragment_texts_are_1_0s(ctx: Any) -> None:
    from contexta.notebook import display_metric_trend, display_run_comparison, display_run_snapshot

    values = _values(ctx)
    nb = ctx.notebook
    texts = {
        "show_run": str(nb.show_run("run:svc.tuned", display=False)),
        "compare_runs": str(nb.compare_runs("run:svc.base", "run:svc.tuned", display=False)),
        "show_metric_trend": str(nb.show_metric_trend("loss", project_name="svc", display=False)),
        "snapshot": str(display_run_snapshot(values["snapshot"])),
        "comparison": str(display_run_comparison(values["comparison"])),
        "multi": str(display_run_comparison(values["multi"])),
        "trend": str(display_metric_trend(values["trend"])),
    }
    assert texts == C10_FRAGMENT_TEXTS


@pytest.mark.parametrize("name", ["snapshot", "comparison", "multi", "report"])
def test_results_render_themselves_in_a_notebook(ctx: Any, name: str) -> None:
    value = _values(ctx)[name]
    page = value._repr_html_()
    assert page == ctx.notebook.render(value)
    if name == "snapshot":
        assert "run:svc.tuned" in page and "<table>" in page
    if name == "report":
        assert page == value.to_html()


def test_render_of_something_else_is_a_typed_error(ctx: Any) -> None:
    with pytest.raises(ContextaError) as caught:
        ctx.notebook.render(object())
    assert caught.value.code == "notebook_table_conversion_unsupported"
    from contexta.notebook import display_run_snapshot

    with pytest.raises(ContextaError) as missing:
        display_run_snapshot(ctx)
    assert missing.value.code == "notebook_snapshot_run_id_required"


@pytest.mark.parametrize(
    ("call", "code"),
    [("to_pandas", "notebook_pandas_not_ready"), ("to_polars", "notebook_polars_not_ready")],
)
def test_dataframes_without_the_library_are_typed_errors(
    ctx: Any, monkeypatch: pytest.MonkeyPatch, call: str, code: str
) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    monkeypatch.setitem(sys.modules, "polars", None)
    with pytest.raises(ContextaError) as caught:
        getattr(ctx.notebook, call)(_values(ctx)["snapshot"])
    assert caught.value.code == code and "contexta[dataframes]" in str(caught.value)


def test_dataframes_with_the_library(ctx: Any) -> None:
    pandas = pytest.importorskip("pandas")
    frame = ctx.notebook.to_pandas(_values(ctx)["multi"])
    assert isinstance(frame, pandas.DataFrame)
    # 1.0's row order (its notebook table rows); the recorded rows were printed with sorted keys
    assert list(frame.columns) == [
        "metric_key",
        "stage_name",
        "best_run_id",
        "value_0",
        "value_1",
        "value_2",
    ]
    assert set(frame.columns) == set(C10_TABLE_ROWS["multi"][0])


def test_adapter_namespaces_and_csv_helpers(ctx: Any) -> None:
    from contexta.adapters.dataframes import PandasAdapter
    from contexta.adapters.export import export_comparison_csv, export_run_list_csv
    from contexta.adapters.html import render_html_run_detail
    from contexta.adapters.notebook import NotebookFragment, NotebookSurface

    assert isinstance(ctx.notebook, NotebookSurface)
    assert isinstance(ctx.notebook.show_run("tuned", display=False), NotebookFragment)
    runs = export_run_list_csv(ctx, project_name="svc").splitlines()
    assert runs[0] == "run_id,name,project_name,status,started_at,ended_at"
    assert [line.split(",")[0] for line in runs[1:]] == [
        "run:svc.base",
        "run:svc.tuned",
        "run:svc.broken",
    ]
    compare = export_comparison_csv(ctx, "run:svc.base", "run:svc.tuned").splitlines()
    assert compare[0].startswith("stage_name,metric_key,left_value,right_value,delta")
    assert len(compare) == 3
    assert "run:svc.tuned" in render_html_run_detail(ctx, "run:svc.tuned")
    with pytest.raises(ContextaError) as caught:
        PandasAdapter(ctx).query("SELECT 1")
    assert caught.value.code == "frame_adapter_sql_unsupported"
