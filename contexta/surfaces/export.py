"""Contexta 1.0's import path; see :mod:`contexta.adapters.export`."""

from contexta.adapters.export import (
    export_anomaly_csv,
    export_comparison_csv,
    export_run_list_csv,
    export_trend_csv,
)

__all__ = ["export_anomaly_csv", "export_comparison_csv", "export_run_list_csv", "export_trend_csv"]
