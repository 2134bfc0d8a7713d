"""GoogLeNet / Inception v1 (Szegedy et al., 2014) adapted to 28-32 px images, with its two auxiliary classifiers.

As in kuangliu/pytorch-cifar, the ImageNet stem (7x7/2 conv, pools, LRN: 224 -> 28 px) becomes one 3x3 conv with
192 filters, so the nine inception modules see 32x32 (3a, 3b), 16x16 (4a-4e) and 8x8 (5a, 5b) maps of a CIFAR
image. Filter counts are the paper's (Table 1), including its 5x5 branch; BatchNorm follows every conv (the
paper predates BN; it lets the network train from scratch without the paper's staged schedule).

The model has three outputs, in this order: ``main``, ``aux1`` (after 4a) and ``aux2`` (after 4d). Training
weighs the auxiliary losses by 0.3 as in the paper; ``helpers.models.inference_model`` drops them for testing.
"""

from __future__ import annotations

import keras
from keras import layers

from helpers.models.common import conv_bn_relu, softmax

# module -> (1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj), from the paper's Table 1.
INCEPTION = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}
AUX_AFTER = {"4a": "aux1", "4d": "aux2"}


def inception(x, filters, name):
    """Inception module: 1x1, 1x1->3x3, 1x1->5x5 and 3x3 max-pool->1x1 branches, concatenated on channels."""
    f1, f3r, f3, f5r, f5, fp = filters
    b1 = conv_bn_relu(x, f1, 1, f"{name}_1x1")
    b2 = conv_bn_relu(conv_bn_relu(x, f3r, 1, f"{name}_3x3_reduce"), f3, 3, f"{name}_3x3")
    b3 = conv_bn_relu(conv_bn_relu(x, f5r, 1, f"{name}_5x5_reduce"), f5, 5, f"{name}_5x5")
    b4 = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    b4 = conv_bn_relu(b4, fp, 1, f"{name}_pool_proj")
    return layers.Concatenate(name=f"{name}_output")([b1, b2, b3, b4])


def aux_classifier(x, num_classes, name):
    """The paper's auxiliary head: avgpool 5x5/3 -> 1x1 conv 128 -> FC 1024 -> Dropout 0.7 -> FC -> softmax.

    The pool is kept 'valid' as in the paper: it turns both the 14x14 map of a 28 px input and the 16x16 map of a
    32 px input into 4x4 (the paper's 14x14 ImageNet maps also gave 4x4).
    """
    x = layers.AveragePooling2D(5, strides=3, name=f"{name}_pool")(x)
    x = conv_bn_relu(x, 128, 1, f"{name}_conv")
    x = layers.Flatten(name=f"{name}_flatten")(x)
    x = layers.Dense(1024, activation="relu", kernel_initializer="he_normal", name=f"{name}_fc")(x)
    x = layers.Dropout(0.7, name=f"{name}_dropout")(x)
    x = layers.Dense(num_classes, name=f"{name}_logits")(x)
    return softmax(x, name=name)


def build_googlenet(input_shape, num_classes=10):
    """GoogLeNet for small images; outputs ``[main, aux1, aux2]`` (see the module docstring)."""
    inputs = keras.Input(shape=input_shape, name="image")
    x = conv_bn_relu(inputs, 192, 3, "stem")
    aux = []
    for module, filters in INCEPTION.items():
        if module in ("4a", "5a"):  # the paper's 3x3/2 max-pools between stages 3-4 and 4-5
            x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"pool_{module[0]}")(x)
        x = inception(x, filters, f"inception_{module}")
        if module in AUX_AFTER:
            aux.append(aux_classifier(x, num_classes, AUX_AFTER[module]))
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = layers.Dropout(0.4, name="dropout")(x)
    x = layers.Dense(num_classes, kernel_initializer="he_normal", name="logits")(x)
    return keras.Model(inputs, [softmax(x, name="main"), *aux], name="googlenet")
