"""Proposed changes to files owned by others, runnable so the benchmark can measure them."""
