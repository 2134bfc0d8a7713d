"""The exercises of 04_googlenet: the inception module and its 1x1 reductions."""

from __future__ import annotations

from keras import layers

from helpers.course.judges import Exercise, block, number, run_like
from helpers.models.googlenet import inception

NOTEBOOK = "04_googlenet.ipynb"


def naive_inception(x, f1, f3, f5, relu="relu", pool_first=False, pool=layers.MaxPooling2D, bias=True):
    """The paper's Figure 2(a): 1x1, 3x3 and 5x5 convs (bias, ReLU) and a 3x3 max-pool, concatenated (and, with
    the other arguments, the usual mistakes; ``pool=None``: no pool branch)."""
    branches = [
        layers.Conv2D(f, k, padding="same", activation=relu, use_bias=bias)(x) for f, k in ((f1, 1), (f3, 3), (f5, 5))
    ]
    pooled = [pool(3, strides=1, padding="same")(x)] if pool else []
    return layers.Concatenate()([*pooled, *branches] if pool_first else [*branches, *pooled])


def _naive(**mistake):
    return lambda x, f1, f3, f5: naive_inception(x, f1, f3, f5, **mistake)


SAME_SIZE = "the four branches keep the height and width, or they cannot be concatenated: 'same' padding, stride 1"


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
                368: "the 3x3 and 5x5 reductions (96, 16) are inside the branches: only the branches' outputs "
                "are concatenated",
                416: "the pool branch ends in a 1x1 projection to 32 channels: it does not pass all 192 through",
                448: "the pool branch ends in a 1x1 projection to 32 channels: it does not pass all 192 through",
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
                3072: "that is the 1x1 reduction alone (192 x 16): add the 5x5 conv on its 16 channels",
                15872 + 48: "no biases in this count: the 16 + 32 biases are left out",
                5 * 5 * 192 * 16 + 5 * 5 * 16 * 32: "the reduction is a 1x1 conv: 1 x 1 x 192 x 16 weights",
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
            [
                ((8, 8, 24), {"f1": 8, "f3": 16, "f5": 4}, SAME_SIZE),
                ((6, 6, 8), {"f1": 4, "f3": 8, "f5": 2}, SAME_SIZE),
            ],
            "naive inception module",
            [
                (_naive(relu=None), "no ReLU: each conv ends in one"),
                (_naive(pool_first=True), "the branches go in the order 1x1, 3x3, 5x5, pool (the paper's Figure 2)"),
                (_naive(pool=layers.AveragePooling2D), "the fourth branch is a *max*-pool"),
                (_naive(pool=None), "the fourth branch is missing: a 3x3 max-pool of the input, all its channels"),
                (_naive(bias=False), "these convolutions have a bias (Keras' default): the naive module has no BN"),
            ],
            "(1x1, 3x3 and 5x5 'same' convs with bias, a 3x3 stride-1 'same' max-pool)",
            "each conv ('same', with its ReLU) and the max-pool work on the module's input x, side by side",
            "the module keeps the height and width; its channels are f1 + f3 + f5 + all of the input's (the pool)",
        ),
        "Without 1x1 reductions: 416 channels out of 192 (the pool passes all 192 through) and 387,296 "
        "parameters, against 3a's 256 channels: the reason for the 1x1 convs.",
        kit=(inception,),
    ),
    Exercise(
        "inception_module",
        NOTEBOOK,
        "shown",
        block(
            lambda x, filters: inception(x, filters, "ref"),
            [
                # every branch another width: few layers look alike, so weights are matched in few tries
                ((8, 8, 24), {"filters": (8, 6, 12, 2, 4, 5)}),
                ((6, 6, 16), {"filters": (4, 6, 8, 2, 3, 5)}),
            ],
            "inception module",
            [(_inception_pool_first, "the branches go in the order 1x1, 3x3, 5x5, pool projection")],
            "(each conv without bias, with batch norm; the pool branch ends in a 1x1 projection)",
            "check each branch: 1x1; 1x1 then 3x3; 1x1 then 5x5; 3x3 max-pool then 1x1, each conv -> BN -> ReLU",
            "the module keeps the height and width; its channels are the sum of the four branches' outputs "
            "(1x1, 3x3, 5x5, pool projection)",
        ),
        "Four branches on the same input, concatenated on channels.",
        kit=(inception,),
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
