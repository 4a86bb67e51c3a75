"""The plain metric lane: ``scope.metric(key, value)`` and ``scope.metric(key, value, step=n)`` in
a training loop, end to end in one call.

A plain metric is the one a scope's record template holds but for its key, a finite float value
and an optional step: no unit, tags, other aggregation scope or summary basis. After the first
plain metric of a scope went the general way (:meth:`~.session.RuntimeSession.emit_metric`:
the factory builds the record, ``record_store.append_fresh`` appends it, the result is made and
the local capture copy queued), the scope's factory gets a lane that does the same work without
the layers between: the record from the factory's template, its body encoded, the ledger event
built from the factory's refs, the copy's entry queued, the result made from the session's
template (the store's part is :meth:`~contexta.store.record_store.RecordStore.fresh_metric_appender`).
Whatever the lane does not vouch for (an int or numpy value, a non-finite value, a key
not seen valid yet, a step out of range, a read-only store, sinks) it declines by returning None,
and the scope takes the general way. Both ways store the same record, write the same copy line
and return equal results (``tests/perf_tests/test_metric_lane.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from msgspec.structs import force_setattr as _set

from ledger.schema import INT64_MAX, INT64_MIN

from ..common.clock import utc_now
from ..contract.frozen import FrozenMap
from ..store.record_store import SCHEMA_VERSION
from ._build import _METRIC_KEYS, RecordFactory
from .local_copy import PlainEntry
from .results import CaptureResult

__all__ = ["Lane", "plain_metric_lane"]

Lane = Callable[[Any, Any, Any], "CaptureResult | None"]


def plain_metric_lane(
    session: Any,
    factory: RecordFactory,
    ok: CaptureResult,
    deliveries: tuple[Any, ...],
) -> Lane | None:
    """The lane of ``factory``'s plain metrics (see the module), or None when its records
    cannot take it: sinks to deliver to, a read-only record store, a schema version other than
    the one the stores write. ``session`` is the scope's
    :class:`~contexta.capture.session.RuntimeSession`; ``ok`` and ``deliveries`` are its
    written result template and ledger delivery."""
    store = session.record_store
    template = factory._metric
    if (
        session.sinks
        or store.read_only
        or template.envelope.schema_version != SCHEMA_VERSION
        or template.envelope.extensions
    ):
        return None
    mirror = session.capture_file
    copy_template: tuple[str, ...] = ()
    if mirror is not None:
        copy_template = mirror.plain_template(factory, template)
        if not copy_template:
            return None
    append = store.fresh_metric_appender(factory.run_ref, factory.stage_ref)
    payload_template = factory._metric_payload
    stamped = factory.stamped_metric
    keys = _METRIC_KEYS
    copies = mirror.key_texts if mirror is not None else None
    queue = mirror.record_queue if mirror is not None else None
    limit = mirror.limit if mirror is not None else 0
    flush: Callable[[], int] = mirror.flush if mirror is not None else int

    def lane(key: Any, value: Any, step: Any) -> CaptureResult | None:
        if (
            type(value) is not float
            or value - value != 0.0
            or key not in keys
            or (step is not None and (type(step) is not int or not INT64_MIN <= step <= INT64_MAX))
            or store.read_only
        ):
            return None
        if copies is not None:
            key_text = copies.get(key)
            if key_text is None:
                return None
        payload = payload_template.__copy__()  # type: ignore[attr-defined]
        _set(payload, "metric_key", key)
        _set(payload, "value", value)
        if step is not None:
            _set(payload, "tags", FrozenMap(step=str(step)))
        now, micros = utc_now()
        record, ref = stamped(payload, now)
        status = append(record, ref, micros, key, value, step)
        if status is None:  # the store turned read-only meanwhile: not appended
            return None
        if queue is not None:
            queue.append(PlainEntry(copy_template, now, ref, key_text, step, value))
            if len(queue) >= limit:
                flush()
        result = ok.__copy__()  # type: ignore[attr-defined]  # CaptureResult._written inline
        _set(result, "payload", record)
        _set(result, "value", record)
        _set(
            result,
            "metadata",
            MappingProxyType(
                {
                    "service": "metric",
                    "record_ref": ref,
                    "record_type": "metric",
                    "durability": status,
                }
            ),
        )
        _set(result, "deliveries", deliveries)
        return result

    return lane
