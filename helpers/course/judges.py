"""The judges of the exercises (``helpers.course.exercises``): each takes a student's answer and returns None when it is
right, or a one-line hint that names what is off (a shape, a parameter count, a value)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
from keras import layers

from helpers.experiments import EXPERIMENTS
from helpers.models.vgg import CFG, vgg_features
from helpers.training import make_schedule


@dataclass(frozen=True)
class Exercise:
    """One exercise: where it is, its kind, and a judge that returns None (right) or a hint (wrong)."""

    name: str
    notebook: str
    kind: str  # "predict", "code", "experiment"; "shown": a block the notebook writes in plain sight and checks
    judge: Callable[[object], str | None]
    explanation: str  # printed with [correct]


def number(expected: float, what: str, hints: dict[float, str] | None = None, rel: float = 1e-6):
    """A judge for a predicted number: exact (within ``rel``), with hints for the usual wrong answers."""

    def judge(answer):
        if isinstance(answer, bool) or not isinstance(answer, int | float):
            return f"expected a number ({what}), got {type(answer).__name__} {answer!r}"
        if math.isclose(answer, expected, rel_tol=rel):
            return None
        for wrong, hint in (hints or {}).items():
            if math.isclose(answer, wrong, rel_tol=rel):
                return hint
        return f"{answer:,} is too {'high' if answer > expected else 'low'} for {what}"

    return judge


def shape(expected: tuple, what: str):
    def judge(answer):
        try:
            got = tuple(int(v) for v in answer)
        except (TypeError, ValueError):
            return f"expected a shape such as (16, 16, 128) for {what}, got {answer!r}"
        if got == expected:
            return None
        if len(got) != len(expected):
            return f"{what} has {len(expected)} dimensions (height, width, channels), your shape has {len(got)}"
        parts = [n for n, a, b in zip(("height", "width", "channels"), got, expected) if a != b]
        return f"{' and '.join(parts)} of {what} {'is' if len(parts) == 1 else 'are'} off: got {got}"

    return judge


def same_block(
    reference: Callable,
    cases: list[tuple[tuple, dict]],
    what: str,
    hint: str = "convs without bias when a BatchNorm follows; a projection shortcut when stride or channels change",
):
    """A judge for a block function ``f(x, filters, stride=...)``: same output shape and parameter count as the
    kit's ``reference`` on every case (input shape, keyword arguments)."""

    def judge(answer):

        if not callable(answer):
            return f"expected a function that builds {what}, got {answer!r}"
        for shape, kwargs in cases:
            ours = keras.Input(shape=shape)
            theirs = keras.Input(shape=shape)
            out = answer(ours, **kwargs)
            if out is None:
                return f"your {what} returns None: end it with `return` and the block's output"
            ref = reference(theirs, **kwargs, name="ref")
            got, want = tuple(out.shape[1:]), tuple(ref.shape[1:])
            if got != want:
                return f"for input {shape} and {kwargs}, the output shape is {got}, expected {want}"
            n_got, n_want = keras.Model(ours, out).count_params(), keras.Model(theirs, ref).count_params()
            if n_got != n_want:
                return f"for input {shape} and {kwargs}, {n_got:,} parameters instead of {n_want:,} ({hint})"
        return None

    return judge


def run_of(key: str, value, what: str):
    """A judge for an experiment: a finished training result whose config has ``key == value``."""

    def judge(answer):
        config = getattr(answer, "config", None)
        if config is None:
            return f"expected the result of train(...) for {what} (the object train returns), got {answer!r}"
        if config.get(key) != value:
            return f"this run has {key}={config.get(key)!r}; the experiment asks for {key}={value!r}"
        return None

    return judge


def vgg13_config(answer):

    if not isinstance(answer, list):
        return f"expected a list like [64, 64, 'M', ...], got {type(answer).__name__}"
    want = CFG["vgg13"]
    if answer == want:
        return None
    convs, pools = sum(isinstance(v, int) for v in answer), answer.count("M")
    if pools != 5:
        return f"{pools} pools: VGG-13 has five 'M' entries (32 -> 16 -> 8 -> 4 -> 2 -> 1)"
    if convs != 10:
        return f"{convs} convolutions: VGG-13 has 10 (13 weight layers minus the 3 fully connected ones)"
    return "right counts, wrong order or widths: two convs per block, widths 64, 128, 256, 512, 512"


def vgg_loop(answer):
    """The loop that turns a config list into layers, checked against the kit's (without batch norm)."""

    if not callable(answer):
        return f"expected a function features(x, cfg), got {answer!r}"
    for name in ("vgg11", "vgg16"):
        x = keras.Input((32, 32, 3))
        out = answer(x, CFG[name])
        if out is None:
            return "your function returns None: return the last layer's output"
        y = keras.Input((32, 32, 3))
        ref = vgg_features(y, CFG[name], batch_norm=False)
        if tuple(out.shape[1:]) != tuple(ref.shape[1:]):
            return f"{name}: output shape {tuple(out.shape[1:])}, expected {tuple(ref.shape[1:])}"
        got, want = keras.Model(x, out).count_params(), keras.Model(y, ref).count_params()
        if got != want:
            return f"{name}: {got:,} parameters, expected {want:,} (3x3 'same' convs with bias, ReLU; 2x2 pools)"
    return None


def standardize(answer):

    if not callable(answer):
        return f"expected a function standardize(images, mean, std), got {answer!r}"
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (4, 8, 8, 3), dtype=np.uint8)
    mean, std = np.array([0.5, 0.4, 0.3]), np.array([0.25, 0.2, 0.15])
    got = answer(x, mean, std)
    if got is None:
        return "your function returns None"
    got = np.asarray(got, dtype=np.float64)
    want = (x / 255.0 - mean) / std
    if got.shape != want.shape:
        return f"shape {got.shape}, expected {want.shape}: normalise every pixel, keep the shape"
    if np.allclose(got, (x - mean) / std, atol=1e-3):
        return "divide the pixels by 255 first: mean and std are measured on values in [0, 1]"
    if not np.allclose(got, want, atol=1e-3):
        return "values are off: subtract the mean of each channel, then divide by its standard deviation"
    return None


def one_cycle(answer):

    if not callable(answer):
        return f"expected a function one_cycle_lr(step, total_steps, peak_lr), got {answer!r}"
    total, peak = 1000, 0.1
    config = {"lr": peak, "epochs": 1, "schedule": "onecycle", "warmup_fraction": 0.15}
    schedule = make_schedule(config, total)
    for step in (0, 75, 150, 400, 999):
        got = answer(step, total, peak)
        want = float(np.asarray(schedule(step)))
        if got is None or not math.isclose(float(got), want, rel_tol=1e-3, abs_tol=1e-7):
            return f"at step {step} of {total} (peak {peak}) you give {got!r}, the kit's schedule {want:.6f}"
    return None


def naive_inception(x, f1, f3, f5):
    """The paper's Figure 2(a): 1x1, 3x3 and 5x5 convs (bias, ReLU) and a 3x3 max-pool, concatenated."""

    branches = [layers.Conv2D(f, k, padding="same", activation="relu")(x) for f, k in ((f1, 1), (f3, 3), (f5, 5))]
    branches.append(layers.MaxPooling2D(3, strides=1, padding="same")(x))
    return layers.Concatenate()(branches)


def center_share_of(heatmap) -> float:
    """The share of a heatmap's mass in the middle half of the image (rows and columns H//4 to H - H//4)."""

    h = np.asarray(heatmap, dtype=float)
    rows, cols = h.shape[0] // 4, h.shape[1] // 4
    return float(h[rows : h.shape[0] - rows, cols : h.shape[1] - cols].sum() / h.sum())


def center_share(answer):

    if not callable(answer):
        return f"expected a function center_share(heatmap), got {answer!r}"
    corner, middle = np.zeros((32, 32)), np.zeros((32, 32))
    corner[:4, :4], middle[14:18, 14:18] = 1, 1
    cases = {
        "a uniform 32x32 heatmap": np.ones((32, 32)),
        "a heatmap lit only in its top-left corner": corner,
        "a heatmap lit only in the middle": middle,
        "a random 28x28 heatmap": np.random.default_rng(0).random((28, 28)),
    }
    for what, heat in cases.items():
        got, want = answer(heat.copy()), center_share_of(heat)
        if got is None:
            return "your center_share returns None: end it with `return` and the share"
        if math.isclose(float(got), want, abs_tol=1e-6):
            continue
        if math.isclose(float(got), 1 - want, abs_tol=1e-6):
            return f"for {what} you give {float(got):.3f}: that is the border's share, not the middle's"
        if float(got) > 1:
            return f"for {what} you give {float(got):.3f}, more than 1: divide by the whole heatmap's sum"
        return (
            f"for {what} you give {float(got):.3f}, expected {want:.3f} (the middle: rows and columns H//4 to H - H//4)"
        )
    return None


def report_row(table: str, label: str) -> float:

    return next(e.reported for e in EXPERIMENTS.values() if e.table == table and e.label == label)
