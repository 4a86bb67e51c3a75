"""Contexta 1.0's deeper import paths, served from one table.

1.0 split its packages into many small modules (``contexta.interpretation.query.service``,
``contexta.contract.models.records``, ...). Here each of those names is an alias of the module
that holds the same public names, and a few real modules answer extra 1.0 names by forwarding
them. :func:`install` puts one finder at the front of ``sys.meta_path``; it does nothing until a
listed name is imported, so ``import contexta`` pays for one dict and one list entry.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib import import_module
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from importlib.abc import Loader

__all__ = ["FORWARDS", "MODULES", "install"]

_I = "contexta.interpretation"

#: 1.0 module path -> the module here that holds its public names
MODULES: dict[str, str] = {
    "contexta.api": "contexta",
    "contexta.api.client": "contexta",
    "contexta.common.time": "contexta.contract.timestamps",
    "contexta.adapters.notebook": "contexta.notebook",
    "contexta.surfaces.notebook": "contexta.notebook",
    "contexta.surfaces.export": "contexta.adapters.export",
    "contexta.surfaces.html": "contexta.adapters.html",
    "contexta.runtime": "contexta.capture",
    "contexta.runtime.session": "contexta.capture.session",
    "contexta.runtime.scopes": "contexta.capture.scopes",
}

_RECORD_NAMES = (
    "RECORD_TYPES",
    "COMPLETENESS_MARKERS",
    "DEGRADATION_MARKERS",
    "CorrelationRefs",
    "RecordEnvelope",
    "MetricRecord",
    "StructuredEventRecord",
    "TraceSpanRecord",
    "DegradedRecord",
    "PRODUCER_REF_PATTERN",
)
_PAYLOAD_NAMES = (
    "ORIGIN_MARKERS",
    "EVENT_LEVELS",
    "METRIC_AGGREGATION_SCOPES",
    "TRACE_SPAN_STATUSES",
    "TRACE_SPAN_KINDS",
    "DEGRADED_CATEGORIES",
    "DEGRADED_SEVERITIES",
    "MetricPayload",
    "StructuredEventPayload",
    "TraceSpanPayload",
    "DegradedPayload",
)
_LINEAGE_NAMES = (
    "RELATION_TYPES",
    "LINEAGE_ORIGIN_MARKERS",
    "ASSERTION_MODES",
    "CONFIDENCE_MARKERS",
    "LineageEdge",
    "ProvenanceRecord",
)

#: modules renamed in this package -> their new names, for code of the package (the HTTP
#: surface) that still imports the old ones; not 1.0 paths, and not public
RENAMED: dict[str, str] = {
    f"{_I}.queries": f"{_I}.workspace_queries",
    f"{_I}.stored": f"{_I}.body_decoding",
    f"{_I}.alerts": f"{_I}.alert_evaluation",
    f"{_I}.trends": f"{_I}.trend_analysis",
}

#: real module -> ((modules to look in, in order), names it answers besides its own)
FORWARDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}

#: real modules that 1.0 used as packages: they get an empty ``__path__`` so an aliased child
#: name can be imported below them
_PARENTS = frozenset(name.rpartition(".")[0] for name in MODULES) - {"contexta"}


class _AliasLoader:
    """Hands back the target module itself, keeping its own spec."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._spec: Any = None

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        module = import_module(self.target)
        self._spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        module.__spec__ = self._spec


class _PatchingLoader:
    """Runs the real loader, then gives the module 1.0's extras (``__path__``, forwards)."""

    def __init__(self, inner: Any, name: str) -> None:
        self.inner = inner
        self.name = name

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        create = getattr(self.inner, "create_module", None)
        return None if create is None else create(spec)

    def exec_module(self, module: ModuleType) -> None:
        spec = module.__spec__
        if spec is not None:
            spec.loader = self.inner
        self.inner.exec_module(module)
        _patch(module)


def _forwarder(module: ModuleType, homes: Sequence[str], names: frozenset[str]) -> Any:
    own = module.__dict__.get("__getattr__")

    def __getattr__(name: str) -> Any:
        if name in names:
            for home in homes:
                value = getattr(import_module(home), name, _MISSING)
                if value is not _MISSING:
                    setattr(module, name, value)
                    return value
        if own is not None:
            return own(name)
        raise AttributeError(f"module {module.__name__!r} has no attribute {name!r}")

    return __getattr__


_MISSING = object()


def _patch(module: ModuleType) -> None:
    name = module.__name__
    if name in _PARENTS and not hasattr(module, "__path__"):
        module.__path__ = []
    forward = FORWARDS.get(name)
    if forward is not None:
        homes, names = forward
        module.__getattr__ = _forwarder(module, homes, frozenset(names))  # type: ignore[method-assign]


class _Finder:
    """A meta-path finder (no ``importlib.abc`` base: importing that loads importlib.resources)."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        alias = MODULES.get(fullname) or RENAMED.get(fullname)
        if alias is not None:
            return ModuleSpec(fullname, cast("Loader", _AliasLoader(alias)))
        if fullname in _PARENTS or fullname in FORWARDS:
            return self._patched(fullname, path, target)
        return None

    def _patched(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None
    ) -> ModuleSpec | None:
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = cast("Loader", _PatchingLoader(spec.loader, fullname))
                return spec
        return None


_FINDER = _Finder()


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (once) and patch modules already loaded."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    for name in _PARENTS | FORWARDS.keys():
        module = sys.modules.get(name)
        if module is not None:
            _patch(module)
