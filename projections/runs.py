"""``runs``: the run index, one row per run version (``run.put``).

``key`` is the run's name and ``valid_time`` its ``started_at``; status and end time are in
``body``. The latest version of a run is the row with the greatest seq for its ``ref``.
"""

from .base import Projection
from .kinds import RUN_PUT


class RunsProjection(Projection):
    name = "runs"
    version = 1
    kinds = (RUN_PUT,)
    columns = ("seq", "tx_time", "ref", "project_ref", "key", "valid_time", "actor", "body")
