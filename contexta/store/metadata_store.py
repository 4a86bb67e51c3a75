"""``ctx.metadata_store``: write views over the ledger for metadata entities.

Every ``put_*`` is one ledger event (an upsert: the latest version wins, every version stays in
the ledger); ``get/find/exists/list`` read the projections. Orders follow 1.0's SQL (strings
bytewise, ``NULL`` order indexes and batch refs last) except that timestamps compare as instants
(decision 8.6).
"""

from __future__ import annotations

from typing import Any

from ..common.errors import NotFoundError, ReadOnlyStoreError
from ..events import (
    PROVENANCE_PUT,
    RELATION_PUT,
)
from ..ordering import nulls_last
from ..ordering import stage_order as stage_order  # read here by the interpretation layer
from ..workspace import Workspace
from .metadata_checks import build_run_snapshot, check_integrity
from .metadata_entities import (
    BatchRepository,
    DeploymentRepository,
    EnvironmentRepository,
    ProvenanceRepository,
    RelationRepository,
    SampleRepository,
)
from .repository import (
    ENTITY_TABLES,
    ProjectRepository,
    Repository,
    RunRepository,
    StageRepository,
    parse_ref,
    ref_arg,
    registered_refs,
)

__all__ = [
    "MetadataStore",
    "Repository",
    "nulls_last",
    "parse_ref",
    "ref_arg",
    "registered_refs",
]


class MetadataStore:
    """Repositories of metadata entities over one workspace."""

    def __init__(self, workspace: Workspace | Any, *, read_only: bool = False) -> None:
        if not isinstance(workspace, Workspace):  # 1.0's MetadataStore(MetadataStoreConfig(...))
            from .standalone import open_standalone

            workspace, from_config = open_standalone(workspace)
            read_only = read_only or from_config
        self._workspace = workspace
        self.read_only = read_only
        self.projects = ProjectRepository(self)
        self.runs = RunRepository(self)
        self.stages = StageRepository(self)
        self._registry: tuple[int, int, set[str]] = (0, 0, set())
        self._extra_repositories()

    @property
    def opened_workspace(self) -> Workspace | None:
        """The workspace this store is opened on (None before it opens one): what a repository
        over the stores reads."""
        return self._workspace

    def _extra_repositories(self) -> None:
        """The repositories of the remaining entities."""
        self.deployments = DeploymentRepository(self)
        self.batches = BatchRepository(self)
        self.samples = SampleRepository(self)
        self.environments = EnvironmentRepository(self)
        self.relations = RelationRepository(self)
        self.provenance = ProvenanceRepository(self)

    def _check_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyStoreError(
                "The metadata store is read-only (metadata.read_only is set).",
                code="metadata_store_read_only",
            )

    # ------------------------------------------------------------------ ref registry

    def _registered(self) -> set[str]:
        """Refs registered by relation and provenance puts (every version), folded
        incrementally as those append-only projections grow."""
        ws = self._workspace
        edges = ws.table("relations")
        records = ws.table("provenance")
        seen_edges, seen_records, refs = self._registry
        if seen_edges > edges.num_rows or seen_records > records.num_rows:
            seen_edges, seen_records, refs = 0, 0, set()
        if seen_edges < edges.num_rows or seen_records < records.num_rows:
            refs = refs | registered_refs(
                ws.models(edges.slice(seen_edges), RELATION_PUT),
                ws.models(records.slice(seen_records), PROVENANCE_PUT),
            )
        self._registry = (edges.num_rows, records.num_rows, refs)
        return refs

    def _ref_known(self, text: str) -> bool:
        kind = text.split(":", 1)[0]
        table = ENTITY_TABLES.get(kind)
        if table is not None and self._workspace.exists(table[0], table[1], text):
            return True
        return text in self._registered()

    def _require_known_ref(self, text: str) -> None:
        if not self._ref_known(text):
            raise NotFoundError(
                f"Relation endpoint {text!r} is neither a stored entity nor a registered ref; "
                "put it first (artifact: and op: endpoints need no registration).",
                code="metadata_ref_not_found",
                details={"ref": text},
            )

    def list_registered_refs(self) -> tuple[str, ...]:
        """Every ref the store knows: stored entities plus refs registered by relations and
        provenance, sorted."""
        refs = set(self._registered())
        for _, projection in ENTITY_TABLES.values():
            table = self._workspace.table(projection)
            refs.update(table.column("ref").to_pylist())
        return tuple(sorted(refs))

    # ------------------------------------------------------------------ checks, snapshots

    def check_integrity(self, *, full: bool = True) -> Any:
        """1.0's metadata integrity scan (owners of runs, stages, environments, relation
        endpoints, provenance relations); see :mod:`contexta.store.metadata_checks`."""
        return check_integrity(self, full=full)

    def build_run_snapshot(self, run_ref: Any) -> Any:
        """The metadata-only snapshot of one run (1.0's ``build_run_snapshot``)."""
        return build_run_snapshot(self, run_ref)

    # ------------------------------------------------------------------ 1.0's maintenance API

    def get_store_schema_version(self) -> str:
        """The version of the projections this store reads (see :mod:`.maintenance`)."""
        from .maintenance import get_store_schema_version

        return get_store_schema_version(self)

    @classmethod
    def inspect_schema(cls, config: Any, *, target_version: str | None = None) -> Any:
        from .maintenance import inspect_schema

        return inspect_schema(config, target_version=target_version)

    @classmethod
    def migrate_for(cls, config: Any, *, target_version: str | None = None) -> Any:
        from .maintenance import migrate_for

        return migrate_for(config, target_version=target_version)

    # ------------------------------------------------------------------ lifetime

    def close(self) -> None:
        """Commit buffered writes and save projections. The store stays usable afterwards:
        the next call reopens what it needs."""
        self._workspace.close()

    def flush(self) -> None:
        self._workspace.flush()

    def __enter__(self) -> MetadataStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
