"""``stage_metrics``: metric values per run and stage (``record.metric``), the source of
compare and select-best. ``key`` is the metric key, ``valid_time`` the observation time."""

from .base import Projection
from .kinds import METRIC


class StageMetricsProjection(Projection):
    name = "stage_metrics"
    version = 1
    kinds = (METRIC,)
    columns = (
        "seq",
        "tx_time",
        "ref",
        "run_ref",
        "stage_ref",
        "key",
        "value",
        "step",
        "valid_time",
    )
