"""JSON shapes of the HTTP answers (the same shapes Contexta 1.0's server gave).

:func:`to_jsonable` turns result objects into plain JSON values: dataclasses field by field,
contract models through their ``to_dict``, read-only mappings as dicts, tuples and sets as
lists; anything else as its text.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

__all__ = [
    "environment_diff_payload",
    "error_envelope",
    "reproducibility_payload",
    "run_summary_payload",
    "to_jsonable",
]

_SCALARS = (str, int, float, bool)


def to_jsonable(value: Any) -> Any:
    """``value`` as JSON-ready data (dict keys become strings)."""
    if value is None or isinstance(value, _SCALARS):
        return value
    if isinstance(value, Mapping):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        shaped = type(value).__dict__.get("to_dict")
        if shaped is not None:  # a result that shapes its own answer
            return to_jsonable(shaped(value))
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    for method in ("to_json", "to_dict"):
        convert = getattr(value, method, None)
        if callable(convert):
            return to_jsonable(convert())
    attributes = getattr(value, "__dict__", None)
    if attributes is not None:
        return {k: to_jsonable(v) for k, v in attributes.items() if not k.startswith("_")}
    return str(value)


def error_envelope(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """``{"error": {"code", "message", "details"}}``: every failed request answers this."""
    return {"error": {"code": code, "message": message, "details": to_jsonable(details)}}


def run_summary_payload(snapshot: Any) -> dict[str, Any]:
    """``GET /runs/{id}``: the run's fields, its stages, and counts of what it holds."""
    run = snapshot.run
    summary = {
        name: getattr(run, name)
        for name in ("run_id", "project_name", "name", "status", "started_at", "ended_at")
    }
    summary.update(
        stages=to_jsonable(list(snapshot.stages)),
        artifact_count=len(snapshot.artifacts),
        record_count=len(snapshot.records),
        completeness_notes=list(snapshot.completeness_notes),
        provenance=to_jsonable(snapshot.provenance),
    )
    return summary


_SCORES = {"complete": 1.0, "partial": 0.5}


def reproducibility_payload(audit: Any) -> dict[str, Any]:
    """``GET /runs/{id}/reproducibility``: what a rerun would need, and what is missing."""
    provenance = audit.provenance
    missing = [
        name
        for name, present in (
            ("provenance", provenance is not None),
            ("environment_ref", audit.environment_ref is not None),
        )
        if not present
    ]
    bundle = None if provenance is None else provenance.evidence_bundle_ref
    return {
        "run_id": audit.run_id,
        "code_revision": getattr(provenance, "formation_context_ref", None),
        "config_hash": getattr(provenance, "policy_ref", None),
        "environment_ref": audit.environment_ref,
        "dataset_version_refs": [] if bundle is None else [bundle],
        "missing_fields": missing,
        "reproducibility_score": _SCORES.get(audit.reproducibility_status, 0.0),
        "is_fully_reproducible": audit.reproducibility_status == "complete",
        "completeness_notes": [note.summary for note in audit.completeness_notes],
    }


def environment_diff_payload(diff: Any) -> dict[str, Any]:
    """``GET /runs/{id}/environment-diff/{other}``: which parts of two environments differ."""
    packages = (diff.added_packages, diff.removed_packages, diff.changed_packages)
    variables = (diff.added_variables, diff.removed_variables, diff.changed_variables)
    changed = [
        name
        for name, hit in (
            ("python_version", diff.python_version_changed),
            ("platform", diff.platform_changed),
            ("packages", any(packages)),
            ("environment_variables", any(variables)),
        )
        if hit
    ]
    missing = [
        f"{side}_environment_ref"
        for side in ("left", "right")
        if getattr(diff, f"{side}_environment_ref") is None
    ]
    payload: dict[str, Any] = {
        "left_run_id": diff.left_run_id,
        "right_run_id": diff.right_run_id,
        "changed_fields": changed,
        "missing_fields": missing,
        "has_differences": bool(changed),
        "left_environment_ref": diff.left_environment_ref,
        "right_environment_ref": diff.right_environment_ref,
        "completeness_notes": [note.summary for note in diff.completeness_notes],
    }
    for side in ("left", "right"):  # neither is recorded with an environment snapshot
        payload[f"{side}_code_revision"] = None
        payload[f"{side}_config_hash"] = None
    payload["package_changes"] = _changes(packages)
    payload["environment_variable_changes"] = _changes(variables)
    return payload


def _changes(parts: tuple[Any, Any, Any]) -> dict[str, Any]:
    return dict(zip(("added", "removed", "changed"), map(to_jsonable, parts), strict=True))
