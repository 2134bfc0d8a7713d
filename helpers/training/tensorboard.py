"""TensorBoard the Keras way: ``keras.callbacks.TensorBoard`` writing a run's logs into ``<run>/tensorboard``.

Notebook parameter ``tensorboard`` (off by default; run_all turns it on: a few kilobytes and milliseconds an
epoch). The logs need TensorFlow and the ``tensorboard`` package; without them training goes on and one line
says so.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import keras

__all__ = ["LOG_FOLDER", "tensorboard_available", "tensorboard_callback", "tensorboard_help"]

LOG_FOLDER = "tensorboard"
MISSING = (
    "TensorBoard logs not written: they need TensorFlow and the tensorboard package "
    "(`pip install tensorflow tensorboard`); training goes on without them."
)


def tensorboard_available() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("tensorflow", "tensorboard"))


def tensorboard_callback(run_path, stream=None):
    """Keras' TensorBoard callback (per-epoch losses, metrics and learning rate; no graph, histograms or
    profiling) writing into ``<run_path>/tensorboard``; None, after one line on ``stream``, without TensorBoard."""
    if not tensorboard_available():
        print(MISSING, file=stream, flush=True)
        return None
    return keras.callbacks.TensorBoard(
        str(Path(run_path) / LOG_FOLDER), histogram_freq=0, write_graph=False, update_freq="epoch", profile_batch=0
    )


def tensorboard_help(run_path, enabled: bool) -> str:
    """How to open a run's TensorBoard logs in JupyterLab, on Colab and from a terminal (or why there are none)."""
    logdir = Path(run_path) / LOG_FOLDER
    if not tensorboard_available():
        return MISSING
    if not enabled:
        return f"TensorBoard is off (tensorboard = False): set it to True to write logs into {logdir}."
    return (
        f"TensorBoard logs go to {logdir}. To watch them, in JupyterLab or on Colab run a cell with\n"
        f"    %load_ext tensorboard\n    %tensorboard --logdir {logdir}\n"
        f"or from a terminal: tensorboard --logdir {logdir.parent.parent}  (every run side by side)."
    )
