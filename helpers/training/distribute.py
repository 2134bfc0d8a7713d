"""Training on several devices: TensorFlow's MirroredStrategy (the TensorFlow backend only; imported only there)."""

from __future__ import annotations

import tensorflow as tf

__all__ = ["make_strategy"]


def make_strategy():
    """MirroredStrategy over the GPUs (or, without GPUs, the logical CPUs)."""
    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    return tf.distribute.MirroredStrategy([d.name for d in devices])
