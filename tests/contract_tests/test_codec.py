"""The msgpack codec: decode(type(m), encode(m)) == m for every model (property-tested)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings

import contexta.contract as c
from contexta.contract import codec

from .helpers import EXAMPLES, metric_payload, raises_code, run
from .strategies import MODELS

ROUND_TRIP = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_strategies_cover_every_model() -> None:
    assert set(MODELS) == set(c.MODEL_TYPES)


@pytest.mark.parametrize("model_type", c.MODEL_TYPES, ids=lambda t: t.__name__)
def test_round_trip(model_type: type) -> None:
    @ROUND_TRIP
    @given(MODELS[model_type])
    def check(model: Any) -> None:
        assert type(model) is model_type
        data = c.encode(model)
        assert isinstance(data, bytes)
        back = c.decode(model_type, data)
        assert back == model
        assert type(back) is model_type
        assert c.encode(back) == data  # canonical: same object, same bytes
        assert back.to_dict() == model.to_dict()

    check()


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_examples_round_trip(name: str) -> None:
    model = EXAMPLES[name]()
    assert c.decode(type(model), c.encode(model)) == model


def test_decoded_refs_and_maps_have_model_types() -> None:
    record = EXAMPLES["MetricRecord"]()
    back = c.decode(c.MetricRecord, c.encode(record))
    assert isinstance(back.envelope.run_ref, c.StableRef)
    assert isinstance(back.payload.tags, c.FrozenMap)
    event = c.StructuredEventPayload("a", "info", "m", attributes={"a": [1, {"b": [2]}]})
    decoded = c.decode(c.StructuredEventPayload, c.encode(event))
    assert decoded.attributes["a"] == (1, c.FrozenMap({"b": (2,)}))


def test_ints_and_floats_keep_their_type() -> None:
    for value in (3, 3.0, -(2**63), 2**63 - 1):
        back = c.decode(c.MetricPayload, c.encode(metric_payload(value=value)))
        assert type(back.value) is type(value) and back.value == value


def test_decoding_revalidates() -> None:
    good = msgspec.msgpack.decode(c.encode(run()))
    bad = dict(good, project_ref="project:q")
    with raises_code("context_ref_prefix_mismatch"):
        c.decode(c.Run, msgspec.msgpack.encode(bad))
    bad_ref = dict(good, run_ref={"kind": "run", "value": "P.r"})
    with raises_code("stable_ref_invalid_value"):
        c.decode(c.Run, msgspec.msgpack.encode(bad_ref))
    naive = dict(good, started_at="2025-01-01T00:00:00")
    with raises_code("context_invalid_timestamp"):
        c.decode(c.Run, msgspec.msgpack.encode(naive))


def test_malformed_bytes_are_a_validation_error() -> None:
    with raises_code("codec_invalid_payload"):
        c.decode(c.Run, b"\xc1garbage")
    wrong_type = dict(msgspec.msgpack.decode(c.encode(run())), name=5)
    with raises_code("codec_invalid_payload"):
        c.decode(c.Run, msgspec.msgpack.encode(wrong_type))


def test_unknown_model_type_is_rejected() -> None:
    with raises_code("codec_unknown_model"):
        c.decode(dict, b"\x80")


def test_unencodable_values_raise_a_typed_error() -> None:
    with raises_code("codec_unencodable_value"):
        c.encode(metric_payload(value=10**30))  # accepted by the model, not by msgpack
    with raises_code("codec_unencodable_value"):
        c.encode(run(name="\ud800"))


def test_shared_encoder_and_decoders() -> None:
    assert codec.decoder_for(c.Run) is codec.decoder_for(c.Run)
    assert isinstance(codec.ENCODER, msgspec.msgpack.Encoder)
    record = EXAMPLES["MetricRecord"]()
    assert codec.ENCODER.encode(record) == c.encode(record)


def test_unknown_keys_are_ignored_for_forward_compatibility() -> None:
    newer = dict(msgspec.msgpack.decode(c.encode(run())), added_in_a_later_version=1)
    assert c.decode(c.Run, msgspec.msgpack.encode(newer)) == run()


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_models_pickle(name: str) -> None:
    import pickle

    model = EXAMPLES[name]()
    assert pickle.loads(pickle.dumps(model)) == model
