"""Data: where the images come from, how they are split, and the batches training reads.

``datasets`` (MNIST and CIFAR-10 from Keras' download, the official files or synthetic images; splits), ``files``
(reading and checking the official files), ``pipeline`` (normalisation and batches: tf.data in ``tf_data`` under
TensorFlow, a PyDataset elsewhere), ``augment`` (crops, flips, rotations of whole batches), ``labels``.

Imports only ``helpers.environment`` from the kit (the bottom layer); everything above may import it.
"""

from helpers.environment import import_keras_quietly

import_keras_quietly()  # before any module here imports Keras (TensorFlow's start-up lines go nowhere)

from helpers.data.augment import AUGMENTATIONS, augment_batch  # noqa: E402
from helpers.data.datasets import (  # noqa: E402
    DATASET_NAMES,
    Dataset,
    DatasetError,
    load_dataset,
    load_test_split,
    synthetic_arrays,
)
from helpers.data.pipeline import Preprocessing, make_pipeline  # noqa: E402

__all__ = [
    "AUGMENTATIONS",
    "DATASET_NAMES",
    "Dataset",
    "DatasetError",
    "Preprocessing",
    "augment_batch",
    "load_dataset",
    "load_test_split",
    "make_pipeline",
    "synthetic_arrays",
]
