"""``CONTEXTA_*`` environment variables.

Every leaf field of :class:`UnifiedConfig` has one variable, ``CONTEXTA_`` + its dotted path in
upper snake case (``records.durability_mode`` -> ``CONTEXTA_RECORDS_DURABILITY_MODE``), except
``config_version`` and ``profile_name``, which are not overridable (setting them raises
``non_overridable_config_key``). Two more variables select the profile: ``CONTEXTA_PROFILE`` and
``CONTEXTA_PROFILE_OVERLAYS`` (a comma list).

Values: surrounding blanks are stripped and a blank value is ignored; booleans take
``true/1/yes/on`` and ``false/0/no/off`` (any case); ``null``/``none`` clears an optional
field (and is an error elsewhere); tuple fields take a comma list, ``[]`` for empty.

Other ``CONTEXTA_*`` names: one shaped like a setting (one word, or
``CONTEXTA_<SECTION>_<FIELD>`` whose first word is a section or top-level field of the
config, or close to one: a typo such as ``CONTEXTA_RECORD_DURABILITY_MODE``) raises
``unknown_config_field``; any other (``CONTEXTA_BENCH_VENVS``, a tool's own variable under our
prefix) is not a setting, so it is ignored with a :class:`ForeignEnvWarning` naming it instead
of stopping the program (Contexta 1.0 rejected every unknown name). Names are case-sensitive:
lower-case ``contexta_*`` is not ours and is ignored.

Environment values override profile and file values, never values the caller set explicitly
(a ``config=`` mapping, ``project_name=``/``workspace=``, or fields named when constructing a
config object).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from typing import Any, NamedTuple

from ..common.errors import ConfigurationError, close_matches
from ._fields import FieldType, coerce, field_types
from ._schema import LeafPath, build, explicit_paths, spec_of
from .models import UnifiedConfig
from .profiles import normalize_overlays, normalize_profile

__all__ = [
    "CANONICAL_ENV_PREFIX",
    "ENV_KEYS",
    "NON_OVERRIDABLE_ENV_KEYS",
    "PROFILE_ENV_KEY",
    "PROFILE_OVERLAYS_ENV_KEY",
    "EnvSelector",
    "ForeignEnvWarning",
    "apply_env_overrides",
    "env_key_for",
    "overlay_env",
    "read_env_patch",
    "read_env_selector",
    "read_env_values",
]

CANONICAL_ENV_PREFIX = "CONTEXTA_"
PROFILE_ENV_KEY = "CONTEXTA_PROFILE"
PROFILE_OVERLAYS_ENV_KEY = "CONTEXTA_PROFILE_OVERLAYS"
NON_OVERRIDABLE_ENV_KEYS = frozenset({"CONTEXTA_CONFIG_VERSION", "CONTEXTA_PROFILE_NAME"})
_NOT_OVERRIDABLE_PATHS = {("config_version",), ("profile_name",)}


class _EnvField(NamedTuple):
    path: LeafPath
    ftype: FieldType


def env_key_for(path: LeafPath | str) -> str:
    """The variable name of a leaf path (a tuple or a dotted string)."""

    parts = path.split(".") if isinstance(path, str) else path
    return CANONICAL_ENV_PREFIX + "_".join(part.upper() for part in parts)


def _collect(cls: type[Any], prefix: LeafPath = ()) -> dict[str, _EnvField]:
    table: dict[str, _EnvField] = {}
    for name, ftype in field_types(cls).items():
        path = (*prefix, name)
        if ftype.config_cls is not None:
            table.update(_collect(ftype.config_cls, path))
        elif path not in _NOT_OVERRIDABLE_PATHS:
            table[env_key_for(path)] = _EnvField(path, ftype)
    return table


_ENV_FIELDS = _collect(UnifiedConfig)
#: Every leaf variable, in field order (selectors and non-overridable keys excluded).
ENV_KEYS: tuple[str, ...] = tuple(_ENV_FIELDS)


#: first words of the setting names (sections and top-level fields): ``RECORDS``, ``PROJECT``...
_OWNED_WORDS = frozenset(
    [key[len(CANONICAL_ENV_PREFIX) :].split("_", 1)[0] for key in _ENV_FIELDS]
    + [key[len(CANONICAL_ENV_PREFIX) :].split("_", 1)[0] for key in NON_OVERRIDABLE_ENV_KEYS]
)


class ForeignEnvWarning(UserWarning):
    """A ``CONTEXTA_*`` variable that is not shaped like a Contexta setting was ignored."""


def _looks_like_a_setting(key: str) -> bool:
    """One word after the prefix, or a first word that is (or is close to) a section or
    top-level field: such a name is meant for the config, so an unknown one is an error."""
    rest = key[len(CANONICAL_ENV_PREFIX) :]
    first = rest.split("_", 1)[0]
    return "_" not in rest or first in _OWNED_WORDS or bool(close_matches(first, _OWNED_WORDS))


class EnvSelector(NamedTuple):
    """Profile selection read from the environment (None = not set)."""

    profile: str | None
    overlays: tuple[str, ...] | None


def _source(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def _check_keys(env: Mapping[str, str]) -> dict[str, str]:
    """Our variables, after rejecting unknown and non-overridable names (blank or not)."""

    ours: dict[str, str] = {}
    for key, value in env.items():
        if not key.startswith(CANONICAL_ENV_PREFIX):
            continue
        if key in NON_OVERRIDABLE_ENV_KEYS:
            raise ConfigurationError(
                f"{key} cannot be set from the environment; unset it (the value is fixed by "
                "the code or the profile selector CONTEXTA_PROFILE).",
                code="non_overridable_config_key",
                details={"env_key": key},
            )
        if key not in _ENV_FIELDS and key not in (PROFILE_ENV_KEY, PROFILE_OVERLAYS_ENV_KEY):
            if not _looks_like_a_setting(key):
                warnings.warn(
                    f"{key} is not a Contexta setting and is ignored (settings are named "
                    "CONTEXTA_<SECTION>_<FIELD>, e.g. CONTEXTA_RECORDS_DURABILITY_MODE); a tool "
                    "of your own should use a prefix of its own.",
                    ForeignEnvWarning,
                    stacklevel=4,
                )
                continue
            close = close_matches(key, ENV_KEYS, n=1)
            hint = f" Did you mean {' or '.join(close)}?" if close else ""
            raise ConfigurationError(
                f"Unknown Contexta environment variable {key}; unset it or check the name "
                f"(one variable per config field, e.g. CONTEXTA_RECORDS_DURABILITY_MODE).{hint}",
                code="unknown_config_field",
                details={"env_key": key},
            )
        ours[key] = value
    return ours


def read_env_selector(env: Mapping[str, str] | None = None) -> EnvSelector:
    """``CONTEXTA_PROFILE`` / ``CONTEXTA_PROFILE_OVERLAYS`` (blank = not set)."""

    source = _source(env)
    profile = (source.get(PROFILE_ENV_KEY) or "").strip()
    overlays = (source.get(PROFILE_OVERLAYS_ENV_KEY) or "").strip()
    return EnvSelector(
        profile=normalize_profile(profile, source=PROFILE_ENV_KEY) if profile else None,
        overlays=normalize_overlays(overlays, source=PROFILE_OVERLAYS_ENV_KEY)
        if overlays
        else None,
    )


def _parse(key: str, field: _EnvField, raw: str) -> Any:
    text = raw.strip()
    if text.lower() in ("null", "none"):
        if field.ftype.optional:
            return None
        raise ConfigurationError(
            f"{key} cannot be cleared with {text!r}: `{'.'.join(field.path)}` is required. "
            "Give a value or unset the variable.",
            code="invalid_config_value",
            details={"env_key": key, "value": raw, "field": ".".join(field.path)},
        )
    return coerce(field.ftype, text, where=".".join(field.path), lenient=True, source=key)


def read_env_values(env: Mapping[str, str] | None = None) -> dict[LeafPath, Any]:
    """Typed values of the leaf variables that are set (non-blank), keyed by leaf path."""

    values: dict[LeafPath, Any] = {}
    for key, raw in _check_keys(_source(env)).items():
        field = _ENV_FIELDS.get(key)
        if field is None or not raw.strip():
            continue
        values[field.path] = _parse(key, field, raw)
    return values


def _set_leaf(target: dict[str, Any], path: LeafPath, value: Any) -> None:
    for part in path[:-1]:
        target = target.setdefault(part, {})
    target[path[-1]] = value


def read_env_patch(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The leaf variables that are set, as a nested patch mapping (1.0's shape)."""

    patch: dict[str, Any] = {}
    for path, value in read_env_values(env).items():
        _set_leaf(patch, path, value)
    return patch


def overlay_env(
    spec: dict[str, Any], explicit: frozenset[LeafPath], env: Mapping[str, str] | None
) -> bool:
    """Write the environment values into ``spec`` for every leaf not in ``explicit``.

    Returns whether anything was written.
    """

    changed = False
    for path, value in read_env_values(env).items():
        if path not in explicit:
            _set_leaf(spec, path, value)
            changed = True
    return changed


def apply_env_overrides(
    config: UnifiedConfig, *, env: Mapping[str, str] | None = None
) -> UnifiedConfig:
    """``config`` with the environment applied to every leaf the caller did not set.

    Derived paths are recomputed (e.g. ``CONTEXTA_WORKSPACE_ROOT_PATH`` moves the metadata,
    records, artifacts, ... paths that were not given). The selector variables are validated
    but do not apply here: a config object already has its profile.
    """

    read_env_selector(env)
    explicit = explicit_paths(config)
    spec = spec_of(config)
    if not overlay_env(spec, explicit, env):
        return config
    return build(UnifiedConfig, spec, explicit)
