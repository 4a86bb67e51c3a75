"""``contexta tag|quarantine|release|best``: data-quality facts added after the fact."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction) -> None:
    """Registered in the quality commands change."""
