"""Provenance and environments: reproducibility audits, environment diffs, and the parts of a
run comparison about what the runs were made from and what they made (artifact changes,
artifact kind counts, provenance comparison). Contract 4.5 and 4.8.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .comparison_results import ArtifactChange, ArtifactKindCountRow, ProvenanceComparison
from .errors import ProvenanceError
from .results import (
    CompletenessNote,
    EvidenceLink,
    ProvenanceView,
    Result,
    RunSnapshot,
)

if TYPE_CHECKING:
    from .workspace_queries import QueryService

__all__ = [
    "EnvironmentDiff",
    "EnvironmentValueChange",
    "ProvenanceError",
    "ProvenanceService",
    "ReproducibilityAudit",
    "artifact_changes",
    "artifact_kind_counts",
    "provenance_comparison",
]


@dataclass(frozen=True, slots=True)
class EnvironmentValueChange(Result):
    key: str
    left_value: str | None
    right_value: str | None


@dataclass(frozen=True, slots=True)
class EnvironmentDiff(Result):
    left_run_id: str
    right_run_id: str
    left_environment_ref: str | None
    right_environment_ref: str | None
    python_version_changed: bool
    platform_changed: bool
    added_packages: tuple[EnvironmentValueChange, ...] = ()
    removed_packages: tuple[EnvironmentValueChange, ...] = ()
    changed_packages: tuple[EnvironmentValueChange, ...] = ()
    added_variables: tuple[EnvironmentValueChange, ...] = ()
    removed_variables: tuple[EnvironmentValueChange, ...] = ()
    changed_variables: tuple[EnvironmentValueChange, ...] = ()
    completeness_notes: tuple[CompletenessNote, ...] = ()
    evidence_links: tuple[EvidenceLink, ...] = ()


@dataclass(frozen=True, slots=True)
class ReproducibilityAudit(Result):
    run_id: str
    provenance: ProvenanceView | None
    environment_ref: str | None
    python_version: str | None
    platform: str | None
    package_count: int
    environment_variable_count: int
    reproducibility_status: str
    completeness_notes: tuple[CompletenessNote, ...] = ()
    evidence_links: tuple[EvidenceLink, ...] = ()


def _note(severity: str, summary: str, **details: Any) -> CompletenessNote:
    return CompletenessNote(severity, summary, MappingProxyType(dict(sorted(details.items()))))


class ProvenanceService:
    """Reproducibility audits and environment diffs over a :class:`QueryService` (so as-of
    views answer as of their transaction time)."""

    def __init__(self, query_service: QueryService) -> None:
        self.query_service = query_service

    def latest_environment(self, run_ref: str) -> Any | None:
        """The run's latest environment snapshot by captured_at (ties: the greatest ref)."""
        snapshots = self.query_service.entities().environments_of(run_ref)
        return snapshots[-1] if snapshots else None

    def audit_reproducibility(self, run_id: Any) -> ReproducibilityAudit:
        """``complete`` with provenance and an environment snapshot, ``partial`` with one of
        them, ``missing`` with neither."""
        snapshot = self.query_service.snapshot(run_id)
        run_ref = snapshot.run.run_id
        env = self.latest_environment(run_ref)
        prov = snapshot.provenance
        notes = []
        if prov is None:
            notes.append(_note("warning", "provenance_missing", run_id=run_ref))
        if env is None:
            notes.append(_note("warning", "environment_snapshot_missing", run_id=run_ref))
        elif not env.packages:
            notes.append(
                _note(
                    "info",
                    "environment_packages_empty",
                    run_id=run_ref,
                    environment_ref=str(env.environment_snapshot_ref),
                )
            )
        if prov is not None and prov.evidence_bundle_ref is None:
            notes.append(
                _note(
                    "info",
                    "provenance_evidence_bundle_missing",
                    run_id=run_ref,
                    provenance_ref=prov.provenance_ref,
                )
            )
        links = [EvidenceLink("run", run_ref, snapshot.run.name)]
        if prov is not None:
            links.append(EvidenceLink("provenance", prov.provenance_ref, prov.assertion_mode))
        if env is not None:
            links.append(
                EvidenceLink("environment", str(env.environment_snapshot_ref), env.platform)
            )
        has = (prov is not None) + (env is not None)
        return ReproducibilityAudit(
            run_id=run_ref,
            provenance=prov,
            environment_ref=None if env is None else str(env.environment_snapshot_ref),
            python_version=None if env is None else env.python_version,
            platform=None if env is None else env.platform,
            package_count=0 if env is None else len(env.packages),
            environment_variable_count=0 if env is None else len(env.environment_variables),
            reproducibility_status=("missing", "partial", "complete")[has],
            completeness_notes=tuple(notes),
            evidence_links=tuple(links),
        )

    def compare_environments(self, left_run_id: Any, right_run_id: Any) -> EnvironmentDiff:
        """Python version, platform, packages and variables of the two runs' latest
        environment snapshots; a missing snapshot counts as empty and adds a note."""
        left = self.query_service.snapshot(left_run_id)
        right = self.query_service.snapshot(right_run_id)
        envs = [self.latest_environment(s.run.run_id) for s in (left, right)]
        notes = [
            _note("warning", f"{side}_environment_snapshot_missing", run_id=snap.run.run_id)
            for side, snap, env in (("left", left, envs[0]), ("right", right, envs[1]))
            if env is None
        ]
        links = [EvidenceLink("run", s.run.run_id, s.run.name) for s in (left, right)]
        links += [
            EvidenceLink("environment", str(e.environment_snapshot_ref), e.platform)
            for e in envs
            if e is not None
        ]
        packages = [dict(e.packages) if e is not None else {} for e in envs]
        variables = [dict(e.environment_variables) if e is not None else {} for e in envs]
        return EnvironmentDiff(
            left_run_id=left.run.run_id,
            right_run_id=right.run.run_id,
            left_environment_ref=_env_ref(envs[0]),
            right_environment_ref=_env_ref(envs[1]),
            python_version_changed=_field(envs[0], "python_version")
            != _field(envs[1], "python_version"),
            platform_changed=_field(envs[0], "platform") != _field(envs[1], "platform"),
            added_packages=_added(*packages),
            removed_packages=_added(packages[1], packages[0], removed=True),
            changed_packages=_changed(*packages),
            added_variables=_added(*variables),
            removed_variables=_added(variables[1], variables[0], removed=True),
            changed_variables=_changed(*variables),
            completeness_notes=tuple(notes),
            evidence_links=tuple(links),
        )


def _env_ref(env: Any) -> str | None:
    return None if env is None else str(env.environment_snapshot_ref)


def _field(env: Any, name: str) -> Any:
    return None if env is None else getattr(env, name)


def _added(
    left: Mapping[str, str], right: Mapping[str, str], *, removed: bool = False
) -> tuple[EnvironmentValueChange, ...]:
    """Keys only in ``right`` (for ``removed``: called with the sides swapped)."""
    keys = sorted(set(right) - set(left))
    if removed:
        return tuple(EnvironmentValueChange(k, right[k], None) for k in keys)
    return tuple(EnvironmentValueChange(k, None, right[k]) for k in keys)


def _changed(
    left: Mapping[str, str], right: Mapping[str, str]
) -> tuple[EnvironmentValueChange, ...]:
    return tuple(
        EnvironmentValueChange(k, left[k], right[k])
        for k in sorted(set(left) & set(right))
        if left[k] != right[k]
    )


# ---------------------------------------------------------------------- run comparison parts


def _artifact_links(items: Sequence[Any]) -> tuple[EvidenceLink, ...]:
    return tuple(EvidenceLink("artifact", a.artifact_ref, a.kind) for a in items)


def artifact_changes(left: Sequence[Any], right: Sequence[Any]) -> list[ArtifactChange]:
    """Per kind (sorted): only right ``added``, only left ``removed``, not one on each side
    ``ambiguous``; one each: omitted when hash and location agree, else ``changed``."""
    groups: dict[str, tuple[list[Any], list[Any]]] = {}
    for side, items in enumerate((left, right)):
        for item in items:
            groups.setdefault(item.kind, ([], []))[side].append(item)
    changes = []
    for kind in sorted(groups):
        lg, rg = groups[kind]
        if not lg:
            changes.append(
                ArtifactChange(kind, None, rg[0].artifact_ref, "added", _artifact_links(rg))
            )
        elif not rg:
            changes.append(
                ArtifactChange(kind, lg[0].artifact_ref, None, "removed", _artifact_links(lg))
            )
        elif len(lg) != 1 or len(rg) != 1:
            changes.append(
                ArtifactChange(
                    kind,
                    lg[0].artifact_ref,
                    rg[0].artifact_ref,
                    "ambiguous",
                    change_detail=f"left={len(lg)}, right={len(rg)}",
                )
            )
        else:
            a, b = lg[0], rg[0]
            hash_changed = a.hash_value != b.hash_value
            location_changed = a.location != b.location
            if not hash_changed and not location_changed:
                continue
            detail = (
                "both_changed"
                if hash_changed and location_changed
                else "hash_changed"
                if hash_changed
                else "location_changed"
            )
            changes.append(
                ArtifactChange(
                    kind, a.artifact_ref, b.artifact_ref, "changed", _artifact_links((a, b)), detail
                )
            )
    return changes


def artifact_kind_counts(snapshots: Sequence[RunSnapshot]) -> list[ArtifactKindCountRow]:
    """Per artifact kind (sorted), each run's count of artifacts of that kind."""
    counts: dict[str, list[int]] = {}
    for position, snapshot in enumerate(snapshots):
        for artifact in snapshot.artifacts:
            counts.setdefault(artifact.kind, [0] * len(snapshots))[position] += 1
    return [ArtifactKindCountRow(kind, tuple(counts[kind])) for kind in sorted(counts)]


def provenance_comparison(left: RunSnapshot, right: RunSnapshot) -> ProvenanceComparison | None:
    """Which of formation context (code revision), policy (config hash), run metadata
    (environment) and evidence bundle (dataset refs) differ; None without any provenance."""
    lp, rp = left.provenance, right.provenance
    if lp is None and rp is None:
        return None

    def value(view: ProvenanceView | None, name: str) -> Any:
        return None if view is None else getattr(view, name)

    return ProvenanceComparison(
        code_revision_changed=value(lp, "formation_context_ref")
        != value(rp, "formation_context_ref"),
        config_hash_changed=value(lp, "policy_ref") != value(rp, "policy_ref"),
        environment_changed=sorted(left.run.metadata.items()) != sorted(right.run.metadata.items()),
        dataset_refs_changed=value(lp, "evidence_bundle_ref") != value(rp, "evidence_bundle_ref"),
        left_provenance=lp,
        right_provenance=rp,
    )
