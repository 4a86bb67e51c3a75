"""Which way a metric improves, read from its key (``loss``, ``error``, ``latency``... are
better when lower; anything else when higher). Shared by the report charts and the web UI
(whose pages let a user flip any row)."""

from __future__ import annotations

import re

__all__ = ["lower_is_better"]

#: metric keys whose smaller values are better
_LOWER = re.compile(
    r"(^|[._/-])(loss|error|err|mae|mse|rmse|perplexity|ppl|latency|"
    r"duration|time|wer|cer|fpr|fnr)($|[._/-])",
    re.IGNORECASE,
)


def lower_is_better(metric: str) -> bool:
    """Whether smaller values of ``metric`` (a key, or ``<stage>/<key>``) are better."""
    return bool(_LOWER.search(metric.rsplit("/", 1)[-1]))
