"""Following other processes' commits as they happen (mixed into ``Contexta``)."""

from __future__ import annotations

__all__ = ["LiveMixin"]


class LiveMixin:
    """Mixed into ``Contexta``; uses ``self._workspace``."""
