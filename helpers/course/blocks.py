"""Blocks compared by what they compute, not only by shape and parameter count: two blocks are the same when, given
the same weights, they give the same outputs on the same input.

The student's block and the kit's are built on one input shape, as functional code, with ``keras.Sequential`` or
with a subclassed ``keras.layers.Layer`` or ``keras.Model`` (a function that calls one, or the class itself, built
as ``Block(**kwargs)(x)``). The kit's weights are drawn at random (batch-norm statistics included, so that a missing
ReLU or a misplaced stride changes the numbers) and copied onto the student's. Weights are matched by their owner
(a layer's own variables, found by the variables' paths, so layers nested in a subclassed layer or a Sequential
count one by one), their names and shapes, trying every order among owners that look alike, so the order in which
a student creates them does not matter. Then both run on one random batch, in inference mode, and must agree to
within 0.5% of the output's scale: a batch norm's ``epsilon`` (Keras' 1e-3, PyTorch's 1e-5) is no mistake.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import keras
import numpy as np

__all__ = ["block_model", "same_function"]

MAX_ORDERINGS = 5040  # owners that look alike, tried in every order: a block has a handful of them
TOLERANCE = 5e-3  # of the largest output: epsilon 1e-5 against 1e-3 moves outputs by about 1e-3 of it


def block_model(build: Callable, input_shape, kwargs: dict) -> keras.Model | None:
    """A model of one block: ``build(x, **kwargs)`` on an input of ``input_shape``, or ``build(**kwargs)(x)`` when
    ``build`` is a subclass of ``keras.layers.Layer`` (None when it returns None)."""
    x = keras.Input(input_shape)
    if isinstance(build, type) and issubclass(build, keras.layers.Layer):
        out = build(**kwargs)(x)
    else:
        out = build(x, **kwargs)
    return None if out is None else keras.Model(x, out)


def _owners(model) -> list[list]:
    """The model's float variables grouped by the layer that owns them (the variable's path up to its name), each
    group sorted by name."""
    groups: dict[str, list] = {}
    for w in model.weights:
        if "float" in str(w.dtype):  # not the integer state of a random seed
            groups.setdefault(w.path.rpartition("/")[0], []).append(w)
    return [sorted(g, key=lambda w: w.name) for g in groups.values()]


def _signature(owner: list) -> tuple:
    return tuple((w.name, tuple(w.shape)) for w in owner)


def _orderings(source: list, target: list):
    """Every assignment of ``target``'s owners to ``source``'s (index lists) that matches names and shapes."""
    groups: dict[tuple, list[int]] = {}
    for i, owner in enumerate(target):
        groups.setdefault(_signature(owner), []).append(i)
    wanted: dict[tuple, list[int]] = {}
    for i, owner in enumerate(source):
        wanted.setdefault(_signature(owner), []).append(i)
    if {k: len(v) for k, v in groups.items()} != {k: len(v) for k, v in wanted.items()}:
        return
    keys = list(wanted)
    for count, choice in enumerate(itertools.product(*(itertools.permutations(groups[k]) for k in keys))):
        if count >= MAX_ORDERINGS:
            return
        mapping = [0] * len(source)
        for key, targets in zip(keys, choice, strict=True):
            for i, j in zip(wanted[key], targets, strict=True):
                mapping[i] = j
        yield mapping


def _randomize(model, rng) -> None:
    """Random weights everywhere; moving variances in [1, 2] (they are divided by, and dwarf any epsilon)."""
    for owner in _owners(model):
        for w in owner:
            values = rng.uniform(1.0, 2.0, w.shape) if "variance" in w.name else rng.normal(0.0, 0.5, w.shape)
            w.assign(values.astype("float32"))


def same_function(mine: keras.Model, theirs: keras.Model, seed: int = 0) -> bool:
    """True when the block model ``mine`` computes what ``theirs`` computes on the same weights (see the module's
    docstring). ``theirs`` gets random weights."""
    if not (isinstance(mine, keras.Model) and isinstance(theirs, keras.Model)):  # None, or a build that failed
        return False
    if tuple(mine.output.shape) != tuple(theirs.output.shape):
        return False
    rng = np.random.default_rng(seed)
    _randomize(theirs, rng)
    x = rng.normal(0.0, 1.0, (2, *theirs.input.shape[1:])).astype("float32")
    want = np.asarray(theirs(x, training=False))
    scale = max(float(np.abs(want).max()), 1e-6)
    source, target = _owners(theirs), _owners(mine)
    for mapping in _orderings(source, target):
        for i, j in enumerate(mapping):
            for w, v in zip(target[j], source[i], strict=True):
                w.assign(v.numpy())
        if float(np.abs(np.asarray(mine(x, training=False)) - want).max()) <= TOLERANCE * scale:
            return True
    return False
