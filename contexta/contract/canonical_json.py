"""JSON serialization and policy validation helpers (contract section 2.12).

* :func:`to_payload` -- a JSON-safe dict with sorted keys; ``None``-valued model fields omitted.
  (Values *inside* JSON maps such as ``attributes`` are user data and kept as given, ``None``
  included, so that ``deserialize_<model>(to_payload(m)) == m`` always holds.)
* :func:`to_json` -- compact canonical JSON text of that payload.
* ``deserialize_<model>(json_or_mapping)`` -- the inverse; unknown keys are rejected.
* ``validate_<model>(obj)`` -- a :class:`ValidationReport` of the store's policy checks on a
  constructed model: schema version, extension registration, and advisory warnings.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple, TypeVar

import msgspec

from contexta.common.errors import SerializationError, ValidationError

from .artifacts import ArtifactManifest
from .base import ContractModel
from .execution_context import SCHEMA_VERSION
from .extensions import ExtensionFieldSet
from .frozen import FrozenMap
from .lineage import LineageEdge, ProvenanceRecord
from .payloads import MetricPayload
from .refs import StableRef
from .report import ValidationIssue, ValidationReport

T = TypeVar("T")

__all__ = ["deserializer_for", "to_json", "to_payload", "validator_for"]


# --------------------------------------------------------------------------- to_payload / to_json
def _json_value(value: Any) -> Any:
    """Thaw user JSON data (FrozenMap/tuple) to dict/list with sorted keys, keeping None."""
    if isinstance(value, dict):
        return {key: _json_value(value[key]) for key in sorted(value)}
    if isinstance(value, (tuple, list)):
        return [_json_value(item) for item in value]
    return value


def _payload_value(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SerializationError(
                f"Payload value {value!r} is not a finite float; JSON has no form for it. "
                "Store None or a finite number instead.",
                code="serialization_invalid_float",
                details={"value": value},
            )
        return value
    if isinstance(value, StableRef):
        return str(value)
    if isinstance(value, ContractModel):
        return _model_payload(value)
    if isinstance(value, FrozenMap):
        return _json_value(value)
    if isinstance(value, Mapping):
        return {
            key: _payload_value(value[key]) for key in _sorted_keys(value) if value[key] is not None
        }
    if isinstance(value, (tuple, list)):
        return [_payload_value(item) for item in value]
    to_dict = getattr(value, "to_dict", None)  # e.g. ValidationReport, ValidationIssue
    if callable(to_dict):
        return _payload_value(to_dict())
    raise SerializationError(
        f"Payload value of type {type(value).__name__} ({value!r:.60}) has no canonical JSON "
        "form; use str, int, finite float, bool, None, a mapping with string keys, a list or "
        "a contract model.",
        code="serialization_unsupported_type",
        details={"type": type(value).__name__},
    )


def _sorted_keys(mapping: Mapping[Any, Any]) -> list[str]:
    for key in mapping:
        if not isinstance(key, str):
            raise SerializationError(
                f"Payload mapping key {key!r} ({type(key).__name__}) is not a string; "
                "canonical JSON objects take string keys only.",
                code="serialization_invalid_mapping_key",
                details={"key": key},
            )
    return sorted(mapping)


def _model_payload(model: ContractModel) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    for name in sorted(model.__struct_fields__):
        value = getattr(model, name)
        if value is not None:
            payload[name] = _payload_value(value)
    return payload


def to_payload(obj: Any) -> Any:
    """JSON-safe form of a model (or ref, or container of them): sorted keys, no None fields."""
    return _payload_value(obj)


def to_json(obj: Any) -> str:
    """Compact canonical JSON (sorted keys, no whitespace, UTF-8 text) of :func:`to_payload`."""
    return json.dumps(
        to_payload(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


# --------------------------------------------------------------------------- deserialize_<model>
def _shape_error(name: str, data: Any) -> ValidationError:
    return ValidationError(
        f"{name} input must be a JSON object (text/bytes) or a mapping, got "
        f"{type(data).__name__} {data!r:.80}.",
        code="deserialize_invalid_shape",
        details={"model": name, "value": data, "type": type(data).__name__},
    )


def _load(name: str, data: Any) -> Any:
    if isinstance(data, (str, bytes, bytearray)):
        try:
            return json.loads(data)
        except ValueError as exc:
            raise ValidationError(
                f"{name} input is not valid JSON: {exc}.",
                code="deserialize_invalid_json",
                details={"model": name, "value": data},
                cause=exc,
            ) from exc
    return data


def _nested(field_type: Any) -> tuple[type[Any] | None, bool]:
    """(model type, is_tuple_of) for fields holding nested models, else (None, False)."""
    if isinstance(field_type, msgspec.inspect.StructType) and field_type.cls is not StableRef:
        return field_type.cls, False
    if isinstance(field_type, msgspec.inspect.VarTupleType):
        inner = field_type.item_type
        if isinstance(inner, msgspec.inspect.StructType):
            return inner.cls, True
    return None, False


def _nullable(field_type: Any) -> bool:
    return isinstance(field_type, msgspec.inspect.UnionType) and any(
        isinstance(member, msgspec.inspect.NoneType) for member in field_type.types
    )


class _FieldInfo(NamedTuple):
    required: bool  # must be present in the input
    default_none: bool  # positional-required but nullable: a missing key means None
    nested: type[Any] | None  # nested model type (envelope, payload, extensions, ...)
    many: bool  # a tuple of nested models (extensions)


_FIELD_INFO: dict[type[Any], dict[str, _FieldInfo]] = {}


def _fields_of(model_type: type[Any]) -> dict[str, _FieldInfo]:
    info = _FIELD_INFO.get(model_type)
    if info is None:
        info = {}
        for field in msgspec.inspect.type_info(model_type).fields:  # type: ignore[attr-defined]
            nested, many = _nested(field.type)
            # TraceSpanPayload.parent_span_id has no default yet may be None; to_payload omits
            # it when None, so deserialization must read a missing key as None.
            default_none = field.required and _nullable(field.type)
            info[field.name] = _FieldInfo(
                field.required and not default_none, default_none, nested, many
            )
        _FIELD_INFO[model_type] = info
    return info


def _build(model_type: type[T], data: Any, path: str) -> T:
    name = model_type.__name__
    if isinstance(data, model_type):
        return data
    if not isinstance(data, Mapping):
        raise _shape_error(f"{name} at {path}", data)
    fields = _fields_of(model_type)
    unknown = sorted(str(key) for key in data if key not in fields)
    if unknown:
        raise ValidationError(
            f"{name} at {path} has unknown field(s) {unknown}; known fields are {list(fields)}.",
            code="deserialize_unknown_field",
            details={"model": name, "field": unknown[0], "value": unknown, "path": path},
        )
    missing = [key for key, info in fields.items() if info.required and key not in data]
    if missing:
        raise ValidationError(
            f"{name} at {path} is missing required field(s) {missing}.",
            code="deserialize_invalid_payload",
            details={"model": name, "field": missing[0], "value": missing, "path": path},
        )
    kwargs: dict[str, Any] = {
        key: None for key, info in fields.items() if info.default_none and key not in data
    }
    for key, value in data.items():
        _, _, nested, many = fields[key]
        if nested is not None and value is not None:
            if many:
                if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
                    raise _shape_error(f"{name}.{key} at {path}", value)
                value = tuple(
                    _build(nested, item, f"{path}.{key}[{i}]") for i, item in enumerate(value)
                )
            else:
                value = _build(nested, value, f"{path}.{key}")
        kwargs[key] = value
    return model_type(**kwargs)


def deserializer_for(model_type: type[T]) -> Callable[[Any], T]:
    """Build ``deserialize_<model>``: JSON text/bytes or a mapping -> validated model."""
    name = model_type.__name__

    if model_type is StableRef:

        def deserialize_ref(data: Any) -> Any:
            if isinstance(data, StableRef):
                return data
            if isinstance(data, (bytes, bytearray)):
                data = data.decode("utf-8")
            if isinstance(data, str) and data.startswith('"'):
                data = _load(name, data)
            if not isinstance(data, str):
                raise _shape_error(name, data)
            return StableRef.parse(data)

        return deserialize_ref

    def deserialize(data: Any) -> T:
        return _build(model_type, _load(name, data), "$")

    deserialize.__name__ = f"deserialize_{_snake(name)}"
    deserialize.__doc__ = f"Build a validated {name} from JSON text/bytes or a mapping."
    return deserialize


# --------------------------------------------------------------------------- validate_<model>
def _issue(code: str, path: str, message: str, severity: str = "error") -> ValidationIssue:
    return ValidationIssue(code, path, message, severity)


def _policy_issues(model: Any, path: str, registry: frozenset[str]) -> list[ValidationIssue]:
    issues: list[ValidationIssue] = []
    version = getattr(model, "schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        issues.append(
            _issue(
                "schema.version_mismatch",
                f"{path}.schema_version",
                f"schema_version must equal {SCHEMA_VERSION!r}, got {version!r}.",
            )
        )
    for index, extension in enumerate(getattr(model, "extensions", ())):
        issues.extend(_extension_issues(extension, f"{path}.extensions[{index}]", registry))
    for name in ("envelope", "payload"):
        child = getattr(model, name, None)
        if isinstance(child, ContractModel):
            issues.extend(_policy_issues(child, f"{path}.{name}", registry))
    issues.extend(_warnings(model, path))
    return issues


def _extension_issues(
    extension: ExtensionFieldSet, path: str, registry: frozenset[str]
) -> list[ValidationIssue]:
    if extension.namespace in registry:
        return []
    return [
        _issue(
            "extension.namespace_unregistered",
            f"{path}.namespace",
            f"Extension namespace {extension.namespace!r} is not registered; the default registry "
            "is empty, so stores reject models carrying extensions.",
        )
    ]


def _warnings(model: Any, path: str) -> list[ValidationIssue]:
    out: list[ValidationIssue] = []

    def warn(code: str, field: str, message: str) -> None:
        out.append(_issue(code, f"{path}.{field}", message, "warning"))

    if isinstance(model, MetricPayload) and model.unit is None:
        warn("metric.unit_missing", "unit", f"Metric {model.metric_key!r} has no unit.")
    elif isinstance(model, ArtifactManifest):
        if model.hash_value is None:
            warn(
                "artifact.hash_value_missing",
                "hash_value",
                f"Artifact {str(model.artifact_ref)!r} has no hash_value.",
            )
        if model.size_bytes is None:
            warn(
                "artifact.size_bytes_missing",
                "size_bytes",
                f"Artifact {str(model.artifact_ref)!r} has no size_bytes.",
            )
    elif isinstance(model, LineageEdge) and not model.evidence_refs:
        warn(
            "lineage.evidence_refs_missing",
            "evidence_refs",
            f"Lineage edge {str(model.relation_ref)!r} has no evidence_refs.",
        )
        if model.confidence_marker == "low":
            warn(
                "lineage.low_confidence_without_provenance",
                "confidence_marker",
                "Low-confidence lineage should carry evidence or provenance.",
            )
    elif isinstance(model, ProvenanceRecord):
        if model.policy_ref is None:
            warn(
                "provenance.policy_ref_missing",
                "policy_ref",
                f"Provenance {str(model.provenance_ref)!r} has no policy_ref.",
            )
        if model.evidence_bundle_ref is None:
            warn(
                "provenance.evidence_bundle_ref_missing",
                "evidence_bundle_ref",
                f"Provenance {str(model.provenance_ref)!r} has no evidence_bundle_ref.",
            )
    return out


def validator_for(model_type: type[Any]) -> Callable[..., ValidationReport]:
    """Build ``validate_<model>(obj, *, registry=())``.

    ``registry`` lists the extension namespaces the caller accepts (none by default, as 1.0).
    Field rules are enforced by the constructors; this reports store policy and warnings.
    """
    name = model_type.__name__

    def validate(obj: Any, *, registry: Iterable[str] = ()) -> ValidationReport:
        if not isinstance(obj, model_type):
            return ValidationReport.from_issues(
                [
                    _issue(
                        "validation.invalid_type",
                        "$",
                        f"Expected {name}, got {type(obj).__name__}.",
                    )
                ]
            )
        if model_type is ExtensionFieldSet:
            return ValidationReport.from_issues(_extension_issues(obj, "$", frozenset(registry)))
        return ValidationReport.from_issues(_policy_issues(obj, "$", frozenset(registry)))

    validate.__name__ = f"validate_{_snake(name)}"
    validate.__doc__ = f"Policy checks and warnings for a {name} (see validator_for)."
    return validate


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
