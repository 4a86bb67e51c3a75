"""Curve reduction: no sampling, every bucket's extremes kept at their own x, exact points in
narrow windows, and the pre-reduced path giving the same extremes as the raw one."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contexta.surfaces.http.routes import BadRequest
from contexta.surfaces.http.series import BLOCK, Series, _Axis, reduce_series, reduce_window

STATIC = Path(__file__).resolve().parents[2] / "contexta" / "surfaces" / "http" / "static"


def _series(ys: list[float]) -> Series:
    x = pa.array([float(i) for i in range(len(ys))], pa.float64())
    y = pa.array(ys, pa.float64())
    return Series("run:p.r", "loss", True, _Axis(x, y), _Axis(x, y))


def _brute(ys: list[float], buckets: int) -> list[tuple[float, float]]:
    """Per bucket of [0, n-1]: (min, max) by brute force."""
    n = len(ys)
    span = (n - 1) or 1.0
    out: dict[int, list[float]] = {}
    for i, v in enumerate(ys):
        b = min(int(i * buckets / span), buckets - 1)
        out.setdefault(b, []).append(v)
    return [(min(v), max(v)) for _, v in sorted(out.items())]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=3000), st.integers(1, 200)
)
def test_every_bucket_keeps_its_min_and_max(ys: list[float], buckets: int) -> None:
    x = pa.array([float(i) for i in range(len(ys))], pa.float64())
    answer = reduce_window(x, pa.array(ys, pa.float64()), None, None, buckets)
    if answer["exact"]:
        assert answer["y"] == ys
        return
    points = list(zip(answer["x"], answer["y"], strict=True))
    assert all(ys[int(px)] == py for px, py in points)  # each point is a real observation
    assert answer["x"] == sorted(answer["x"])
    assert max(answer["y"]) == max(ys) and min(answer["y"]) == min(ys)
    span = (len(ys) - 1) or 1.0
    for b, (low, high) in enumerate(_brute(ys, buckets)):
        inside = [py for px, py in points if min(int(px * buckets / span), buckets - 1) == b]
        assert low in inside and high in inside
        assert len(inside) <= 4


def test_a_one_step_spike_in_a_million_points_is_kept() -> None:
    ys = [1.0] * 1_000_000
    ys[654_321] = 50.0
    ys[123_457] = -5.0
    answer = reduce_series(_series(ys), "step", None, None, 1000)
    assert not answer["exact"] and len(answer["x"]) <= 4000
    assert answer["x"][answer["y"].index(50.0)] == 654_321.0
    assert answer["x"][answer["y"].index(-5.0)] == 123_457.0


def test_blocks_give_the_raw_extremes_per_bucket() -> None:
    rng = random.Random(7)
    ys = [rng.gauss(0, 1) for _ in range(BLOCK * 600)]
    series = _series(ys)
    via_blocks = reduce_series(series, "step", None, None, 100)
    raw = reduce_window(series.step.x, series.step.y, None, None, 100)
    assert max(via_blocks["y"]) == max(raw["y"]) == max(ys)
    assert min(via_blocks["y"]) == min(raw["y"]) == min(ys)
    assert set(zip(raw["x"], raw["y"], strict=True)) & set(
        zip(via_blocks["x"], via_blocks["y"], strict=True)
    )


def test_a_narrow_window_is_exact() -> None:
    ys = [float(i % 97) for i in range(200_000)]
    answer = reduce_series(_series(ys), "step", 100_000, 100_999, 800)
    assert answer["exact"] and answer["x"] == [float(i) for i in range(100_000, 101_000)]
    assert answer["y"] == ys[100_000:101_000] and answer["total"] == 200_000


def test_a_window_outside_the_series_is_empty() -> None:
    answer = reduce_series(_series([1.0, 2.0]), "step", 10, 20, 100)
    assert answer["exact"] and answer["x"] == []


@pytest.mark.parametrize("width", [0, -3, 100_000])
def test_a_bad_width_is_a_bad_request(width: int) -> None:
    with pytest.raises(BadRequest):
        reduce_window(pa.array([1.0]), pa.array([1.0]), None, None, width)


def test_the_page_loads_nothing_from_another_host() -> None:
    for path in STATIC.rglob("*"):
        if path.suffix in (".html", ".js", ".css") and "vendor" not in path.parts:
            text = path.read_text()
            assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), path
            assert "cdn" not in text.lower(), path
    assert (STATIC / "vendor" / "uPlot.LICENSE").read_text().startswith("The MIT License")
