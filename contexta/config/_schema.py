"""The machinery shared by every config class: field types, coercion, explicit-field tracking.

Every config class is a frozen, slotted dataclass decorated with :func:`config_model`. The
decorator keeps the generated constructor (so signatures, ``dataclasses.fields`` and equality
behave as in Contexta 1.0) and wraps it to remember which fields the caller named. Two private
frozensets live on each object:

``_explicit``
    the field names the caller passed to the constructor (positionally or by keyword). Nested
    configs keep their own set, so a leaf ``records.durability_mode`` is explicit when
    ``"durability_mode"`` is in ``config.records._explicit``.
``_derived``
    the path fields whose value was computed from another field (``metadata_path`` from
    ``root_path``, ``records.root_path`` from ``workspace.records_path``...). Rebuilding a
    config recomputes them instead of freezing the old value.

A *spec* is the plain nested mapping a config is rebuilt from: every field value, with derived
fields set back to ``None``. All patching (profiles, files, environment, mappings) works on
specs and ends in :func:`build`, which constructs the objects and restores the explicit marks.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from ..common.errors import ConfigurationError
from ._fields import coerce, field_types, invalid, required_fields

__all__ = [
    "LeafPath",
    "build",
    "check_fields",
    "config_model",
    "deep_merge",
    "explicit_paths",
    "mark_derived",
    "normalize_patch",
    "spec_of",
]

LeafPath = tuple[str, ...]
_T = TypeVar("_T")


# ---------------------------------------------------------------------------------------------
# Explicit-field tracking


def _getstate(self: Any) -> tuple[Any, ...]:
    values = tuple(getattr(self, f.name) for f in dataclasses.fields(self))
    return (values, self._explicit, self._derived)


def _setstate(self: Any, state: tuple[Any, ...]) -> None:
    values, explicit, derived = state
    for f, value in zip(dataclasses.fields(self), values, strict=True):
        object.__setattr__(self, f.name, value)
    object.__setattr__(self, "_explicit", explicit)
    object.__setattr__(self, "_derived", derived)


def _replace(self: Any, /, **changes: Any) -> Any:
    """``copy.replace`` support (Python 3.13+) that keeps the explicit marks."""

    spec, explicit = normalize_patch(type(self), changes, source="replace()", lenient=False)
    return build(type(self), deep_merge(spec_of(self), spec), explicit_paths(self) | explicit)


def config_model(cls: type[_T]) -> type[_T]:
    """Wrap a frozen dataclass's constructor so the object remembers its explicit fields."""

    generated_init = cls.__init__
    names = tuple(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]

    @functools.wraps(generated_init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        object.__setattr__(self, "_explicit", frozenset(names[: len(args)]).union(kwargs))
        object.__setattr__(self, "_derived", frozenset())
        generated_init(self, *args, **kwargs)

    cls.__init__ = __init__  # type: ignore[method-assign]
    cls.__getstate__ = _getstate  # type: ignore[method-assign]
    cls.__setstate__ = _setstate  # type: ignore[attr-defined]
    cls.__replace__ = _replace  # type: ignore[attr-defined]
    return cls


def check_fields(obj: Any) -> None:
    """Strict per-field validation for constructors (called from each ``__post_init__``)."""

    cls_name = type(obj).__name__
    for name, ftype in field_types(type(obj)).items():
        value = getattr(obj, name)
        if ftype.config_cls is not None:
            if isinstance(value, ftype.config_cls):
                continue
            if isinstance(value, Mapping):
                spec, explicit = normalize_patch(
                    ftype.config_cls, value, source=f"{cls_name}.{name}", lenient=True
                )
                object.__setattr__(obj, name, build(ftype.config_cls, spec, explicit))
                continue
            raise invalid(f"{cls_name}.{name}", value, ftype.describe())
        checked = coerce(ftype, value, where=f"{cls_name}.{name}", lenient=False)
        if checked is not value:
            object.__setattr__(obj, name, checked)


def mark_derived(obj: _T, **values: Any) -> _T:
    """A copy of ``obj`` with ``values`` filled in as derived fields (explicit marks kept)."""

    current = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}  # type: ignore[arg-type]
    current.update(values)
    new = type(obj)(**current)
    object.__setattr__(new, "_explicit", obj._explicit)  # type: ignore[attr-defined]
    object.__setattr__(new, "_derived", obj._derived | frozenset(values))  # type: ignore[attr-defined]
    return new


# ---------------------------------------------------------------------------------------------
# Specs, patches and building


def spec_of(obj: Any) -> dict[str, Any]:
    """The nested mapping ``obj`` can be rebuilt from (derived fields as ``None``)."""

    spec: dict[str, Any] = {}
    for name, ftype in field_types(type(obj)).items():
        value = getattr(obj, name)
        if ftype.kind == "config":
            spec[name] = spec_of(value)
        elif name in obj._derived:
            spec[name] = None
        else:
            spec[name] = value
    return spec


def explicit_paths(obj: Any, prefix: LeafPath = ()) -> frozenset[LeafPath]:
    """Leaf paths the caller set explicitly, across ``obj`` and its nested configs."""

    paths: set[LeafPath] = set()
    for name, ftype in field_types(type(obj)).items():
        if ftype.kind == "config":
            paths |= explicit_paths(getattr(obj, name), (*prefix, name))
        elif name in obj._explicit:
            paths.add((*prefix, name))
    return frozenset(paths)


def deep_merge(base: Mapping[str, Any], patch: Mapping[str, Any] | None) -> dict[str, Any]:
    """Merge ``patch`` into ``base``: nested mappings merge, everything else replaces."""

    merged = dict(base)
    for key, value in (patch or {}).items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def normalize_patch(
    cls: type[Any],
    patch: Mapping[str, Any],
    *,
    source: str,
    lenient: bool = True,
    prefix: LeafPath = (),
) -> tuple[dict[str, Any], frozenset[LeafPath]]:
    """Check a nested patch against ``cls``; return it with typed values plus its leaf paths.

    Unknown keys raise ``unknown_config_field``. A config object given for a nested section
    replaces that whole section; only its own explicit leaves count as set by the patch.
    """

    if not isinstance(patch, Mapping):
        where = ".".join(prefix) or cls.__name__
        raise invalid(where, patch, "a mapping", source)
    types_ = field_types(cls)
    unknown = sorted(str(key) for key in patch if key not in types_)
    if unknown:
        where = ".".join(prefix) or "the top level"
        raise ConfigurationError(
            f"Unknown config field(s) {', '.join(map(repr, unknown))} at {where} "
            f"(from {source}); {cls.__name__} has: {', '.join(types_)}.",
            code="unknown_config_field",
            details={"class": cls.__name__, "unknown_keys": unknown, "source": source},
        )
    spec: dict[str, Any] = {}
    leaves: set[LeafPath] = set()
    for name, value in patch.items():
        ftype = types_[name]
        path = (*prefix, name)
        if ftype.config_cls is not None:
            if isinstance(value, ftype.config_cls):
                spec[name] = spec_of(value)
                leaves |= {(*prefix, *leaf) for leaf in explicit_paths(value, (name,))}
                continue
            if not isinstance(value, Mapping):
                raise invalid(".".join(path), value, ftype.describe(), source)
            spec[name], sub = normalize_patch(
                ftype.config_cls, value, source=source, lenient=lenient, prefix=path
            )
            leaves |= sub
            continue
        spec[name] = coerce(ftype, value, where=".".join(path), lenient=lenient, source=source)
        leaves.add(path)
    return spec, frozenset(leaves)


def build(cls: type[_T], spec: Mapping[str, Any], explicit: Iterable[LeafPath] = ()) -> _T:
    """Construct ``cls`` from a (normalised) spec and restore the explicit marks."""

    explicit = frozenset(explicit)
    return _build(cls, spec, explicit, ())


def _build(
    cls: type[_T], spec: Mapping[str, Any], explicit: frozenset[LeafPath], prefix: LeafPath
) -> _T:
    kwargs: dict[str, Any] = {}
    for name, ftype in field_types(cls).items():
        path = (*prefix, name)
        if ftype.config_cls is not None:
            kwargs[name] = _build(ftype.config_cls, spec.get(name) or {}, explicit, path)
        elif name in spec:
            kwargs[name] = spec[name]
        elif name in required_fields(cls):
            raise ConfigurationError(
                f"Config field `{'.'.join(path)}` is required and was not given.",
                code="missing_config_field",
                details={"class": cls.__name__, "field": ".".join(path)},
            )
    obj = cls(**kwargs)
    marks = frozenset(name for name in field_types(cls) if (*prefix, name) in explicit)
    object.__setattr__(obj, "_explicit", marks)
    return obj
