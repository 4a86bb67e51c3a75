"""1.0 import path ``contexta.interpretation.alert``: see :mod:`contexta.interpretation.alerts`."""

from .alerts import AlertError, AlertReport, AlertResult, AlertRule, AlertService

__all__ = ["AlertError", "AlertReport", "AlertResult", "AlertRule", "AlertService"]
