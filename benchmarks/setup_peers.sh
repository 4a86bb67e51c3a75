#!/usr/bin/env bash
# Create the peer venvs the benchmark compares against (idempotent):
#   $BENCH_VENVS/contexta10  Python 3.13 + contexta==1.0.0 (its metadata says <3.13,
#                                      so pip installs it with --ignore-requires-python)
#   $BENCH_VENVS/mlflow      Python 3.13 + the latest mlflow (SQLite backend)
# Default root: ~/.cache/contexta-bench. Existing venvs are left alone. benchmarks/run.py finds
# them there (or through CONTEXTA10_PYTHON / MLFLOW_PYTHON).
set -euo pipefail

ROOT="${BENCH_VENVS:-$HOME/.cache/contexta-bench}"
PYTHON_VERSION="${BENCH_PYTHON:-3.13}"
mkdir -p "$ROOT"

make_venv() {
  local dir="$1"
  if [ ! -x "$dir/bin/python" ]; then
    uv venv --seed --python "$PYTHON_VERSION" "$dir"
  fi
}

make_venv "$ROOT/contexta10"
if ! "$ROOT/contexta10/bin/python" -I -c "import contexta" 2>/dev/null; then
  "$ROOT/contexta10/bin/python" -m pip install --quiet --ignore-requires-python "contexta==1.0.0"
fi

make_venv "$ROOT/mlflow"
if ! "$ROOT/mlflow/bin/python" -I -c "import mlflow" 2>/dev/null; then
  "$ROOT/mlflow/bin/python" -m pip install --quiet mlflow
fi

echo "contexta10: $ROOT/contexta10/bin/python"
echo "mlflow:     $ROOT/mlflow/bin/python"
