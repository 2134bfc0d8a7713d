"""The course kit's helper package. Notebooks import from its modules, each named for what it holds:

``data`` (datasets and splits), ``pipeline`` (normalisation, augmentation, batches), ``models`` (every network by
name), ``recipes`` (training settings), ``optim`` (optimisers, schedules, losses), ``training`` (``train``),
``evaluation`` (test results, ``evaluate_run``), ``runs`` (run directories), ``plots``, ``report``, ``environment``
(versions, Keras backend, accelerator). ``tensorflow_only`` holds what needs TensorFlow itself (tf.data, FLOP
counting, MirroredStrategy) and loads only under Keras' TensorFlow backend.
"""

__version__ = "0.2.0"
