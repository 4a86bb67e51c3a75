"""The deterministic benchmark workload, shared by every driver.

Pure Python with no imports beyond the standard library, so the same module runs under this
project's interpreter and under the Python 3.13 venvs of Contexta 1.0 and MLflow. A workload is
a list of runs; each run has ``stages`` stages (``train``, ``evaluate``, ``package``), each stage
``metrics`` metric observations, the first stage a step series of ``steps`` ``loss`` values, and
the run one structured event. Values come from a seeded PRNG per run, so every tool (and every
repetition) stores exactly the same facts.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

__all__ = ["METRIC_KEYS", "STAGE_NAMES", "MetricPoint", "RunSpec", "Workload"]

PROJECT = "bench"
STAGE_NAMES = ("train", "evaluate", "package")
METRIC_KEYS = (
    "accuracy",
    "auc",
    "f1",
    "precision",
    "recall",
    "loss",
    "mae",
    "rmse",
    "latency",
    "throughput",
)
STEP_KEY = "step-loss"
EVENT_KEY = "data.quality-check"
_BASE = datetime(2025, 1, 1, tzinfo=UTC)


def iso(dt: datetime) -> str:
    """Canonical UTC text (``...Z``, microseconds only when non-zero), as both Contextas store."""
    text = dt.astimezone(UTC).replace(tzinfo=None).isoformat()
    return text + "Z"


def millis(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


class MetricPoint(NamedTuple):
    stage: str
    key: str
    value: float
    observed_at: datetime
    step: int


@dataclass(frozen=True)
class RunSpec:
    index: int
    name: str
    started_at: datetime
    ended_at: datetime
    stages: tuple[tuple[str, datetime, datetime], ...]
    metrics: tuple[MetricPoint, ...]
    event_message: str

    @property
    def metric_count(self) -> int:
        return len(self.metrics)


@dataclass(frozen=True)
class Workload:
    """``runs`` runs x ``stages`` stages x ``metrics`` metrics, plus a ``steps``-long series."""

    runs: int = 100
    stages: int = 3
    metrics: int = 10
    steps: int = 100
    seed: int = 7

    def __post_init__(self) -> None:
        if not 1 <= self.stages <= len(STAGE_NAMES):
            raise ValueError(f"stages must be 1..{len(STAGE_NAMES)}, got {self.stages}")
        if not 1 <= self.metrics <= len(METRIC_KEYS):
            raise ValueError(f"metrics must be 1..{len(METRIC_KEYS)}, got {self.metrics}")
        if self.steps < 0 or self.runs < 1:
            raise ValueError("steps must be >= 0 and runs >= 1")

    # ------------------------------------------------------------------ sizes

    @property
    def metrics_per_run(self) -> int:
        return self.stages * self.metrics + self.steps

    @property
    def records_per_run(self) -> int:
        """Appended records per run: metrics, the step series and one event."""
        return self.metrics_per_run + 1

    @property
    def puts_per_run(self) -> int:
        return 1 + self.stages

    @property
    def events(self) -> int:
        """Every put and append of the workload (the project put included)."""
        return 1 + self.runs * (self.records_per_run + self.puts_per_run)

    @property
    def metric_events(self) -> int:
        return self.runs * self.metrics_per_run

    def scaled(self, runs: int) -> Workload:
        return Workload(runs, self.stages, self.metrics, self.steps, self.seed)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def label(self) -> str:
        return f"P={self.runs:,} x {self.stages} stages x {self.metrics} metrics, S={self.steps}"

    # ------------------------------------------------------------------ content

    def run_name(self, index: int) -> str:
        return f"r{index:06d}"

    def run(self, index: int, *, with_metrics: bool = True) -> RunSpec:
        rng = random.Random(self.seed * 1_000_003 + index)
        started = _BASE + timedelta(minutes=index)
        ended = started + timedelta(seconds=50)
        stages = []
        points: list[MetricPoint] = []
        for s in range(self.stages):
            s_start = started + timedelta(seconds=1 + 15 * s)
            s_end = s_start + timedelta(seconds=14)
            name = STAGE_NAMES[s]
            stages.append((name, s_start, s_end))
            if not with_metrics:
                continue
            if s == 0:
                loss = 2.0 + rng.random()
                for step in range(self.steps):
                    loss *= 0.97 + 0.02 * rng.random()
                    at = s_start + timedelta(microseconds=1000 * (step + 1))
                    points.append(MetricPoint(name, STEP_KEY, round(loss, 6), at, step))
            for k in range(self.metrics):
                value = round(rng.random(), 6)
                points.append(MetricPoint(name, METRIC_KEYS[k], value, s_end, -1))
        message = f"quality check passed for {self.run_name(index)} (score {rng.random():.4f})"
        return RunSpec(
            index, self.run_name(index), started, ended, tuple(stages), tuple(points), message
        )

    def iter_runs(self, *, with_metrics: bool = True) -> Iterator[RunSpec]:
        for index in range(self.runs):
            yield self.run(index, with_metrics=with_metrics)

    def best_run(self, stage: str = "evaluate", key: str = "accuracy") -> str:
        """The expected answer of select-best (highest value, ties to the earliest run)."""
        best_name, best_value = None, None
        for spec in self.iter_runs():
            for p in spec.metrics:
                if (
                    p.stage == stage
                    and p.key == key
                    and (best_value is None or p.value > best_value)
                ):
                    best_name, best_value = spec.name, p.value
        return str(best_name)
