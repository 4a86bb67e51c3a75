"""Correctness of the fast paths (vectorised folds, append hot path, bulk reads, queries)."""
