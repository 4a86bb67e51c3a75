"""The 1.0-style example programs of examples/parity/ print what Contexta 1.0.0 printed."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from tests.conftest import REPO, run_script

from ._examples_c10 import (
    C10_CAPTURE_PREVIEW_ERROR,
    C10_CAPTURE_PREVIEW_LINES,
    C10_QUICKSTART,
    C10_SINKS_DEMO,
)

EXAMPLES = REPO / "examples" / "parity"


def _lines(name: str, cwd: Path, *args: str) -> list[str]:
    return run_script(EXAMPLES / name, cwd, *args).stdout.splitlines()


def test_quickstart_prints_what_1_0_printed(tmp_path: Path) -> None:
    assert _lines("quickstart_minimal.py", tmp_path, "--workspace", str(tmp_path / "ws")) == (
        C10_QUICKSTART
    )


def test_sinks_demo_prints_what_1_0_printed(tmp_path: Path) -> None:
    """1.0's environment had neither mlflow nor opentelemetry: those lines are compared when
    this one lacks them too (with a library installed, its sink must report SUCCESS)."""
    out = _lines("sinks_demo.py", tmp_path)
    assert out[:2] == C10_SINKS_DEMO[:2]
    for line, expected, module in zip(
        out[2:], C10_SINKS_DEMO[2:], ("mlflow", "opentelemetry"), strict=True
    ):
        if find_spec(module) is None:
            assert line == expected
        else:
            assert line.endswith(
                ("SUCCESS (recorded metric train.loss)", "SUCCESS (logged metric train.loss)")
            )


def test_capture_preview_reports_the_capture_file(tmp_path: Path) -> None:
    assert C10_CAPTURE_PREVIEW_ERROR == "TypeError"  # 1.0.0 itself never got this far
    out = _lines("capture_preview.py", tmp_path, "--workspace", str(tmp_path / "ws"))
    assert all(line in out for line in C10_CAPTURE_PREVIEW_LINES)
    assert "Ledger records: 3 (completed)" in out
