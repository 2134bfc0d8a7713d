"""Input pipelines: normalisation, batched augmentation with ``keras.ops``, and the batches ``model.fit`` reads.

Under Keras' TensorFlow backend (the default) batches come from a tf.data pipeline (``helpers.tensorflow_only``);
under JAX or PyTorch from ``Batches``, a ``keras.utils.PyDataset`` over the NumPy arrays. Both shuffle, augment and
normalise the same way, seeded: the same seed gives the same batches, and every epoch new ones.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from helpers.environment import backend, import_keras_quietly

import_keras_quietly()

import keras  # noqa: E402
from keras import ops  # noqa: E402

__all__ = ["AUGMENTATIONS", "Augmenter", "Batches", "Preprocessing", "augment_batch", "augment_with", "augmenter",
           "make_pipeline"]

# kind -> (largest shift in pixels, largest rotation in degrees, horizontal flips, interpolation)
AUGMENT = {
    "flip_crop": (4, 0.0, True, "nearest"),  # CIFAR: "pad 4, random 32x32 crop" and a flip half of the time
    "flip": (0, 0.0, True, "nearest"),  # CIFAR, lighter: a horizontal flip half of the time, no shift
    "shift_rotate": (3, 10.0, False, "bilinear"),  # digits: never flipped (a flipped 2 is not a 2)
}
AUGMENTATIONS = ("none", *AUGMENT)


@dataclass(frozen=True)
class Preprocessing:
    """Pixel scaling: ``(x / 255 - mean) / std`` per channel; mean 0, std 1 is plain scaling to [0, 1]."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    @classmethod
    def fit(cls, x_train: np.ndarray, mode: str = "standardize") -> Preprocessing:
        """Statistics from the training split only (never validation or test) or plain [0, 1] scaling."""
        c = x_train.shape[-1]
        if mode == "scale":
            return cls((0.0,) * c, (1.0,) * c)
        if mode != "standardize":
            raise ValueError(f"Unknown normalization {mode!r}; valid: 'standardize', 'scale'.")
        flat = x_train.reshape(-1, c).astype(np.float64) / 255.0
        return cls(tuple(float(v) for v in flat.mean(0)), tuple(float(v) for v in np.maximum(flat.std(0), 1e-3)))

    def __call__(self, images):
        """uint8 or float pixel values 0..255 -> normalised float32: a NumPy array for a NumPy array (the
        PyDataset path stays on the host, no round trip through the device), else a tensor of the Keras backend."""
        x = images.astype(np.float32) if isinstance(images, np.ndarray) else ops.cast(images, "float32")
        return (x / 255.0 - np.asarray(self.mean, np.float32)) / np.asarray(self.std, np.float32)


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
    return ops.image.affine_transform(images, transforms, interpolation=interpolation, fill_mode="constant",
                                      fill_value=0.0)


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


class Batches(keras.utils.PyDataset):
    """The input pipeline as a ``keras.utils.PyDataset`` over NumPy arrays (JAX and PyTorch backends): the same
    shuffling, augmentation, normalisation and labels as the tf.data pipeline. Epoch ``e``'s order and batch ``i``'s
    augmentation are seeded by (seed, e) and (seed, e, i), so batches are the same whichever thread makes them.

    ``workers`` > 1: ``model.fit`` has that many threads prepare the next batches while the device trains on the
    current one (what tf.data's prefetch does on the TensorFlow path). With one, each batch is made between two
    steps: on a GPU (an H200 under JAX) the kit then trained VGG-11 at 0.3 of a bare ``fit`` on in-memory arrays.
    """

    def __init__(self, x, y, *, batch_size, num_classes, preprocessing, training=False, augment="none",
                 one_hot=True, output_names=None, seed=0, drop_remainder=False, cache=False, workers=1):
        super().__init__(workers=workers)
        self.x, self.y, self.batch_size, self.num_classes = x, np.asarray(y), batch_size, num_classes
        self.preprocessing, self.training, self.augment, self.one_hot = preprocessing, training, augment, one_hot
        self.output_names, self.seed, self.drop_remainder = output_names, seed, drop_remainder
        self.cached = {} if cache else None
        self.augmenter = augmenter(augment, x.shape[1:]) if training and augment != "none" else None
        self.epoch = 0
        self.order = self._order()

    def _order(self):
        n = len(self.y)
        return np.random.default_rng([self.seed, self.epoch]).permutation(n) if self.training else np.arange(n)

    def __len__(self):
        n = len(self.y) / self.batch_size
        return math.floor(n) if self.drop_remainder else math.ceil(n)

    def __getitem__(self, i):
        if self.cached is not None and i in self.cached:
            return self.cached[i]
        index = self.order[i * self.batch_size:(i + 1) * self.batch_size]
        images = self.x[index]
        if self.augmenter is not None:
            uniform = np.random.default_rng([self.seed, self.epoch, i]).random((len(index), 4), dtype=np.float32)
            images = self.augmenter.predict_on_batch([images.astype(np.float32), uniform])
        labels = np.eye(self.num_classes, dtype=np.float32)[self.y[index]] if self.one_hot else self.y[index]
        if self.output_names:
            labels = {name: labels for name in self.output_names}
        batch = self.preprocessing(images), labels  # NumPy in, NumPy out
        if self.cached is not None:
            self.cached[i] = batch
        return batch

    def on_epoch_end(self):
        self.epoch += 1
        self.order = self._order()

    def __iter__(self):
        """One epoch, batch by batch (as ``model.fit`` reads it); the next pass is the next epoch."""
        for i in range(len(self)):
            yield self[i]
        self.on_epoch_end()


def make_pipeline(
    x: np.ndarray,
    y: np.ndarray,
    *,
    batch_size: int,
    num_classes: int,
    preprocessing: Preprocessing,
    training: bool = False,
    augment: str = "none",
    one_hot: bool = True,
    output_names: list[str] | tuple[str, ...] | None = None,
    seed: int = 0,
    drop_remainder: bool = False,
    cache: bool = False,
):
    """Batches for ``model.fit``: (shuffle) -> batch -> (augment on whole batches) -> normalise, labels.

    Reproducible under ``seed``: shuffling and augmentation draw from seeded generators, differently each epoch.
    ``one_hot`` gives one-hot labels (categorical losses, label smoothing) or sparse integer labels.
    ``output_names`` repeats the labels for every output of a multi-output model (GoogLeNet's auxiliary heads).
    ``cache`` keeps the finished (normalised, labelled) batches in memory after the first pass, so later epochs
    only read them back; evaluation pipelines only, since training batches must be reshuffled and augmented anew.
    A tf.data pipeline under the TensorFlow backend, else a ``Batches`` PyDataset.
    """
    if augment not in AUGMENTATIONS:
        raise ValueError(f"Unknown augmentation {augment!r}; valid: {', '.join(AUGMENTATIONS)}.")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
    if cache and training:
        raise ValueError("cache=True is for evaluation pipelines: training batches are reshuffled and augmented "
                         "every epoch, so caching them would freeze them.")
    settings = dict(batch_size=batch_size, num_classes=num_classes, preprocessing=preprocessing, training=training,
                    augment=augment, one_hot=one_hot, output_names=output_names, seed=seed,
                    drop_remainder=drop_remainder, cache=cache)
    if backend() == "tensorflow":
        from helpers.tensorflow_only import tf_pipeline

        return tf_pipeline(x, y, **settings)
    # Training batches are prepared ahead by threads; evaluation batches are few (and cached after the first pass).
    return Batches(x, y, **settings, workers=min(4, os.cpu_count() or 1) if training else 1)
