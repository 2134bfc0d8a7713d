"""Small pieces shared by the model families."""

from __future__ import annotations

from keras import layers

# Batch-norm running statistics follow the last ~10 batches (PyTorch's default) instead of Keras' ~100, so that
# short runs (a few epochs, small subsets) evaluate with sensible statistics. The report replicas keep Keras'.
BN_MOMENTUM = 0.9


def softmax(x, name="predictions"):
    """Float32 softmax: keeps probabilities (and the loss) float32 under a mixed_float16 policy."""
    return layers.Activation("softmax", dtype="float32", name=name)(x)


def conv_bn_relu(x, filters, kernel_size, name, strides=1, relu=True, conv_name=None, kernel_initializer="he_normal"):
    """Conv (no bias: the BN that follows has one) -> BN -> ReLU (optional), "same" padding. Layers are named
    ``conv_name`` (default ``name``), ``<name>_bn`` and ``<name>_relu``."""
    x = layers.Conv2D(
        filters,
        kernel_size,
        strides=strides,
        padding="same",
        use_bias=False,
        kernel_initializer=kernel_initializer,
        name=conv_name or name,
    )(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x) if relu else x
