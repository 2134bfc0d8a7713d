"""Blocks compared by what they compute, not only by shape and parameter count: two functions that build Keras
blocks are the same when, given the same weights, they give the same outputs on the same input.

The student's block and the kit's are built on one input shape; the kit's weights are drawn at random (batch-norm
statistics included, so that a missing ReLU or a misplaced stride changes the numbers) and copied onto the student's
layers, matched by kind and weight shapes (trying every order among layers that look alike, so the order in which a
student creates them does not matter); then both run on one random batch, in inference mode.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import keras
import numpy as np

__all__ = ["block_model", "same_function"]

MAX_ORDERINGS = 5040  # layers that look alike, tried in every order: a block has a handful of them


def block_model(build: Callable, input_shape, kwargs: dict) -> keras.Model:
    """A model of one block: ``build(x, **kwargs)`` on an input of ``input_shape`` (None when it returns None)."""
    x = keras.Input(input_shape)
    out = build(x, **kwargs)
    return None if out is None else keras.Model(x, out)


def _weighted_layers(model) -> list:
    found = []
    for layer in model.layers:
        found += _weighted_layers(layer) if isinstance(layer, keras.Model) else ([layer] if layer.weights else [])
    return found


def _signature(layer) -> tuple:
    return type(layer).__name__, tuple(tuple(w.shape) for w in layer.weights)


def _orderings(source: list, target: list):
    """Every assignment of ``target``'s layers to ``source``'s (index lists) that matches kind and weight shapes."""
    groups: dict[tuple, list[int]] = {}
    for i, layer in enumerate(target):
        groups.setdefault(_signature(layer), []).append(i)
    wanted: dict[tuple, list[int]] = {}
    for i, layer in enumerate(source):
        wanted.setdefault(_signature(layer), []).append(i)
    if {k: len(v) for k, v in groups.items()} != {k: len(v) for k, v in wanted.items()}:
        return
    keys = list(wanted)
    count = 0
    for choice in itertools.product(*(itertools.permutations(groups[k]) for k in keys)):
        mapping = [0] * len(source)
        for key, targets in zip(keys, choice, strict=True):
            for i, j in zip(wanted[key], targets, strict=True):
                mapping[i] = j
        yield mapping
        count += 1
        if count >= MAX_ORDERINGS:
            return


def _randomize(model, rng) -> None:
    """Random weights everywhere; moving variances positive (they are divided by)."""
    for w in model.weights:
        values = rng.uniform(0.5, 1.5, w.shape) if "variance" in w.path else rng.normal(0.0, 0.5, w.shape)
        w.assign(values.astype("float32"))


def same_function(build: Callable, reference: Callable, input_shape, kwargs: dict, seed: int = 0) -> bool:
    """True when ``build`` computes what ``reference`` computes on the same weights (see the module's docstring)."""
    mine, theirs = block_model(build, input_shape, kwargs), block_model(reference, input_shape, kwargs)
    if mine is None or tuple(mine.output.shape) != tuple(theirs.output.shape):
        return False
    rng = np.random.default_rng(seed)
    _randomize(theirs, rng)
    x = rng.normal(0.0, 1.0, (2, *input_shape)).astype("float32")
    want = np.asarray(theirs(x, training=False))
    source, target = _weighted_layers(theirs), _weighted_layers(mine)
    for mapping in _orderings(source, target):
        for i, j in enumerate(mapping):
            target[j].set_weights(source[i].get_weights())
        if np.allclose(np.asarray(mine(x, training=False)), want, rtol=1e-4, atol=1e-4):
            return True
    return False
