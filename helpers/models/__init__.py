"""Model registry: every network of the course by name.

    model = build_model("resnet18", (32, 32, 3))          # a keras.Model named "resnet18"
    model = build_model("report_vgg16_mnist", (28, 28, 1))  # the reports' replicas, parameter for parameter

Every model ends in a float32 softmax (probabilities, also under a mixed_float16 policy). ``googlenet`` has three
outputs ``main``, ``aux1``, ``aux2``; ``inference_model`` keeps only ``main``. One file per family (``vgg``,
``resnet``, ``googlenet``), the pieces they share (``common``) and model summaries as ASCII tables (``summary``).

Imports only ``helpers.environment`` from the kit; ``training`` and everything above import it.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from functools import partial

from helpers.environment import import_keras_quietly

import_keras_quietly()

import keras  # noqa: E402

from helpers.models.googlenet import build_googlenet  # noqa: E402
from helpers.models.resnet import CIFAR_DEPTHS, build_cifar_resnet, build_report_resnet50, build_resnet  # noqa: E402
from helpers.models.summary import summary_text  # noqa: E402
from helpers.models.vgg import (  # noqa: E402
    CFG,
    build_report_vgg16_cifar10,
    build_report_vgg16_mnist,
    build_vgg,
    count_pools,
)

__all__ = ["MODEL_NAMES", "REPORT_PARAMS", "build_model", "count_params", "inference_model", "summary_text"]

# name -> builder(input_shape, num_classes). Course models first (in notebook order), then the report replicas.
_BUILDERS: dict[str, Callable[..., keras.Model]] = {
    **{name: partial(build_vgg, name) for name in ("vgg11", "vgg13", "vgg16", "vgg19")},
    **{name: partial(build_resnet, name) for name in ("resnet18", "resnet34", "resnet50", "plain18", "plain34")},
    # the ResNet paper's CIFAR-10 networks and their plain twins (6n+2 layers: the degradation experiment)
    **{
        f"{kind}{depth}": partial(build_cifar_resnet, f"{kind}{depth}")
        for kind in ("resnet", "plain")
        for depth in CIFAR_DEPTHS
    },
    "googlenet": build_googlenet,
    "report_vgg16_mnist": build_report_vgg16_mnist,
    "report_vgg16_cifar10": build_report_vgg16_cifar10,
    "report_resnet50": build_report_resnet50,
}
MODEL_NAMES: tuple[str, ...] = tuple(_BUILDERS)

# Smallest height/width each model accepts. Course models pad or pool adaptively, so 16 px is enough for all of
# them; the report VGGs pool without padding and need 2**pools pixels (Appendix B's five pools: 32 px, so it
# cannot take 28x28 MNIST digits, just as in the report).
MIN_SIZE = 16
_MIN_SIZE = {
    name: max(MIN_SIZE, 2 ** count_pools(CFG[name])) for name in ("report_vgg16_mnist", "report_vgg16_cifar10")
}

# Report 1's parameter counts (model summaries of Appendices A-D), keyed by (name, input_shape).
REPORT_PARAMS: dict[tuple[str, tuple[int, int, int]], dict[str, int]] = {
    ("report_vgg16_mnist", (28, 28, 1)): {"total": 14_913_226, "trainable": 14_913_226, "non_trainable": 0},
    ("report_vgg16_cifar10", (32, 32, 3)): {
        "total": 18_924_618,
        "trainable": 18_921_674,
        "non_trainable": 2_944,
    },
    ("report_resnet50", (28, 28, 1)): {"total": 23_601_930, "trainable": 23_548_810, "non_trainable": 53_120},
    ("report_resnet50", (32, 32, 3)): {"total": 23_608_202, "trainable": 23_555_082, "non_trainable": 53_120},
}


def _check_input_shape(input_shape) -> tuple[int, int, int]:
    """Return ``input_shape`` as an (H, W, C) tuple of ints, or raise ValueError saying what is wrong."""
    try:
        if isinstance(input_shape, str) or any(isinstance(d, bool) for d in input_shape):
            raise TypeError
        shape = tuple(operator.index(d) for d in input_shape)  # ints, numpy ints; not floats or None
    except TypeError:
        shape = None
    if shape is None or len(shape) != 3:
        raise ValueError(f"input_shape must be a tuple (height, width, channels) of ints, got {input_shape!r}")
    h, w, c = shape
    if h < MIN_SIZE or w < MIN_SIZE or c < 1:
        raise ValueError(
            f"input_shape must have height and width >= {MIN_SIZE} and channels >= 1 (channels last), got {shape}"
        )
    return shape


def build_model(name: str, input_shape, num_classes: int = 10) -> keras.Model:
    """Build the model registered as ``name`` for images of ``input_shape`` (H, W, C) and ``num_classes`` classes."""
    if not isinstance(name, str) or name not in _BUILDERS:
        raise ValueError(f"Unknown model {name!r}. Valid names: {', '.join(MODEL_NAMES)}")
    shape = _check_input_shape(input_shape)
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 2:
        raise ValueError(f"num_classes must be an int >= 2, got {num_classes!r}")
    min_size = _MIN_SIZE.get(name, MIN_SIZE)
    if min(shape[:2]) < min_size:
        raise ValueError(
            f"Model {name!r} cannot be built on input_shape {shape}: its pooling needs height and width >= {min_size}"
        )
    return _BUILDERS[name](shape, num_classes)


def inference_model(model: keras.Model) -> keras.Model:
    """The model to evaluate and predict with: only the first (main) output, sharing the trained weights.

    For GoogLeNet this drops the auxiliary classifiers, as the paper did at test time; single-output models
    are returned unchanged.
    """
    if len(model.outputs) == 1:
        return model
    return keras.Model(model.input, model.outputs[0], name=model.name)


def count_params(model: keras.Model) -> dict[str, int]:
    """Parameter counts as in ``model.summary()``: total, trainable and non-trainable (e.g. BN moving stats)."""
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    non_trainable = sum(math.prod(w.shape) for w in model.non_trainable_weights)
    return {
        "total": int(trainable + non_trainable),
        "trainable": int(trainable),
        "non_trainable": int(non_trainable),
    }
