"""Labels as a model's loss wants them, one rule for both input pipelines (tf.data and the PyDataset)."""

from __future__ import annotations

import numpy as np

__all__ = ["numpy_one_hot", "shape_labels"]


def shape_labels(labels, num_classes: int, one_hot: bool, output_names, encode):
    """Integer labels as the model's loss wants them: one-hot rows (``encode(labels, num_classes)``: tf.one_hot in
    tf.data, a NumPy lookup on the host) or left sparse, and repeated for every output of a multi-output model."""
    labels = encode(labels, num_classes) if one_hot else labels
    return {name: labels for name in output_names} if output_names else labels


def numpy_one_hot(labels, num_classes: int) -> np.ndarray:
    return np.eye(num_classes, dtype=np.float32)[labels]
