"""Which epoch's weights a run stands behind (``select_epoch``): the epoch with the best validation accuracy
(``"best_val"``, Keras' ``ModelCheckpoint`` keeps its weights in ``<run>/best.weights.h5``), or the last epoch
(``"last"``: the reports' reading, which their recipes keep). With a constant learning rate the last epoch is a
lottery: report 1's Exp. 3 on 1,700 MNIST images validated at 94.9% after epoch 24 and 88.6% after epoch 25."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd

from helpers.runs import RunDir

__all__ = ["SELECTIONS", "best_checkpoint", "selected_epoch"]

SELECTIONS = ("best_val", "last")


def best_checkpoint(model, run: RunDir, history: pd.DataFrame) -> keras.callbacks.ModelCheckpoint:
    """Keras' ModelCheckpoint keeping the weights of the best validation accuracy so far in ``<run>/best.weights.h5``.
    ``history`` holds the epochs a resumed run trained before: a later epoch replaces their best only by beating it."""
    key = "val_accuracy" if len(model.outputs) == 1 else f"val_{model.output_names[0]}_accuracy"
    before = (
        history["val_accuracy"].max() if "val_accuracy" in history and history["val_accuracy"].notna().any() else None
    )
    return keras.callbacks.ModelCheckpoint(
        str(run / RunDir.BEST),
        monitor=key,
        mode="max",
        save_best_only=True,
        save_weights_only=True,
        initial_value_threshold=None if before is None else float(before),
    )


def selected_epoch(history: pd.DataFrame, selection: str) -> int | None:
    """The epoch (1-based) whose weights the run keeps: the first with the highest validation accuracy, or the
    last; None for an empty history."""
    if history.empty:
        return None
    val = history["val_accuracy"] if "val_accuracy" in history else pd.Series(dtype=float)
    if selection == "last" or not val.notna().any():
        return int(history["epoch"].iloc[-1])
    return int(history["epoch"].iloc[int(np.nanargmax(val.to_numpy(dtype=float)))])
