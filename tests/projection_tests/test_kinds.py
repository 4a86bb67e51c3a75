"""The catalog of event kinds (`projections/kinds.py`) ties together what is written and what is
folded: every kind a projection reads is in it, every kind in it is written by the facade and
read by a projection, and no other module spells a kind out again."""

from __future__ import annotations

import ast
from pathlib import Path

import pyarrow.compute as pc
import pytest

from contexta import events
from ledger import LedgerReader
from projections import ALL_PROJECTIONS
from projections.kinds import ALL_KINDS, QUARANTINE, RECORD_PREFIX, RELEASE

REPO = Path(__file__).resolve().parents[2]


def _folded_by(kind: str) -> list[str]:
    return [
        cls.name
        for cls in ALL_PROJECTIONS
        if kind in cls.kinds or any(kind.startswith(p) for p in cls.kind_prefixes)
    ]


def test_catalog_has_no_repeats() -> None:
    assert len(set(ALL_KINDS)) == len(ALL_KINDS)


@pytest.mark.parametrize("cls", ALL_PROJECTIONS, ids=lambda c: c.name)
def test_every_kind_a_projection_folds_is_in_the_catalog(cls: type) -> None:
    assert set(cls.kinds) <= set(ALL_KINDS), set(cls.kinds) - set(ALL_KINDS)
    for prefix in cls.kind_prefixes:
        assert any(kind.startswith(prefix) for kind in ALL_KINDS), prefix


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_catalog_kind_is_folded_by_some_projection(kind: str) -> None:
    assert _folded_by(kind), f"no projection reads {kind}"


def test_the_events_module_writes_exactly_the_catalog() -> None:
    written = {*events.MODEL_OF, events.QUARANTINE, events.RELEASE}
    assert written == set(ALL_KINDS)
    assert events.KINDS == ALL_KINDS


def test_the_facade_writes_every_catalog_kind(tmp_path: Path) -> None:
    """Write one of everything through the public API; the ledger then holds every kind."""
    from tests.parity_tests._entities_data import build

    ctx = build(tmp_path / "ws")
    with ctx.run("spans") as run, run.stage("load") as stage, stage.span("read"):
        pass
    ctx.quarantine_runs(["run:proj-a.r2"], reason="late labels")
    ctx.release_runs(["run:proj-a.r2"], reason="relabelled")
    ctx.close()
    table = LedgerReader(tmp_path / "ws" / "ledger").read_table()
    found = set(pc.unique(table.column("kind")).to_pylist())
    assert found == set(ALL_KINDS)


# ---------------------------------------------------------------------- written down once

#: Modules outside the catalog's reach that still spell kinds out (owned elsewhere; each
#: entry must still hold a spelled-out kind, so a mended one is removed from here).
KNOWN: set[str] = set()


def spelled_out_kinds(path: Path) -> list[str]:
    """String constants in ``path`` that are a catalog kind or the record prefix."""
    spelled = {*ALL_KINDS, RECORD_PREFIX}
    tree = ast.parse(path.read_text(), str(path))
    return [
        f"{path.relative_to(REPO)}:{node.lineno}: {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in spelled
    ]


def _code_modules() -> list[Path]:
    found = []
    for root in ("ledger", "projections", "contexta"):
        found += sorted((REPO / root).rglob("*.py"))
    return [p for p in found if p != REPO / "projections" / "kinds.py"]


def test_no_module_spells_out_a_kind_again() -> None:
    by_file: dict[str, list[str]] = {}
    for path in _code_modules():
        if hits := spelled_out_kinds(path):
            by_file[str(path.relative_to(REPO))] = hits
    assert set(by_file) >= KNOWN, (
        f"no longer spelled out, remove from KNOWN: {KNOWN - set(by_file)}"
    )
    left = [hit for name, hits in by_file.items() if name not in KNOWN for hit in hits]
    assert not left, "kinds spelled out outside projections/kinds.py:\n" + "\n".join(left)


def test_the_spelled_out_check_finds_a_literal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = tmp_path / "contexta" / "x.py"
    module.parent.mkdir()
    module.write_text(f'KIND = "{QUARANTINE}"\nOTHER = "{RELEASE}x"\n')
    monkeypatch.setattr(__import__(__name__, fromlist=["REPO"]), "REPO", tmp_path)
    assert spelled_out_kinds(module) == [f"contexta/x.py:1: {QUARANTINE!r}"]
