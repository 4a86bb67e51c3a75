"""Starting the writer process of the live tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def spawn_writer(*args: str | Path, stdin: bool = False) -> subprocess.Popen[str]:
    """Start ``writer_proc.py`` with ``args`` in its own process (text pipes)."""
    return subprocess.Popen(
        [sys.executable, str(HERE / "writer_proc.py"), *map(str, args)],
        stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
