"""``projects``: every version of every project (``project.put``)."""

from .base import Projection
from .kinds import PROJECT_PUT


class ProjectsProjection(Projection):
    name = "projects"
    version = 1
    kinds = (PROJECT_PUT,)
    columns = ("seq", "tx_time", "ref", "key", "valid_time", "actor", "body")
