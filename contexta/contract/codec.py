"""Binary encoding of contract models (msgpack via msgspec).

One module-level :data:`ENCODER` and one decoder per model type, built once and reused.
``decode(type(m), encode(m)) == m`` holds for every model; decoding re-runs each model's
``__post_init__``, so bytes that do not satisfy the contract are rejected with the contract's
codes. Refs are encoded as ``{"kind", "value"}`` maps, mappings as maps, tuples as arrays.

Why no ``enc_hook``: StableRef is itself a Struct and FrozenMap a ``dict`` subclass, so msgspec
encodes every model natively (an ``enc_hook`` call costs about a microsecond per value). Ref
fields are declared ``StableRef | str`` so the decoder rebuilds StableRef objects directly.
Unknown map keys are ignored when decoding, so bodies written by a newer version (with added,
defaulted fields) still decode; the JSON ``deserialize_<model>`` helpers reject them instead.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from contexta.common.errors import ContextaError, ValidationError

from .artifacts import ArtifactManifest
from .execution_context import (
    BatchExecution,
    DeploymentExecution,
    EnvironmentSnapshot,
    OperationContext,
    Project,
    Run,
    SampleObservation,
    StageExecution,
)
from .extensions import ExtensionFieldSet
from .field_validators import logged_grammar
from .lineage import LineageEdge, ProvenanceRecord
from .payloads import DegradedPayload, MetricPayload, StructuredEventPayload, TraceSpanPayload
from .records import (
    CorrelationRefs,
    DegradedRecord,
    MetricRecord,
    RecordEnvelope,
    StructuredEventRecord,
    TraceSpanRecord,
)
from .refs import StableRef

__all__ = ["ENCODER", "MODEL_TYPES", "decode", "decoder_for", "encode"]

T = TypeVar("T")

#: Every model type the codec (and the serialization helpers) know, in contract order.
MODEL_TYPES: tuple[type[Any], ...] = (
    StableRef,
    Project,
    Run,
    StageExecution,
    DeploymentExecution,
    BatchExecution,
    SampleObservation,
    OperationContext,
    EnvironmentSnapshot,
    CorrelationRefs,
    RecordEnvelope,
    MetricPayload,
    MetricRecord,
    StructuredEventPayload,
    StructuredEventRecord,
    TraceSpanPayload,
    TraceSpanRecord,
    DegradedPayload,
    DegradedRecord,
    ArtifactManifest,
    LineageEdge,
    ProvenanceRecord,
    ExtensionFieldSet,
)

ENCODER = msgspec.msgpack.Encoder()
_DECODERS: dict[type[Any], msgspec.msgpack.Decoder[Any]] = {
    model_type: msgspec.msgpack.Decoder(model_type) for model_type in MODEL_TYPES
}
_encode = ENCODER.encode


def encode(model: Any) -> bytes:
    """Encode a model to msgpack bytes (a few microseconds for a MetricRecord)."""
    try:
        return _encode(model)
    except (OverflowError, TypeError, ValueError) as exc:
        raise ValidationError(
            f"Cannot encode {type(model).__name__}: {exc}. Integers must fit in 64 bits and "
            "text must be valid Unicode (no lone surrogates).",
            code="codec_unencodable_value",
            details={"model": type(model).__name__},
            cause=exc,
        ) from exc


def decoder_for(model_type: type[T]) -> msgspec.msgpack.Decoder[T]:
    """The shared decoder of one model type (for callers decoding many bodies in a loop)."""
    try:
        return _DECODERS[model_type]
    except KeyError:
        raise ValidationError(
            f"{model_type!r} is not a contract model type; expected one of "
            f"{', '.join(t.__name__ for t in MODEL_TYPES)}.",
            code="codec_unknown_model",
            details={"value": repr(model_type)},
        ) from None


def decode(model_type: type[T], data: bytes | bytearray | memoryview) -> T:
    """Decode bytes produced by :func:`encode` back into a validated ``model_type``."""
    decoder = decoder_for(model_type)
    try:
        with logged_grammar():  # a body stored by capture may hold a logged key or a NaN
            return decoder.decode(data)
    except ContextaError:
        raise
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ValidationError(
            f"Cannot decode {model_type.__name__} from {len(data)} bytes: {exc}.",
            code="codec_invalid_payload",
            details={"model": model_type.__name__},
            cause=exc,
        ) from exc
