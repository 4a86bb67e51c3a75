"""Resolving a config: profiles, files, the environment, mappings and keyword shorthands.

``load_config`` builds one spec in this order, later layers winning:

1. the built-in profile (``local`` unless selected) and its overlays;
2. the config file (``.json`` or ``.toml``; its top-level ``profile`` / ``overlays`` keys are
   selectors, not fields);
3. the ``config=`` mapping;
4. ``project_name=``, then ``workspace=`` (the workspace root);
5. ``CONTEXTA_*`` variables, for every leaf *not* set by 3 or 4 (when ``use_env``).

This is the order of Contexta 1.0 (profile < file < env < mapping < keywords), stated as a
rule about explicit fields: values from 3 and 4 are the caller's explicit choices and the
environment never overrides them; profile, file and default values it does override. The
profile is selected by, from weakest to strongest: the default ``local``, the file's
``profile`` key, ``CONTEXTA_PROFILE``, the ``profile=`` argument (overlays alike).

``resolve_config`` is the entry point of the ``Contexta`` facade (decision 8.8 of the
contract): given a :class:`UnifiedConfig` object it applies the environment to the leaves the
caller did not set explicitly; given a mapping or None it is ``load_config``. Unlike 1.0,
``workspace`` overrides only when the caller passes one, so ``CONTEXTA_WORKSPACE_ROOT_PATH``
applies when no workspace was given.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..common.errors import ConfigurationError
from ._fields import coerce, field_types, resolve_path
from ._schema import LeafPath, build, deep_merge, explicit_paths, normalize_patch, spec_of
from .env import apply_env_overrides, overlay_env, read_env_selector
from .models import UnifiedConfig, WorkspaceConfig
from .profiles import (
    OVERLAY_APPLICATION_ORDER,
    OVERLAY_PATCHES,
    PROFILE_PATCHES,
    normalize_overlays,
    normalize_profile,
    profile_spec,
)

__all__ = [
    "OVERLAY_APPLICATION_ORDER",
    "OVERLAY_PATCHES",
    "OVERLAY_PRIORITY",
    "PROFILE_PATCHES",
    "SELECTOR_KEYS",
    "build_schema_defaults",
    "build_unified_config",
    "config_to_mapping",
    "explicit_fields",
    "load_config",
    "load_profile",
    "make_local_config",
    "make_test_config",
    "merge_config_patch",
    "replace_unified_config",
    "resolve_config",
]

SELECTOR_KEYS = frozenset({"profile", "overlays"})
#: 1.0's name: overlays from strongest to weakest (the reverse of the application order).
OVERLAY_PRIORITY: tuple[str, ...] = tuple(reversed(OVERLAY_APPLICATION_ORDER))


# ---------------------------------------------------------------------------------------------
# Mapping helpers (1.0's public names)


def build_schema_defaults() -> UnifiedConfig:
    """The schema defaults (no profile applied)."""

    return UnifiedConfig()


def build_unified_config(patch: Mapping[str, Any] | None = None) -> UnifiedConfig:
    """Schema defaults with a nested patch applied; the patch's leaves count as explicit."""

    spec, leaves = normalize_patch(UnifiedConfig, patch or {}, source="patch")
    return build(UnifiedConfig, spec, leaves)


def replace_unified_config(
    config: UnifiedConfig, patch: Mapping[str, Any] | None = None
) -> UnifiedConfig:
    """``config`` with a nested patch applied; keeps its explicit marks and adds the patch's.

    Derived paths follow their sources (a new workspace root moves the paths that were not
    given). ``dataclasses.replace`` marks every field it passes as explicit; prefer this.
    """

    spec, leaves = normalize_patch(UnifiedConfig, patch or {}, source="patch")
    return build(UnifiedConfig, deep_merge(spec_of(config), spec), explicit_paths(config) | leaves)


def merge_config_patch(base: Mapping[str, Any], patch: Mapping[str, Any] | None) -> dict[str, Any]:
    """Deep-merge two nested mappings (nested mappings merge, other values replace)."""

    return deep_merge(base, patch)


def config_to_mapping(config: Any) -> dict[str, Any]:
    """A config object as plain nested dicts (paths stay ``Path``, tuples stay tuples)."""

    mapping: dict[str, Any] = {}
    for name, ftype in field_types(type(config)).items():
        value = getattr(config, name)
        mapping[name] = config_to_mapping(value) if ftype.config_cls is not None else value
    return mapping


def explicit_fields(config: Any) -> frozenset[str]:
    """Dotted paths of the leaves the caller set explicitly (the ones env never overrides)."""

    return frozenset(".".join(path) for path in explicit_paths(config))


# ---------------------------------------------------------------------------------------------
# Config files


def _read_config_file(config_file: str | Path) -> tuple[Path, dict[str, Any]]:
    path = resolve_path(config_file, where="config_file")
    details = {"config_file": str(path)}
    if not path.exists():
        raise ConfigurationError(
            f"Config file {path} does not exist; check the path given as config_file=.",
            code="config_file_not_found",
            details=details,
        )
    suffix = path.suffix.lower()
    if suffix not in (".json", ".toml"):
        raise ConfigurationError(
            f"Config file {path.name} has an unsupported format; use a .json or .toml file.",
            code="unsupported_config_file",
            details={**details, "supported": [".json", ".toml"]},
        )
    try:
        text = path.read_text(encoding="utf-8")
        payload = json.loads(text) if suffix == ".json" else tomllib.loads(text)
    except RecursionError as exc:
        raise ConfigurationError(
            f"Config file {path} is nested too deeply to be a configuration.",
            code="invalid_config_file",
            details=details,
            cause=exc,
        ) from exc
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigurationError(
            f"Config file {path} cannot be read or parsed: {exc}.",
            code="invalid_config_file",
            details=details,
            cause=exc,
        ) from exc
    if not isinstance(payload, dict):
        raise ConfigurationError(
            f"Config file {path} must hold a mapping at the top level; "
            f"got {type(payload).__name__}.",
            code="invalid_config_file",
            details=details,
        )
    return path, payload


def _file_selector(
    path: Path, payload: Mapping[str, Any]
) -> tuple[str | None, tuple[str, ...] | None]:
    source = f"config file {path}"
    profile, overlays = payload.get("profile"), payload.get("overlays")
    if profile is not None and not isinstance(profile, str):
        raise ConfigurationError(
            f"The `profile` key of {source} must be a string; got {profile!r}.",
            code="invalid_config_file",
            details={"config_file": str(path), "value": profile},
        )
    if overlays is not None and not isinstance(overlays, (str, list, tuple)):
        raise ConfigurationError(
            f"The `overlays` key of {source} must be a string or a list; got {overlays!r}.",
            code="invalid_config_file",
            details={"config_file": str(path), "value": overlays},
        )
    return (
        normalize_profile(profile, source=source) if profile is not None else None,
        normalize_overlays(overlays, source=source) if overlays is not None else None,
    )


# ---------------------------------------------------------------------------------------------
# Resolution


def _reject_with_object(**inputs: Any) -> None:
    given = sorted(name for name, value in inputs.items() if value not in (None, (), []))
    if given:
        raise ConfigurationError(
            f"A UnifiedConfig object cannot be combined with {', '.join(given)}=; "
            "pass a mapping as config= instead, or change the object.",
            code="invalid_config_input",
            details={"arguments": given},
        )


def load_config(
    *,
    profile: str | None = None,
    overlays: str | Iterable[str] | None = None,
    config_file: str | Path | None = None,
    config: UnifiedConfig | Mapping[str, Any] | None = None,
    workspace: str | Path | None = None,
    project_name: str | None = None,
    env: Mapping[str, str] | None = None,
    use_env: bool = True,
) -> UnifiedConfig:
    """Resolve a config (see the module docstring for the order).

    ``config`` may be a :class:`UnifiedConfig`: it is then returned with the environment
    applied to its non-explicit leaves (unchanged when ``use_env`` is false), and may not be
    combined with ``profile``, ``overlays``, ``config_file``, ``workspace`` or ``project_name``
    (``invalid_config_input``). ``env`` defaults to ``os.environ``.
    """

    if isinstance(config, UnifiedConfig):
        _reject_with_object(
            profile=profile,
            overlays=overlays,
            config_file=config_file,
            workspace=workspace,
            project_name=project_name,
        )
        return apply_env_overrides(config, env=env) if use_env else config
    if config is not None and not isinstance(config, Mapping):
        raise ConfigurationError(
            f"config= must be a UnifiedConfig or a mapping; got {type(config).__name__}.",
            code="invalid_config_input",
            details={"type": type(config).__name__},
        )

    chosen_profile = "local"
    chosen_overlays: tuple[str, ...] = ()
    file_spec: dict[str, Any] = {}
    if config_file is not None:
        path, payload = _read_config_file(config_file)
        file_profile, file_overlays = _file_selector(path, payload)
        chosen_profile = file_profile or chosen_profile
        chosen_overlays = file_overlays if file_overlays is not None else chosen_overlays
        fields = {key: value for key, value in payload.items() if key not in SELECTOR_KEYS}
        file_spec, _ = normalize_patch(UnifiedConfig, fields, source=f"config file {path}")
    if use_env:
        env_selector = read_env_selector(env)
        chosen_profile = env_selector.profile or chosen_profile
        if env_selector.overlays is not None:
            chosen_overlays = env_selector.overlays
    if profile is not None:
        chosen_profile = normalize_profile(profile, source="profile=")
    if overlays is not None:
        chosen_overlays = normalize_overlays(overlays, source="overlays=")

    spec = deep_merge(profile_spec(chosen_profile, chosen_overlays), file_spec)
    explicit: set[LeafPath] = set()
    if config:
        config_spec, leaves = normalize_patch(UnifiedConfig, config, source="config=")
        spec = deep_merge(spec, config_spec)
        explicit |= leaves
    if project_name is not None:
        ftype = field_types(UnifiedConfig)["project_name"]
        spec["project_name"] = coerce(
            ftype, project_name, where="project_name", lenient=False, source="project_name="
        )
        explicit.add(("project_name",))
    if workspace is not None:
        ftype = field_types(WorkspaceConfig)["root_path"]
        root = coerce(
            ftype, workspace, where="workspace.root_path", lenient=False, source="workspace="
        )
        spec = deep_merge(spec, {"workspace": {"root_path": root}})
        explicit.add(("workspace", "root_path"))
    if use_env:
        overlay_env(spec, frozenset(explicit), env)
    return build(UnifiedConfig, spec, explicit)


def resolve_config(
    config: UnifiedConfig | Mapping[str, Any] | None = None,
    *,
    workspace: str | Path | None = None,
    profile: str | None = None,
    env: Mapping[str, str] | None = None,
) -> UnifiedConfig:
    """The config the ``Contexta`` facade runs with.

    * ``config`` is a :class:`UnifiedConfig`: returned with ``CONTEXTA_*`` values applied to
      every leaf the caller did not set explicitly, derived paths recomputed (the object itself
      when nothing applies). ``workspace`` and ``profile`` are ignored, as in 1.0: the object
      already says where and how.
    * ``config`` is a mapping or None: ``load_config(profile=profile, workspace=workspace,
      config=config, env=env)``. ``workspace=None`` means "not given": the root then comes
      from the mapping, ``CONTEXTA_WORKSPACE_ROOT_PATH`` or the profile.
    """

    if isinstance(config, UnifiedConfig):
        return apply_env_overrides(config, env=env)
    return load_config(profile=profile, workspace=workspace, config=config, env=env)


def load_profile(
    name: str,
    *,
    overlays: str | Iterable[str] = (),
    workspace: str | Path | None = None,
    project_name: str | None = None,
) -> UnifiedConfig:
    """A built-in profile with overlays and the keyword shorthands; no file, no environment."""

    return load_config(
        profile=normalize_profile(name, source="load_profile()"),
        overlays=overlays,
        workspace=workspace,
        project_name=project_name,
        use_env=False,
    )


def make_local_config(
    *,
    overlays: str | Iterable[str] | None = None,
    config_file: str | Path | None = None,
    config: UnifiedConfig | Mapping[str, Any] | None = None,
    workspace: str | Path | None = None,
    project_name: str | None = None,
    env: Mapping[str, str] | None = None,
    use_env: bool = True,
) -> UnifiedConfig:
    """``load_config`` with the ``local`` profile."""

    return load_config(
        profile="local",
        overlays=overlays,
        config_file=config_file,
        config=config,
        workspace=workspace,
        project_name=project_name,
        env=env,
        use_env=use_env,
    )


def make_test_config(
    *,
    overlays: str | Iterable[str] | None = None,
    config_file: str | Path | None = None,
    config: UnifiedConfig | Mapping[str, Any] | None = None,
    workspace: str | Path | None = None,
    project_name: str | None = None,
    env: Mapping[str, str] | None = None,
    use_env: bool = False,
) -> UnifiedConfig:
    """``load_config`` with the ``test`` profile; the environment is off by default (as 1.0)."""

    return load_config(
        profile="test",
        overlays=overlays,
        config_file=config_file,
        config=config,
        workspace=workspace,
        project_name=project_name,
        env=env,
        use_env=use_env,
    )
