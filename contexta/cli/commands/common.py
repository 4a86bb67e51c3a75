"""Helpers shared by commands."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from ...facade import Contexta

__all__ = ["iso", "open_workspace"]


def open_workspace(args: argparse.Namespace) -> Contexta:
    return Contexta(workspace=args.workspace)


def iso(when: datetime | None) -> str:
    if when is None:
        return ""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
