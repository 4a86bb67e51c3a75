"""What Contexta 1.0.0 answered to ``test_stores.probe`` on the workspace of ``_services_data``,
recorded as data (run under the real 1.0.0, Python 3.13; nothing computed from this package).

1.0 bug kept on record: a body written with ``put_artifact_from_stream`` was not where its
binding points, so ``open_artifact`` raised ``artifact_store_body_not_found`` and ``verify_all``
listed it missing. The tests expect the body back here (a deliberate difference).
"""

C10_STORES = {
    "dry_run": (True, False, ["no_schema_changes_required"]),
    "facade_records": [
        "record:svc.base.train-loss",
        "record:svc.base.train-acc",
        "record:svc.base.evaluate-f1",
        "record:svc.tuned.train-loss",
        "record:svc.tuned.train-acc",
        "record:svc.tuned.evaluate-f1",
        "record:svc.broken.train-loss",
    ],
    "facade_runs": ["base", "tuned", "broken"],
    "inspection": (True, "1", "1", False, True),
    "plan": ("1", "1", 0, False),
    "rebuilt": True,
    "record_integrity": (True, "HEALTHY"),
    "repairs_clean": (True, 0),
    "retention": (["artifact:svc.base.model"], []),
    "schema_version": "1",
    "standalone_records": [
        "record:svc.base.train-loss",
        "record:svc.base.train-acc",
        "record:svc.base.evaluate-f1",
        "record:svc.tuned.train-loss",
        "record:svc.tuned.train-acc",
        "record:svc.tuned.evaluate-f1",
        "record:svc.broken.train-loss",
    ],
    "standalone_runs": ["base", "tuned", "broken"],
    "standalone_stages": ["train", "evaluate"],
    "stream_body": ("error", "NotFoundError", "artifact_store_body_not_found"),
    "stream_bytes": 700,
    "sweep": (1, ["artifact:svc.base.model"], []),
    "tuned_records": [
        "record:svc.tuned.train-loss",
        "record:svc.tuned.train-acc",
        "record:svc.tuned.evaluate-f1",
    ],
}
