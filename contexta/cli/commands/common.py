"""Helpers shared by commands."""

from __future__ import annotations

import argparse
from datetime import datetime

from ...facade import Contexta
from ...history import iso_utc

__all__ = ["iso", "open_workspace"]


def open_workspace(args: argparse.Namespace) -> Contexta:
    return Contexta(workspace=args.workspace)


def iso(when: datetime | None) -> str:
    return "" if when is None else iso_utc(when)
