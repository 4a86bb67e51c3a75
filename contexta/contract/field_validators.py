"""Field validators shared by the contract models (contract section 2.0).

Each validator takes ``where`` (``"Model.field"``, used in messages) and the raw value, and
returns the normalised value or raises :class:`~contexta.common.errors.ValidationError` with the
contract's code, a message naming the field and the offending value, and
``details={"field": ..., "value": ...}``.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from contexta.common.errors import ValidationError

from .frozen import EMPTY_MAP, FrozenMap
from .timestamps import instant_key, normalize_timestamp

__all__ = [
    "DOTTED_KEBAB",
    "DOTTED_SNAKE",
    "LIFECYCLE_STATUSES",
    "LOGGED_KEY_MAX",
    "LOGGED_KEY_RULE",
    "SNAKE",
    "component",
    "enum_str",
    "fail",
    "freeze_json",
    "json_map",
    "lifecycle",
    "logged_grammar",
    "logged_key",
    "logging_grammar_active",
    "not_before",
    "optional_str",
    "optional_token",
    "order_index",
    "real_number",
    "required_str",
    "string_map",
    "timestamp",
    "token",
]

DOTTED_KEBAB = re.compile(r"[a-z][a-z0-9-]*(?:\.[a-z][a-z0-9-]*)*")
DOTTED_SNAKE = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*")
SNAKE = re.compile(r"[a-z][a-z0-9_]*")
_COMPONENT = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

LIFECYCLE_STATUSES = ("open", "completed", "failed", "cancelled")

# The key grammar of logged metrics (``run.metric(...)`` in a capture scope), which is the one
# ML code uses (close to MLflow's): ASCII letters of either case, digits, ``_ - . /`` and
# spaces, at most 250 characters, at least one letter or digit. Models built by hand keep the
# 1.0 rule (dotted lower-kebab); a body stored under this grammar decodes under it too.
_LOGGED_KEY = re.compile(r"[A-Za-z0-9_\-./ ]+")
_ALNUM = re.compile(r"[A-Za-z0-9]")
LOGGED_KEY_MAX = 250
LOGGED_KEY_RULE = (
    "A metric key is 1 to 250 characters: ASCII letters (either case), digits, '_', '-', '.', "
    "'/' and spaces, with at least one letter or digit, e.g. 'train_loss', 'loss/val', 'valAcc'."
)
_LOGGED: ContextVar[bool] = ContextVar("contexta_logged_grammar", default=False)


@contextmanager
def logged_grammar() -> Iterator[None]:
    """Within the block, metric payloads take the logged key grammar and non-finite values
    (used by runtime capture when it builds a record, and when a stored body is decoded)."""
    token = _LOGGED.set(True)
    try:
        yield
    finally:
        _LOGGED.reset(token)


def logging_grammar_active() -> bool:
    return _LOGGED.get()


def logged_key(where: str, value: Any, code: str) -> str:
    """A metric key under the logged grammar (:data:`LOGGED_KEY_RULE`), stripped, else ``code``."""
    seen = _ACCEPTED.get(_LOGGED_KEY)
    if type(value) is str and seen is not None and value in seen:
        return value
    text = required_str(where, value)
    if (
        len(text) > LOGGED_KEY_MAX
        or _LOGGED_KEY.fullmatch(text) is None
        or _ALNUM.search(text) is None
    ):
        raise fail(
            code, where, value, "is not a valid metric key", LOGGED_KEY_RULE, rule=LOGGED_KEY_RULE
        )
    _accepted(_LOGGED_KEY).add(text)
    return text


def real_number(value: Any) -> int | float | None:
    """``value`` as a Python int or float when it is a real number, else None.

    Duck-typed, so numpy stays optional: Python ints and floats (and their subclasses), numpy
    scalars and 0-d arrays (by ``dtype.kind``), and any other object with ``__index__`` (an int)
    or ``__float__`` (a float). Bools (Python's or numpy's), complex numbers, strings and
    arrays of more than one element are not real numbers here."""
    kind = type(value)
    if kind is float or kind is int:
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, (str, bytes, bytearray, complex)):
        return None
    dtype = getattr(value, "dtype", None)
    dkind = getattr(dtype, "kind", None)
    if dkind is not None:
        if getattr(value, "shape", ()) != () or dkind not in "iuf":
            return None
        try:
            return int(value) if dkind in "iu" else float(value)
        except (TypeError, ValueError, OverflowError):
            return None
    if dtype is not None and "bool" in str(dtype).lower():
        return None  # a tensor-like bool
    if hasattr(kind, "__index__"):
        try:
            return operator.index(value)
        except (TypeError, ValueError):
            pass
    if hasattr(kind, "__float__"):
        try:
            return float(value)
        except (TypeError, ValueError, OverflowError):
            return None
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def fail(
    code: str, where: str, value: Any, problem: str, hint: str = "", **extra: Any
) -> ValidationError:
    """Build (not raise) a ValidationError for ``where`` (``"Model.field"``)."""
    message = f"{where} {problem}, got {_short(value)}."
    if hint:
        message = f"{message} {hint}"
    details = {"field": where.rpartition(".")[2], "value": value}
    details.update(extra)
    return ValidationError(message, code=code, details=details)


def required_str(where: str, value: Any) -> str:
    """A required string: stripped, non-blank (``context_invalid_string``)."""
    if type(value) is not str:
        if not isinstance(value, str):
            raise fail("context_invalid_string", where, value, "must be a string")
        value = str(value)
    text = value.strip()
    if not text:
        raise fail("context_invalid_string", where, value, "must not be blank")
    return text


def optional_str(where: str, value: Any) -> str | None:
    return None if value is None else required_str(where, value)


def enum_str(
    where: str, value: Any, allowed: tuple[str, ...], code: str = "record_invalid_marker"
) -> str:
    """One of ``allowed`` (case-sensitive, stripped)."""
    if type(value) is str and value in allowed:
        return value
    text = required_str(where, value)
    if text not in allowed:
        raise fail(code, where, value, f"must be one of {', '.join(allowed)}", allowed=allowed)
    return text


# Tokens (metric keys, producer refs, value types, names) repeat across millions of records;
# remembering the ones already accepted skips the regex on the hot path.
_ACCEPTED: dict[re.Pattern[str], set[str]] = {}
_ACCEPTED_LIMIT = 8192


def _accepted(pattern: re.Pattern[str]) -> set[str]:
    seen = _ACCEPTED.get(pattern)
    if seen is None:
        seen = _ACCEPTED[pattern] = set()
    elif len(seen) >= _ACCEPTED_LIMIT:
        seen.clear()
    return seen


def token(where: str, value: Any, pattern: re.Pattern[str], code: str, hint: str) -> str:
    """A stripped string matching ``pattern`` entirely."""
    seen = _ACCEPTED.get(pattern)
    if type(value) is str and seen is not None and value in seen:
        return value
    text = required_str(where, value)
    if pattern.fullmatch(text) is None:
        raise fail(code, where, value, "is not a valid token", hint)
    _accepted(pattern).add(text)
    return text


def optional_token(
    where: str, value: Any, pattern: re.Pattern[str], code: str, hint: str
) -> str | None:
    return None if value is None else token(where, value, pattern, code, hint)


def component(where: str, value: Any) -> str:
    """A name that is one ref component (``context_invalid_component``)."""
    seen = _ACCEPTED.get(_COMPONENT)
    if type(value) is str and seen is not None and value in seen:
        return value
    text = required_str(where, value)
    if _COMPONENT.fullmatch(text) is None or len(text) > 63:
        raise fail(
            "context_invalid_component",
            where,
            value,
            "must be one lower-kebab ref component",
            "Use lowercase letters and digits joined by single '-', e.g. 'train' or 'eval-2'.",
        )
    _accepted(_COMPONENT).add(text)
    return text


def order_index(where: str, value: Any) -> int | None:
    if value is None:
        return None
    if type(value) is not int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail("context_invalid_order_index", where, value, "must be an integer or None")
        value = int(value)
    if value < 0:
        raise fail("context_invalid_order_index", where, value, "must be >= 0")
    return value


def timestamp(where: str, value: Any) -> str:
    return normalize_timestamp(value, field=where)


def not_before(later_where: str, later: str, earlier_where: str, earlier: str, code: str) -> None:
    """Raise ``code`` unless the instant ``later`` is at or after the instant ``earlier``."""
    if later != earlier and instant_key(later) < instant_key(earlier):
        raise fail(
            code,
            later_where,
            later,
            f"must not be earlier than {earlier_where.rpartition('.')[2]} ({earlier})",
            **{earlier_where.rpartition(".")[2]: earlier},
        )


def lifecycle(model: str, status: Any, started_at: str, ended_at: str | None) -> str:
    """Validate status and the status/ended_at/started_at rules; return the status."""
    where = f"{model}.status"
    text = enum_str(where, status, LIFECYCLE_STATUSES, code="context_invalid_status")
    if text == "open":
        if ended_at is not None:
            raise fail(
                "context_invalid_status_transition",
                f"{model}.ended_at",
                ended_at,
                "must be None while status is 'open'",
                "Close the run/stage with status 'completed', 'failed' or 'cancelled'.",
                status=text,
            )
    elif ended_at is None:
        raise fail(
            "context_invalid_status_transition",
            f"{model}.ended_at",
            ended_at,
            f"is required when status is {text!r}",
            status=text,
        )
    else:
        not_before(
            f"{model}.ended_at",
            ended_at,
            f"{model}.started_at",
            started_at,
            "context_invalid_time_order",
        )
    return text


def string_map(where: str, value: Any) -> FrozenMap:
    """A str -> str mapping: keys and values stripped and non-blank, sorted by key."""
    if value is None:
        return EMPTY_MAP
    if not isinstance(value, Mapping):
        raise fail("context_invalid_mapping", where, value, "must be a mapping of str to str")
    items: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key.strip():
            raise fail(
                "context_invalid_mapping",
                where,
                key,
                "has a key that is not a non-blank string",
                key=key,
            )
        if not isinstance(item, str) or not item.strip():
            raise fail(
                "context_invalid_mapping",
                where,
                item,
                f"has a value for key {key!r} that is not a non-blank string",
                key=key,
            )
        items[key.strip()] = item.strip()
    if not items:
        return EMPTY_MAP
    return FrozenMap(sorted(items.items()))


def freeze_json(path: str, value: Any) -> Any:
    """Validate a JSON-like value and freeze it (mappings -> key-sorted FrozenMap, lists -> tuples).

    Raises ``extension_invalid_value`` for non-finite floats, non-string keys and other objects.
    """
    kind = type(value)
    if value is None or kind is str or kind is bool or kind is int:
        return value
    if kind is float:
        if not math.isfinite(value):
            raise _bad_json(path, value, "is not a finite number")
        return value
    if isinstance(value, Mapping):
        frozen: dict[str, Any] = {}
        for key in sorted(value, key=_sort_key(path)):
            frozen[key] = freeze_json(f"{path}.{key}", value[key])
        return FrozenMap(frozen)
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray)):
        return tuple(freeze_json(f"{path}[{i}]", item) for i, item in enumerate(value))
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return freeze_json(path, float(value))
    if isinstance(value, str):
        return str(value)
    raise _bad_json(path, value, f"has unsupported type {type(value).__name__}")


def _sort_key(path: str) -> Any:
    def key(item: Any) -> str:
        if not isinstance(item, str):
            raise ValidationError(
                f"{path} has key {_short(item)} that is not a string; JSON object keys must be "
                "strings.",
                code="extension_invalid_value",
                details={"field": path, "value": item},
            )
        return item

    return key


def _bad_json(path: str, value: Any, problem: str) -> ValidationError:
    return ValidationError(
        f"{path} {problem}: {_short(value)}. Values must be JSON-like: None, bool, int, str, "
        "finite float, or mappings/sequences of them.",
        code="extension_invalid_value",
        details={"field": path, "value": value, "type": type(value).__name__},
    )


def json_map(where: str, value: Any, key_code: str = "record_invalid_mapping") -> FrozenMap:
    """A JSON object field (``attributes``): top-level keys stripped and non-blank, values frozen."""
    if value is None:
        return EMPTY_MAP
    if not isinstance(value, Mapping):
        raise fail(key_code, where, value, "must be a mapping with string keys")
    items: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key.strip():
            raise fail(key_code, where, key, "has a key that is not a non-blank string", key=key)
        items[key.strip()] = item
    if not items:
        return EMPTY_MAP
    path = where.rpartition(".")[2]
    return FrozenMap((key, freeze_json(f"{path}.{key}", items[key])) for key in sorted(items))
