"""The rest of Contexta 1.0's public surface on the ledger (entities, diagnostics, lineage,
provenance, trends, alerts, reports, runtime capture, artifacts, recovery)."""
