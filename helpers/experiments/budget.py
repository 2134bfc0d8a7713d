"""How many images a run trains on, and sees: the official training sets, the validation split taken off them,
``train_size`` of the rest. ``load_dataset`` splits by these counts; a recipe's budget bands and run_all's time
estimate read them without loading any data. And how a run's time is written (``format_duration``)."""

from __future__ import annotations

import numpy as np

__all__ = ["OFFICIAL_TRAIN_IMAGES", "format_duration", "split_count", "training_images"]

OFFICIAL_TRAIN_IMAGES = {"mnist": 60_000, "cifar10": 50_000}  # the official training sets (before any split)


def split_count(size: int | float, n: int, what: str) -> int:
    """Turn a count or a fraction of ``n`` into a count, with a clear error when it does not fit."""
    if isinstance(size, bool) or not isinstance(size, (int, float, np.integer, np.floating)):
        raise ValueError(f"{what} must be a count or a fraction, got {size!r}.")
    if isinstance(size, (float, np.floating)) and 0 < size < 1:
        return max(1, int(round(size * n)))
    if size != int(size) or size < 1:
        raise ValueError(f"{what}={size!r} must be a fraction in (0, 1) or a whole count >= 1.")
    return int(size)


def training_images(name: str, val_size: int | float, train_size: int | float | None = None) -> int:
    """The images one epoch trains on, as ``load_dataset`` would split the official training set: less the
    validation split, then ``train_size`` of the rest."""
    n = OFFICIAL_TRAIN_IMAGES[name]
    rest = n - split_count(val_size, n, "val_size")
    return rest if train_size is None else min(rest, split_count(train_size, rest, "train_size"))


def format_duration(seconds: float) -> str:
    """``45 s``, ``12 min``, ``1.5 h``: a time as the estimates and progress lines write it."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
