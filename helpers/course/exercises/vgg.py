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
    if answer is want:
        return "that is the kit's own CFG['vgg13'], which the check compares with: write the list yourself"
    if list(answer) == want:
        return None
    if any(isinstance(v, str) and v != "M" for v in answer):
        odd = next(v for v in answer if isinstance(v, str) and v != "M")
        return f"{odd!r}: a pool is written 'M' (a capital M) and a convolution as its width, a number such as 64"
    convs, pools = sum(isinstance(v, int | np.integer) for v in answer), list(answer).count("M")
    if pools != 5:
        return f"{pools} pools: VGG-13 has five 'M' entries (32 -> 16 -> 8 -> 4 -> 2 -> 1)"
    if convs != 10:
        return f"{convs} convolutions: VGG-13 has 10 (13 weight layers minus the 3 fully connected ones)"
    return "right counts, wrong order or widths: two convs per block, widths 64, 128, 256, 512, 512"


def _features(pool=layers.MaxPooling2D, relu="after", padding="same", bias=True, batch_norm=False, strides=2):
    """The VGG loop with one of the usual mistakes."""

    def build(x, cfg):
        for v in cfg:
            if v == "M":
                x = pool(2, strides=strides, padding="same" if strides == 1 else "valid")(x)
                continue
            x = layers.ReLU()(x) if relu == "before" else x
            x = layers.Conv2D(v, 3, padding=padding, use_bias=bias)(x)
            x = layers.BatchNormalization()(x) if batch_norm else x
            x = layers.ReLU()(x) if relu == "after" else x
        return x

    return build


vgg_loop = block(
    lambda x, cfg: vgg_features(x, cfg, batch_norm=False),
    [((16, 16, 3), {"cfg": [8, "M", 8, 16, "M"]}), ((8, 8, 3), {"cfg": [8, 8, "M", 16]})],
    "VGG feature extractor",
    [
        (_features(relu=None), "no ReLU: every 3x3 convolution is followed by a ReLU"),
        (_features(relu="before"), "the ReLU comes after each convolution, not before it"),
        (_features(pool=layers.AveragePooling2D), "'M' is a 2x2 *max*-pool, not an average"),
        (_features(strides=1), "'M' halves the height and width: a 2x2 max-pool with stride 2"),
        (_features(padding="valid"), "the convolutions keep the height and width: padding='same'"),
        (_features(bias=False), "these convolutions have a bias (Keras' default): this VGG has no batch norm"),
        (_features(batch_norm=True), "this loop has no batch norm: a number is a 3x3 conv followed by a ReLU"),
    ],
    "(3x3 'same' convolutions with bias; 2x2 pools have no parameters)",
    "a number is a 3x3 'same' conv followed by its ReLU, 'M' a 2x2 max-pool: check each step of the loop",
    "a conv keeps the height and width (padding='same'), each 'M' halves them, the last conv sets the channels",
)


def _one_cycle_slip(got: dict, want: dict, peak: float) -> str | None:
    """The usual slip in a one-cycle schedule, from its values at steps 0, 75, 150, 400 and 999 of 1,000."""
    close = {s: got[s] is not None and math.isclose(float(got[s]), want[s], rel_tol=1e-3, abs_tol=1e-7) for s in got}
    if got[0] is not None and math.isclose(float(got[0]), peak, rel_tol=1e-3):
        return "no warm-up: the rate starts at peak_lr / 25 and rises linearly over the first 15% of the steps"
    if got[0] is not None and float(got[0]) == 0:
        return "the warm-up starts at peak_lr / 25, not at 0"
    if close[0] and not (close[75] and close[150]):
        return "the warm-up rises linearly from peak_lr / 25 to peak_lr over the first 15% of the steps"
    if close[150] and not close[999] and got[999] is not None and abs(float(got[999])) < want[999] / 2:
        return "the cosine ends at peak_lr / 400 (0.0025 x peak_lr), not at 0"
    if close[150] and not close[400]:
        return "after the warm-up the rate falls along half a cosine, (1 + cos(pi t)) / 2, not a straight line"
    return None


def one_cycle(answer):
    """The student's one_cycle_lr(step, total_steps, peak_lr) against the kit's schedule at five steps."""
    if not callable(answer):
        return f"expected a function one_cycle_lr(step, total_steps, peak_lr), got {answer!r}"
    total, peak = 1000, 0.1
    config = {"lr": peak, "epochs": 1, "schedule": "onecycle", "warmup_fraction": 0.15}
    schedule = make_schedule(config, total)
    steps = (0, 75, 150, 400, 999)
    got = {step: answer(step, total, peak) for step in steps}
    want = {step: float(np.asarray(schedule(step))) for step in steps}
    if all(g is None for g in got.values()):
        return "your one_cycle_lr returns None: end it with `return` and the learning rate"
    for step in steps:
        if got[step] is None or not math.isclose(float(got[step]), want[step], rel_tol=1e-3, abs_tol=1e-7):
            slip = _one_cycle_slip(got, want, peak)
            return slip or f"at step {step} of {total} (peak {peak}) you give {got[step]!r}, the kit's {want[step]:.6f}"
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
                73728 + 64: "one bias per filter, not per input channel: 128 filters, 128 biases",
                73728 + 128 * 9: "one bias per filter, not one per weight of its 3x3 window: 128 biases",
                3 * 3 * 64 * 128 * 2 + 128: "a 3x3 filter has 9 weights per input channel: 3 x 3 x 64 x 128",
                3 * 3 * 128 + 128: "each of the 128 filters has 3 x 3 weights for *every* one of the 64 input channels",
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
        kit=(vgg_features,),
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
                9600 * 32: "the batch size is already inside: an epoch shows each of the 1,200 images once",
                2400: "2,400 would be 2 epochs, or 1,200 images twice: the run makes 8 passes",
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
        kit=(make_schedule,),
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
