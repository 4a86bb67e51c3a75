"""A small workspace for the read-surface tests: two runs of one project with stages, metrics,
events and an artifact, written through the public capture API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from contexta import Contexta


def open_ctx(root: Path) -> Contexta:
    return Contexta(config={"project_name": "demo", "workspace": {"root_path": str(root)}})


def fill(ctx: Contexta, names: tuple[str, ...] = ("a", "b")) -> tuple[str, ...]:
    """Runs ``names`` with a train and an eval stage, metrics at both levels, an event."""
    refs = []
    for i, name in enumerate(names):
        with ctx.run(name, tags={"team": "x"}, config_snapshot={"lr": 0.1 * (i + 1)}) as run:
            with run.stage("train"):
                for step in range(3):
                    ctx.metric("loss", 1.0 / (step + 1 + i), step=step)
            with run.stage("eval"):
                ctx.metric("acc", 0.5 + 0.1 * i)
            ctx.metric("acc", 0.6 + 0.1 * i)
            ctx.event("note", message=f"run {name}")
            refs.append(str(run.ref))
    ctx.flush()
    return tuple(refs)


@pytest.fixture()
def workspace(tmp_path: Path) -> Iterator[tuple[Path, tuple[str, ...]]]:
    root = tmp_path / "ws"
    ctx = open_ctx(root)
    refs = fill(ctx)
    ctx.close()
    yield root, refs
