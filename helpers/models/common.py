"""Small pieces shared by the model families."""

from __future__ import annotations

from keras import layers


def softmax(x, name="predictions"):
    """Float32 softmax: keeps probabilities (and the loss) float32 under a mixed_float16 policy."""
    return layers.Activation("softmax", dtype="float32", name=name)(x)


# Batch-norm running statistics follow the last ~10 batches (PyTorch's default) instead of Keras' ~100, so that
# short runs (a few epochs, small subsets) evaluate with sensible statistics. The report replicas keep Keras'.
BN_MOMENTUM = 0.9
