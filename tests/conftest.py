"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "examples" / "case_studies"


def run_script(
    script: Path, cwd: Path, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run a Python script with this interpreter in ``cwd``; fail loudly on a non-zero exit."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTEXTA_")}
    done = subprocess.run(
        [sys.executable, str(script), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    assert done.returncode == 0, f"{script.name} failed:\n{done.stdout}\n{done.stderr}"
    return done


def run_cli(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTEXTA_")}
    done = subprocess.run(
        [sys.executable, "-m", "contexta.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    if check:
        assert done.returncode == 0, (
            f"contexta {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        )
    return done


@pytest.fixture(autouse=True)
def _no_contexta_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never pick up CONTEXTA_* variables of the machine running them."""
    for key in list(os.environ):
        if key.startswith("CONTEXTA_"):
            monkeypatch.delenv(key, raising=False)


@pytest.fixture()
def seeded(tmp_path: Path) -> Path:
    """A directory whose ``.contexta`` holds the seed's case 08 history."""
    run_script(SEED / "case08_seed_contamination_data.py", tmp_path)
    return tmp_path


def crc_counter(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the CRC computations of ``read_frame`` (by offset)."""
    import ledger.segment as ledger_segment

    seen: list[int] = []
    original = ledger_segment._sealed_crc

    def counting(view, offset, length, seal_at):  # type: ignore[no-untyped-def]
        seen.append(offset)
        return original(view, offset, length, seal_at)

    monkeypatch.setattr(ledger_segment, "_sealed_crc", counting)
    return seen
