"""What a model costs: inference images/s measured on this machine, and floating-point operations per image
counted from its layers (any Keras backend: the count needs the layers' shapes, not a profiler)."""

from __future__ import annotations

import math
import time
import warnings

import keras
import numpy as np

from helpers.environment import quiet_tensorflow
from helpers.models import inference_model
from helpers.models.resnet import ZeroPadShortcut

__all__ = ["count_flops", "inference_throughput"]


def inference_throughput(model, x, batch_size: int = 256, repeats: int = 3, warmup: int = 1) -> float:
    """Return inference speed in images/s: median over `repeats` timed passes over the full batches of `x`.

    `warmup` batches run first and are not timed (tracing, memory allocation). A trailing partial batch is left
    out so that timing never includes a re-trace for a new batch shape.
    """
    model = inference_model(model)
    x = np.asarray(x)
    n_used = max(len(x) // batch_size * batch_size, min(len(x), batch_size))
    batches = [x[i : i + batch_size] for i in range(0, n_used, batch_size)]
    with quiet_tensorflow():
        for i in range(warmup):
            model.predict_on_batch(batches[i % len(batches)])
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for batch in batches:
            model.predict_on_batch(batch)  # returns numpy, so the device work is finished when it returns
        rates.append(n_used / (time.perf_counter() - start))
    return float(np.median(rates))


# Layers that do no arithmetic on their input (moving, copying, selecting, or ReLU's comparison with 0).
_FREE = (
    keras.layers.InputLayer,
    keras.layers.Flatten,
    keras.layers.Reshape,
    keras.layers.Dropout,
    keras.layers.Concatenate,
    keras.layers.ZeroPadding2D,
    keras.layers.Cropping2D,
    keras.layers.ReLU,
    keras.layers.SpatialDropout2D,
    ZeroPadShortcut,  # the paper's option A shortcut: a subsample and zero channels
)


def _size(shape) -> int:
    """Elements of one image's tensor (the batch dimension left out)."""
    return math.prod(int(d) for d in shape[1:])


def _layer_flops(layer) -> int | None:
    """One layer's floating-point operations per image (a multiply-add counts 2); None for a layer it cannot
    count. Convolutions and dense layers: 2 x multiply-adds plus bias adds; batch norm (inference): a scale and a
    shift per element; additions: one per element per extra input; pooling: one per window element of every
    output; softmax: three per element (exp, sum, divide); ReLU and data movement: nothing."""
    if isinstance(layer, _FREE):
        return 0
    out = _size(layer.output.shape)
    if isinstance(layer, keras.layers.Conv2D):  # DepthwiseConv2D and SeparableConv2D are not used by the kit
        kh, kw = layer.kernel_size
        per_output = kh * kw * int(layer.input.shape[-1]) // layer.groups
        return 2 * per_output * out + (out if layer.use_bias else 0)
    if isinstance(layer, keras.layers.Dense):
        return 2 * int(layer.input.shape[-1]) * out + (out if layer.use_bias else 0)
    if isinstance(layer, keras.layers.BatchNormalization):
        return 2 * out
    if isinstance(layer, keras.layers.Add):
        return (len(layer.input) - 1) * out
    if isinstance(layer, keras.layers.MaxPooling2D | keras.layers.AveragePooling2D):
        return math.prod(layer.pool_size) * out
    if isinstance(layer, keras.layers.GlobalAveragePooling2D | keras.layers.GlobalMaxPooling2D):
        return _size(layer.input.shape)
    if isinstance(layer, keras.layers.Rescaling):
        return 2 * out
    if isinstance(layer, keras.layers.Activation):
        name = getattr(layer.activation, "__name__", "")
        return 3 * out if name == "softmax" else 0 if name in ("relu", "linear") else None
    return None


def count_flops(model) -> int | None:
    """Floating-point operations per image of the model's main output (a multiply-add counts 2), summed over its
    layers (``_layer_flops``; nested models are walked too), on any Keras backend. None, with a warning naming the
    layer, when a layer is of a kind it cannot count."""
    model = inference_model(model)
    total = 0
    for layer in _walk(model):
        flops = _layer_flops(layer)
        if flops is None:
            warnings.warn(
                f"count_flops: cannot count layer {layer.name!r} ({type(layer).__name__}); returning None", stacklevel=2
            )
            return None
        total += flops
    return int(total)


def _walk(model):
    """Every layer of a functional model, nested models opened."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _walk(layer)
        else:
            yield layer
