"""ResNet (He et al., 2015): CIFAR-style course models, the paper's own CIFAR-10 networks (6n+2 layers), their plain
(shortcut-free) twins, and the reports' replica.

Built like Keras' ``applications/resnet.py``: a block is a small function, a stage (``stack``) repeats a block,
and the stem is chosen per model. Course models follow kuangliu/pytorch-cifar: a 3x3 stride-1 stem keeps the
whole 32x32 image for the first stage (the ImageNet stem would shrink it to 7x7 before any residual block: 32 -> 16
by the 7x7/2 conv, -> 7 by the 3x3/2 max-pool; report 1, Appendix D).
"""

from __future__ import annotations

import keras
from keras import layers, ops

from helpers.models.common import conv_bn_relu, softmax

# name -> (block function name, blocks per stage)
CONFIGS = {
    "resnet18": ("basic", (2, 2, 2, 2)),
    "resnet34": ("basic", (3, 4, 6, 3)),
    "resnet50": ("bottleneck", (3, 4, 6, 3)),
}
STAGE_FILTERS = (64, 128, 256, 512)
STAGE_STRIDES = (1, 2, 2, 2)


def conv_bn(x, filters, kernel_size, stride=1, relu=True, name=None):
    """The kit's conv-BN-ReLU block (ReLU optional), with ResNet's layer names ``<name>_conv``, ``_bn``, ``_relu``."""
    return conv_bn_relu(x, filters, kernel_size, name, strides=stride, relu=relu, conv_name=f"{name}_conv")


@keras.saving.register_keras_serializable(package="helpers")
class ZeroPadShortcut(layers.Layer):
    """The paper's option A shortcut (Sec. 4.2, its CIFAR-10 networks): a parameter-free identity that takes every
    ``stride``-th pixel and appends zero channels up to ``filters``. A layer of its own, not a ``Lambda``, so that
    saved ``model.keras`` files load again."""

    def __init__(self, filters, stride=1, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.stride = int(filters), int(stride)

    def call(self, x):
        if self.stride > 1:
            x = x[:, :: self.stride, :: self.stride, :]
        extra = self.filters - x.shape[-1]
        return ops.pad(x, [[0, 0], [0, 0], [0, 0], [0, extra]]) if extra > 0 else x

    def compute_output_shape(self, input_shape):
        n, h, w, _ = input_shape

        def down(d):  # ceil, as a "same" convolution with this stride
            return None if d is None else -(-d // self.stride)

        return (n, down(h), down(w), self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "stride": self.stride}


def merge_shortcut(x, y, filters, stride, shortcut, name):
    """Add the shortcut to the residual branch ``y`` and apply the final ReLU.

    The shortcut is the identity, or, when the stride or the number of channels changes, a projection (1x1 conv +
    BN, the paper's option B; ``shortcut=True``) or a parameter-free subsample + zero channels (option A;
    ``shortcut="A"``, the paper's CIFAR-10 networks). ``shortcut=False`` gives the "plain" network of the paper's
    degradation experiment: the same layers with no addition at all.
    """
    if shortcut:
        if stride != 1 or x.shape[-1] != filters:
            if shortcut == "A":
                x = ZeroPadShortcut(filters, stride, name=f"{name}_0_pad")(x)
            else:
                x = conv_bn(x, filters, 1, stride, relu=False, name=f"{name}_0")
        y = layers.Add(name=f"{name}_add")([x, y])
    return layers.Activation("relu", name=f"{name}_out")(y)


def basic_block(x, filters, stride=1, shortcut=True, name=None):
    """Two 3x3 convs (ResNet-18/34); output has ``filters`` channels."""
    y = conv_bn(x, filters, 3, stride, name=f"{name}_1")
    y = conv_bn(y, filters, 3, relu=False, name=f"{name}_2")
    return merge_shortcut(x, y, filters, stride, shortcut, name)


def bottleneck_block(x, filters, stride=1, shortcut=True, name=None):
    """1x1 reduce -> 3x3 (carries the stride, as in kuangliu / "ResNet v1.5") -> 1x1 expand to 4x filters."""
    y = conv_bn(x, filters, 1, name=f"{name}_1")
    y = conv_bn(y, filters, 3, stride, name=f"{name}_2")
    y = conv_bn(y, 4 * filters, 1, relu=False, name=f"{name}_3")
    return merge_shortcut(x, y, 4 * filters, stride, shortcut, name)


BLOCKS = {"basic": basic_block, "bottleneck": bottleneck_block}


def stack(x, block, filters, blocks, stride, shortcut, name):
    """One stage: ``blocks`` blocks, the first one carrying the stride."""
    for i in range(blocks):
        x = block(x, filters, stride if i == 0 else 1, shortcut, name=f"{name}_block{i + 1}")
    return x


def build_resnet(name, input_shape, num_classes=10):
    """Course ResNet-18/34/50 (CIFAR-style) or plain-18/34 (``plainNN``: same network without shortcuts)."""
    shortcut = not name.startswith("plain")
    block_name, blocks = CONFIGS[name.replace("plain", "resnet")]
    block = BLOCKS[block_name]
    inputs = keras.Input(shape=input_shape, name="image")
    x = conv_bn(inputs, 64, 3, name="conv1")
    for stage, (filters, n, stride) in enumerate(zip(STAGE_FILTERS, blocks, STAGE_STRIDES, strict=True), 2):
        x = stack(x, block, filters, n, stride, shortcut, name=f"conv{stage}")
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = layers.Dense(num_classes, kernel_initializer="he_normal", name="logits")(x)
    return keras.Model(inputs, softmax(x), name=name)


# --- The paper's CIFAR-10 networks (Sec. 4.2, Fig. 6, Table 6) ------------------------------------------------
# 6n+2 layers: a 3x3 16-filter stem, three stages of n basic blocks with 16/32/64 filters on 32x32/16x16/8x8 maps,
# global average pooling, a 10-way dense layer. Option A shortcuts, so a plain net and its residual twin have the
# same parameters: ResNet-20/32/44/56/110 = 0.27M/0.46M/0.66M/0.85M/1.7M (Table 6).
CIFAR_DEPTHS = (20, 32, 44, 56, 110)
CIFAR_FILTERS = (16, 32, 64)
CIFAR_STRIDES = (1, 2, 2)


def build_cifar_resnet(name, input_shape, num_classes=10):
    """The paper's CIFAR-10 ResNet-20/32/44/56/110 (``resnetNN``, option A shortcuts) or its plain twin
    (``plainNN``: the same layers without shortcuts)."""
    depth = int(name.removeprefix("plain").removeprefix("resnet"))
    if (depth - 2) % 6:
        raise ValueError(f"{name}: the paper's CIFAR networks have 6n+2 layers, got {depth}")
    shortcut = False if name.startswith("plain") else "A"
    inputs = keras.Input(shape=input_shape, name="image")
    x = conv_bn(inputs, CIFAR_FILTERS[0], 3, name="conv1")
    for stage, (filters, stride) in enumerate(zip(CIFAR_FILTERS, CIFAR_STRIDES, strict=True), 2):
        x = stack(x, basic_block, filters, (depth - 2) // 6, stride, shortcut, name=f"conv{stage}")
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = layers.Dense(num_classes, kernel_initializer="he_normal", name="logits")(x)
    return keras.Model(inputs, softmax(x), name=name)


# --- Replica of report 1, Appendices C and D ------------------------------------------------------------------
# The classic Keras ResNet-50 v1 (layer names res2a_branch2a, bn2a_branch2a, ...): convs with bias, stride on the
# first 1x1 conv of a block, ImageNet stem, Flatten + Dense. Kept as reported so its numbers can be reproduced.


def report_bottleneck(x, filters, stage, block, stride=1, projection=False):
    """Bottleneck block with the report's layer names; ``projection`` adds the 1x1 conv shortcut (branch1)."""
    f1, f2, f3 = filters
    conv, bn = f"res{stage}{block}_branch", f"bn{stage}{block}_branch"
    y = layers.Conv2D(f1, 1, strides=stride, name=f"{conv}2a")(x)
    y = layers.BatchNormalization(name=f"{bn}2a")(y)
    y = layers.Activation("relu", name=f"{conv}2a_relu")(y)
    y = layers.Conv2D(f2, 3, padding="same", name=f"{conv}2b")(y)
    y = layers.BatchNormalization(name=f"{bn}2b")(y)
    y = layers.Activation("relu", name=f"{conv}2b_relu")(y)
    y = layers.Conv2D(f3, 1, name=f"{conv}2c")(y)
    y = layers.BatchNormalization(name=f"{bn}2c")(y)
    if projection:
        x = layers.Conv2D(f3, 1, strides=stride, name=f"{conv}1")(x)
        x = layers.BatchNormalization(name=f"{bn}1")(x)
    y = layers.Add(name=f"res{stage}{block}_add")([y, x])
    return layers.Activation("relu", name=f"res{stage}{block}_out")(y)


def build_report_resnet50(input_shape, num_classes=10):
    """Replica of report 1's ResNet-50 (23,601,930 parameters on 28x28x1, 23,608,202 on 32x32x3).

    Spatial sizes: 28 -> 14-6-3-2-1 and 32 -> 16-7-4-2-1; the ImageNet stem leaves a 7x7 map of a 32x32 image.
    """
    inputs = keras.Input(shape=input_shape, name="image")
    x = layers.ZeroPadding2D(3, name="conv1_pad")(inputs)
    x = layers.Conv2D(64, 7, strides=2, name="conv1")(x)
    x = layers.BatchNormalization(name="bn_conv1")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for stage, (f, n, stride) in enumerate(zip(STAGE_FILTERS, (3, 4, 6, 3), STAGE_STRIDES, strict=True), 2):
        for i in range(n):
            x = report_bottleneck(
                x, (f, f, 4 * f), stage, "abcdef"[i], stride=stride if i == 0 else 1, projection=i == 0
            )
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(num_classes, name=f"fc{num_classes}")(x)
    return keras.Model(inputs, softmax(x), name="report_resnet50")
