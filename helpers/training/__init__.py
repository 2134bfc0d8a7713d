"""Training: a run's config from a recipe (``config``; the recipes themselves are data in ``helpers.experiments``),
optimisers and schedules, the loop (``train``), its progress lines, batch-norm recalibration, TensorBoard logs.

Imports ``data``, ``models``, ``experiments``, ``runs`` and ``environment``; ``evaluation`` and above import it.
"""

from helpers.environment import import_keras_quietly

import_keras_quietly()  # before any module here imports Keras (TensorFlow's start-up lines go nowhere)

from helpers.experiments.recipes import BASE, RECIPES  # noqa: E402
from helpers.training.batchnorm import RecalibrateBeforeValidation, recalibrate_batchnorm  # noqa: E402
from helpers.training.config import (  # noqa: E402
    budget_band,
    budget_bands,
    budget_settings,
    check_config,
    make_config,
    parse_settings,
)
from helpers.training.loop import TrainResult, build_for, train  # noqa: E402
from helpers.training.optim import compile_model, keras_weight_decay, make_loss, make_optimizer, make_schedule  # noqa: E402
from helpers.training.progress import EpochLogger, bar_text, estimate_text  # noqa: E402
from helpers.training.tensorboard import tensorboard_help  # noqa: E402

__all__ = [
    "BASE",
    "RECIPES",
    "EpochLogger",
    "RecalibrateBeforeValidation",
    "TrainResult",
    "bar_text",
    "budget_band",
    "budget_bands",
    "budget_settings",
    "build_for",
    "check_config",
    "compile_model",
    "estimate_text",
    "keras_weight_decay",
    "make_config",
    "make_loss",
    "make_optimizer",
    "make_schedule",
    "parse_settings",
    "recalibrate_batchnorm",
    "tensorboard_help",
    "train",
]
