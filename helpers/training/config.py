"""A run's config: a recipe's values for one model and dataset, its budget band, the parameters that override
them, and ``check_config``, which says in one line what is wrong with a value before any training starts."""

from __future__ import annotations

import fnmatch
import math

import numpy as np
import yaml

from helpers.data import AUGMENTATIONS, DATASET_NAMES
from helpers.experiments.budget import training_images
from helpers.experiments.recipes import LOSSES, OPTIMIZERS, RECIPES, SCHEDULES, recipe_values
from helpers.models import MODEL_NAMES
from helpers.training.selection import SELECTIONS

__all__ = ["budget_band", "budget_bands", "budget_settings", "check_config", "make_config", "parse_settings"]


def make_config(recipe: str, model: str, dataset: str, train_size: int | float | None = None, **overrides) -> dict:
    """The settings of one run: the recipe's values for ``model``/``dataset``, then ``overrides`` (None = keep).

    ``train_size`` is the run's training set as ``load_dataset`` takes it (a count, or a fraction of the training
    split; None: all of the official set): with the epochs it sets the budget (``images_seen``) that a recipe's
    ``budget`` rule reads. For files other than the official ones (a sample), pass the count itself.
    """
    if recipe not in RECIPES:
        raise ValueError(f"Unknown recipe {recipe!r}; valid: {', '.join(RECIPES)}.")
    if model not in MODEL_NAMES:
        raise ValueError(f"Unknown model {model!r}; valid: {', '.join(MODEL_NAMES)}.")
    if dataset not in DATASET_NAMES:
        raise ValueError(f"Unknown dataset {dataset!r}; valid: {', '.join(DATASET_NAMES)}.")
    config = {
        "experiment": None,
        "recipe": recipe,
        "model": model,
        "dataset": dataset,
        "seed": 0,
        **recipe_values(recipe, f"{model}/{dataset}"),
    }
    unknown = sorted(set(overrides) - set(config))
    if unknown:
        raise ValueError(f"Unknown setting(s) {', '.join(unknown)}; valid: {', '.join(sorted(config))}.")
    explicit = {k: v for k, v in overrides.items() if v is not None}
    epochs = explicit.get("epochs", config["epochs"])
    val_size = explicit.get("val_size", config["val_size"])
    _check_epochs(epochs)  # before check_config: the budget below multiplies by it
    config["images_seen"] = int(epochs) * training_images(dataset, val_size, train_size)
    config.update(budget_settings(recipe, config["images_seen"], f"{model}/{dataset}"))
    config.update(explicit)
    check_config(config)
    return config


def _check_epochs(epochs) -> None:
    if not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be a whole number >= 1, got {epochs!r}.")


def _band_settings(band: tuple, target: str | None) -> dict:
    """One band's settings for runs of ``target`` ("<model>/<dataset>"): its own, then its rules that match (none
    when ``target`` is None)."""
    settings = dict(band[1])
    for pattern, values in band[2] if len(band) > 2 else []:
        if target is not None and fnmatch.fnmatch(target, pattern):
            settings.update(values)
    return settings


def budget_bands(recipe: str, target: str | None = None) -> list[tuple[int | None, dict]]:
    """A recipe's budget rule with each band's full settings for runs of ``target`` ("<model>/<dataset>", e.g.
    "vgg11/cifar10"; None: the bands' own settings, without their per-dataset rules): every key any band sets, a
    band's own value or else the recipe's. [(max images seen, or None for no bound; settings)], [] without a budget
    rule."""
    bands = [(band[0], _band_settings(band, target)) for band in RECIPES[recipe].get("budget", [])]
    values = recipe_values(recipe, target)
    keys = list(dict.fromkeys(k for _, settings in bands for k in settings))
    return [(limit, {k: settings.get(k, values[k]) for k in keys}) for limit, settings in bands]


def budget_band(recipe: str, images_seen: int) -> int | None:
    """Which band of a recipe's ``budget`` rule a run that sees ``images_seen`` training images (epochs x images
    per epoch) falls in: the first whose bound (None = no bound) is at least that. None without a budget rule."""
    for i, band in enumerate(RECIPES[recipe].get("budget", [])):
        if band[0] is None or images_seen <= band[0]:
            return i
    return None


def budget_settings(recipe: str, images_seen: int, target: str | None = None) -> dict:
    """The settings the budget rule gives such a run (``budget_band``) of ``target`` ("<model>/<dataset>"; None:
    the band's own settings without its per-dataset rules); {} without a budget rule."""
    band = budget_band(recipe, images_seen)
    return {} if band is None else _band_settings(RECIPES[recipe]["budget"][band], target)


def parse_settings(text: str) -> dict:
    """``"optimizer=adam,lr=3e-4,batch_size=32"`` -> ``{"optimizer": "adam", "lr": 0.0003, "batch_size": 32}``:
    settings as the bench scripts take them on the command line (numbers as numbers, ``true``/``false`` as bools)."""
    settings = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if not (sep and key.strip()):
            raise ValueError(f"{item!r} in {text!r}: expected key=value")
        for kind in (int, float, yaml.safe_load):  # YAML alone reads 3e-4 as a string
            try:
                settings[key.strip()] = kind(value.strip())
                break
            except ValueError:
                continue
    return settings


def check_config(c: dict) -> None:
    """Clear one-line errors for values that would otherwise fail deep inside TensorFlow."""
    choices = {
        "optimizer": OPTIMIZERS,
        "schedule": SCHEDULES,
        "loss": LOSSES,
        "augment": AUGMENTATIONS,
        "normalization": ("scale", "standardize"),
        "distribute": ("auto", "mirrored", "off"),
        "mixed_precision": ("auto", True, False),
        "jit_compile": ("auto", True, False),
        "cache": (True, False),
        "recalibrate_bn": (True, False),
        "select_epoch": SELECTIONS,
    }
    for key, valid in choices.items():
        if c[key] not in valid:
            raise ValueError(f"Unknown {key} {c[key]!r}; valid: {', '.join(str(v) for v in valid)}.")
    _check_epochs(c["epochs"])
    if not isinstance(c["batch_size"], (int, np.integer)) or c["batch_size"] < 1:
        raise ValueError(f"batch_size must be a whole number >= 1, got {c['batch_size']!r}.")
    if not isinstance(c["steps_per_execution"], (int, np.integer)) or c["steps_per_execution"] < 1:
        raise ValueError(f"steps_per_execution must be a whole number >= 1, got {c['steps_per_execution']!r}.")
    if not (isinstance(c["lr"], (int, float)) and c["lr"] > 0 and math.isfinite(c["lr"])):
        raise ValueError(f"lr must be a number > 0, got {c['lr']!r}.")
    if not 0 <= c["label_smoothing"] < 1:
        raise ValueError(f"label_smoothing must be in [0, 1), got {c['label_smoothing']!r}.")
    if not (isinstance(c["epsilon"], (int, float)) and c["epsilon"] > 0):
        raise ValueError(f"epsilon must be a number > 0, got {c['epsilon']!r}.")
    if c["weight_decay"] < 0:
        raise ValueError(f"weight_decay must be >= 0, got {c['weight_decay']!r}.")
