"""Config tests run in a fresh working directory and never read the real process environment."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Relative config paths resolve under a temporary directory."""

    monkeypatch.chdir(tmp_path)
    return tmp_path.resolve()
