"""``records``: every appended record (``record.*``) in append order, without its body.

``ref`` is the record ref, ``key`` the metric/event/span/issue key, ``value`` the metric value
(span: duration in ms), ``valid_time`` the record's ``observed_at``. The locator columns point
at the row in the ledger, where the full record is read when a snapshot needs it.
"""

from .base import Projection
from .kinds import RECORD_PREFIX


class RecordsProjection(Projection):
    name = "records"
    version = 1
    kinds = ()
    kind_prefixes = (RECORD_PREFIX,)
    columns = (
        "seq",
        "tx_time",
        "kind",
        "ref",
        "run_ref",
        "stage_ref",
        "key",
        "value",
        "step",
        "valid_time",
        "segment",
        "batch_offset",
        "row",
    )
