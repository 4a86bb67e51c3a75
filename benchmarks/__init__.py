"""Benchmarks: this project side by side with Contexta 1.0 and MLflow (see README.md)."""
