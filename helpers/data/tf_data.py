"""The input pipeline under Keras' TensorFlow backend: tf.data, with the same shuffling, augmentation,
normalisation and labels as the ``Batches`` PyDataset of the other backends (``helpers.data.pipeline``).

Imported only under the TensorFlow backend, so the kit also runs where TensorFlow is not installed.
"""

from __future__ import annotations

import tensorflow as tf

from helpers.data.augment import augment_with
from helpers.data.labels import shape_labels

__all__ = ["tf_pipeline"]


def tf_pipeline(
    x,
    y,
    *,
    batch_size,
    num_classes,
    preprocessing,
    training,
    augment,
    one_hot,
    output_names,
    seed,
    drop_remainder,
    cache,
):
    """``helpers.data.pipeline.make_pipeline`` as a tf.data pipeline (arguments checked there): (shuffle) -> batch
    -> (augment whole batches) -> normalise, labels -> (cache) -> prefetch."""
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if training:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    if training and augment != "none":
        # One random int64 per batch seeds its stateless draws: deterministic, and new values every epoch.
        batch_seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)

        def augment_one(xy, s):
            uniform = tf.random.stateless_uniform([tf.shape(xy[0])[0], 4], tf.stack([s, tf.constant(seed, tf.int64)]))
            return augment_with(xy[0], augment, uniform), xy[1]

        ds = tf.data.Dataset.zip((ds, batch_seeds)).map(
            augment_one, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
        )

    def finish(images, labels):
        return preprocessing(images), shape_labels(labels, num_classes, one_hot, output_names, tf.one_hot)

    ds = ds.map(finish, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if cache:
        ds = ds.cache()
    return ds.prefetch(tf.data.AUTOTUNE)
