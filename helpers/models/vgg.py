"""VGG (Simonyan & Zisserman, 2014): one config-driven builder for the course models and the reports' replicas.

A VGG is a list: numbers are 3x3 "same" convolutions with that many filters, ``"M"`` is a 2x2 max-pool
(as in kuangliu/pytorch-cifar ``models/vgg.py``). The course models and the two report variants share
``vgg_features``; only the options and the classifier head differ.
"""

from __future__ import annotations

import keras
from keras import layers

from helpers.models.common import conv_bn_relu, softmax

# fmt: off
CFG: dict[str, list[int | str]] = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
              512, 512, 512, 512, "M"],
    # Report 1, Appendix A: VGG-16 without its last pool, because four pools already take 28 px to 1 px.
    "report_vgg16_mnist": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512],
    # Report 1, Appendix B: plain VGG-16; each "M" is followed by BatchNorm + Dropout (see vgg_features).
    "report_vgg16_cifar10": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
                             512, 512, 512, "M"],
}
# fmt: on

# The course VGGs need a 32x32 map to survive their five pools (32-16-8-4-2-1).
MIN_COURSE_SIZE = 32


def count_pools(cfg: list[int | str]) -> int:
    """Number of 2x2 max-pools in a config."""
    return sum(1 for v in cfg if v == "M")


def vgg_features(x, cfg, *, batch_norm=True, pool_dropout=None, kernel_initializer="he_normal", prefix="block"):
    """The convolutional part of a VGG, built from ``cfg``.

    ``batch_norm=True``: Conv (no bias, BN has one) -> BN -> ReLU, the modern recipe used by the course models.
    ``batch_norm=False``: Conv with bias and ReLU, as in the 2014 paper and the reports.
    ``pool_dropout=rate``: after each pool add BatchNorm + Dropout(rate), the Appendix B recipe.
    """
    block, conv = 1, 1
    for v in cfg:
        if v == "M":
            x = layers.MaxPooling2D(2, strides=2, name=f"{prefix}{block}_pool")(x)
            if pool_dropout is not None:
                x = layers.BatchNormalization(name=f"{prefix}{block}_bn")(x)
                x = layers.Dropout(pool_dropout, name=f"{prefix}{block}_dropout")(x)
            block, conv = block + 1, 1
            continue
        name = f"{prefix}{block}_conv{conv}"
        if batch_norm:
            x = conv_bn_relu(x, v, 3, name, kernel_initializer=kernel_initializer)
        else:
            x = layers.Conv2D(
                v, 3, padding="same", activation="relu", kernel_initializer=kernel_initializer, name=name
            )(x)
        conv += 1
    return x


def pad_to_min_size(x, input_shape, min_size):
    """Zero-pad H and W symmetrically up to ``min_size`` (identity when already large enough).

    Padding 28x28 MNIST digits to 32x32 is what LeNet-5 did; it lets the same five-pool network serve MNIST and
    CIFAR-10 and keeps a 2x2 (not 1x1) map in the last block, instead of skipping a pool for one dataset.
    """
    h, w = input_shape[:2]
    ph, pw = max(0, min_size - h), max(0, min_size - w)
    if ph == 0 and pw == 0:
        return x
    return layers.ZeroPadding2D(((ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2)), name=f"pad_to_{min_size}")(x)


def build_vgg(name, input_shape, num_classes=10, dropout=0.5):
    """Course VGG-11/13/16/19 (``name`` is a key of CFG): Conv-BN-ReLU stacks, 5 pools, compact classifier.

    Inputs smaller than 32x32 are zero-padded to 32x32 first (see ``pad_to_min_size``). The classifier is
    global average pooling -> Dropout -> Dense -> softmax, as in kuangliu's CIFAR VGG: the paper's two 4096-wide FC
    layers on a 1x1x512 map would add about 18.9 M parameters (512 x 4096 + 4096 x 4096 + 4096 x 10, with biases)
    that see only 512 numbers per image and mostly overfit on 32 px images.
    """
    inputs = keras.Input(shape=input_shape, name="image")
    x = pad_to_min_size(inputs, input_shape, MIN_COURSE_SIZE)
    x = vgg_features(x, CFG[name])
    # Equals Flatten on the 1x1 map of a 32x32 input, and still works on larger inputs.
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    x = layers.Dense(num_classes, kernel_initializer="he_normal", name="logits")(x)
    return keras.Model(inputs, softmax(x), name=name)


def _report_classifier(x, units, dropout, num_classes):
    """The reports' classifier: Flatten, then Dense + ReLU + Dropout per entry of ``units``, then class scores."""
    x = layers.Flatten(name="flatten")(x)
    for i, n in enumerate(units, 1):
        x = layers.Dense(n, activation="relu", name=f"fc{i}")(x)
        x = layers.Dropout(dropout, name=f"fc{i}_dropout")(x)
    return layers.Dense(num_classes, name="logits")(x)


def build_report_vgg16_mnist(input_shape, num_classes=10, dropout=0.5):
    """Replica of report 1, Appendix A (VGG-16 on MNIST, 14,913,226 parameters on 28x28x1).

    Conv + ReLU with bias, no BatchNorm, four pools, Flatten, Dense 256 - Dropout - Dense 256 - Dropout -
    Dense 10 - softmax. The report does not state the dropout rate; 0.5 is the VGG paper's.
    """
    name = "report_vgg16_mnist"
    inputs = keras.Input(shape=input_shape, name="image")
    # The report reshaped flat 784-vectors to images; on image inputs this is a no-op kept for a 1:1 summary.
    x = layers.Reshape(tuple(input_shape), name="reshape")(inputs)
    x = vgg_features(x, CFG[name], batch_norm=False, kernel_initializer="glorot_uniform")
    return keras.Model(inputs, softmax(_report_classifier(x, (256, 256), dropout, num_classes)), name=name)


def build_report_vgg16_cifar10(input_shape, num_classes=10, conv_dropout=0.25, dropout=0.5):
    """Replica of report 1, Appendix B (VGG-16 on CIFAR-10, 18,924,618 parameters on 32x32x3).

    Five conv blocks (2,2,3,3,3 convs with bias + ReLU), each ending MaxPool -> BatchNorm -> Dropout, then
    Flatten, Dense 4096 - Dropout - Dense 512 - Dropout - Dense 10 - softmax. The report does not state dropout
    rates: 0.25 after conv blocks and 0.5 in the classifier are the usual Keras-example values.
    """
    name = "report_vgg16_cifar10"
    inputs = keras.Input(shape=input_shape, name="image")
    x = vgg_features(
        inputs, CFG[name], batch_norm=False, pool_dropout=conv_dropout, kernel_initializer="glorot_uniform"
    )
    return keras.Model(inputs, softmax(_report_classifier(x, (4096, 512), dropout, num_classes)), name=name)
