"""The pure parts of the new-process benchmark: statistics, per-unit division, summaries,
targets and rendering (no process is started, nothing is timed)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from benchmarks.newproc_report import (
    BEGIN,
    END,
    flatness,
    per_unit_us,
    render,
    stats,
    summarize_probe,
    targets,
    units,
    write_readme,
)


def test_stats_median_min_max_and_count() -> None:
    assert stats([3.0, 1.0, 2.0, 10.0]) == {"median": 2.5, "min": 1.0, "max": 10.0, "n": 4}


def test_stats_of_nothing_is_nan_with_no_samples() -> None:
    s = stats([])
    assert s["n"] == 0
    assert all(math.isnan(s[k]) for k in ("median", "min", "max"))


@pytest.mark.parametrize(
    ("probe", "count", "expected"),
    [
        ("snapshot", 131, 131),  # a snapshot's records, as the call counted them
        ("snapshot", None, 131),  # else the workload's records per run
        ("as_of", None, 131),
        ("compare", 7, 262),  # two runs' records, whatever the call returned
        ("best", None, 10_000),  # every candidate run
        ("cli_best", None, 10_000),
        ("list", 9_999, 10_000),  # the runs of the workload, not what was listed
        ("query", None, 10_000),
        ("append", None, 1),  # one call
        ("history", 135, 135),
        ("history", None, 135),  # records + the run and its three stages' puts
        ("cli_replay", 140, 140),
    ],
)
def test_units_divide_by_the_work_answered(probe: str, count: int | None, expected: int) -> None:
    assert units(probe, 10_000, 131, count) == expected


def test_per_unit_is_microseconds_per_unit() -> None:
    assert per_unit_us(0.5, 10_000) == pytest.approx(50.0)
    assert per_unit_us(0.002, 1) == pytest.approx(2000.0)
    assert math.isnan(per_unit_us(1.0, 0))
    assert math.isnan(per_unit_us(float("nan"), 5))


def _sample(call: float, warm: list[float], rss: float = 100.0, **extra: Any) -> dict[str, Any]:
    return {
        "call_s": call,
        "warm_s": warm,
        "process_s": call + 1.0,
        "first_rss_mb": rss - 10,
        "peak_rss_mb": rss,
        **extra,
    }


def test_summary_takes_each_processes_warm_median_then_the_median_over_processes() -> None:
    results = [
        _sample(0.3, [0.010, 0.001, 0.002]),  # warm median 0.002
        _sample(0.1, [0.004, 0.005, 0.006]),  # 0.005
        _sample(0.2, [0.003, 0.003, 0.100]),  # 0.003
    ]
    row = summarize_probe("best", results, 1_000, 131)
    assert row["first_s"] == {"median": 0.2, "min": 0.1, "max": 0.3, "n": 3}
    assert row["warm_s"]["median"] == pytest.approx(0.003)
    assert row["warm_s"]["min"] == pytest.approx(0.002)
    assert row["warm_s"]["max"] == pytest.approx(0.005)
    assert row["units"] == 1_000
    assert row["per_unit_first_us"] == pytest.approx(200.0)
    assert row["per_unit_warm_us"] == pytest.approx(3.0)
    assert row["process_s"]["median"] == pytest.approx(1.2)
    assert row["first_rss_mb"]["median"] == pytest.approx(90.0)


def test_summary_keeps_answers_and_per_step_times_of_the_query_process() -> None:
    results = [
        _sample(0.3, [0.1], answer="r000002", calls_s={"list": 0.1, "best": 0.2}),
        _sample(0.5, [0.1], answer="r000002", calls_s={"list": 0.3, "best": 0.2}),
    ]
    row = summarize_probe("query", results, 10, 131)
    assert row["answers"] == ["r000002"]
    assert row["calls_s"]["list"]["median"] == pytest.approx(0.2)


def test_summary_of_a_probe_that_never_answered_names_the_limit() -> None:
    row = summarize_probe("best", [{"timeout": True, "timeout_s": 300.0}], 1_000, 131)
    assert row == {"timeout_s": 300.0, "unit": "run"}
    partly = summarize_probe("best", [{"timeout": True, "timeout_s": 300.0}, _sample(1, [1])], 5, 1)
    assert partly["timeouts"] == 1
    assert partly["first_s"]["n"] == 1


def test_flatness_is_the_largest_scale_over_the_smallest() -> None:
    assert flatness({1_000: 2.0, 10_000: 3.0, 100_000: 5.0}) == pytest.approx(2.5)
    assert flatness({1_000: 2.0, 10_000: float("nan")}) is None
    assert flatness({1_000: 2.0}) is None


def _row(first: float, warm: float, rss: float = 100.0, per: float = 1.0) -> dict[str, Any]:
    one = {"median": first, "min": first, "max": first, "n": 1}
    return {
        "first_s": one,
        "warm_s": {"median": warm, "min": warm, "max": warm, "n": 1},
        "process_s": {"median": first + 1, "min": first + 1, "max": first + 1, "n": 1},
        "first_rss_mb": {"median": rss, "min": rss, "max": rss, "n": 1},
        "peak_rss_mb": {"median": rss, "min": rss, "max": rss, "n": 1},
        "units": 1,
        "unit": "record",
        "per_unit_first_us": per,
        "per_unit_warm_us": per / 10,
        "answers": [],
        "timeouts": 0,
    }


def _results() -> dict[str, Any]:
    one = {"median": 1.0, "min": 1.0, "max": 1.0, "n": 1}
    return {
        "date": "2026-12-03 00:00 UTC",
        "commit": "abc1234",
        "label": "",
        "reps": 1,
        "warm": 5,
        "load_start": 1.0,
        "load_end": 2.0,
        "seconds": 60.0,
        "scales": {
            "1000": {
                "ours": {"snapshot": _row(0.040, 0.002, per=10.0), "as_of": _row(0.1, 0.003)},
                "mlflow": {"snapshot": _row(0.080, 0.001)},
            },
            "100000": {
                "ours": {
                    "snapshot": _row(0.045, 0.002, per=15.0),
                    "best": _row(0.3, 0.01),
                    "query": _row(1.0, 1.0, rss=250.0),
                },
            },
        },
        "side": {
            "100000": {
                "ours": {
                    "rebuild_rss_mb": {**one, "median": 600.0},
                    "ingest_rss_mb": {**one, "median": 400.0},
                    "rebuild_events_per_s": {**one, "median": 1_500_000.0},
                }
            }
        },
        "equal_work": {"runs": 1_000, "ours": 90_000.0, "contexta10": 300.0, "ratio": 300.0},
    }


def _verdicts() -> dict[str, str]:
    return {t.name: t.verdict for t in targets(_results())}


def test_targets_are_judged_on_the_100k_figures() -> None:
    v = _verdicts()
    assert v["first `get_run_snapshot`, 100k runs"] == "**met**"  # 45 ms <= 50
    assert v["first `select_best_run`, 100k runs"] == "**missed**"  # 300 ms > 200
    assert v["query process peak RSS, 100k runs"] == "**met**"  # 250 MiB <= 300
    assert v["first append into an existing run, 100k runs"] == "not measured"
    assert v["rebuild peak RSS, 100k runs"] == "**missed**"
    assert v["ingest peak RSS, 100k runs"] == "**met**"
    assert v["rebuild events/s at 13.5M events"] == "**missed**"
    assert v["ingest through the 1.0 API vs Contexta 1.0, equal work (1,000 runs)"] == "**met**"


def test_flat_and_mlflow_and_as_of_targets() -> None:
    v = _verdicts()
    assert v["`snapshot` flat per unit of work"] == "**met**"  # 15 / 10 = 1.5x
    assert v["ahead of MLflow: `snapshot` first call, 1,000 runs"] == "**met**"  # 40 vs 80 ms
    assert v["ahead of MLflow: `snapshot` warm, 1,000 runs"] == "**missed**"  # 2 vs 1 ms
    assert v["ahead of MLflow: `list` first call, 1,000 runs"] == "not measured"
    assert v["`as_of` within 2x of the live read, first call, 1,000 runs"] == "**missed**"
    assert v["`as_of` within 2x of the live read, warm, 1,000 runs"] == "**met**"  # 3 <= 2*2


def test_flatness_needs_the_100k_scale_to_be_judged() -> None:
    results = _results()
    del results["scales"]["100000"]
    assert {t.name: t.verdict for t in targets(results)}[
        "`snapshot` flat per unit of work"
    ] == "not measured"


def test_render_shows_figures_ratios_and_commit() -> None:
    text = render(_results())
    assert "commit `abc1234`" in text
    assert "#### 1,000 runs (135,000 events)" in text
    assert "#### 100,000 runs (13,500,000 events)" in text
    line = next(x for x in text.splitlines() if x.startswith("| `get_run_snapshot`"))
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[1:3] == ["40.0", "2.00"]  # ours first and warm, ms
    assert cells[5:8] == ["80.0", "1.00", "2.0x / 0.5x"]  # MLflow first, warm, ratios
    assert "x1.50" in text  # per-unit growth of the snapshot, 1k -> 100k
    assert "| ingest through the 1.0 API vs Contexta 1.0, equal work (1,000 runs) | >= 300x" in text


def test_write_readme_replaces_only_the_generated_section(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{BEGIN}\nold table\n{END}\nafter\n")
    write_readme(_results(), readme)
    text = readme.read_text()
    assert text.startswith(f"before\n{BEGIN}\n")
    assert text.endswith(f"{END}\nafter\n")
    assert "old table" not in text
    assert "commit `abc1234`" in text


def test_write_readme_without_markers_refuses_and_leaves_the_file(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("no markers\n")
    with pytest.raises(SystemExit, match="markers"):
        write_readme(_results(), readme)
    assert readme.read_text() == "no markers\n"


def test_render_names_a_peer_without_a_workspace() -> None:
    results = _results()
    results["side"]["1000"] = {"mlflow": {"missing": True}, "contexta10": {"missing": True}}
    text = render(results)
    assert "Not measured at 1,000 runs (no cached workspace): MLflow, Contexta 1.0." in text
    assert "Not measured at 100,000 runs" not in text


def test_merge_takes_every_scale_and_recomputes_equal_work() -> None:
    from benchmarks.newproc import merge

    one = {"median": 1.0, "min": 1.0, "max": 1.0, "n": 1}
    first = {**_results(), "equal_work": None}
    second = {
        **_results(),
        "date": "2026-12-03 01:00 UTC",
        "commit": "def5678",
        "scales": {"200": {"ours": {"snapshot": _row(0.01, 0.001)}}},
        "side": {
            "200": {
                "ours": {"ingest_events_per_s": {**one, "median": 60_000.0}},
                "contexta10": {
                    "ingest_events_per_s": {**one, "median": 200.0},
                    "built_at": "2026-12-03 01:05 UTC",
                },
            }
        },
        "equal_work": {"runs": 200},
    }
    merged = merge([first, second])
    assert sorted(merged["scales"], key=int) == ["200", "1000", "100000"]
    assert merged["commit"] == "abc1234 and def5678"
    assert merged["equal_work"]["ratio"] == pytest.approx(300.0)
    assert merged["equal_work"]["runs"] == 200
