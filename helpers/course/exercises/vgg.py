"""The exercises of 02_vgg: convolutions, VGG's config lists, the budget and the one-cycle schedule."""

from __future__ import annotations

import math

import numpy as np
from keras import layers

from helpers.course.judges import Exercise, block, number, run_like, shape
from helpers.experiments import EXPERIMENTS
from helpers.models.vgg import CFG, vgg_features
from helpers.training import make_schedule

NOTEBOOK = "02_vgg.ipynb"


def vgg13_config(answer):
    """VGG-13's config list, with hints for the counts."""
    if not isinstance(answer, list | tuple):
        return f"expected a list like [64, 64, 'M', ...], got {type(answer).__name__}"
    want = CFG["vgg13"]
    if list(answer) == want:
        return None
    convs, pools = sum(isinstance(v, int) for v in answer), list(answer).count("M")
    if pools != 5:
        return f"{pools} pools: VGG-13 has five 'M' entries (32 -> 16 -> 8 -> 4 -> 2 -> 1)"
    if convs != 10:
        return f"{convs} convolutions: VGG-13 has 10 (13 weight layers minus the 3 fully connected ones)"
    return "right counts, wrong order or widths: two convs per block, widths 64, 128, 256, 512, 512"


def _features_without_relu(x, cfg):
    for v in cfg:
        x = layers.MaxPooling2D(2)(x) if v == "M" else layers.Conv2D(v, 3, padding="same")(x)
    return x


def _features_average_pool(x, cfg):
    for v in cfg:
        x = layers.AveragePooling2D(2)(x) if v == "M" else layers.Conv2D(v, 3, padding="same", activation="relu")(x)
    return x


vgg_loop = block(
    lambda x, cfg: vgg_features(x, cfg, batch_norm=False),
    [((32, 32, 3), {"cfg": [8, "M", 16, 16, "M", 32]}), ((16, 16, 3), {"cfg": [16, 16, "M", 32, "M"]})],
    "VGG feature extractor",
    [
        (_features_without_relu, "no ReLU: every 3x3 convolution is followed by a ReLU"),
        (_features_average_pool, "'M' is a 2x2 *max*-pool, not an average"),
    ],
    "(3x3 'same' convolutions with bias; 2x2 pools have no parameters)",
)


def one_cycle(answer):
    """The student's one_cycle_lr(step, total_steps, peak_lr) against the kit's schedule at five steps."""
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


def report_row(table: str, label: str) -> float:
    """Report 2's number for one row of one of its tables (from the experiment matrix)."""
    return next(e.reported for e in EXPERIMENTS.values() if e.table == table and e.label == label)


EXERCISES = [
    Exercise(
        "conv_params",
        NOTEBOOK,
        "predict",
        number(
            73856,
            "a 3x3 convolution from 64 to 128 channels with bias",
            {
                73728: "close: add one bias per output channel",
                1152: "that is one filter's 3x3x128; count every input channel of every filter",
                576: "3 x 3 x 64 is one filter: there are 128",
            },
        ),
        "3 x 3 x 64 weights per filter, 128 filters, plus 128 biases: 73,856.",
    ),
    Exercise(
        "vgg_final_shape",
        NOTEBOOK,
        "predict",
        shape((1, 1, 512), "VGG-16's last feature map on 32x32"),
        "Five 2x2 pools: 32 -> 16 -> 8 -> 4 -> 2 -> 1, and the last block has 512 channels.",
    ),
    Exercise("vgg13_config", NOTEBOOK, "code", vgg13_config, "VGG-13: two 3x3 convs in each of the five blocks."),
    Exercise(
        "vgg_loop",
        NOTEBOOK,
        "shown",
        vgg_loop,
        "A number adds a 3x3 conv + ReLU, 'M' a 2x2 max-pool: the whole VGG idea in a loop.",
    ),
    Exercise(
        "budget_images",
        NOTEBOOK,
        "predict",
        number(
            9600,
            "the images seen by 8 epochs on 1,200 training images",
            {
                1200: "1,200 is one epoch: the run makes 8 passes",
                300: "300 is the optimizer steps at batch 32: each step sees a batch of 32 images",
                8: "8 is the epochs: multiply by the images each epoch trains on",
            },
        ),
        "8 x 1,200 = 9,600 images seen, below 16,000: the small band (AdamW lr 1e-3, batch 32, flips without crops).",
    ),
    Exercise(
        "one_cycle_lr",
        NOTEBOOK,
        "code",
        one_cycle,
        "Linear warm-up from peak/25 over the first 15% of steps (the `best` recipe's largest band; its small and "
        "middle bands warm up over 20%), then a cosine down to peak/400.",
    ),
    Exercise(
        "vgg11_experiment",
        NOTEBOOK,
        "experiment",
        run_like({"model": "vgg11"}, "VGG-11"),
        f"Compare with report 2's VGG-11 ({report_row('Table IV', 'VGG11')}% on CIFAR-10, "
        f"{report_row('Table I', 'VGG11')}% on MNIST) at its budget, not ours.",
        compare=True,
    ),
]
