"""``stages``: every version of every stage execution (``stage.put``); ``key`` is the stage
name and ``valid_time`` its ``started_at``."""

from .base import Projection
from .kinds import STAGE_PUT


class StagesProjection(Projection):
    name = "stages"
    version = 1
    kinds = (STAGE_PUT,)
    columns = ("seq", "tx_time", "ref", "run_ref", "key", "valid_time", "body")
