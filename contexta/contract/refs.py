"""Stable references: ``<kind>:<value>`` (contract section 1).

A :class:`StableRef` is a frozen msgspec Struct, so it is hashable, compares by value (never equal
to a plain string) and is encoded natively by msgspec as ``{"kind": ..., "value": ...}``.
Model fields that hold refs accept either a ``StableRef`` or its text and store a ``StableRef``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import msgspec

from contexta.common.errors import ValidationError

__all__ = [
    "CORE_REF_SHAPES",
    "CORE_STABLE_REF_KINDS",
    "STABLE_REF_FIELD_KIND_MAP",
    "StableRef",
    "ref_component",
    "validate_core_stable_ref",
    "validate_stable_ref_field",
    "validate_stable_ref_kind",
]

MAX_REF_LENGTH = 255
MAX_COMPONENT_LENGTH = 63

_KIND = re.compile(r"[a-z][a-z0-9_]*")
_COMPONENT = r"[a-z0-9]+(?:-[a-z0-9]+)*"
_COMPONENT_RE = re.compile(_COMPONENT)
_VALUE = re.compile(rf"{_COMPONENT}(?:\.{_COMPONENT})*")
_FORBIDDEN = frozenset(" _/:")
# The whole ref in one pattern: the common, valid case costs a single regex match.
_FAST_REF = re.compile(rf"[a-z][a-z0-9_]*:{_COMPONENT}(?:\.{_COMPONENT})*")
_EXAMPLE = "e.g. 'run:my-proj.run-01'"

#: Component counts of the core kinds (``stable_ref_invalid_shape``); other kinds are free.
CORE_REF_SHAPES: dict[str, tuple[int, ...]] = {
    "project": (1,),
    "run": (2,),
    "deployment": (2,),
    "stage": (3,),
    "batch": (4,),
    "sample": (4, 5),
    "op": (4, 5),
    "record": (3,),
    "artifact": (3,),
}
_LAYOUTS = {
    "project": "project:<project>",
    "run": "run:<project>.<run>",
    "deployment": "deployment:<project>.<deployment>",
    "stage": "stage:<project>.<run>.<stage>",
    "batch": "batch:<project>.<run>.<stage>.<batch>",
    "sample": "sample:<stage or batch value>.<sample>",
    "op": "op:<stage or batch value>.<operation>",
    "record": "record:<project>.<run>.<record-key>",
    "artifact": "artifact:<project>.<run>.<artifact-key>",
}


def _error(code: str, message: str, **details: Any) -> ValidationError:
    return ValidationError(message, code=code, details=details)


def _check_kind(kind: Any) -> None:
    if not isinstance(kind, str):
        raise _error(
            "stable_ref_invalid_kind",
            f"Ref kind must be a string, got {type(kind).__name__} {kind!r}.",
            field="kind",
            value=kind,
        )
    if not kind.strip():
        raise _error(
            "stable_ref_invalid_kind",
            f"Ref kind must not be blank, got {kind!r}; {_EXAMPLE}.",
            field="kind",
            value=kind,
        )
    if _KIND.fullmatch(kind) is None:
        raise _error(
            "stable_ref_invalid_kind",
            f"Ref kind {kind!r} is invalid: it must start with a lowercase letter followed by "
            "lowercase letters, digits or '_' (e.g. 'run', 'my_kind').",
            field="kind",
            value=kind,
        )


def _value_problem(value: str) -> tuple[str, dict[str, Any]] | None:
    """Explain why ``value`` is not a valid ref value (None when it is valid)."""
    if not value.strip():
        return "must not be blank", {}
    if value != value.strip():
        return "must not have surrounding whitespace", {}
    bad = sorted(set(value) & _FORBIDDEN)
    if bad:
        return f"must not contain {' '.join(repr(c) for c in bad)}", {}
    for component in value.split("."):
        if not component:
            return "has an empty component (check for '..' or a leading/trailing '.')", {}
        if len(component) > MAX_COMPONENT_LENGTH:
            return (
                f"has component {component!r} longer than {MAX_COMPONENT_LENGTH} characters",
                {"component": component},
            )
        if _COMPONENT_RE.fullmatch(component) is None:
            return (
                f"has component {component!r} that is not lower-kebab "
                "(lowercase letters and digits joined by single '-')",
                {"component": component},
            )
    return None


def _check_value(kind: str, value: Any) -> None:
    if not isinstance(value, str):
        raise _error(
            "stable_ref_invalid_value",
            f"Ref value must be a string, got {type(value).__name__} {value!r}.",
            field="value",
            value=value,
        )
    fast_ok = _VALUE.fullmatch(value) is not None and (
        len(value) <= MAX_COMPONENT_LENGTH
        or all(len(c) <= MAX_COMPONENT_LENGTH for c in value.split("."))
    )
    if not fast_ok:
        problem = _value_problem(value)
        if problem is not None:
            reason, extra = problem
            raise _error(
                "stable_ref_invalid_value",
                f"Ref value {value!r} {reason}; {_EXAMPLE}.",
                field="value",
                value=value,
                **extra,
            )
    if len(kind) + 1 + len(value) > MAX_REF_LENGTH:
        raise _error(
            "stable_ref_too_long",
            f"Ref '{kind}:{value[:40]}...' is {len(kind) + 1 + len(value)} characters long; "
            f"the limit is {MAX_REF_LENGTH}.",
            field="value",
            value=f"{kind}:{value}",
            max_length=MAX_REF_LENGTH,
        )


class StableRef(msgspec.Struct, frozen=True, gc=False):
    """A validated ``<kind>:<value>`` reference (frozen, hashable)."""

    kind: str
    value: str

    def __post_init__(self) -> None:
        kind = self.kind
        value = self.value
        if (
            type(kind) is str
            and type(value) is str
            and len(value) <= MAX_COMPONENT_LENGTH
            and len(kind) + len(value) < MAX_REF_LENGTH
            and _FAST_REF.fullmatch(f"{kind}:{value}") is not None
        ):
            return
        _check_kind(kind)
        _check_value(kind, value)

    @property
    def text(self) -> str:
        """The canonical text ``"kind:value"``."""
        return f"{self.kind}:{self.value}"

    @property
    def components(self) -> tuple[str, ...]:
        """The dot-separated parts of the value."""
        return tuple(self.value.split("."))

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "value": self.value}

    @classmethod
    def parse(cls, text: Any) -> StableRef:
        """Parse ``"kind:value"`` text (no surrounding whitespace allowed)."""
        if type(text) is not str:
            if isinstance(text, str):
                text = str(text)
            else:
                raise _error(
                    "stable_ref_invalid_text",
                    f"Ref text must be a string, got {type(text).__name__} {text!r}; {_EXAMPLE}.",
                    value=text,
                )
        return _parse_text(text)


@lru_cache(maxsize=16384)
def _parse_text(text: str) -> StableRef:
    if text.count(":") != 1:
        raise _error(
            "stable_ref_invalid_text",
            f"Ref text {text!r} must have the form '<kind>:<value>' with exactly one ':'; "
            f"{_EXAMPLE}.",
            value=text,
        )
    kind, _, value = text.partition(":")
    return StableRef(kind, value)


def shape_error(ref: StableRef) -> ValidationError | None:
    """The ``stable_ref_invalid_shape`` error for a core-kind ref with a wrong component count."""
    counts = CORE_REF_SHAPES.get(ref.kind)
    if counts is None:
        return None
    got = ref.value.count(".") + 1
    if got in counts:
        return None
    expected = " or ".join(str(c) for c in counts)
    return _error(
        "stable_ref_invalid_shape",
        f"Ref '{ref.kind}:{ref.value}' has {got} component(s); kind {ref.kind!r} needs "
        f"{expected} ({_LAYOUTS[ref.kind]}).",
        value=f"{ref.kind}:{ref.value}",
        kind=ref.kind,
        expected_count=counts if len(counts) > 1 else counts[0],
    )


def _in_field(exc: ValidationError, where: str, value: Any) -> ValidationError:
    details = dict(exc.details or {})
    details["field"] = where.rpartition(".")[2]
    details["value"] = value
    return ValidationError(f"{where}: {exc.message}", code=exc.code, details=details, cause=exc)


def coerce_ref(
    where: str,
    value: Any,
    kinds: tuple[str, ...] | None = None,
    *,
    type_code: str = "context_invalid_ref",
) -> StableRef:
    """Turn a field value into a shape-checked :class:`StableRef` of one of ``kinds``.

    ``where`` is ``"Model.field"`` for messages. Unparseable text keeps the parse error code.
    """
    if type(value) is str:
        try:
            return _checked_text(value, kinds)
        except ValidationError:
            pass  # take the slow path below for a message naming the field
    if type(value) is StableRef:  # decoded or user-built refs: check shape and kind inline
        counts = CORE_REF_SHAPES.get(value.kind)
        if (counts is None or value.value.count(".") + 1 in counts) and (
            kinds is None or value.kind in kinds
        ):
            return value
    if isinstance(value, StableRef):
        ref = value
    elif isinstance(value, str):
        try:
            ref = StableRef.parse(value)
        except ValidationError as exc:
            raise _in_field(exc, where, value) from None
    else:
        field = where.rpartition(".")[2]
        raise ValidationError(
            f"{where} must be a StableRef or ref text, got {type(value).__name__} {value!r}; "
            f"{_EXAMPLE}.",
            code=type_code,
            details={"field": field, "value": value, "type": type(value).__name__},
        )
    problem = shape_error(ref)
    if problem is not None:
        raise _in_field(problem, where, str(ref))
    if kinds is not None and ref.kind not in kinds:
        field = where.rpartition(".")[2]
        expected = " or ".join(repr(k) for k in kinds)
        raise ValidationError(
            f"{where} must be a ref of kind {expected}, got {str(ref)!r} (kind {ref.kind!r}).",
            code="stable_ref_kind_mismatch",
            details={"field": field, "value": str(ref), "allowed": kinds, "actual": ref.kind},
        )
    return ref


@lru_cache(maxsize=16384)
def _checked_text(text: str, kinds: tuple[str, ...] | None) -> StableRef:
    """Parse, shape-check and kind-check ref text (cached: the same refs recur constantly)."""
    ref = _parse_text(text)
    if shape_error(ref) is not None or (kinds is not None and ref.kind not in kinds):
        raise ValidationError("invalid", code="stable_ref_invalid_text")
    return ref


def optional_ref(where: str, value: Any, kinds: tuple[str, ...] | None = None) -> StableRef | None:
    return None if value is None else coerce_ref(where, value, kinds)


def ref_text(where: str, value: Any) -> str:
    """Validate a free ref (any kind, core kinds shape-checked) and return its text."""
    return str(coerce_ref(where, value, type_code="record_invalid_ref"))


def ref_texts(where: str, values: Any) -> tuple[str, ...]:
    """Validate a sequence of free refs (``linked_refs``, ``evidence_refs``) into texts."""
    if values is None:
        return ()
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ValidationError(
            f"{where} must be a sequence of refs, got {type(values).__name__} {values!r}.",
            code="record_invalid_ref",
            details={"field": where.rpartition(".")[2], "value": values},
        )
    return tuple(ref_text(f"{where}[{i}]", item) for i, item in enumerate(values))


def starts_within(child: StableRef, owner: StableRef) -> bool:
    """True when ``child``'s value continues ``owner``'s value by at least one component."""
    owner_value = owner.value
    child_value = child.value
    return (
        len(child_value) > len(owner_value)
        and child_value.startswith(owner_value)
        and child_value[len(owner_value)] == "."
    )


#: the kinds whose component count is fixed (1.0's name)
CORE_STABLE_REF_KINDS = tuple(CORE_REF_SHAPES)
#: model field name -> the ref kind (or kinds) it must hold
STABLE_REF_FIELD_KIND_MAP: dict[str, str | tuple[str, ...]] = {
    "project_ref": "project",
    "run_ref": "run",
    "deployment_execution_ref": "deployment",
    "stage_execution_ref": "stage",
    "batch_execution_ref": "batch",
    "sample_observation_ref": "sample",
    "operation_context_ref": "op",
    "record_ref": "record",
    "artifact_ref": "artifact",
    "subject_ref": CORE_STABLE_REF_KINDS,
}


def validate_core_stable_ref(ref: StableRef) -> StableRef:
    """``ref`` itself when a core kind has its component count (``stable_ref_invalid_shape``)."""
    problem = shape_error(ref)
    if problem is not None:
        raise problem
    return ref


def validate_stable_ref_kind(
    ref: StableRef, expected_kind: str | Sequence[str], *, field_name: str | None = None
) -> StableRef:
    """``ref`` itself when its kind is ``expected_kind`` or one of them."""
    allowed = (expected_kind,) if isinstance(expected_kind, str) else tuple(expected_kind)
    if ref.kind not in allowed:
        where = field_name or "field"
        expected = " or ".join(repr(k) for k in allowed)
        raise ValidationError(
            f"{where} must be a ref of kind {expected}, got {str(ref)!r} (kind {ref.kind!r}).",
            code="stable_ref_kind_mismatch",
            details={"field_name": field_name, "allowed": allowed, "actual": ref.kind},
        )
    return ref


def validate_stable_ref_field(ref: StableRef, field_name: str) -> StableRef:
    """``ref`` itself when it fits the model field ``field_name`` (shape and kind)."""
    expected = STABLE_REF_FIELD_KIND_MAP.get(field_name)
    if expected is None:
        known = ", ".join(sorted(STABLE_REF_FIELD_KIND_MAP))
        raise ValidationError(
            f"No ref field named {field_name!r}; known fields: {known}.",
            code="stable_ref_unknown_field",
            details={"field_name": field_name},
        )
    validate_core_stable_ref(ref)
    return validate_stable_ref_kind(ref, expected, field_name=field_name)


_NOT_COMPONENT = re.compile(r"[^a-z0-9]+")


def ref_component(name: str) -> str:
    """A ref component for ``name``, deterministic and without collisions: the lower-kebab
    slug of the name when that spells it exactly (``model``, ``train-loss``), else the slug
    plus 8 hex of the name's SHA-256 (``train_loss`` -> ``train-loss-<hash>``, so it never
    meets ``train-loss``); at most 63 characters."""
    slug = _NOT_COMPONENT.sub("-", name.lower()).strip("-")
    if slug == name and 0 < len(slug) <= 63:
        return slug
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    stem = slug[:54].rstrip("-")
    return f"{stem}-{digest}" if stem else digest
