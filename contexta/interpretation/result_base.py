"""What every query result type shares (``Result``), and the three types the comparisons name
as well as the snapshots (``EvidenceLink``, ``CompletenessNote``, ``ProvenanceView``).

They are members of :mod:`.results` (their ``__module__``, for repr and pickles), which imports
them from here: this module imports neither :mod:`.results` nor :mod:`.comparison_results`,
so both can import it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

from ..common.dataclass_methods import DataclassMethods

__all__ = ["CompletenessNote", "EvidenceLink", "ProvenanceView", "Result"]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _empty() -> Mapping[str, Any]:
    return _EMPTY


def _plain(value: Any) -> Any:
    if isinstance(value, Result):
        return value.to_dict()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


class Result(DataclassMethods):
    """Mixin: ``to_dict`` over dataclass fields; ``==``, ``hash`` and ``repr`` as a frozen
    dataclass generates them, from :class:`~contexta.common.dataclass_methods.DataclassMethods`
    (the classes below pass ``eq=False, repr=False``: their import takes 13 ms instead of
    21-27, paid by every process's first query)."""

    __module__ = "contexta.interpretation.results"  # its public home
    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class EvidenceLink(Result):
    __module__ = "contexta.interpretation.results"  # its public home
    kind: str
    ref: str
    label: str | None = None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class CompletenessNote(Result):
    __module__ = "contexta.interpretation.results"  # its public home
    severity: str
    summary: str
    details: Mapping[str, Any] = field(default_factory=_empty)
    evidence_links: tuple[EvidenceLink, ...] = ()


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class ProvenanceView(Result):
    __module__ = "contexta.interpretation.results"  # its public home
    run_id: str
    provenance_ref: str
    relation_ref: str
    assertion_mode: str
    asserted_at: str
    formation_context_ref: str | None = None
    policy_ref: str | None = None
    evidence_bundle_ref: str | None = None
