"""``event_keys``: which runs carry which event keys (``record.event``), plus quarantine and
release events (``run.quarantine``/``run.release``, ``key`` = the reason). ``body`` is kept:
events are few and their level and message are read from it."""

from .base import Projection
from .kinds import EVENT, QUARANTINE, RELEASE


class EventKeysProjection(Projection):
    name = "event_keys"
    version = 1
    kinds = (EVENT, QUARANTINE, RELEASE)
    columns = ("seq", "tx_time", "kind", "ref", "run_ref", "key", "valid_time", "actor", "body")
