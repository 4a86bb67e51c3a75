"""``stages``: every version of every stage execution (``stage.put``); ``key`` is the stage
name and ``valid_time`` its ``started_at``."""

from .base import Projection


class StagesProjection(Projection):
    name = "stages"
    version = 1
    kinds = ("stage.put",)
    columns = ("seq", "tx_time", "ref", "run_ref", "key", "valid_time", "body")
