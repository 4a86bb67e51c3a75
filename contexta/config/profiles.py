"""Built-in profiles (``local``, ``test``) and overlays (``debug``, ``ci``, ``readonly``, ``forensic``).

A profile is a patch over the schema defaults; overlays are patches applied on top of it, in
the fixed order ``debug``, ``forensic``, ``ci``, ``readonly`` whatever order they were asked
for (a later one wins where two set the same field, as in 1.0). The contents are 1.0's, except
that ``records.durability_mode`` is ``"flush"`` in every profile (our default).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from ..common.errors import ConfigurationError
from ._schema import deep_merge, normalize_patch
from .models import PROFILE_NAMES, PROFILE_OVERLAY_NAMES, UnifiedConfig

__all__ = [
    "OVERLAY_APPLICATION_ORDER",
    "OVERLAY_PATCHES",
    "PROFILE_PATCHES",
    "normalize_overlays",
    "normalize_profile",
    "profile_spec",
]

# Read-only views; every nested mapping is copied before use.
PROFILE_PATCHES: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        "local": {
            "profile_name": "local",
            "workspace": {"root_path": ".contexta"},
            "capture": {
                "capture_environment_snapshot": True,
                "capture_installed_packages": True,
                "capture_code_revision": True,
                "capture_config_snapshot": True,
                "dispatch_failure_mode": "raise",
            },
            "records": {"durability_mode": "flush"},
            "artifacts": {"verification_mode": "manifest_if_available"},
            "surfaces": {"http": {"enabled": False}, "cli": {"verbosity": "normal"}},
            "security": {"redaction_mode": "safe_default"},
        },
        "test": {
            "profile_name": "test",
            "project_name": "test",
            "workspace": {"root_path": ".contexta-test"},
            "capture": {
                "capture_environment_snapshot": False,
                "capture_installed_packages": False,
                "capture_code_revision": False,
                "capture_config_snapshot": True,
                "retry_attempts": 0,
                "dispatch_failure_mode": "raise",
            },
            "records": {"durability_mode": "flush"},
            "artifacts": {"verification_mode": "strict"},
            "surfaces": {
                "http": {"enabled": False},
                "html": {"enabled": False},
                "notebook": {"enabled": False},
            },
            "security": {"redaction_mode": "strict"},
            "recovery": {"create_backup_before_restore": False},
        },
    }
)

OVERLAY_PATCHES: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        "debug": {
            "surfaces": {"cli": {"verbosity": "debug"}},
            "interpretation": {
                "diagnostics": {"detect_degraded_records": True},
                "reports": {"include_evidence_summary": True},
            },
            "retention": {"cache_ttl_days": None},
        },
        "ci": {
            "surfaces": {
                "cli": {"default_output_format": "json", "color": False},
                "http": {"enabled": False},
            },
            "capture": {"retry_attempts": 0},
        },
        "readonly": {
            "metadata": {"read_only": True},
            "records": {"read_only": True},
            "artifacts": {"read_only": True},
        },
        "forensic": {
            "surfaces": {"cli": {"verbosity": "forensic"}},
            "interpretation": {
                "reports": {"include_lineage_summary": True, "include_evidence_summary": True},
            },
            "retention": {"cache_ttl_days": None, "export_ttl_days": None},
        },
    }
)

OVERLAY_APPLICATION_ORDER: tuple[str, ...] = ("debug", "forensic", "ci", "readonly")


def normalize_profile(value: Any, *, source: str) -> str:
    """Check a profile selector (``local`` or ``test``, surrounding blanks ignored)."""

    candidate = value.strip() if isinstance(value, str) else value
    if candidate not in PROFILE_NAMES:
        raise ConfigurationError(
            f"Unknown profile {value!r} from {source}; use one of: {', '.join(PROFILE_NAMES)}.",
            code="invalid_profile_selector",
            details={"source": source, "value": value, "allowed": PROFILE_NAMES},
        )
    return str(candidate)


def normalize_overlays(value: str | Iterable[Any] | None, *, source: str) -> tuple[str, ...]:
    """Check overlay selectors (a comma list or a sequence); return them in application order."""

    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else [str(item) for item in value]
    names = {item.strip() for item in items if item.strip()}
    invalid = sorted(names - set(PROFILE_OVERLAY_NAMES))
    if invalid:
        raise ConfigurationError(
            f"Unknown profile overlay(s) {', '.join(map(repr, invalid))} from {source}; "
            f"use any of: {', '.join(PROFILE_OVERLAY_NAMES)}.",
            code="invalid_profile_selector",
            details={"source": source, "invalid": invalid, "allowed": PROFILE_OVERLAY_NAMES},
        )
    return tuple(name for name in OVERLAY_APPLICATION_ORDER if name in names)


def profile_spec(profile: str, overlays: Iterable[str] = ()) -> dict[str, Any]:
    """The typed spec of a profile with its overlays (relative paths resolved now)."""

    patch: dict[str, Any] = deep_merge({}, PROFILE_PATCHES[profile])
    label = f"profile {profile!r}"
    for overlay in overlays:
        patch = deep_merge(patch, OVERLAY_PATCHES[overlay])
        label += f" + overlay {overlay!r}"
    spec, _ = normalize_patch(UnifiedConfig, patch, source=label)
    return spec
