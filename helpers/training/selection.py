"""Which epoch's weights a run stands behind (``select_epoch``): the epoch with the best validation accuracy
(``"best_val"``: ``KeepBest`` keeps its weights in ``<run>/best.weights.h5``), or the last epoch (``"last"``: the
reports' reading, which their recipes keep). With a constant learning rate the last epoch is a lottery: report 1's
Exp. 3 on 1,700 MNIST images validated at 94.9% after epoch 24 and 88.6% after epoch 25."""

from __future__ import annotations

import math
import warnings

import h5py
import keras
import numpy as np
import pandas as pd

from helpers.runs import RunDir, atomic_write

__all__ = ["SELECTIONS", "KeepBest", "best_checkpoint", "kept_best", "selected_epoch"]

SELECTIONS = ("best_val", "last")


def kept_best(path) -> tuple[int, float] | None:
    """(epoch, validation accuracy) of the weights in a ``best.weights.h5`` written by ``KeepBest``; None when there is
    no such file or it cannot be read (a file of an older kit, or one cut short, is not trusted)."""
    try:
        with h5py.File(path, "r") as f:
            return int(f.attrs["kit_epoch"]), float(f.attrs["kit_val_accuracy"])
    except (OSError, KeyError, ValueError):
        return None


class KeepBest(keras.callbacks.Callback):
    """Keep the weights of the best validation accuracy so far in ``path``, like Keras' ``ModelCheckpoint`` with
    ``save_best_only``, but a kill cannot leave half a file: the weights go to a temporary file with their epoch and
    validation accuracy as attributes, then take the file's name in one atomic rename. A resumed run starts from the
    file it finds: a later epoch replaces it only by beating it; ties keep the earlier epoch."""

    def __init__(self, path, monitor: str = "val_accuracy"):
        super().__init__()
        self.path, self.monitor = path, monitor
        found = kept_best(path)
        if found is None and path.exists():
            warnings.warn(f"{path} cannot be read as a kept best epoch; the next epoch replaces it.", stacklevel=2)
        self.best = found  # (epoch, validation accuracy) or None
        self.missing = False

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            if not self.missing:  # a metric renamed by a Keras version would otherwise keep nothing, silently
                warnings.warn(
                    f"KeepBest: no {self.monitor!r} among {sorted(logs or {})}; no epoch is kept.", stacklevel=2
                )
            self.missing = True
            return
        if not math.isfinite(float(value)):
            return
        if self.best is not None and float(value) <= self.best[1]:
            return
        kept = (epoch + 1, float(value))

        def write(tmp):
            self.model.save_weights(tmp)
            with h5py.File(tmp, "a") as f:
                f.attrs["kit_epoch"], f.attrs["kit_val_accuracy"] = kept

        atomic_write(self.path, write)
        self.best = kept


def best_checkpoint(model, run: RunDir) -> KeepBest:
    """``KeepBest`` for the run's model: its (main head's) validation accuracy, into ``<run>/best.weights.h5``."""
    key = "val_accuracy" if len(model.outputs) == 1 else f"val_{model.output_names[0]}_accuracy"
    return KeepBest(run / RunDir.BEST, monitor=key)


def selected_epoch(history: pd.DataFrame, selection: str) -> int | None:
    """The epoch (1-based) whose weights the run keeps: the first with the highest validation accuracy, or the
    last; None for an empty history."""
    if history.empty:
        return None
    val = history["val_accuracy"] if "val_accuracy" in history else pd.Series(dtype=float)
    if selection == "last" or not val.notna().any():
        return int(history["epoch"].iloc[-1])
    return int(history["epoch"].iloc[int(np.nanargmax(val.to_numpy(dtype=float)))])
