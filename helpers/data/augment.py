"""Augmentation of whole batches with ``keras.ops`` (one ``affine_transform`` a batch), the same on every backend:
random crops (shifts with zero fill), flips and rotations, drawn from the caller's seeded numbers."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

__all__ = ["AUGMENT", "AUGMENTATIONS", "Augmenter", "augment_batch", "augment_with", "augmenter"]

# kind -> (largest shift in pixels, largest rotation in degrees, horizontal flips, interpolation)
AUGMENT = {
    "flip_crop": (4, 0.0, True, "nearest"),  # CIFAR: "pad 4, random 32x32 crop" and a flip half of the time
    "flip": (0, 0.0, True, "nearest"),  # CIFAR, lighter: a horizontal flip half of the time, no shift
    "shift_rotate": (3, 10.0, False, "bilinear"),  # digits: never flipped (a flipped 2 is not a 2)
}
AUGMENTATIONS = ("none", *AUGMENT)


def augment_with(images, kind: str, uniform):
    """Random per-image transforms of a whole batch in one ``keras.ops.image.affine_transform`` (pixel values kept
    0..255, float32). ``uniform`` holds 4 numbers in [0, 1) per image (flip, x shift, y shift, angle): the caller's
    seeded generator decides, so the same numbers give the same images on every backend.

    ``flip_crop`` (CIFAR): shift by up to 4 px with zero fill, which is exactly "pad 4, random 32x32 crop", and a
    horizontal flip half of the time; ``flip`` the flip alone (for short runs, where crops cost more learning than
    they save in overfitting). ``shift_rotate`` (digits): shifts of up to 3 px and rotations of up to
    10 degrees, never flips.
    """
    images = ops.cast(images, "float32")
    if kind == "none":
        return images
    if kind not in AUGMENT:
        raise ValueError(f"Unknown augmentation {kind!r}; valid: {', '.join(AUGMENTATIONS)}.")
    max_shift, max_angle, flips, interpolation = AUGMENT[kind]
    h, w = float(images.shape[1]), float(images.shape[2])
    u = ops.cast(uniform, "float32")
    shift = ops.floor(u[:, 1:3] * (2 * max_shift + 1)) - max_shift  # whole pixels, -max..max, uniform
    angle = (2.0 * u[:, 3] - 1.0) * (max_angle * np.pi / 180.0)
    flip = (u[:, 0] < 0.5) if flips else ops.zeros_like(u[:, 0], dtype="bool")
    # Output pixel p reads input pixel R(p - c - t) + c, then the x coordinate is mirrored when flipping.
    cx, cy = (w - 1) / 2, (h - 1) / 2
    cos, sin = ops.cos(angle), ops.sin(angle)
    px, py = cx + shift[:, 0], cy + shift[:, 1]
    a0, a1, a2 = cos, -sin, cx - cos * px + sin * py
    b0, b1, b2 = sin, cos, cy - sin * px - cos * py
    sign = ops.where(flip, -1.0, 1.0)
    a0, a1, a2 = sign * a0, sign * a1, ops.where(flip, (w - 1) - a2, a2)
    zeros = ops.zeros_like(a0)
    transforms = ops.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
    return ops.image.affine_transform(
        images, transforms, interpolation=interpolation, fill_mode="constant", fill_value=0.0
    )


def augment_batch(images, kind: str, seed):
    """``augment_with`` as a NumPy array, its random numbers drawn by NumPy's generator seeded by ``seed``
    (e.g. [7, 1]): the same seed, the same images."""
    uniform = np.random.default_rng(seed).random((len(images), 4), dtype=np.float32)
    return ops.convert_to_numpy(augment_with(images, kind, uniform))


class Augmenter(keras.layers.Layer):
    """``augment_with`` as a Keras layer of (images, uniform numbers): inside a model Keras compiles it (under JAX
    one XLA program, instead of dozens of small eager calls per batch)."""

    def __init__(self, kind: str, **kwargs):
        super().__init__(**kwargs)
        self.kind = kind

    def call(self, inputs):
        images, uniform = inputs
        return augment_with(images, self.kind, uniform)


def augmenter(kind: str, image_shape) -> keras.Model:
    """A model that augments a batch: ``augmenter(...).predict_on_batch([images, uniform])``."""
    images, uniform = keras.Input(tuple(image_shape)), keras.Input((4,))
    return keras.Model([images, uniform], Augmenter(kind)([images, uniform]), name=f"augment_{kind}")
