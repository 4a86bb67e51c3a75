"""1.0 import path ``contexta.interpretation.alert``: see :mod:`contexta.interpretation.alert_evaluation`."""

from .alert_evaluation import AlertError, AlertReport, AlertResult, AlertRule, AlertService

__all__ = ["AlertError", "AlertReport", "AlertResult", "AlertRule", "AlertService"]
