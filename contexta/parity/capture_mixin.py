"""Facade methods mixed into ``Contexta`` (see ``contexta.facade``)."""

from __future__ import annotations

__all__ = ["CaptureMixin"]


class CaptureMixin:
    """Mixed into ``Contexta``; uses ``self._workspace``, ``self.config`` and
    ``self.query_service``."""
