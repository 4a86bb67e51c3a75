"""Contexta 1.0's import path; see :mod:`contexta.interpretation.alert_evaluation`."""

from contexta.interpretation.alert_evaluation import (
    AlertError,
    AlertReport,
    AlertResult,
    AlertRule,
    AlertService,
)

__all__ = ["AlertError", "AlertReport", "AlertResult", "AlertRule", "AlertService"]
