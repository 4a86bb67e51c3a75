"""Reads of deployments, batches, samples, environments, artifacts, relations and provenance
for the queries, as of a transaction time, and the snapshot parts built from them.

Everything here reads projections through one :class:`EntityReader` bound to a workspace and an
optional ``as_of_us``: rows committed after it are invisible, and the latest version of each
entity (greatest seq per ref) is the one seen. Orders and scopes are 1.0's (contract 4.2, 4.4).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from projections import as_of, latest_per
from projections.query import seq_per, take_rows

from ..common.errors import InterpretationError
from ..contract import StableRef
from ..events import (
    ARTIFACT_PUT,
    BATCH_PUT,
    DEPLOYMENT_PUT,
    ENVIRONMENT_PUT,
    PROVENANCE_PUT,
    RELATION_PUT,
    SAMPLE_PUT,
    STAGE_PUT,
)
from ..ordering import (
    batch_order,
    deployment_order,
    relation_order,
    sample_batch_order,
    sample_order,
)
from .results import (
    ArtifactRecord,
    BatchRecord,
    DeploymentRecord,
    EvidenceLink,
    ProvenanceView,
    RelationRecord,
    SampleRecord,
)

if TYPE_CHECKING:
    from ..workspace import Workspace
    from .workspace_queries import QueryService

__all__ = [
    "EntityReader",
    "artifact_record",
    "batch_record",
    "deployment_record",
    "provenance_view",
    "relation_record",
    "sample_record",
    "snapshot_extras",
]


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


#: (projection, column) lookups whose rows hold every version of the refs they find: the
#: column is fixed by the ref. A stage's ref is ``<run>.<stage name>`` (the contract checks it
#: on every put and decode), so every version of a stage has its run's ref, and a run's rows
#: hold every version of its stages (at 100k runs this spares a scan of 300k stage refs, 6-10
#: ms, in each snapshot).
_CLOSED_LOOKUPS = frozenset({("stages", "run_ref")})


class EntityReader:
    """Latest entity versions as of ``as_of_us``.

    Lookups by run, stage, project, ref or relation endpoint go through incremental indexes
    (value -> row numbers of the append-only projection, extended as it grows), so their cost
    follows the size of the answer, not of the workspace: the rows carrying the value are
    found, then each is kept only if it is its entity's latest version as of ``as_of_us``.
    ``shared`` keeps the relation-endpoint index between readers (a query service's dict).
    """

    def __init__(
        self, ws: Workspace, as_of_us: int | None, shared: dict[object, Any] | None = None
    ) -> None:
        self.ws = ws
        self.as_of_us = as_of_us
        self._shared: dict[object, Any] = shared if shared is not None else {}
        self._cache: dict[Any, Any] = {}

    def _table(self, name: str) -> pa.Table:
        """The whole projection (all versions) at this reader's one read-your-writes point."""
        key = ("table", name)
        table = self._cache.get(key)
        if table is None:
            head = self._cache.get("head")
            if head is None:
                head = self._cache["head"] = self.ws.read_head()
            table = self._cache[key] = self.ws.table(name, head=head)
        return table

    def _index(self, name: str, column: str) -> tuple[pa.Table, Mapping[Any, list[int]]]:
        """``column`` value -> row numbers: the workspace's row index (the saved one looked up
        value by value, rows folded since grouped with Arrow), at this reader's head."""
        key = ("index", name, column)
        found = self._cache.get(key)
        if found is None:
            self._table(name)  # pins this reader's head
            head = self._cache["head"]
            pinned = self.ws.pinned()
            if pinned is not None and pinned.head.seq == head.seq:
                found = self.ws.index(name, column)  # the read's snapshot
            else:
                found = self.ws.index(name, column, head=head)
            self._cache[key] = found
        return found  # type: ignore[no-any-return]

    def _current(
        self, name: str, table: pa.Table, rows: list[int], *, closed: bool = False
    ) -> list[int]:
        """The rows among ``rows`` that are their entity's latest version as of ``as_of_us``:
        every version of their refs is found with one Arrow ``is_in`` over the ref column, and
        a row is kept when its seq is the greatest of its ref's visible versions. With
        ``closed``, ``rows`` already hold every version of their refs (see
        :data:`_CLOSED_LOOKUPS`), so only they are looked at, not the whole ref column."""
        limit = table.num_rows  # indexes may have grown past this reader's table: ignore that
        rows = [r for r in rows if r < limit]
        if not rows:
            return []
        if closed:
            taken = take_rows(table.select(["ref", "seq", "tx_time"]), rows)
            picked = taken.select(["ref", "seq"])
            versions = as_of(taken, self.as_of_us)
        else:
            picked = take_rows(table.select(["ref", "seq"]), rows)
            refs = pc.unique(picked.column("ref"))
            versions = table.select(["ref", "seq", "tx_time"])
            versions = as_of(
                versions.filter(pc.is_in(versions.column("ref"), value_set=refs)), self.as_of_us
            )
        latest = seq_per(versions.column("ref"), versions.column("seq"), last=True)
        keep = pc.is_in(picked.column("seq"), value_set=latest).to_pylist()
        return [row for row, kept in zip(rows, keep, strict=True) if kept]

    def _models(self, name: str, kind: str, table: pa.Table, rows: list[int]) -> list[Any]:
        if not rows:
            return []
        return self.ws.models(take_rows(table, sorted(rows)), kind)

    def _where(self, name: str, kind: str, column: str, value: str) -> list[Any]:
        key = (name, column, value)
        found = self._cache.get(key)
        if found is None:
            table, by_value = self._index(name, column)
            rows = self._current(
                name,
                table,
                sorted(set(by_value.get(value, ()))),
                closed=(name, column) in _CLOSED_LOOKUPS,
            )
            found = self._cache[key] = self._models(name, kind, table, rows)
        return list(found)

    def _all(self, name: str, kind: str) -> list[Any]:
        """Every entity of a projection (for the workspace-wide lookups)."""
        table = latest_per(self.ws.table(name, as_of_us=self.as_of_us))
        return self.ws.models(table, kind)

    # ------------------------------------------------------------------ run-scoped entities

    def deployments_of_run(self, run_ref: str) -> list[Any]:
        return sorted(
            self._where("deployments", DEPLOYMENT_PUT, "run_ref", run_ref), key=deployment_order
        )

    def deployments_of_project(self, project_ref: str) -> list[Any]:
        rows = self._where("deployments", DEPLOYMENT_PUT, "project_ref", project_ref)
        return sorted(rows, key=lambda d: (d.deployment_name, *deployment_order(d)))

    def all_deployments(self) -> list[Any]:
        return sorted(
            self._all("deployments", DEPLOYMENT_PUT),
            key=lambda d: (str(d.project_ref), d.deployment_name, *deployment_order(d)),
        )

    def stages_of(self, run_ref: str) -> list[Any]:
        from ..ordering import stage_order

        return sorted(self._where("stages", STAGE_PUT, "run_ref", run_ref), key=stage_order)

    def all_stages(self) -> list[Any]:
        return self._all("stages", STAGE_PUT)

    def batches_of_run(self, run_ref: str) -> list[Any]:
        rows = self._where("batches", BATCH_PUT, "run_ref", run_ref)
        return sorted(rows, key=lambda b: (str(b.stage_execution_ref), *batch_order(b)))

    def batches_of_stage(self, stage_ref: str) -> list[Any]:
        return sorted(self._where("batches", BATCH_PUT, "stage_ref", stage_ref), key=batch_order)

    def samples_of_run(self, run_ref: str) -> list[Any]:
        rows = self._where("samples", SAMPLE_PUT, "run_ref", run_ref)
        return sorted(rows, key=lambda s: (str(s.stage_execution_ref), *sample_batch_order(s)))

    def samples_of_stage(self, stage_ref: str) -> list[Any]:
        return sorted(
            self._where("samples", SAMPLE_PUT, "stage_ref", stage_ref), key=sample_batch_order
        )

    def samples_of_batch(self, batch_ref: str) -> list[Any]:
        stage = "stage:" + batch_ref.split(":", 1)[1].rsplit(".", 1)[0]
        rows = [
            s
            for s in self._where("samples", SAMPLE_PUT, "stage_ref", stage)
            if _opt(s.batch_execution_ref) == batch_ref
        ]
        return sorted(rows, key=sample_order)

    def environments_of(self, run_ref: str) -> list[Any]:
        from ..contract.timestamps import timestamp_micros

        rows = self._where("environments", ENVIRONMENT_PUT, "run_ref", run_ref)
        return sorted(
            rows, key=lambda e: (timestamp_micros(e.captured_at), str(e.environment_snapshot_ref))
        )

    # ------------------------------------------------------------------ artifacts

    def artifacts_of_run(self, run_ref: str) -> list[Any]:
        """Artifact manifests whose run_ref is the run, by ref (1.0 lists bindings by file
        name, which sorts like the ref)."""
        rows = self._where("artifacts", ARTIFACT_PUT, "run_ref", run_ref)
        return sorted(rows, key=lambda a: str(a.artifact_ref))

    def artifacts_of_stage(self, stage_ref: str) -> list[Any]:
        rows = self._where("artifacts", ARTIFACT_PUT, "stage_ref", stage_ref)
        return sorted(rows, key=lambda a: str(a.artifact_ref))

    def artifact_refs(self) -> list[str]:
        return sorted(str(a.artifact_ref) for a in self._all("artifacts", ARTIFACT_PUT))

    def artifact(self, ref: str) -> Any | None:
        rows = self._where("artifacts", ARTIFACT_PUT, "ref", ref)
        return rows[-1] if rows else None

    # ------------------------------------------------------------------ relations, provenance

    def _touching(self, ref: str) -> list[Any]:
        """Latest relations (as of) with ``ref`` as source or target, in seq order."""
        key = ("touching", ref)
        found = self._cache.get(key)
        if found is None:
            table = self._table("relations")
            first = table.column("seq")[0].as_py() if table.num_rows else None
            done, seen_first, endpoints = self._shared.get("relation_endpoints", (0, None, {}))
            if done > table.num_rows or (done and seen_first != first):  # projection was reset
                done, endpoints = 0, {}
            if done < table.num_rows:
                edges = self.ws.models(table.slice(done), RELATION_PUT)
                for row, edge in enumerate(edges, start=done):
                    for end in {str(edge.source_ref), str(edge.target_ref)}:
                        endpoints.setdefault(end, []).append(row)
            self._shared["relation_endpoints"] = (table.num_rows, first, endpoints)
            rows = self._current("relations", table, list(endpoints.get(ref, ())))
            found = self._cache[key] = self._models("relations", RELATION_PUT, table, rows)
        return found

    def relations_for_ref(self, ref: str) -> list[Any]:
        """Relations with ``ref`` as source or target, by recorded_at, then ref."""
        return sorted(self._touching(ref), key=relation_order)

    def subject_relations(self, subject: str) -> list[Any]:
        """1.0's relations "of" a ref, sorted by relation ref: a run's include those of its
        stages, artifacts and deployments; a stage's those of its artifacts."""
        refs = {subject}
        if subject.startswith("run:"):
            refs.update(str(s.stage_execution_ref) for s in self.stages_of(subject))
            refs.update(str(a.artifact_ref) for a in self.artifacts_of_run(subject))
            refs.update(str(d.deployment_execution_ref) for d in self.deployments_of_run(subject))
        elif subject.startswith("stage:"):
            refs.update(str(a.artifact_ref) for a in self.artifacts_of_stage(subject))
        found: dict[str, Any] = {}
        for ref in refs:
            for edge in self._touching(ref):
                found[str(edge.relation_ref)] = edge
        return [found[key] for key in sorted(found)]

    def provenance_for_relation(self, relation_ref: str) -> list[Any]:
        """The relation's provenance records, by asserted_at, then ref."""
        from ..contract.timestamps import timestamp_micros

        rows = self._where("provenance", PROVENANCE_PUT, "key", relation_ref)
        return sorted(rows, key=lambda p: (timestamp_micros(p.asserted_at), str(p.provenance_ref)))

    def run_provenance(self, run_ref: str) -> ProvenanceView | None:
        """The latest (by asserted_at; ties to the last found) provenance record among the
        relations of the run, its stages, artifacts and deployments."""
        return latest_provenance(
            run_ref,
            (
                p
                for edge in self.subject_relations(run_ref)
                for p in self.provenance_for_relation(str(edge.relation_ref))
            ),
        )


def latest_provenance(run_id: str, records: Iterable[Any]) -> ProvenanceView | None:
    from ..contract.timestamps import timestamp_micros

    best = None
    best_time = None
    for record in records:
        when = timestamp_micros(record.asserted_at)
        if best_time is None or when >= best_time:
            best, best_time = record, when
    return None if best is None else provenance_view(run_id, best)


# ---------------------------------------------------------------------- result records


def deployment_record(d: Any, names: dict[str, str]) -> DeploymentRecord:
    project = str(d.project_ref)
    return DeploymentRecord(
        deployment_id=str(d.deployment_execution_ref),
        project_name=names.get(project, project.split(":", 1)[1]),
        name=d.deployment_name,
        status=d.status,
        run_id=_opt(d.run_ref),
        artifact_ref=_opt(d.artifact_ref),
        started_at=d.started_at,
        ended_at=d.ended_at,
        order=d.order_index or 0,
    )


def batch_record(b: Any) -> BatchRecord:
    return BatchRecord(
        batch_id=str(b.batch_execution_ref),
        run_id=str(b.run_ref),
        stage_id=str(b.stage_execution_ref),
        name=b.batch_name,
        status=b.status,
        order=b.order_index or 0,
        started_at=b.started_at,
        ended_at=b.ended_at,
    )


def sample_record(s: Any) -> SampleRecord:
    return SampleRecord(
        sample_id=str(s.sample_observation_ref),
        run_id=str(s.run_ref),
        stage_id=str(s.stage_execution_ref),
        batch_id=_opt(s.batch_execution_ref),
        name=s.sample_name,
        observed_at=s.observed_at,
        retention_class=s.retention_class,
        redaction_profile=s.redaction_profile,
    )


#: extension namespace in which the artifact store records what it bound (hash, size, time)
BINDING_NAMESPACE = "contexta.artifact-binding"


def artifact_record(a: Any) -> ArtifactRecord:
    """From the manifest of the ``artifact.put`` event. When the artifact store bound a body,
    hash and size come from that binding (as in 1.0: the body's sha256 and size); otherwise
    from the manifest. ``created_at`` is the manifest's: 1.0 showed the wall-clock time of the
    store call there, which no answer could reproduce."""
    from types import MappingProxyType

    from ..contract.base import plain

    binding = next((e.fields for e in a.extensions if e.namespace == BINDING_NAMESPACE), None)
    attributes = plain(a.attributes) if a.attributes else {}
    return ArtifactRecord(
        artifact_ref=str(a.artifact_ref),
        run_id=str(a.run_ref),
        stage_id=_opt(a.stage_execution_ref),
        kind=a.artifact_kind,
        created_at=a.created_at,
        location=a.location_ref,
        hash_value=binding.get("hash_value", a.hash_value) if binding else a.hash_value,
        size_bytes=binding.get("size_bytes", a.size_bytes) if binding else a.size_bytes,
        attributes=MappingProxyType(dict(sorted(attributes.items()))),
    )


def relation_record(e: Any) -> RelationRecord:
    return RelationRecord(
        relation_ref=str(e.relation_ref),
        relation_type=e.relation_type,
        source_ref=str(e.source_ref),
        target_ref=str(e.target_ref),
        recorded_at=e.recorded_at,
        origin_marker=e.origin_marker,
        confidence_marker=e.confidence_marker,
    )


def provenance_view(run_id: str, p: Any) -> ProvenanceView:
    return ProvenanceView(
        run_id=run_id,
        provenance_ref=str(p.provenance_ref),
        relation_ref=str(p.relation_ref),
        assertion_mode=p.assertion_mode,
        asserted_at=p.asserted_at,
        formation_context_ref=_opt(p.formation_context_ref),
        policy_ref=p.policy_ref,
        evidence_bundle_ref=_opt(p.evidence_bundle_ref),
    )


# ---------------------------------------------------------------------- snapshot parts


def snapshot_extras(q: QueryService, run_ref: str, stages: Sequence[Any]) -> dict[str, Any]:
    """Deployments, batches, samples, artifacts, relations, provenance of a run and their
    evidence links in 1.0's order (deployments right after the run; batches, the first 10
    samples and the artifacts after the stages)."""
    reader = q.entities()
    rows = reader.deployments_of_run(run_ref)
    names = q.project_names() if rows else {}
    deployments = [deployment_record(d, names) for d in rows]
    batches = [batch_record(b) for b in reader.batches_of_run(run_ref)]
    samples = [sample_record(s) for s in reader.samples_of_run(run_ref)]
    artifacts = [artifact_record(a) for a in reader.artifacts_of_run(run_ref)]
    relations: dict[str, Any] = {}
    anchors: list[str] = [str(s.stage_execution_ref) for s in stages]
    for edge in reader.subject_relations(run_ref):
        relations[str(edge.relation_ref)] = edge
    for anchor in anchors:
        for edge in reader.subject_relations(anchor):
            relations[str(edge.relation_ref)] = edge
    for anchor in [b.batch_id for b in batches] + [a.artifact_ref for a in artifacts]:
        for edge in reader.relations_for_ref(anchor):
            relations[str(edge.relation_ref)] = edge
    lead = [EvidenceLink("deployment", d.deployment_id, d.name) for d in deployments]
    links = [EvidenceLink("batch", b.batch_id, b.name) for b in batches]
    links += [EvidenceLink("sample", s.sample_id, s.name) for s in samples[:10]]
    links += [EvidenceLink("artifact", a.artifact_ref, a.kind) for a in artifacts]
    return {
        "deployments": deployments,
        "batches": batches,
        "samples": samples,
        "artifacts": artifacts,
        "relations": [relation_record(relations[key]) for key in sorted(relations)],
        "provenance": reader.run_provenance(run_ref),
        "lead_links": lead,
        "links": links,
    }


# ---------------------------------------------------------------------- id resolution (1.3)


def lookup_run(q: QueryService, run_id: Any) -> str:
    """A run id for list_batches/list_samples/list_deployments: full ``run:`` text verbatim
    (even unknown), ``<proj>.<run>`` (decision 8.1) or a bare last component unique
    workspace-wide; builtin ``LookupError`` otherwise."""
    text = str(run_id).strip()
    if text.startswith("run:"):
        return text
    known = q._run_refs()
    if "." in text and f"run:{text}" in known:
        return f"run:{text}"
    matches = [ref for ref in known if ref.endswith("." + text)]
    if len(matches) == 1:
        return matches[0]
    raise LookupError(f"Run not found: {run_id}")


def _stage_matches(stage: Any, text: str) -> bool:
    ref = str(stage.stage_execution_ref)
    return ref == text or stage.stage_name == text or ref.endswith("." + text)


def lookup_stage(reader: EntityReader, stage_id: Any, run_ref: str | None) -> str:
    """``stage:`` text verbatim; else the unique match in the run by ref, name or suffix;
    else the unique match workspace-wide; builtin ``LookupError`` otherwise."""
    text = str(stage_id).strip()
    if text.startswith("stage:"):
        return text
    if run_ref is not None:
        matches = [s for s in reader.stages_of(run_ref) if _stage_matches(s, text)]
        if len(matches) == 1:
            return str(matches[0].stage_execution_ref)
    matches = [s for s in reader.all_stages() if _stage_matches(s, text)]
    if len(matches) == 1:
        return str(matches[0].stage_execution_ref)
    raise LookupError(f"Stage not found: {stage_id}")


def lookup_artifact(reader: EntityReader, artifact_ref: Any) -> str | None:
    text = str(artifact_ref).strip()
    if text.startswith("artifact:"):
        return text
    matches = [r for r in reader.artifact_refs() if r == text or r.endswith("." + text)]
    return matches[0] if len(matches) == 1 else None


def _checked(text: str, kind: str) -> str:
    """Full ref text as the metadata store would parse it (VE on malformed text)."""
    ref = StableRef.parse(text)
    if ref.kind != kind:
        raise ValueError(f"Expected ref kind '{kind}', got '{ref.kind}'.")
    return str(ref)


def list_deployments(
    q: QueryService, project_name: Any = None, run_id: Any = None
) -> tuple[DeploymentRecord, ...]:
    """Contract 4.4 ``list_deployments``: an unknown project gives ``()``; a run id wins over
    the project filter."""
    reader = q.entities()
    names = q.project_names()
    project_ref = None
    if project_name is not None:
        project_ref = q.first_project_ref(project_name)
        if project_ref is None:
            return ()
    run_ref = None if run_id is None else lookup_run(q, run_id)
    if run_ref is not None:
        rows = reader.deployments_of_run(_checked(run_ref, "run"))
    elif project_ref is not None:
        rows = reader.deployments_of_project(project_ref)
    else:
        rows = reader.all_deployments()
    return tuple(deployment_record(d, names) for d in rows)


def list_batches(q: QueryService, run_id: Any, stage_id: Any = None) -> tuple[BatchRecord, ...]:
    """A run's batches (stage_ref, order_index, started_at, ref), or one stage's (1.0 QUIRK:
    a stage resolved workspace-wide may belong to another run; its batches are returned)."""
    reader = q.entities()
    run_ref = _checked(lookup_run(q, run_id), "run")
    if stage_id is not None:
        stage_ref = _checked(lookup_stage(reader, stage_id, run_ref), "stage")
        return tuple(batch_record(b) for b in reader.batches_of_stage(stage_ref))
    return tuple(batch_record(b) for b in reader.batches_of_run(run_ref))


def list_samples(
    q: QueryService, run_id: Any, stage_id: Any = None, batch_id: Any = None
) -> tuple[SampleRecord, ...]:
    """A run's, a stage's or a batch's samples; a bare batch id is the first match among the
    listed batches by id, name or suffix (builtin ``LookupError`` when none)."""
    reader = q.entities()
    run_ref = _checked(lookup_run(q, run_id), "run")
    stage_ref = None
    if stage_id is not None:
        stage_ref = _checked(lookup_stage(reader, stage_id, run_ref), "stage")
    if batch_id is not None:
        text = str(batch_id).strip()
        if not text.startswith("batch:"):
            batches = list_batches(q, run_id, stage_id)
            found = next(
                (
                    b.batch_id
                    for b in batches
                    if b.batch_id == batch_id
                    or b.name == batch_id
                    or b.batch_id.endswith(f".{batch_id}")
                ),
                None,
            )
            if found is None:
                raise LookupError(f"Batch not found: {batch_id}")
            text = found
        rows = reader.samples_of_batch(_checked(text, "batch"))
    elif stage_ref is not None:
        rows = reader.samples_of_stage(stage_ref)
    else:
        rows = reader.samples_of_run(run_ref)
    return tuple(sample_record(s) for s in rows)


def artifact_origin(q: QueryService, artifact_ref: Any) -> Any:
    """The snapshot of the run that produced an artifact, or None when the artifact is
    unknown; InterpretationError ``query_artifact_origin_incomplete`` when its run is."""
    reader = q.entities()
    ref = lookup_artifact(reader, artifact_ref)
    manifest = None if ref is None else reader.artifact(ref)
    if manifest is None:
        return None
    run_id = str(manifest.run_ref)
    try:
        return q.snapshot(run_id)
    except InterpretationError as exc:
        raise InterpretationError(
            "Artifact exists but the owning run snapshot could not be assembled.",
            code="query_artifact_origin_incomplete",
            details={"artifact_ref": str(manifest.artifact_ref), "run_id": run_id},
            cause=exc,
        ) from exc
