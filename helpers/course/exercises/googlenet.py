"""The exercises of 04_googlenet: the inception module and its 1x1 reductions."""

from __future__ import annotations

from keras import layers

from helpers.course.judges import Exercise, block, number, run_like
from helpers.models.googlenet import inception

NOTEBOOK = "04_googlenet.ipynb"


def naive_inception(x, f1, f3, f5, relu="relu", pool_first=False, pool=layers.MaxPooling2D):
    """The paper's Figure 2(a): 1x1, 3x3 and 5x5 convs (bias, ReLU) and a 3x3 max-pool, concatenated (and, with
    the other arguments, the usual mistakes)."""
    branches = [layers.Conv2D(f, k, padding="same", activation=relu)(x) for f, k in ((f1, 1), (f3, 3), (f5, 5))]
    pooled = pool(3, strides=1, padding="same")(x)
    return layers.Concatenate()([pooled, *branches] if pool_first else [*branches, pooled])


def _inception_pool_first(x, filters):
    """The kit's inception module with its branches concatenated in another order."""
    out = inception(x, filters, "ref")
    pool_part = filters[5]
    return layers.Concatenate()([out[..., -pool_part:], out[..., :-pool_part]])


EXERCISES = [
    Exercise(
        "inception_channels",
        NOTEBOOK,
        "predict",
        number(
            256,
            "the output channels of inception 3a",
            {
                192: "192 is its input; add the four branches' outputs",
                320: "the 3x3 and 5x5 reductions (96, 16) are inside the branches",
            },
        ),
        "64 + 128 + 32 + 32 = 256: the concatenation adds the branches' channels.",
    ),
    Exercise(
        "reduction_params",
        NOTEBOOK,
        "predict",
        number(
            15872,
            "the 5x5 branch of 3a with its 1x1 reduction (192 -> 16 -> 32 channels, no biases)",
            {
                153600: "that is the 5x5 conv straight from 192 channels: the point of the 1x1 is to avoid it",
                12800: "add the 1x1 reduction itself: 192 x 16",
            },
        ),
        "192 x 16 + 5 x 5 x 16 x 32 = 15,872, against 153,600 without the reduction: ~10x fewer.",
    ),
    Exercise(
        "naive_inception",
        NOTEBOOK,
        "code",
        block(
            naive_inception,
            [((16, 16, 192), {"f1": 64, "f3": 128, "f5": 32}), ((8, 8, 32), {"f1": 8, "f3": 16, "f5": 4})],
            "naive inception module",
            [
                (lambda x, f1, f3, f5: naive_inception(x, f1, f3, f5, relu=None), "no ReLU: each conv ends in one"),
                (
                    lambda x, f1, f3, f5: naive_inception(x, f1, f3, f5, pool_first=True),
                    "the branches go in the order 1x1, 3x3, 5x5, pool (the paper's Figure 2)",
                ),
                (
                    lambda x, f1, f3, f5: naive_inception(x, f1, f3, f5, pool=layers.AveragePooling2D),
                    "the fourth branch is a *max*-pool",
                ),
            ],
            "(1x1, 3x3 and 5x5 'same' convs with bias, a 3x3 stride-1 'same' max-pool)",
        ),
        "Without 1x1 reductions: 416 channels out of 192 (the pool passes all 192 through) and 387,296 "
        "parameters, against 3a's 256 channels: the reason for the 1x1 convs.",
    ),
    Exercise(
        "inception_module",
        NOTEBOOK,
        "shown",
        block(
            lambda x, filters: inception(x, filters, "ref"),
            [
                ((16, 16, 192), {"filters": (64, 96, 128, 16, 32, 32)}),
                ((8, 8, 256), {"filters": (128, 128, 192, 32, 96, 64)}),
            ],
            "inception module",
            [(_inception_pool_first, "the branches go in the order 1x1, 3x3, 5x5, pool projection")],
        ),
        "Four branches on the same input, concatenated on channels.",
    ),
    Exercise(
        "augment_experiment",
        NOTEBOOK,
        "experiment",
        run_like({"augment": "none"}, "no augmentation"),
        "Report 2's Table VI compares GoogLeNet with and without augmentation.",
        compare=True,
    ),
]
