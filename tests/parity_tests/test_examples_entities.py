"""The entities/lineage/diagnostics example runs end to end and prints the answers it should."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import REPO, run_script

SCRIPT = REPO / "examples" / "parity" / "entities_lineage_diagnostics.py"


def test_entities_lineage_diagnostics_example(tmp_path: Path) -> None:
    out = run_script(SCRIPT, tmp_path).stdout
    expected_lines = [
        "batches of retrain/train: [('shard-0', 'completed'), ('shard-1', 'failed')]",
        "bare id that resolves to nothing: Run not found: no-such-run",
        "provenance: provenance:fraud-model.retrain policy.v2",
        "origin of retrain.model: run:fraud-model.retrain",
        "error:degraded_record: degraded record detected for gpu.oom",
        "error:failed_batch: batch shard-1 failed",
        "depth 0: deployment:fraud-model.prod -[deployed_from]-> artifact:fraud-model.retrain.model",
        "depth 1: artifact:fraud-model.retrain.model -[produced_by]-> run:fraud-model.retrain",
        "baseline: partial ['provenance_missing']",
        "retrain: complete ['provenance_evidence_bundle_missing']",
        "changed packages: [('numpy', '1.26.4', '2.0.1')]",
        "Compared baseline and retrain: 2 stage rows, 1 metric deltas, 1 artifact changes.",
        "model_bundle: changed (both_changed)",
        "auc >= 0.92: ['run:fraud-model.retrain']",
        "started in June: ['run:fraud-model.retrain', 'run:fraud-model.baseline']",
        "put events: {'deployment.put': 1, 'batch.put': 4, 'sample.put': 2, 'environment.put': 2, "
        "'relation.put': 3, 'provenance.put': 1, 'artifact.put': 2}",
        "integrity ok: True",
    ]
    lines = out.splitlines()
    for line in expected_lines:
        assert line in lines, f"missing {line!r} in:\n{out}"
    assert not list(tmp_path.iterdir())  # the example cleans up its temporary workspace
