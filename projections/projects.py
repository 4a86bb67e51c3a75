"""``projects``: every version of every project (``project.put``)."""

from .base import Projection


class ProjectsProjection(Projection):
    name = "projects"
    version = 1
    kinds = ("project.put",)
    columns = ("seq", "tx_time", "ref", "key", "valid_time", "actor", "body")
