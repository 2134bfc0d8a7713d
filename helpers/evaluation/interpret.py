"""What a trained network sees: feature maps of named layers, Grad-CAM heatmaps, filter patterns by gradient ascent.

    run = open_run(output_dir)   # helpers.evaluation.trained: the most accurate finished run (or open_run(dir, name))
    maps = feature_maps(run.model, run.inputs(run.x_test[:1]), stage_layers(run.model))
    heat = gradcam(run.model, run.inputs(run.x_test[:16]))              # (16, H, W) in [0, 1]
    pats = filter_patterns(run.model, "conv3_block2_out", [0, 1, 2])     # (3, H, W, C) images in [0, 1]

Keras and ``keras.ops`` do the work; the one backend-specific piece is ``gradient_function`` (TensorFlow's
GradientTape, or ``jax.grad`` on Keras' JAX backend). Every function takes any of the kit's models: the VGGs,
ResNets (plain and residual), GoogLeNet (its main output) and the reports' replicas; layers are picked from the
model's graph (``helpers.evaluation.graph``).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops
from matplotlib import colormaps

from helpers.evaluation.graph import activation_model, gradcam_layer, logits_model
from helpers.models import build_model, inference_model

__all__ = [
    "feature_maps",
    "filter_images",
    "filter_patterns",
    "gradcam",
    "gradient",
    "gradient_function",
    "most_active_channels",
    "overlay",
    "untrained_model",
]


def gradient_function(fn, compiled: bool = False):
    """``fn`` maps a batch to one number per sample; returns ``step(x) -> (fn(x), d fn / d x)`` (numpy arrays).

    Samples do not interact (inference mode), so the gradient of the sum is each sample's own gradient.
    ``compiled=True`` traces the step once (tf.function / jax.jit) for loops that call it many times (gradient
    ascent). This is the only backend-specific function of the module.
    """
    backend = keras.backend.backend()
    # Each backend's own gradient, imported only when it is the backend in use (the others may be absent).
    if backend == "tensorflow":
        import tensorflow as tf

        def value_and_grad(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                values = fn(x)
                total = tf.reduce_sum(values)
            return values, tape.gradient(total, x)

        step = tf.function(value_and_grad, reduce_retracing=True) if compiled else value_and_grad
        return lambda x: tuple(np.asarray(t) for t in step(tf.convert_to_tensor(np.asarray(x, np.float32))))
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        def total(x):
            values = fn(x)
            return jnp.sum(values), values

        grad = jax.value_and_grad(total, has_aux=True)
        grad = jax.jit(grad) if compiled else grad

        def step(x):
            (_, values), grads = grad(jnp.asarray(x, jnp.float32))
            return np.asarray(values), np.asarray(grads)

        return step
    raise NotImplementedError(
        f"helpers.evaluation.interpret: gradients on Keras' {backend!r} backend are not written yet "
        "(TensorFlow and JAX are)."
    )


def gradient(fn, x):
    """``(fn(x), d fn / d x)`` for a batch ``x``: ``gradient_function(fn)(x)``."""
    return gradient_function(fn)(x)


def feature_maps(model, images, layer_names) -> dict[str, np.ndarray]:
    """The outputs of ``layer_names`` for a batch of (preprocessed) images: name -> (N, H, W, C) array."""
    outputs = activation_model(model, layer_names)(np.asarray(images, np.float32), training=False)
    return {name: np.asarray(out) for name, out in zip(layer_names, outputs, strict=True)}


def most_active_channels(maps: np.ndarray, k: int) -> list[int]:
    """The ``k`` channels of (N, H, W, C) feature maps with the largest mean activation."""
    return [int(c) for c in np.argsort(-np.asarray(maps).mean(axis=(0, 1, 2)), kind="stable")[:k]]


# ------------------------------------------------------------------------------------------ Grad-CAM


def gradcam(model, images, classes=None, layer: str | None = None, upsample: bool = True) -> np.ndarray:
    """Grad-CAM heatmaps (N, H, W) in [0, 1] at the input's size (Selvaraju et al., 2017); ``upsample=False``:
    at the layer's own size (h, w).

    The gradient of each image's class score (``classes``; None: the predicted class) with respect to the maps of
    ``layer`` (None: ``gradcam_layer``), averaged over positions, weighs the maps' channels; the weighted sum,
    without its negative part, says where the evidence for the class lies.
    """
    model = inference_model(model)
    layer = layer or gradcam_layer(model)
    maps = np.asarray(activation_model(model, layer)(np.asarray(images, np.float32), training=False))
    head = logits_model(model, layer)
    if classes is None:
        classes = np.asarray(head(maps, training=False)).argmax(-1)
    pick = ops.one_hot(np.asarray(classes), ops.shape(head.output)[-1])
    _, grads = gradient(lambda a: ops.sum(head(a, training=False) * pick, axis=-1), maps)
    weights = grads.mean(axis=(1, 2), keepdims=True)
    cam = np.maximum((maps * weights).sum(-1), 0.0)
    cam = cam / np.maximum(cam.max(axis=(1, 2), keepdims=True), 1e-12)
    if not upsample:
        return cam
    size = tuple(int(d) for d in model.input.shape[1:3])
    return np.asarray(ops.image.resize(cam[..., None], size, interpolation="bilinear"))[..., 0].clip(0, 1)


def overlay(image, heatmap, alpha: float = 0.45) -> np.ndarray:
    """An (H, W, 3) picture in [0, 1]: the image in grey or colour with the heatmap in matplotlib's 'jet' over it."""
    image = np.asarray(image, np.float32)
    image = image / 255.0 if image.max() > 1 else image
    if image.ndim == 2 or image.shape[-1] == 1:
        image = np.repeat(image.reshape(*image.shape[:2], 1), 3, axis=-1)
    heat = colormaps["jet"](np.asarray(heatmap))[..., :3]
    return ((1 - alpha) * image + alpha * heat).clip(0, 1)


# ------------------------------------------------------------------------------------------ filters


def filter_images(kernel, n: int | None = None) -> np.ndarray:
    """A conv kernel (k, k, C_in, C_out) as C_out small pictures (k, k, C_in) in [0, 1], each stretched to its own
    range (RGB for 3 input channels, grey for 1); the first ``n`` filters."""
    w = np.moveaxis(np.asarray(kernel, np.float32), -1, 0)[:n]
    low = w.min(axis=(1, 2, 3), keepdims=True)
    high = w.max(axis=(1, 2, 3), keepdims=True)
    return (w - low) / np.maximum(high - low, 1e-12)


def untrained_model(config: dict):
    """The run's network as it was before training: same architecture, input shape and seed (train() seeds Keras
    with the run's seed before building it)."""
    keras.utils.set_random_seed(int(config["seed"]))
    return build_model(config["model"], tuple(config["data"]["input_shape"]), len(config["data"]["class_names"]))


def filter_patterns(model, layer: str, channels, steps: int = 30, step_size: float = 0.5, seed: int = 0) -> np.ndarray:
    """Images that excite ``channels`` of ``layer`` most, by gradient ascent from faint noise (Erhan et al., 2009;
    Chollet, ch. 9): each step moves the image along its normalised gradient of the channel's mean activation
    (borders left out). Returns (len(channels), H, W, C) in [0, 1], each stretched for display."""
    model = inference_model(model)
    probe = activation_model(model, layer)
    depth = int(probe.output.shape[-1])
    pick = ops.one_hot(np.asarray(list(channels)), depth)[:, None, None, :]
    h = int(probe.output.shape[1])
    border = 1 if h >= 6 else 0

    def objective(x):
        a = probe(x, training=False)
        a = a[:, border : h - border, border : h - border, :] if border else a
        return ops.mean(ops.sum(a * pick, axis=-1), axis=(1, 2))

    rng = np.random.default_rng(seed)
    x = 0.1 * rng.standard_normal((len(pick), *model.input.shape[1:])).astype(np.float32)
    step = gradient_function(objective, compiled=True)
    for _ in range(steps):
        _, g = step(x)
        x = x + step_size * g / (np.sqrt((g**2).mean(axis=(1, 2, 3), keepdims=True)) + 1e-8)
    x = x - x.mean(axis=(1, 2, 3), keepdims=True)
    return (0.5 + 0.15 * x / (x.std(axis=(1, 2, 3), keepdims=True) + 1e-8)).clip(0, 1)
