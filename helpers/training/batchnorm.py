"""Batch-norm statistics re-estimated from training images ("precise BN"): before each validation and after the
last epoch, so that short runs validate and test with statistics that match their weights."""

from __future__ import annotations

import itertools

import keras

__all__ = ["RecalibrateBeforeValidation", "recalibrate_batchnorm"]


def _all_layers(layer):
    """Every layer inside ``layer``, nested models included."""
    for sub in getattr(layer, "layers", []):
        yield sub
        yield from _all_layers(sub)


class RecalibrateBeforeValidation(keras.callbacks.Callback):
    """Re-estimates batch-norm statistics (``recalibrate_batchnorm``) just before each validation in ``fit``.

    The weights, and so training, are unchanged; the validation curve then shows what the network has learned
    rather than how far the running averages (Keras' momentum 0.99: the last ~100 batches) lag behind it.
    Without it, report 1's ResNet-50 on 1,700 MNIST images validated at 10-16% for 21 of 25 epochs, with
    training accuracy above 96% from epoch 4, and tested at 94% once recalibrated. ``fit`` calls
    ``on_test_begin`` before it reads the weights for validation, on every backend.
    """

    def __init__(self, dataset, max_batches: int):
        super().__init__()
        self.dataset, self.max_batches = dataset, max_batches

    def on_test_begin(self, logs=None):
        recalibrate_batchnorm(self.model, self.dataset, self.max_batches)


def recalibrate_batchnorm(model, dataset, max_batches: int = 32) -> int:
    """Re-estimate every BatchNormalization layer's moving mean and variance as the plain average over up to
    ``max_batches`` batches of ``dataset`` (no augmentation); the weights are untouched. Returns the batches used.

    Keras keeps running averages during training, which lag behind weights that still change quickly (short
    runs, adaptive optimizers): a network at 92% training accuracy can test at 35% with them, and at 78% once
    they are re-estimated ("precise BN", Wu & Johnson 2021). Dropout is switched off meanwhile.
    """
    layers = list(_all_layers(model))
    bns = [layer for layer in layers if isinstance(layer, keras.layers.BatchNormalization)]
    drops = [layer for layer in layers if isinstance(layer, keras.layers.Dropout)]
    if not bns:
        return 0
    momenta, rates = [b.momentum for b in bns], [d.rate for d in drops]
    used = 0
    try:
        for d in drops:
            d.rate = 0.0
        for used, (x, _) in enumerate(itertools.islice(dataset, max_batches), 1):
            for b in bns:
                b.momentum = (used - 1) / used  # moving statistic = mean over the batches seen so far
            model(x, training=True)
    finally:
        for b, m in zip(bns, momenta):
            b.momentum = m
        for d, r in zip(drops, rates):
            d.rate = r
    return used
