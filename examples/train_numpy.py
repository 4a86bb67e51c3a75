"""Log a small training job the way ML code logs: params, tags, per-epoch metrics, a model file.

A logistic regression on a synthetic two-class data set, trained with numpy by gradient
descent (no network, no framework). Each run logs its params and tags, three metrics per epoch
(``train_loss`` in the ``train`` stage; ``loss/val`` and ``valAcc`` in ``evaluate``) as numpy
scalars, a NaN ``loss/val`` at one epoch (an evaluation batch that overflowed: stored as logged,
marked by diagnostics, skipped by ``best``), and the trained weights as an artifact. Running it
twice makes two runs of the same name.

    uv run python examples/train_numpy.py --workspace demo-train --lr 0.5
    uv run python examples/train_numpy.py --workspace demo-train --lr 0.1
    uv run contexta --workspace demo-train runs
    uv run contexta --workspace demo-train best valAcc --stage evaluate
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from contexta import Contexta

EPOCHS = 8
NAN_EPOCH = 3  # the evaluation of this epoch overflows: its loss/val is NaN


def make_data(seed: int = 7) -> tuple[np.ndarray, ...]:
    """Two Gaussian blobs in 4 dimensions, split 300 / 100."""
    rng = np.random.default_rng(seed)
    x = np.vstack([rng.normal(-1.0, 1.0, (200, 4)), rng.normal(1.0, 1.0, (200, 4))])
    y = np.concatenate([np.zeros(200), np.ones(200)])
    order = rng.permutation(len(y))
    x, y = x[order], y[order]
    return x[:300], y[:300], x[300:], y[300:]


def log_loss(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.float64:
    p = 1.0 / (1.0 + np.exp(-(x @ w)))
    eps = 1e-12
    return -np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))


def accuracy(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.float64:
    return np.mean(((x @ w) > 0) == (y == 1))


def train(
    ctx: Contexta, name: str, lr: float, epochs: int = EPOCHS, nan_epoch: int = NAN_EPOCH
) -> str:
    x_train, y_train, x_val, y_val = make_data()
    w = np.zeros(x_train.shape[1])
    with ctx.run(name, tags={"team": "growth"}) as run:
        run.log_params({"lr": lr, "epochs": epochs, "optimizer": "gd", "features": 4})
        run.set_tags({"model": "logreg"})
        for epoch in range(epochs):
            with run.stage("train") as stage:
                p = 1.0 / (1.0 + np.exp(-(x_train @ w)))
                w = w - lr * (x_train.T @ (p - y_train)) / len(y_train)
                stage.metric("train_loss", log_loss(w, x_train, y_train), step=epoch)
            with run.stage("evaluate") as stage:
                val_loss = np.float32("nan") if epoch == nan_epoch else log_loss(w, x_val, y_val)
                stage.metric("loss/val", val_loss, step=epoch)
                stage.metric("valAcc", accuracy(w, x_val, y_val), step=epoch)
        with tempfile.TemporaryDirectory() as tmp:
            model = Path(tmp) / "model.npy"
            np.save(model, w)
            run.log_artifact(model)
    return run.ref


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default="demo-train")
    parser.add_argument("--name", default="logreg")
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument(
        "--nan-epoch", type=int, default=NAN_EPOCH, help="the epoch whose loss/val is NaN"
    )
    args = parser.parse_args()
    ctx = Contexta(workspace=args.workspace)
    ref = train(ctx, args.name, args.lr, nan_epoch=args.nan_epoch)
    ctx.close()
    print(f"logged {ref}")


if __name__ == "__main__":
    main()
