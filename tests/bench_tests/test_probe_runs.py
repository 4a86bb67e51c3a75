"""The harness's single-run read probes never read the run its append probes write into, at
every scale it runs (so a cached workspace's read run keeps the workload's records however
often the harness ran on it), and both drivers, ours and MLflow's, use the same two runs."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from benchmarks.workload import Workload

DRIVERS = Path(__file__).resolve().parents[2] / "benchmarks" / "drivers"


def _common() -> object:
    sys.path.insert(0, str(DRIVERS))
    try:
        spec = importlib.util.spec_from_file_location("_bench_common", DRIVERS / "_common.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(DRIVERS))


@pytest.mark.parametrize("runs", [3, 200, 1_000, 10_000, 100_000])
def test_the_read_run_is_not_the_append_run(runs: int) -> None:
    common = _common()
    w = Workload(runs=runs)
    read, append = common.read_run(w), common.append_run(w)  # type: ignore[attr-defined]
    assert 0 <= read < runs and 0 <= append < runs
    assert read != append
    assert read != 0  # compare reads the read run against run 0


def test_both_drivers_take_their_runs_from_the_shared_rule() -> None:
    for name in ("newproc_ours.py", "newproc_mlflow.py"):
        text = (DRIVERS / name).read_text()
        assert "read_run(w)" in text and "append_run(w)" in text, name
        assert "w.runs // 2" not in text, name
