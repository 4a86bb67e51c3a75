"""Stored bodies read for queries without re-running contract validation.

Every body in the ledger is the encoding of a contract object that passed validation when it was
put or appended. Decoding through the contract types re-runs that validation (``__post_init__``:
ref patterns, timestamps, enums) for every body read, which is most of the cost of a snapshot
or of a long run list. Here bodies are decoded into *shadow* Structs derived from the contract
types instead: the same fields and field types (msgspec checks every type in C), but every field
required, no unknown field allowed, refs only as ``{kind, value}`` maps (as the encoder writes
them), maps never None (validation turns None into an empty map) and no ``__post_init__``.

A body that does not decode that way (corrupt or truncated bytes, a wrong type, a missing or
extra field, a ref stored as text: anything another writer or version might produce) is decoded
through the contract types, so it gives exactly the object or the typed error the reference
gives. What is trusted is only that the values of a well-formed body still satisfy the rules they
were checked against when stored.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msgspec

from ..contract import StableRef
from ..events import MODEL_OF, decode_body

__all__ = ["decode_many", "decode_one", "shadow_of"]

_SHADOWS: dict[type, type] = {}
#: shadow type -> the fields whose ``to_dict`` form differs from the decoded value
_CONVERTED: dict[type, tuple[str, ...]] = {}
_DECODERS: dict[str, msgspec.msgpack.Decoder[Any]] = {}


def _ref_text(self: Any) -> str:
    return f"{self.kind}:{self.value}"


def _plain(value: Any) -> Any:
    """The contract's ``to_dict`` form of a shadow field value (as ``contract.base.plain``:
    refs as text, models as dicts, tuples as lists; decoded maps are plain already)."""
    if isinstance(value, msgspec.Struct):
        return str(value) if type(value) is _SHADOWS.get(StableRef) else value.to_dict()  # type: ignore[attr-defined]
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    return value


def _to_dict(self: Any) -> dict[str, Any]:
    data = msgspec.structs.asdict(self)
    for name in _CONVERTED[type(self)]:
        data[name] = _plain(data[name])
    return data


def _needs_plain(annotation: Any) -> bool:
    """Whether values of a shadow field need :func:`_plain` (they hold Structs or tuples)."""
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return True
    if typing.get_origin(annotation) is tuple:
        return True
    return any(_needs_plain(a) for a in typing.get_args(annotation) if a is not Ellipsis)


def _shadow_type(annotation: Any) -> Any:
    """``annotation`` with contract Structs replaced by their shadows (see the module doc)."""
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return shadow_of(annotation)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [_shadow_type(a) for a in args]
        if StableRef in args:
            members = [m for m in members if m is not str]
        if any(typing.get_origin(m) is dict for m in members):
            members = [m for m in members if m is not type(None)]
        return typing.Union[tuple(members)]  # noqa: UP007 (built from a runtime list)
    if origin is Mapping:
        return dict[tuple(_shadow_type(a) for a in args)]  # type: ignore[misc]
    if origin is tuple:
        return tuple[tuple(a if a is Ellipsis else _shadow_type(a) for a in args)]  # type: ignore[misc]
    return annotation


def shadow_of(model: type) -> type:
    """The shadow Struct of a contract model type (built once)."""
    found = _SHADOWS.get(model)
    if found is None:
        fields = [(f.name, _shadow_type(f.type)) for f in msgspec.structs.fields(model)]
        namespace: dict[str, Callable[[Any], Any]] = {"to_dict": _to_dict}
        if model is StableRef:
            namespace["__str__"] = _ref_text
        found = _SHADOWS[model] = msgspec.defstruct(
            f"Stored{model.__name__}",
            fields,
            namespace=namespace,
            forbid_unknown_fields=True,
        )
        _CONVERTED[found] = tuple(name for name, annotation in fields if _needs_plain(annotation))
    return found


def _decoder(kind: str) -> msgspec.msgpack.Decoder[Any]:
    found = _DECODERS.get(kind)
    if found is None:
        found = _DECODERS[kind] = msgspec.msgpack.Decoder(shadow_of(MODEL_OF[kind]))
    return found


def decode_one(kind: str, body: bytes) -> Any:
    """One body as a shadow object, or through the contract (see the module doc)."""
    return decode_many(kind, (body,))[0]


def decode_many(kind: str, bodies: Sequence[bytes]) -> list[Any]:
    """Bodies of one kind, in order, each as a shadow object or through the contract."""
    if kind not in MODEL_OF:
        return [decode_body(kind, body) for body in bodies]
    decode = _decoder(kind).decode
    out = []
    for body in bodies:
        try:
            out.append(decode(body))
        except (msgspec.DecodeError, msgspec.ValidationError):
            out.append(decode_body(kind, body))
    return out
