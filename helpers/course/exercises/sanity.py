"""The sanity checks of 02_vgg, as CS231n teaches them before a long run: an untrained network's loss near ln(number
of classes), and one small batch overfitted to 100% training accuracy in a few dozen steps."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from helpers.course.judges import Exercise, scalar

NOTEBOOK = "02_vgg.ipynb"
LN10 = math.log(10)
BATCH = 32


def _number(answer):
    """A number from a Python or NumPy scalar, a 0-d array or a backend tensor; None otherwise."""
    if hasattr(answer, "numpy") and not isinstance(answer, np.ndarray):
        answer = np.asarray(answer.numpy())
    return scalar(answer)


def initial_loss(answer):
    """The cross-entropy of an untrained 10-class network on a batch: near ln 10 = 2.30, each slip named."""
    value = _number(answer)
    if value is None:
        if isinstance(answer, list | tuple) and len(answer) == 2:
            return f"{answer!r}: evaluate() returns [loss, accuracy] with metrics; the loss is the first"
        return f"expected a number (the loss on the batch), got {type(answer).__name__} {answer!r}"
    v = float(value)
    if not math.isfinite(v):
        return f"the loss is {v}: the untrained network's outputs overflow; look at its last layer and its inputs"
    if v < 0:
        return f"{v:g}: a cross-entropy is never negative (it is -ln of a probability)"
    if abs(v - LN10) <= 1.0:
        return None
    if 0.05 <= v <= 0.2:
        return f"{v:g} is about 1 in 10: that looks like the accuracy; the question asks for the loss"
    if 0.2 < v < 0.5:
        return (
            f"{v:g}: binary cross-entropy averages ten yes/no losses (about 0.33 at the start); "
            "the check is for categorical cross-entropy (loss='sparse_categorical_crossentropy')"
        )
    if v < 0.05:
        return f"{v:g} is near 0: an untrained network cannot be sure of the right class; is it a fresh build_model?"
    if 0.5 * BATCH * LN10 <= v <= 2 * BATCH * LN10:
        return f"{v:g} is about {BATCH} x ln 10: the loss is summed over the batch; it is averaged (a mean per image)"
    if v > 10:
        return (
            f"{v:g} is far above ln 10 = 2.30: probabilities read as logits or logits as probabilities; "
            "this network ends in a softmax, so the loss takes probabilities (from_logits=False)"
        )
    return (
        f"{v:g} is far from ln 10 = 2.30, what ten equally likely classes give: check the final activation "
        "(one softmax, over the 10 classes) and the loss (cross-entropy on probabilities, not from logits twice); "
        "if both are right, the last layer starts with weights too large: the untrained network is sure of guesses"
    )


def _curves(answer) -> pd.DataFrame | None:
    """A fit's per-step curves from a Keras History, a dict of lists or a DataFrame."""
    history = getattr(answer, "history", answer)
    if isinstance(history, pd.DataFrame):
        return history
    if (
        isinstance(history, dict)
        and history
        and all(isinstance(v, list | tuple | np.ndarray) for v in history.values())
    ):
        return pd.DataFrame({k: list(v) for k, v in history.items()})
    return None


def _learning_rate(model) -> float | None:
    try:
        return float(np.asarray(model.optimizer.learning_rate))
    except (AttributeError, TypeError, ValueError):  # no model, or a schedule: say nothing about the rate
        return None


def overfit_batch(answer):
    """What fit() returns on one batch of 32 images: 100% training accuracy reached, or the slip named."""
    curves = _curves(answer)
    if curves is None:
        return f"expected what fit() returns (a History) on one batch, got {type(answer).__name__}"
    if "accuracy" not in curves:
        return "no accuracy in the history: compile with metrics=['accuracy']"
    steps = int(getattr(answer, "params", {}).get("steps") or 1)
    if steps != 1:
        return f"{steps} steps an epoch: fit one small batch (32 images, batch_size=32), so each epoch is one step"
    acc, loss = curves["accuracy"].astype(float), curves["loss"].astype(float)
    if acc.max() >= 1.0 - 1e-9:
        return None
    model, n = getattr(answer, "model", None), len(curves)
    lr = _learning_rate(model)
    if not np.isfinite(loss).all() or loss.iloc[-1] > 1.5 * loss.iloc[0]:
        return f"the loss grew ({loss.iloc[0]:.2f} to {loss.iloc[-1]:.2f}) or became NaN: the learning rate is too high"
    if model is not None and not model.trainable_weights:
        return "the network has no trainable weights (trainable=False, frozen layers): nothing can learn"
    if n < 20:
        return f"only {n} steps: give it a few dozen (epochs=30 on the one batch) before you judge"
    if lr is not None and lr < 1e-4:
        return f"learning rate {lr:g}: too small to fit a batch in a few dozen steps; try 1e-3 with Adam"
    if loss.iloc[-1] > 0.9 * loss.iloc[0]:
        return (
            f"the loss barely moved ({loss.iloc[0]:.2f} to {loss.iloc[-1]:.2f}): check the learning rate, frozen "
            "layers (trainable=False) and the labels; a deep network without batch norm can stay at ln 10"
        )
    return f"{acc.max():.0%} at best after {n} steps: the loss falls, give it more steps or a larger learning rate"


EXERCISES = [
    Exercise(
        "initial_loss",
        NOTEBOOK,
        "predict",
        initial_loss,
        "An untrained network gives each of the 10 classes about a tenth: -ln(1/10) = ln 10 = 2.30. Near it, the "
        "last layer and the loss fit together.",
    ),
    Exercise(
        "overfit_batch",
        NOTEBOOK,
        "experiment",
        overfit_batch,
        "The network memorised 32 images: it can learn, and the learning rate and the labels work. A network that "
        "cannot has a bug to fix before a long run.",
    ),
]
