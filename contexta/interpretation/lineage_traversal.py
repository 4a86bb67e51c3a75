"""``traverse_lineage``: breadth-first walk over relations from a subject ref (contract 4.7).

1.0's semantics: directions ``inbound``/``outbound``/``both`` (None means ``both``), depth
limit 2 when None; the relations "of" a run include those of its stages, artifacts and
deployments, a stage's those of its artifacts; each relation is reported once, at the depth it
was first met. Decision 8.10: ``upstream`` and ``downstream`` are accepted as aliases of
``inbound`` and ``outbound``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..contract import StableRef
from .entities import EntityReader, latest_provenance
from .errors import LineageError, LineagePolicyError
from .results import CompletenessNote, EvidenceLink, ProvenanceView, Result

if TYPE_CHECKING:
    from .workspace_queries import QueryService

__all__ = [
    "DIRECTION_ALIASES",
    "LineageEdge",
    "LineagePolicy",
    "LineageService",
    "LineageTraversal",
]

DIRECTIONS = ("inbound", "outbound", "both")
DIRECTION_ALIASES = {"upstream": "inbound", "downstream": "outbound"}


@dataclass(frozen=True, slots=True)
class LineageEdge(Result):
    """One relation met by a traversal (not the contract's ``LineageEdge``)."""

    relation_ref: str
    source_ref: str
    target_ref: str
    relation_type: str
    recorded_at: str
    direction: str
    depth: int
    provenance: ProvenanceView | None = None
    evidence_links: tuple[EvidenceLink, ...] = ()


@dataclass(frozen=True, slots=True)
class LineageTraversal(Result):
    root_ref: str
    edges: tuple[LineageEdge, ...] = ()
    visited_refs: tuple[str, ...] = ()
    completeness_notes: tuple[CompletenessNote, ...] = ()
    evidence_links: tuple[EvidenceLink, ...] = ()


@dataclass(frozen=True, slots=True)
class LineagePolicy:
    default_direction: str = "both"
    default_max_depth: int = 2
    include_provenance: bool = True

    def __post_init__(self) -> None:
        try:
            _direction(self.default_direction)
            _depth(self.default_max_depth, self.default_max_depth)
        except LineageError as exc:
            raise LineagePolicyError(exc.message, code=exc.code, details=exc.details) from None


def _direction(direction: Any) -> str:
    resolved = (
        DIRECTION_ALIASES.get(direction, direction) if isinstance(direction, str) else direction
    )
    if resolved not in DIRECTIONS:
        raise LineageError(
            f"Unsupported lineage direction {direction!r}; use one of inbound, outbound, both "
            "(or upstream, downstream).",
            code="lineage_invalid_direction",
            details={"direction": direction},
        )
    return resolved


def _depth(depth: Any, given: Any) -> int:
    if not isinstance(depth, int) or depth < 0:
        raise LineageError(
            f"max_depth must be a non-negative integer, got {given!r}.",
            code="lineage_invalid_max_depth",
            details={"max_depth": given},
        )
    return depth


def _edge_direction(current: str, edge: Any) -> str:
    source, target = str(edge.source_ref), str(edge.target_ref)
    if source == current and target != current:
        return "outbound"
    if target == current and source != current:
        return "inbound"
    return "both"  # touches only a child ref of ``current``


def _next_refs(current: str, edge: Any, direction: str) -> list[str]:
    source, target = str(edge.source_ref), str(edge.target_ref)
    refs = []
    if direction in ("outbound", "both") and source == current:
        refs.append(target)
    if direction in ("inbound", "both") and target == current:
        refs.append(source)
    if not refs:
        refs = [r for r in (source, target) if r != current]
    return list(dict.fromkeys(refs))


def _run_of(source: str, target: str, relation_ref: str) -> str:
    """1.0's guess of the run an edge belongs to (for its provenance view)."""
    for text in (source, target):
        if text.startswith("run:"):
            return text
        if text.startswith(("stage:", "artifact:", "record:", "op:")):
            parts = text.split(":", 1)[1].split(".")
            if len(parts) >= 2:
                return f"run:{parts[0]}.{parts[1]}"
    return relation_ref


class LineageService:
    """Traverses relations read through a :class:`QueryService` (as-of views included)."""

    def __init__(self, query_service: QueryService, *, config: LineagePolicy | None = None) -> None:
        self.query_service = query_service
        self.config = config or LineagePolicy()

    def traverse_lineage(
        self, subject_ref: Any, *, direction: str | None = None, max_depth: int | None = None
    ) -> LineageTraversal:
        """Edges sorted by relation ref, visited refs in BFS order (root first); the note
        ``lineage_root_has_no_relations`` when the root has none. The root need not exist,
        but must be ``kind:value`` text (ValidationError ``stable_ref_invalid_text``)."""
        way = _direction(self.config.default_direction if direction is None else direction)
        limit = _depth(self.config.default_max_depth if max_depth is None else max_depth, max_depth)
        root = str(StableRef.parse(subject_ref))
        reader = self.query_service.entities()
        queue: deque[tuple[str, int]] = deque([(root, 0)])
        queued = {root}
        visited: list[str] = []
        edges: dict[str, LineageEdge] = {}
        notes: list[CompletenessNote] = []
        while queue:
            current, depth = queue.popleft()
            visited.append(current)
            relations = reader.subject_relations(current)
            if not relations and depth == 0:
                notes.append(
                    CompletenessNote("info", "lineage_root_has_no_relations", {"root_ref": root})
                )
            for edge in relations:
                edge_way = _edge_direction(current, edge)
                if way != "both" and edge_way != way:
                    continue
                ref = str(edge.relation_ref)
                if ref not in edges:
                    edges[ref] = self._edge(reader, edge, edge_way, depth)
                if depth == limit:
                    continue
                for nxt in _next_refs(current, edge, way):
                    if nxt not in queued:
                        queued.add(nxt)
                        queue.append((nxt, depth + 1))
        links = dict.fromkeys(link for e in edges.values() for link in e.evidence_links)
        return LineageTraversal(
            root_ref=root,
            edges=tuple(edges[k] for k in sorted(edges)),
            visited_refs=tuple(dict.fromkeys(visited)),
            completeness_notes=tuple(notes),
            evidence_links=tuple(links),
        )

    def _edge(self, reader: EntityReader, edge: Any, direction: str, depth: int) -> LineageEdge:
        source, target, ref = str(edge.source_ref), str(edge.target_ref), str(edge.relation_ref)
        provenance = None
        if self.config.include_provenance:
            provenance = latest_provenance(
                _run_of(source, target, ref), reader.provenance_for_relation(ref)
            )
        return LineageEdge(
            relation_ref=ref,
            source_ref=source,
            target_ref=target,
            relation_type=edge.relation_type,
            recorded_at=edge.recorded_at,
            direction=direction,
            depth=depth,
            provenance=provenance,
            evidence_links=(
                EvidenceLink("relation", ref, edge.relation_type),
                EvidenceLink("ref", source, source),
                EvidenceLink("ref", target, target),
            ),
        )
