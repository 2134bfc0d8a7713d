"""The checks' battery (issue 37): for every exercise ``check`` knows, answers as students write them, each with the
verdict it must get and, for a wrong one, the words its line must contain (the slip named in the student's words).
Right answers are written differently from the solution (NumPy scalars and arrays, Python types, functional,
Sequential and subclassed Keras code) and must never be told a hint. Percentages are never right where a fraction
is asked (val_size, a share): they are told that they are percentages.

Blocks are tiny (8x8 inputs, 8-64 channels) and the Grad-CAM run's network has a few thousand weights."""

import functools
import math
import types
from fractions import Fraction
from typing import NamedTuple

import keras
import numpy as np
import pandas as pd
import pytest
from keras import layers, ops

from helpers.course.exercises import EXERCISES, check
from helpers.data import Preprocessing
from helpers.evaluation import gradcam, gradcam_layer
from helpers.evaluation.graph import activation_model, logits_model
from helpers.evaluation.interpret import gradient
from helpers.models.googlenet import inception
from helpers.models.resnet import basic_block, bottleneck_block
from helpers.models.vgg import CFG, vgg_features
from helpers.training import make_schedule

# --- answers as students write them -------------------------------------------------------------------------------


class Run:
    """What train() returns, as far as the experiment checks read it."""

    def __init__(self, epochs_done=2, **config):
        base = {"model": "vgg16", "dataset": "cifar10", "recipe": "best", "epochs": 2, "augment": "flip", "lr": 1e-3}
        self.config = {**base, "batch_size": 32, "experiment": "best_vgg16_cifar10", "images_seen": 128, **config}
        self.history = pd.DataFrame({"epoch": range(1, epochs_done + 1), "accuracy": 0.5})


class Tensor:
    """A backend tensor as evaluate() or a loss object returns it (only ``numpy()``)."""

    def __init__(self, v):
        self.v = v

    def numpy(self):
        return np.float32(self.v)


def fit_history(accuracy, loss=None, lr=1e-3, frozen=False, steps=1):
    """What ``model.fit`` returns on one batch: a Keras History with its curves, params and model (an optimizer with
    its learning rate, trainable weights or none)."""
    loss = loss if loss is not None else [2.3] * len(accuracy)
    model = types.SimpleNamespace(
        optimizer=types.SimpleNamespace(learning_rate=np.float32(lr)), trainable_weights=[] if frozen else [1]
    )
    return types.SimpleNamespace(
        history={"loss": list(loss), "accuracy": list(accuracy)}, params={"steps": steps}, model=model
    )


def standardize_with_ops(x, m, s):
    return ops.divide(ops.subtract(ops.cast(x, "float32") / 255.0, m), s)


def standardize_own_statistics(x, m, s):
    x = x / 255.0
    return (x - x.mean(axis=(0, 1, 2))) / x.std(axis=(0, 1, 2))


def features(pool=layers.MaxPooling2D, relu="after", padding="same", batch_norm=False, pool_strides=2):
    def build(x, cfg):
        for v in cfg:
            if v == "M":
                x = pool(2, strides=pool_strides, padding="same")(x)
                continue
            x = layers.ReLU()(x) if relu == "before" else x
            x = layers.Conv2D(v, 3, padding=padding)(x)
            x = layers.BatchNormalization()(x) if batch_norm else x
            x = layers.ReLU()(x) if relu == "after" else x
        return x

    return build


def features_right(x, cfg):
    for v in cfg:
        if v == "M":
            x = layers.MaxPool2D()(x)
        else:
            x = layers.ReLU()(layers.Conv2D(v, (3, 3), padding="same")(x))
    return x


def features_sequential(x, cfg):
    steps = [
        layers.MaxPooling2D(2) if v == "M" else layers.Conv2D(v, 3, padding="same", activation="relu") for v in cfg
    ]
    return keras.Sequential(steps)(x)


class VGGFeatures(keras.layers.Layer):
    def __init__(self, cfg, **kwargs):
        super().__init__(**kwargs)
        self.steps = [layers.MaxPooling2D(2) if v == "M" else layers.Conv2D(v, 3, padding="same") for v in cfg]

    def call(self, x):
        for step in self.steps:
            x = step(x) if isinstance(step, layers.MaxPooling2D) else ops.relu(step(x))
        return x


def features_subclassed(x, cfg):
    return VGGFeatures(cfg)(x)


def one_cycle(start=1 / 25, end=0.0025, warmup=0.15, linear=False):
    def lr(step, total_steps, peak_lr):
        warm = int(warmup * total_steps)
        if step < warm:
            return peak_lr * (start + (1 - start) * step / warm)
        t = (step - warm) / (total_steps - warm)
        fall = 1 - t if linear else (1 + math.cos(math.pi * t)) / 2
        return peak_lr * (end + (1 - end) * fall)

    return lr


def one_cycle_right(step, total_steps, peak_lr):
    """Right, written differently: warm-up by interpolation, the cosine with math."""
    warm = int(0.15 * total_steps)
    if step < warm:
        return float(np.interp(step, [0, warm], [peak_lr / 25, peak_lr]))
    t = (step - warm) / (total_steps - warm)
    return peak_lr * 0.0025 + (peak_lr - peak_lr * 0.0025) * (1 + math.cos(math.pi * t)) / 2


def one_cycle_numpy(step, total_steps, peak_lr):
    warm = np.floor(0.15 * total_steps)
    up = peak_lr / 25 + (peak_lr - peak_lr / 25) * step / warm
    down = peak_lr * (0.0025 + 0.9975 * 0.5 * (1 + np.cos(np.pi * (step - warm) / (total_steps - warm))))
    return np.float32(np.where(step < warm, up, down))


def one_cycle_no_warmup(step, total_steps, peak_lr):
    return peak_lr * (0.0025 + (1 - 0.0025) * 0.5 * (1 + math.cos(math.pi * step / total_steps)))


def one_cycle_from_the_kit(step, total_steps, peak_lr):
    config = {"lr": peak_lr, "epochs": 1, "schedule": "onecycle", "warmup_fraction": 0.15}
    return float(make_schedule(config, total_steps)(step))


def conv_bn(x, filters, kernel, stride=1, relu=True, bias=False, epsilon=1e-3, relu_first=False):
    x = layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=bias)(x)
    if relu and relu_first:
        return layers.BatchNormalization(epsilon=epsilon)(layers.ReLU()(x))
    x = layers.BatchNormalization(epsilon=epsilon)(x)
    return layers.Activation("relu")(x) if relu else x


def shortcut(x, filters, stride, when="shape", bn=True):
    if (stride != 1 or x.shape[-1] != filters) if when == "shape" else stride != 1:
        return (
            conv_bn(x, filters, 1, stride, relu=False) if bn else layers.Conv2D(filters, 1, stride, use_bias=False)(x)
        )
    return x


def basic(
    relu_before_add=False, final_relu=True, stride_first=True, bias=False, projection="shape", projection_bn=True
):
    def build(x, filters, stride=1):
        y = conv_bn(x, filters, 3, stride if stride_first else 1, bias=bias)
        y = conv_bn(y, filters, 3, 1 if stride_first else stride, relu=relu_before_add, bias=bias)
        y = layers.Add()([shortcut(x, filters, stride, projection, projection_bn), y])
        return layers.ReLU()(y) if final_relu and not relu_before_add else y

    return build


def basic_reversed(x, filters, stride=1):
    """Right, written differently: the shortcut built first, ReLU as layers.ReLU, layers.add."""
    s = shortcut(x, filters, stride)
    y = conv_bn(x, filters, 3, stride)
    y = conv_bn(y, filters, 3, relu=False)
    return layers.ReLU()(layers.add([y, s]))


def basic_notebook(x, filters, stride=1):
    """03's own cell: conv_bn and shortcut as the notebook writes them."""
    y = conv_bn(x, filters, 3, stride)
    y = conv_bn(y, filters, 3, relu=False)
    return layers.ReLU()(layers.Add()([shortcut(x, filters, stride), y]))


def basic_torch_epsilon(x, filters, stride=1):
    y = conv_bn(conv_bn(x, filters, 3, stride, epsilon=1e-5), filters, 3, relu=False, epsilon=1e-5)
    return layers.ReLU()(layers.Add()([shortcut(x, filters, stride), y]))


class BasicBlock(keras.Model):
    """Right, as a subclassed Model handed in as the class: BasicBlock(filters=..., stride=...)(x)."""

    def __init__(self, filters, stride=1, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.stride = filters, stride
        self.conv1 = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)
        self.conv2 = layers.Conv2D(filters, 3, padding="same", use_bias=False)
        self.bn1, self.bn2 = layers.BatchNormalization(), layers.BatchNormalization()
        self.project = None

    def build(self, input_shape):
        if self.stride != 1 or input_shape[-1] != self.filters:
            self.project = keras.Sequential(
                [layers.Conv2D(self.filters, 1, strides=self.stride, use_bias=False), layers.BatchNormalization()]
            )

    def call(self, x, training=False):
        y = ops.relu(self.bn1(self.conv1(x), training=training))
        y = self.bn2(self.conv2(y), training=training)
        return ops.relu(y + (self.project(x, training=training) if self.project else x))


def bottleneck(strides=(0, 1, 0), expand=4, final_relu=True, projection="shape"):
    def build(x, filters, stride=1):
        y = x
        for i, (kernel, width) in enumerate(((1, filters), (3, filters), (1, expand * filters))):
            y = conv_bn(y, width, kernel, stride if strides[i] else 1, relu=i < 2)
        y = layers.Add()([shortcut(x, expand * filters, stride, projection), y])
        return layers.ReLU()(y) if final_relu else y

    return build


def bottleneck_right(x, filters, stride=1):
    y = conv_bn(conv_bn(x, filters, 1), filters, 3, stride)
    y = conv_bn(y, 4 * filters, 1, relu=False)
    return layers.Activation("relu")(layers.add([y, shortcut(x, 4 * filters, stride)]))


def bottleneck_sequential(x, filters, stride=1):
    def unit(width, kernel, s=1, relu=True):
        return [
            layers.Conv2D(width, kernel, strides=s, padding="same", use_bias=False),
            layers.BatchNormalization(),
        ] + ([layers.ReLU()] if relu else [])

    branch = keras.Sequential(unit(filters, 1) + unit(filters, 3, stride) + unit(4 * filters, 1, relu=False))
    changes = stride != 1 or x.shape[-1] != 4 * filters
    skip = keras.Sequential(unit(4 * filters, 1, stride, relu=False))(x) if changes else x
    return layers.ReLU()(branch(x) + skip)


def plain(relu=(True, True), strides=(True, False), bias=False, epsilon=1e-3, relu_first=False):
    def build(x, filters, stride=1):
        for r, s in zip(relu, strides, strict=True):
            x = conv_bn(x, filters, 3, stride if s else 1, r, bias, epsilon, relu_first)
        return x

    return build


def plain_right(x, filters, stride=1):
    """Right, written differently: Conv2D objects made first, ReLU as an Activation."""
    convs = [layers.Conv2D(filters, 3, strides=s, padding="same", use_bias=False) for s in (stride, 1)]
    for conv in convs:
        x = layers.Activation("relu")(layers.BatchNormalization()(conv(x)))
    return x


class PlainBlock(keras.layers.Layer):
    """Right, as a subclassed Layer: handed in as the class, or called from a function."""

    def __init__(self, filters, stride=1, **kwargs):
        super().__init__(**kwargs)
        self.c1 = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)
        self.b1 = layers.BatchNormalization()
        self.c2 = layers.Conv2D(filters, 3, padding="same", use_bias=False)
        self.b2 = layers.BatchNormalization()

    def call(self, x, training=None):
        x = ops.relu(self.b1(self.c1(x), training=training))
        return ops.relu(self.b2(self.c2(x), training=training))


def plain_subclassed(x, filters, stride=1):
    return PlainBlock(filters, stride)(x)


def plain_sequential(x, filters, stride=1):
    return keras.Sequential(
        [
            layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.ReLU(),
            layers.Conv2D(filters, 3, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.ReLU(),
        ]
    )(x)


def plain_with_shortcut(x, filters, stride=1):
    return layers.Add()([shortcut(x, filters, stride), conv_bn(conv_bn(x, filters, 3, stride), filters, 3)])


def naive(relu=True, pool_first=False, pool=layers.MaxPooling2D, padding="same"):
    def build(x, f1, f3, f5):
        act = "relu" if relu else None
        convs = [layers.Conv2D(f, k, padding=padding, activation=act)(x) for f, k in ((f1, 1), (f3, 3), (f5, 5))]
        pooled = [pool(3, strides=1, padding="same")(x)] if pool else []
        return layers.Concatenate()([*pooled, *convs] if pool_first else [*convs, *pooled])

    return build


def naive_right(x, f1, f3, f5):
    branches = [layers.ReLU()(layers.Conv2D(f, k, padding="same")(x)) for f, k in ((f1, 1), (f3, 3), (f5, 5))]
    return layers.concatenate([*branches, layers.MaxPool2D(pool_size=3, strides=1, padding="same")(x)])


class NaiveInception(keras.layers.Layer):
    def __init__(self, f1, f3, f5, **kwargs):
        super().__init__(**kwargs)
        self.convs = [layers.Conv2D(f, k, padding="same", activation="relu") for f, k in ((f1, 1), (f3, 3), (f5, 5))]
        self.pool = layers.MaxPooling2D(3, strides=1, padding="same")

    def call(self, x):
        return ops.concatenate([conv(x) for conv in self.convs] + [self.pool(x)], axis=-1)


def inception_branches(x, filters, bn=True):
    f1, f3r, f3, f5r, f5, fp = filters

    def unit(y, f, k):
        y = layers.Conv2D(f, k, padding="same", use_bias=not bn)(y)
        return layers.ReLU()(layers.BatchNormalization()(y) if bn else y)

    pooled = layers.MaxPooling2D(3, strides=1, padding="same")(x)
    return [unit(x, f1, 1), unit(unit(x, f3r, 1), f3, 3), unit(unit(x, f5r, 1), f5, 5), unit(pooled, fp, 1)]


def inception_right(x, filters):
    return layers.Concatenate()(inception_branches(x, filters))


def inception_notebook(x, filters):
    """04's own cell, conv_bn_relu written with layers.ReLU."""
    f1, f3r, f3, f5r, f5, fp = filters
    b1 = conv_bn(x, f1, 1)
    b2 = conv_bn(conv_bn(x, f3r, 1), f3, 3)
    b3 = conv_bn(conv_bn(x, f5r, 1), f5, 5)
    b4 = conv_bn(layers.MaxPooling2D(3, strides=1, padding="same")(x), fp, 1)
    return layers.Concatenate()([b1, b2, b3, b4])


def inception_pool_first(x, filters):
    b1, b2, b3, b4 = inception_branches(x, filters)
    return layers.Concatenate()([b4, b1, b2, b3])


def inception_without_bn(x, filters):
    return layers.Concatenate()(inception_branches(x, filters, bn=False))


def inception_without_pool_projection(x, filters):
    f1, f3r, f3, f5r, f5, _ = filters
    pooled = layers.MaxPooling2D(3, strides=1, padding="same")(x)
    branches = [conv_bn(x, f1, 1), conv_bn(conv_bn(x, f3r, 1), f3, 3), conv_bn(conv_bn(x, f5r, 1), f5, 5)]
    return layers.Concatenate()([*branches, pooled])


def small_resnet() -> keras.Model:
    """A tiny residual network whose Grad-CAM layer feeds global average pooling, as a ResNet's does."""
    inputs = keras.Input((16, 16, 3))
    x = layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    x = basic_block(x, 8, 2, name="stage")
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(10)(x))


@functools.cache
def resnet_run():
    """The run 06 checks Grad-CAM on, as far as the check reads it: a (tiny) ResNet and its test images."""
    keras.utils.set_random_seed(0)
    return types.SimpleNamespace(
        model=small_resnet(),
        x_test=np.random.default_rng(0).integers(0, 256, (16, 16, 16, 3), dtype=np.uint8),
        note="",
        inputs=lambda images: (np.asarray(images, np.float32) / 255.0 - 0.5) / 0.25,
    )


def gradcam_parts(model, images, layer):
    maps = np.asarray(activation_model(model, layer)(images, training=False))
    head = logits_model(model, layer)
    pick = ops.one_hot(np.asarray(head(maps, training=False)).argmax(-1), head.output.shape[-1])
    return maps, gradient(lambda m: ops.sum(head(m, training=False) * pick, axis=-1), maps)[1]


def gradcam_tape(model, images, layer):
    """Right, with TensorFlow's own GradientTape and einsum."""
    import tensorflow as tf

    maps = tf.convert_to_tensor(activation_model(model, layer)(images, training=False))
    head = logits_model(model, layer)
    with tf.GradientTape() as tape:
        tape.watch(maps)
        picked = tf.reduce_max(head(maps, training=False), axis=-1)  # the predicted class's score
    grads = tape.gradient(picked, maps).numpy()
    cam = tf.nn.relu(tf.einsum("nhwc,nc->nhw", maps, grads.mean(axis=(1, 2)))).numpy()
    return cam / np.maximum(cam.max(axis=(1, 2), keepdims=True), 1e-12)


def gradcam_ops(model, images, layer):
    """Right, with keras.ops for the weighting, a loop over images for the scaling."""
    maps, grads = gradcam_parts(model, images, layer)
    cam = np.asarray(ops.relu(ops.einsum("nhwc,nc->nhw", maps, ops.mean(grads, axis=(1, 2)))))
    return np.stack([c / c.max() if c.max() > 0 else c for c in cam])


def gradcam_no_relu(model, images, layer):
    maps, grads = gradcam_parts(model, images, layer)
    cam = (maps * grads.mean(axis=(1, 2), keepdims=True)).sum(-1)
    return cam / np.abs(cam).max(axis=(1, 2), keepdims=True)


def gradcam_not_averaged(model, images, layer):
    maps, grads = gradcam_parts(model, images, layer)
    cam = np.maximum((maps * grads).sum(-1), 0)
    return cam / np.maximum(cam.max(axis=(1, 2), keepdims=True), 1e-12)


def gradcam_not_scaled(model, images, layer):
    maps, grads = gradcam_parts(model, images, layer)
    return np.maximum((maps * grads.mean(axis=(1, 2), keepdims=True)).sum(-1), 0)


def gradcam_global_max(model, images, layer):
    cam = gradcam_not_scaled(model, images, layer)
    return cam / cam.max()


def center_right(h):
    h = np.asarray(h)
    r, c = h.shape[0] // 4, h.shape[1] // 4
    return h[r : h.shape[0] - r, c : h.shape[1] - c].sum() / h.sum()


def center_mask(heatmap):
    rows, cols = np.indices(heatmap.shape)
    h, w = heatmap.shape
    inside = (rows >= h // 4) & (rows < h - h // 4) & (cols >= w // 4) & (cols < w - w // 4)
    return float(np.sum(heatmap * inside) / np.sum(heatmap))


def center_means(h):
    r, c = h.shape[0] // 4, h.shape[1] // 4
    return h[r : h.shape[0] - r, c : h.shape[1] - c].mean() / h.mean()


# --- the battery: (exercise, answer-maker, verdict, words) ---------------------------------------------------------


class Answer(NamedTuple):
    exercise: str
    make: object  # () -> the answer (built when the test runs)
    right: bool
    words: str = ""  # what the line of a wrong answer must contain


def R(exercise, make):  # noqa: N802 (reads as a table)
    return Answer(exercise, make, True)


def W(exercise, make, words):  # noqa: N802
    return Answer(exercise, make, False, words)


def value(v):
    return lambda: v


def CFG13():  # noqa: N802
    return list(CFG["vgg13"])


BATTERY = [
    # 01: the data
    R("mnist_val_images", value(np.int64(6000))),
    R("mnist_val_images", value(0.1 * 60_000)),
    R("mnist_val_images", value(np.array(6000))),
    W("mnist_val_images", value(10000), "test set"),
    W("mnist_val_images", value(54000), "stays for training"),
    W("mnist_val_images", value(6000.5), "whole"),
    W("mnist_val_images", value("6000"), "expected a number"),
    W("mnist_val_images", value(0.1), "the fraction"),
    W("mnist_val_images", value(7000), "counts the test set too"),
    R("report1_val_fraction", value(np.float32(0.25))),
    R("report1_val_fraction", value(12_500 / 50_000)),
    R("report1_val_fraction", value(Fraction(1, 4))),
    W("report1_val_fraction", value(25), "that is a percentage; the question asks for a fraction between 0 and 1"),
    W("report1_val_fraction", value(np.int64(25)), "that is a percentage"),
    W("report1_val_fraction", value("25%"), "percentage"),
    W("report1_val_fraction", value(12500), "fraction"),
    W("report1_val_fraction", value(1 / 3), "over all 50,000"),
    W("report1_val_fraction", value(0.75), "training share"),
    R("standardize", value(lambda x, m, s: (x.astype("float32") / 255 - m) / s)),
    R("standardize", value(lambda x, m, s: np.divide(np.subtract(np.true_divide(x, 255), m), s))),
    R("standardize", value(standardize_with_ops)),
    W("standardize", value(lambda x, m, s: (x - m) / s), "255"),
    W("standardize", value(lambda x, m, s: x / 255.0), "subtract"),
    W("standardize", value(lambda x, m, s: None), "None"),
    W("standardize", value(lambda x, m, s: x / 255.0 / s - m), "the order"),
    W("standardize", value(lambda x, m, s: x / 255.0 - m), "divide each channel by its standard deviation"),
    W("standardize", value(lambda x, m, s: (x / 255.0 - s) / m), "swapped"),
    W("standardize", value(standardize_own_statistics), "passed in"),
    W("standardize", value(lambda x, m, s: Preprocessing(tuple(m), tuple(s))(x)), "kit's own `Preprocessing`"),
    R("cifar_pixels", value(np.int32(3072))),
    R("cifar_pixels", value(32.0 * 32 * 3)),
    R("cifar_pixels", value(np.prod((32, 32, 3)))),
    W("cifar_pixels", value(1024), "one channel"),
    W("cifar_pixels", value(784), "MNIST"),
    W("cifar_pixels", value((32, 32, 3)), "one number"),
    W("cifar_pixels", value(2352), "32 x 32"),
    # 02: VGG
    R("conv_params", value(np.int64(73856))),
    R("conv_params", value(3 * 3 * 64 * 128 + 128.0)),
    R("conv_params", value((3 * 3 * 64 + 1) * 128)),
    W("conv_params", value(73728), "bias"),
    W("conv_params", value(73728 + 64), "one bias per filter, not per input channel"),
    W("conv_params", value(576), "128"),
    W("conv_params", value(1152), "every input channel"),
    W("conv_params", value(True), "expected a number"),
    R("vgg_final_shape", value([1, 1, 512])),
    R("vgg_final_shape", value(np.array([1, 1, 512]))),
    R("vgg_final_shape", value((1.0, np.int64(1), 512))),
    W("vgg_final_shape", value((2, 2, 512)), "height and width"),
    W("vgg_final_shape", value((1, 512)), "3 dimensions"),
    W("vgg_final_shape", value((512, 1, 1)), "channels last"),
    W("vgg_final_shape", value((1, 1, 256)), "channels"),
    R("vgg13_config", CFG13),
    R("vgg13_config", value((64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"))),
    R("vgg13_config", value([np.int64(v) if v != "M" else v for v in CFG["vgg13"]])),
    W("vgg13_config", value([64, "M", 128, "M"]), "pools"),
    W("vgg13_config", value([64, "M", 64, 128, "M", 128, 256, "M", 256, 512, "M", 512, 512, "M", 512]), "order"),
    W("vgg13_config", lambda: list(CFG["vgg16"]), "13 convolutions"),
    W("vgg13_config", value([64, 64, "m", 128, 128, "m", 256, 256, "m", 512, 512, "m", 512, 512, "m"]), "capital M"),
    W("vgg13_config", value(["64", "64", "M"]), "a number such as 64"),
    W("vgg13_config", lambda: CFG["vgg13"], "kit's own"),
    R("vgg_loop", value(features_right)),
    R("vgg_loop", value(features_sequential)),
    R("vgg_loop", value(features_subclassed)),
    W("vgg_loop", value(features(relu=None)), "no ReLU"),
    W("vgg_loop", value(features(relu="before")), "the ReLU comes after each convolution, not before it"),
    W("vgg_loop", value(features(pool=layers.AveragePooling2D)), "*max*-pool"),
    W("vgg_loop", value(features(padding="valid")), "padding='same'"),
    W("vgg_loop", value(features(batch_norm=True)), "no batch norm"),
    W("vgg_loop", value(features(pool_strides=1)), "stride 2"),
    W("vgg_loop", value(lambda x, cfg: vgg_features(x, cfg, batch_norm=False)), "kit's own `vgg_features`"),
    R("budget_images", value(np.int64(9600))),
    R("budget_images", value(8 * 1200.0)),
    R("budget_images", value(np.array(9600))),
    W("budget_images", value(300), "batch of 32"),
    W("budget_images", value(1200), "8 passes"),
    W("budget_images", value(8), "epochs"),
    W("budget_images", value(9600 * 32), "batch size is already inside"),
    R("one_cycle_lr", value(one_cycle_right)),
    R("one_cycle_lr", value(one_cycle_numpy)),
    W("one_cycle_lr", value(lambda step, total, peak: peak), "no warm-up"),
    W("one_cycle_lr", value(one_cycle_no_warmup), "no warm-up"),
    W("one_cycle_lr", value(one_cycle(end=0.0)), "not at 0"),
    W("one_cycle_lr", value(one_cycle(start=0.0)), "starts at peak_lr / 25, not at 0"),
    W("one_cycle_lr", value(one_cycle(linear=True)), "cosine"),
    W("one_cycle_lr", value(one_cycle(warmup=0.3)), "first 15% of the steps"),
    W("one_cycle_lr", value(lambda step, total, peak: None), "returns None"),
    W("one_cycle_lr", value(one_cycle_from_the_kit), "kit's own `make_schedule`"),
    R("vgg11_experiment", value(Run(model="vgg11", experiment=None, images_seen=999))),
    R("vgg11_experiment", value(Run(model="vgg11", epochs_done=3))),
    W("vgg11_experiment", value(Run(model="vgg11", epochs_done=1)), "stopped after 1 of its 2"),
    W("vgg11_experiment", value(Run(model="vgg11", lr=3e-3)), "also changes lr"),
    W("vgg11_experiment", value(types.SimpleNamespace(config={"model": "vgg11"})), "train(...)"),
    W("vgg11_experiment", value(Run(model="vgg13")), "model='vgg13'"),
    W("vgg11_experiment", value(None), "train(...)"),
    # 02: the sanity checks (an untrained network's loss, one batch overfitted)
    R("initial_loss", value(np.float32(2.7030067))),
    R("initial_loss", value(2.3025851249694824)),
    R("initial_loss", value(np.array(2.41))),
    R("initial_loss", value(Tensor(2.5))),
    W("initial_loss", value([2.70, 0.0625]), "evaluate() returns [loss, accuracy]"),
    W("initial_loss", value(0.0625), "accuracy"),
    W("initial_loss", value(0.325), "binary cross-entropy"),
    W("initial_loss", value(32 * 2.3026), "summed over the batch"),
    W("initial_loss", value(16.118), "logits"),
    W("initial_loss", value(5.4), "final activation"),
    W("initial_loss", value(0.0002), "fresh build_model"),
    W("initial_loss", value(-1.2), "never negative"),
    R("overfit_batch", value(fit_history([0.1, 0.5, 0.9, 1.0] + [1.0] * 26))),
    R("overfit_batch", value({"loss": [2.3, 1.0, 0.1], "accuracy": [0.1, 0.7, 1.0]})),
    R("overfit_batch", value(pd.DataFrame({"loss": [2.3, 0.01], "accuracy": [np.float32(0.1), np.float32(1.0)]}))),
    W("overfit_batch", value(fit_history([0.1] * 30, loss=[2.3 + 0.5 * i for i in range(30)])), "too high"),
    W("overfit_batch", value(fit_history([0.1] * 30, loss=[2.3] * 29 + [float("nan")])), "too high"),
    W("overfit_batch", value(fit_history([0.1] * 30, lr=1e-6)), "too small"),
    W("overfit_batch", value(fit_history([0.1] * 30, frozen=True)), "frozen"),
    W("overfit_batch", value(fit_history([0.1] * 30)), "labels"),
    W("overfit_batch", value(fit_history([0.1] * 8, loss=[2.3 - 0.1 * i for i in range(8)])), "a few dozen"),
    W("overfit_batch", value(fit_history([0.1, 0.5, 0.9, 1.0], steps=2)), "one small batch"),
    W(
        "overfit_batch",
        value(fit_history([0.03 * i for i in range(25)], loss=[2.3 / (1 + i) for i in range(25)])),
        "more steps",
    ),
    W("overfit_batch", value({"loss": [2.3, 1.0]}), "metrics=['accuracy']"),
    W("overfit_batch", value(0.97), "History"),
    # 03: ResNet
    R("bottleneck_params", value(np.int64(71168))),
    R("bottleneck_params", value(71168.0)),
    R("bottleneck_params", value(256 * 64 + 9 * 64 * 64 + 64 * 256 + 4 * (64 + 64 + 256))),
    W("bottleneck_params", value(69632), "batch norm"),
    W("bottleneck_params", value(69632 + 2 * 384), "batch norm has 4 numbers per channel of which 2 are trained"),
    W("bottleneck_params", value(71168 + 384), "no conv biases"),
    W("bottleneck_params", value(71168 + 256 * 256 + 4 * 256), "no projection"),
    W("bottleneck_params", value(71168.5), "whole"),
    R("stage_shape", value([16, 16, 128])),
    R("stage_shape", value(np.array([16, 16, 128], dtype=np.int64))),
    R("stage_shape", value((16.0, 16.0, 128.0))),
    W("stage_shape", value((32, 32, 128)), "height and width"),
    W("stage_shape", value((16, 16, 64)), "channels"),
    W("stage_shape", value((128, 16, 16)), "channels last"),
    W("stage_shape", value((16.9, 16.2, 128)), "whole numbers"),
    R("basic_block", value(basic_reversed)),
    R("basic_block", value(basic_notebook)),
    R("basic_block", value(BasicBlock)),
    R("basic_block", value(basic_torch_epsilon)),
    W("basic_block", value(basic(relu_before_add=True)), "after the addition, not before it"),
    W("basic_block", value(basic(final_relu=False)), "after the addition comes a ReLU"),
    W("basic_block", value(plain_right), "nothing is added"),
    W("basic_block", value(basic(projection="stride")), "projection wherever the shape changes"),
    W("basic_block", value(basic(projection_bn=False)), "followed by a batch norm"),
    W("basic_block", value(basic(bias=True)), "no bias"),
    W("basic_block", value(basic(stride_first=False)), "first 3x3"),
    W("basic_block", value(lambda x, filters, stride=1: basic_block(x, filters, stride, name="b")), "kit's own"),
    R("bottleneck_block", value(bottleneck_right)),
    R("bottleneck_block", value(bottleneck_sequential)),
    W("bottleneck_block", value(bottleneck(strides=(1, 0, 0))), "3x3"),
    W("bottleneck_block", value(lambda x, filters, stride=1: x), "0 parameters"),
    W("bottleneck_block", value(bottleneck(projection="stride")), "projection wherever the shape changes"),
    W("bottleneck_block", value(bottleneck(final_relu=False)), "after the addition comes a ReLU"),
    W("bottleneck_block", value(bottleneck(expand=1)), "4 x filters"),
    W("bottleneck_block", value(functools.partial(bottleneck_block, name="p")), "kit's own `bottleneck_block`"),
    R("plain_block", value(plain_right)),
    R("plain_block", value(plain_subclassed)),
    R("plain_block", value(PlainBlock)),
    R("plain_block", value(plain(epsilon=1e-5))),
    R("plain_block", value(plain_sequential)),
    W("plain_block", value(plain(relu=(False, False))), "no ReLU"),
    W("plain_block", value(plain(relu=(True, False))), "second conv-BN pair has no ReLU"),
    W("plain_block", value(plain(strides=(False, True))), "the stride sits on the first 3x3 convolution"),
    W("plain_block", value(plain(strides=(True, True))), "only the first convolution has the stride"),
    W("plain_block", value(plain_with_shortcut), "no shortcut"),
    W("plain_block", value(lambda x, filters, stride=1: None), "returns None"),
    W("plain_block", value(plain(relu_first=True)), "conv -> batch norm -> ReLU"),
    W("plain_block", value(plain(bias=True)), "no bias"),
    W("plain_block", value(lambda x, filters, stride=1: basic_block(x, filters, stride, False, name="p")), "kit's"),
    R("resnet34_layers", value(np.int64(34))),
    R("resnet34_layers", value(34.0)),
    R("resnet34_layers", value(2 * (3 + 4 + 6 + 3) + 2)),
    W("resnet34_layers", value(16), "blocks"),
    W("resnet34_layers", value(33), "dense layer"),
    W("resnet34_layers", value(37), "projection shortcuts are not counted as layers"),
    W("resnet34_layers", value(50), "ResNet-50"),
    W("resnet34_layers", value(34.5), "whole"),
    R("cifar_resnet_depth", value(np.int16(56))),
    R("cifar_resnet_depth", value(56.0)),
    R("cifar_resnet_depth", value(6 * 9 + 2)),
    W("cifar_resnet_depth", value(54), "stem"),
    W("cifar_resnet_depth", value(27), "blocks"),
    W("cifar_resnet_depth", value(58), "projection shortcuts are not counted as layers"),
    W("cifar_resnet_depth", value(20), "n = 3"),
    R("plain20_run", value(Run(model="plain20"))),
    R("plain20_run", value(Run(model="plain20", experiment="mine", images_seen=5))),
    W("plain20_run", value(Run(model="plain56")), "model='plain56'"),
    W("plain20_run", value(Run(model="plain20", epochs_done=0)), "stopped"),
    W("plain20_run", value(Run(model="plain20", batch_size=64)), "also changes batch_size"),
    R("plain56_run", value(Run(model="plain56", experiment=None))),
    R("plain56_run", value(Run(model="plain56", epochs_done=2, images_seen=1))),
    W("plain56_run", value(Run(model="plain56", augment="none")), "also changes augment"),
    W("plain56_run", value(Run(model="plain20")), "plain56"),
    W("plain56_run", value(Run()), "model='vgg16'"),
    # 04: GoogLeNet
    R("inception_channels", value(np.int64(256))),
    R("inception_channels", value(256.0)),
    R("inception_channels", value(sum([64, 128, 32, 32]))),
    W("inception_channels", value(192), "input"),
    W("inception_channels", value(368), "reductions"),
    W("inception_channels", value(416), "1x1 projection"),
    W("inception_channels", value(256.5), "whole"),
    R("reduction_params", value(np.int64(15872))),
    R("reduction_params", value(192 * 16 + 5 * 5 * 16 * 32.0)),
    W("reduction_params", value(153600), "1x1"),
    W("reduction_params", value(12800), "192 x 16"),
    W("reduction_params", value(3072), "add the 5x5"),
    W("reduction_params", value(15872 + 48), "no biases"),
    R("naive_inception", value(naive_right)),
    R("naive_inception", value(NaiveInception)),
    W("naive_inception", value(naive(relu=False)), "ReLU"),
    W("naive_inception", value(naive(pool_first=True)), "order"),
    W("naive_inception", value(naive(pool=layers.AveragePooling2D)), "*max*-pool"),
    W("naive_inception", value(naive(pool=None)), "fourth branch is missing"),
    W("naive_inception", value(naive(padding="valid")), "'same' padding"),
    R("inception_module", value(inception_right)),
    R("inception_module", value(inception_notebook)),
    W("inception_module", value(inception_without_pool_projection), "output shape"),
    W("inception_module", value(lambda x, filters: 1 / 0), "ZeroDivisionError"),
    W("inception_module", value(inception_pool_first), "order"),
    W("inception_module", value(inception_without_bn), "batch norm"),
    W("inception_module", value(lambda x, filters: inception(x, filters, "i")), "kit's own `inception`"),
    R("augment_experiment", value(Run(augment="none"))),
    R("augment_experiment", value(Run(augment="none", experiment=None, images_seen=7))),
    W("augment_experiment", value(Run(augment="flip_crop")), "augment='flip_crop'"),
    W("augment_experiment", value(Run(augment="none", epochs=3, epochs_done=3)), "also changes epochs"),
    W("augment_experiment", value(Run(augment="none", epochs_done=1)), "stopped"),
    # 06: what CNNs see
    R("block3_pool_shape", value([4, 4, 256])),
    R("block3_pool_shape", value(np.array((4, 4, 256)))),
    R("block3_pool_shape", value((4.0, 4.0, 256.0))),
    W("block3_pool_shape", value((8, 8, 256)), "height and width"),
    W("block3_pool_shape", value((4.0, 4.5, 256)), "whole numbers"),
    W("block3_pool_shape", value((256, 4, 4)), "channels last"),
    W("block3_pool_shape", value((4, 4, 128)), "channels"),
    R("gradcam_cell_pixels", value(np.int64(8))),
    R("gradcam_cell_pixels", value(32 / 4)),
    R("gradcam_cell_pixels", value(np.float32(8))),
    W("gradcam_cell_pixels", value(64), "an area"),
    W("gradcam_cell_pixels", value(4), "map's size"),
    W("gradcam_cell_pixels", value(16), "number of cells"),
    W("gradcam_cell_pixels", value(0.125), "how many image pixels"),
    R("gradcam", value(gradcam_tape)),
    R("gradcam", value(gradcam_ops)),
    W("gradcam", value(gradcam_no_relu), "positive part"),
    W("gradcam", value(gradcam_not_averaged), "*averaged over the positions*"),
    W("gradcam", value(gradcam_not_scaled), "its own maximum"),
    W("gradcam", value(gradcam_global_max), "not by the largest of all the maps"),
    W("gradcam", value(gradcam), "kit's own `gradcam`"),
    W("gradcam", value(lambda m, images, layer: gradcam(m, images, layer=layer, upsample=False)), "kit's own"),
    R("center_share", value(center_right)),
    R("center_share", value(center_mask)),
    W("center_share", value(lambda h: 1 - center_right(h)), "border"),
    W("center_share", value(lambda h: h[8:24, 8:24].sum()), "more than 1"),
    W("center_share", value(lambda h: 100 * center_right(h)), "that is a percentage; the question asks for a fraction"),
    W("center_share", value(center_means), "compares means"),
    W("center_share", value(lambda h: None), "returns None"),
]


def against(exercise: str):
    """What the notebook passes as ``against=``: its own run (a small network's for Grad-CAM)."""
    if exercise == "gradcam":
        return resnet_run()
    return Run() if EXERCISES[exercise].compare else None


def test_every_exercise_has_three_wrong_and_two_right_answers():
    assert {case.exercise for case in BATTERY} == set(EXERCISES)
    for name in EXERCISES:
        right = [c for c in BATTERY if c.exercise == name and c.right]
        wrong = [c for c in BATTERY if c.exercise == name and not c.right]
        assert len(right) >= 2 and len(wrong) >= 3, name
    assert len(BATTERY) >= 60 and all(c.words for c in BATTERY if not c.right)


@pytest.mark.parametrize("case", BATTERY, ids=[f"{c.exercise}-{i}" for i, c in enumerate(BATTERY)])
def test_the_battery(case, capsys):
    if EXERCISES[case.exercise].kind in ("code", "shown"):
        keras.backend.clear_session()
    verdict = check(case.exercise, case.make(), against=against(case.exercise))
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out  # one line
    assert bool(verdict) is case.right, out
    if case.right:
        assert out.startswith(f"[correct] {case.exercise}: "), out
    else:
        assert out.startswith(f"[try again] {case.exercise}: ") and case.words in out, (case.words, out)


def test_the_resnet_run_hides_a_missing_average_that_the_vgg_probe_shows():
    """Why the check looks at a VGG too: on a network whose Grad-CAM layer feeds global average pooling, a Grad-CAM
    that does not average the gradients gives the kit's maps (issue 37: it passed on 06's ResNet)."""
    run = resnet_run()
    images = run.inputs(run.x_test[:16])
    layer = gradcam_layer(run.model)
    want = gradcam(run.model, images, layer=layer, upsample=False)
    assert np.allclose(gradcam_not_averaged(run.model, images, layer), want, atol=1e-3)


# --- predict, observe, explain (helpers.course.predict): a prediction is recorded whatever it says, in any spelling
# and number type, and refused only for its form, with the slip named; an explanation only has to be written.

RECORDED = [
    ("degradation", ("Plain-56", 10)),
    ("degradation", ["plain20", np.float64(2.5)]),
    ("degradation", {"run": "PLAIN 56", "by": np.int64(20)}),
    ("degradation", "plain56"),
    ("augmentation", ("unaugmented", 5)),
    ("augmentation", ("Augmented", Fraction(3, 2))),
    ("learning_rate", ("small_lr", 15)),
    ("learning_rate", ("large-lr", np.array(3))),
]
REFUSED = [
    ("degradation", ("resnet56", 10), "'plain20' or 'plain56'"),
    ("degradation", (56, 10), "'plain20' or 'plain56'"),
    ("degradation", ("plain56", "10%"), "number of points"),
    ("degradation", ("plain56", -5), "not negative"),
    ("degradation", ("plain56", 150), "at most 100"),
    ("degradation", ("plain56", 10, 3), "by about how much"),
    ("augmentation", ("none", 5), "'augmented' or 'unaugmented'"),
    ("augmentation", ("unaugmented", True), "number of points"),
    ("augmentation", 7, "by about how much"),
    ("learning_rate", ("1e-5", 10), "'large_lr' or 'small_lr'"),
    ("learning_rate", ("small_lr", "many"), "number of steps"),
    ("learning_rate", ("small_lr", float("nan")), "not negative"),
]
WRITTEN = [
    "plain-56 is harder to optimise: the solver does not find the identity in its extra layers.",
    "  Augmentation shows new images each epoch, so the network memorises less.  ",
    "A smaller rate takes smaller steps, so it needs more of them.",
]
UNWRITTEN = [
    (..., "[not answered]", "replace the ..."),
    ("", "[not answered]", "replace the ..."),
    ("your answer", "[not answered]", "replace the ..."),
    ("deeper", "[not recorded]", "too few"),
    (3, "[not recorded]", "as text"),
]


@pytest.mark.parametrize("effect, answer", RECORDED)
def test_a_prediction_is_recorded_whatever_it_says(effect, answer, tmp_path, capsys):
    from helpers.course.predict import predict, recorded

    assert predict(effect, answer, tmp_path)
    out = capsys.readouterr().out
    assert out.startswith(f"[recorded] {effect}: you predict that ") and out.count("\n") == 1, out
    assert str(tmp_path / "predictions.json") in out and "not graded" in out
    assert not any(word in out.lower() for word in ("correct", "wrong", "try again", "right")), out
    assert recorded(effect, tmp_path)["run"] in out


@pytest.mark.parametrize("effect, answer, words", REFUSED)
def test_a_prediction_of_the_wrong_form_is_refused_with_the_slip_named(effect, answer, words, tmp_path, capsys):
    from helpers.course.predict import predict, recorded

    assert not predict(effect, answer, tmp_path)
    out = capsys.readouterr().out
    assert out.startswith(f"[not recorded] {effect}: ") and words in out, (words, out)
    assert recorded(effect, tmp_path) is None


@pytest.mark.parametrize("text", WRITTEN)
def test_an_explanation_is_accepted_once_written(text, tmp_path, capsys):
    from helpers.course.predict import explain

    assert explain("degradation", text, tmp_path)
    out = capsys.readouterr().out
    assert out.startswith("[recorded] degradation: your explanation") and "not graded" in out, out
    assert text.strip() in (tmp_path / "predictions.json").read_text()


@pytest.mark.parametrize("text, tag, words", UNWRITTEN)
def test_an_unwritten_explanation_is_named(text, tag, words, capsys):
    from helpers.course.predict import explain

    assert not explain("augmentation", text)
    out = capsys.readouterr().out
    assert out.startswith(f"{tag} augmentation: ") and words in out, out
