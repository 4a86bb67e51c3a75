"""Extension field sets (contract section 2.0, ``extensions``)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from msgspec.structs import force_setattr

from contexta.common.errors import ConflictError, ValidationError

from .base import ContractModel
from .field_validators import freeze_json
from .frozen import FrozenMap

__all__ = [
    "PARAMS_NAMESPACE",
    "TAGS_NAMESPACE",
    "ExtensionFieldSet",
    "check_extensions",
    "labels_of",
    "with_labels",
]

#: A run's parameters and tags: extension field sets whose field ``values`` maps each name to
#: its value (the importers store MLflow's params and tags the same way).
PARAMS_NAMESPACE = "contexta.params"
TAGS_NAMESPACE = "contexta.tags"

_NAMESPACE = re.compile(r"[a-z][a-z0-9-]*(?:\.[a-z][a-z0-9-]*)+")
_FIELD_KEY = re.compile(r"[a-z][a-z0-9_]*")
MAX_NAMESPACE_LENGTH = 128


def _error(code: str, message: str, field: str, value: Any, **extra: Any) -> ValidationError:
    return ValidationError(message, code=code, details={"field": field, "value": value, **extra})


def _field_key(where: str, key: Any) -> str:
    if not isinstance(key, str):
        raise _error(
            "extension_invalid_field_key",
            f"{where} has key {key!r} ({type(key).__name__}); keys must be strings.",
            "fields",
            key,
        )
    if _FIELD_KEY.fullmatch(key) is None:
        raise _error(
            "extension_invalid_field_key",
            f"{where} has invalid key {key!r}; keys must be lower_snake_case "
            "(a letter, then lowercase letters, digits or '_').",
            "fields",
            key,
        )
    return key


class ExtensionFieldSet(ContractModel, frozen=True):
    """Namespaced extra fields attached to a model (``namespace`` like ``"org.team"``)."""

    namespace: str
    fields: Mapping[str, Any]
    readonly_fields: tuple[str, ...] = ()

    model_name = "ExtensionFieldSet"

    def __post_init__(self) -> None:
        namespace = self.namespace
        if not isinstance(namespace, str):
            raise _error(
                "extension_invalid_namespace",
                f"ExtensionFieldSet.namespace must be a string, got {type(namespace).__name__} "
                f"{namespace!r}.",
                "namespace",
                namespace,
            )
        if len(namespace) > MAX_NAMESPACE_LENGTH:
            raise _error(
                "extension_invalid_namespace",
                f"ExtensionFieldSet.namespace is {len(namespace)} characters long, more than "
                f"{MAX_NAMESPACE_LENGTH}: {namespace[:40]!r}...",
                "namespace",
                namespace,
                max_length=MAX_NAMESPACE_LENGTH,
            )
        if _NAMESPACE.fullmatch(namespace) is None:
            raise _error(
                "extension_invalid_namespace",
                f"ExtensionFieldSet.namespace {namespace!r} is invalid; use at least two dotted "
                "lower-kebab segments, each starting with a letter (e.g. 'acme.training').",
                "namespace",
                namespace,
            )
        fields = self.fields
        if not isinstance(fields, Mapping):
            raise _error(
                "extension_invalid_fields",
                f"ExtensionFieldSet.fields must be a mapping, got {type(fields).__name__} "
                f"{fields!r}.",
                "fields",
                fields,
            )
        if not fields:
            raise _error(
                "extension_empty_fields",
                f"ExtensionFieldSet.fields of {namespace!r} is empty; give at least one field.",
                "fields",
                dict(fields),
            )
        where = f"ExtensionFieldSet({namespace}).fields"
        keys = sorted(_field_key(where, key) for key in fields)
        frozen = FrozenMap((key, freeze_json(key, fields[key])) for key in keys)
        force_setattr(self, "fields", frozen)
        force_setattr(self, "readonly_fields", self._readonly(frozen))

    def _readonly(self, fields: Mapping[str, Any]) -> tuple[str, ...]:
        raw = self.readonly_fields
        if raw is None:
            return ()
        if isinstance(raw, (str, bytes)) or not isinstance(raw, Iterable):
            raise _error(
                "extension_invalid_readonly_fields",
                f"ExtensionFieldSet.readonly_fields must be a sequence of field names, got "
                f"{type(raw).__name__} {raw!r}.",
                "readonly_fields",
                raw,
            )
        names = sorted({_field_key("ExtensionFieldSet.readonly_fields", name) for name in raw})
        unknown = [name for name in names if name not in fields]
        if unknown:
            raise _error(
                "extension_invalid_readonly_fields",
                f"ExtensionFieldSet.readonly_fields names {unknown!r}, which are not in fields "
                f"{sorted(fields)!r}.",
                "readonly_fields",
                list(raw),
                unknown_fields=unknown,
            )
        return tuple(names)


def check_extensions(model: str, value: Any) -> tuple[ExtensionFieldSet, ...]:
    """Validate a model's ``extensions``: ExtensionFieldSet items, unique namespaces, sorted."""
    if value is None or (isinstance(value, (tuple, list, dict)) and not value):
        return ()
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise ValidationError(
            f"{model}.extensions must be a sequence of ExtensionFieldSet, got "
            f"{type(value).__name__} {value!r}.",
            code="context_invalid_extensions",
            details={"field": "extensions", "value": value},
        )
    items = tuple(value)
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, ExtensionFieldSet):
            raise ValidationError(
                f"{model}.extensions must contain ExtensionFieldSet objects, got "
                f"{type(item).__name__} {item!r}.",
                code="context_invalid_extensions",
                details={"field": "extensions", "value": item, "type": type(item).__name__},
            )
        if item.namespace in seen:
            raise ConflictError(
                f"{model}.extensions has namespace {item.namespace!r} twice; merge the fields "
                "into one ExtensionFieldSet.",
                code="extension_duplicate_namespace",
                details={
                    "field": "extensions",
                    "value": item.namespace,
                    "namespace": item.namespace,
                },
            )
        seen.add(item.namespace)
    return tuple(sorted(items, key=lambda item: item.namespace))


def labels_of(model: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """(params, tags) of a model (a run): its ``contexta.params`` / ``contexta.tags`` values."""
    params: dict[str, Any] = {}
    tags: dict[str, str] = {}
    for extension in getattr(model, "extensions", ()) or ():
        values = extension.fields.get("values") or {}
        if extension.namespace == PARAMS_NAMESPACE:
            params.update(values)
        elif extension.namespace == TAGS_NAMESPACE:
            tags.update((str(k), str(v)) for k, v in values.items())
    return params, tags


def _label_key(what: str, key: Any) -> str:
    if not isinstance(key, str) or not key.strip():
        raise _error(
            "extension_invalid_field_key",
            f"{what} names must be non-blank strings, got {key!r}.",
            what,
            key,
        )
    return key.strip()


def _param_value(key: str, value: Any) -> Any:
    """A parameter as stored: JSON-like values as given, numbers as Python numbers (numpy
    scalars included), anything else (and NaN or an infinity) as its text."""
    from .field_validators import real_number

    if value is None or isinstance(value, (str, bool)):
        return value
    number = real_number(value)
    if isinstance(number, float) and type(value) is not float:
        with contextlib.suppress(ValueError):  # float32's shortest text: 0.1, not 0.1000000015
            number = float(str(value))
    if number is not None:
        return number if number == number and number not in (_INF, -_INF) else str(number)
    try:
        return freeze_json(key, value)
    except ValidationError:
        return str(value)


_INF = float("inf")


def with_labels(
    model: Any, *, params: Mapping[str, Any] | None = None, tags: Mapping[str, Any] | None = None
) -> Any:
    """``model`` (a run) with ``params`` and ``tags`` merged into its ``contexta.params`` /
    ``contexta.tags`` extension field sets (a later value of a name replaces the earlier one);
    the model itself is unchanged (a new version to store)."""
    import msgspec

    old_params, old_tags = labels_of(model)
    for key, value in (params or {}).items():
        name = _label_key("params", key)
        old_params[name] = _param_value(name, value)
    for key, value in (tags or {}).items():
        text = value if isinstance(value, str) else str(value)
        old_tags[_label_key("tags", key)] = text.strip()
    kept = [
        e
        for e in getattr(model, "extensions", ()) or ()
        if e.namespace not in (PARAMS_NAMESPACE, TAGS_NAMESPACE)
    ]
    if old_params:
        kept.append(ExtensionFieldSet(namespace=PARAMS_NAMESPACE, fields={"values": old_params}))
    if old_tags:
        kept.append(ExtensionFieldSet(namespace=TAGS_NAMESPACE, fields={"values": old_tags}))
    return msgspec.structs.replace(model, extensions=tuple(kept))
