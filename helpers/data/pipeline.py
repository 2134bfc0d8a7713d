"""Input pipelines: normalisation, labels, and the batches ``model.fit`` reads (augmentation: ``helpers.data.augment``).

Under Keras' TensorFlow backend (the default) batches come from a tf.data pipeline (``helpers.data.tf_data``);
under JAX or PyTorch from ``Batches``, a ``keras.utils.PyDataset`` over the NumPy arrays. Both shuffle, augment and
normalise the same way, seeded: the same seed gives the same batches, and every epoch new ones.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import keras
import numpy as np
from keras import ops

from helpers.data.augment import AUGMENTATIONS, augmenter
from helpers.data.labels import numpy_one_hot, shape_labels
from helpers.environment import backend

__all__ = ["Batches", "Preprocessing", "make_pipeline"]


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


class Batches(keras.utils.PyDataset):
    """The input pipeline as a ``keras.utils.PyDataset`` over NumPy arrays (JAX and PyTorch backends): the same
    shuffling, augmentation, normalisation and labels as the tf.data pipeline. Epoch ``e``'s order and batch ``i``'s
    augmentation are seeded by (seed, e) and (seed, e, i), so batches are the same whichever thread makes them.

    ``workers`` > 1: ``model.fit`` has that many threads prepare the next batches while the device trains on the
    current one (what tf.data's prefetch does on the TensorFlow path). With one, each batch is made between two
    steps: on a GPU (an H200 under JAX) the kit then trained VGG-11 at 0.3 of a bare ``fit`` on in-memory arrays.
    """

    def __init__(
        self,
        x,
        y,
        *,
        batch_size,
        num_classes,
        preprocessing,
        training=False,
        augment="none",
        one_hot=True,
        output_names=None,
        seed=0,
        drop_remainder=False,
        cache=False,
        workers=1,
    ):
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
        index = self.order[i * self.batch_size : (i + 1) * self.batch_size]
        images = self.x[index]
        if self.augmenter is not None:
            uniform = np.random.default_rng([self.seed, self.epoch, i]).random((len(index), 4), dtype=np.float32)
            images = self.augmenter.predict_on_batch([images.astype(np.float32), uniform])
        labels = shape_labels(self.y[index], self.num_classes, self.one_hot, self.output_names, numpy_one_hot)
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
        raise ValueError(
            "cache=True is for evaluation pipelines: training batches are reshuffled and augmented "
            "every epoch, so caching them would freeze them."
        )
    settings = dict(
        batch_size=batch_size,
        num_classes=num_classes,
        preprocessing=preprocessing,
        training=training,
        augment=augment,
        one_hot=one_hot,
        output_names=output_names,
        seed=seed,
        drop_remainder=drop_remainder,
        cache=cache,
    )
    if backend() == "tensorflow":
        from helpers.data.tf_data import tf_pipeline  # imports TensorFlow, which the other backends may lack

        return tf_pipeline(x, y, **settings)
    # Training batches are prepared ahead by threads; evaluation batches are few (and cached after the first pass).
    return Batches(x, y, **settings, workers=min(4, os.cpu_count() or 1) if training else 1)
