"""The exercises of 04_googlenet: the inception module and its 1x1 reductions."""

from __future__ import annotations

from helpers.course.judges import Exercise, naive_inception, number, run_of, same_block
from helpers.models.googlenet import inception

NOTEBOOK = "04_googlenet.ipynb"

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
        same_block(
            lambda x, f1, f3, f5, name=None: naive_inception(x, f1, f3, f5),
            [((16, 16, 192), {"f1": 64, "f3": 128, "f5": 32})],
            "naive inception module",
            "1x1, 3x3 and 5x5 'same' convs with bias and ReLU, a 3x3 stride-1 'same' max-pool",
        ),
        "Without 1x1 reductions: 416 channels out of 192 (the pool passes all 192 through) and 387,296 "
        "parameters, against 3a's 256 channels: the reason for the 1x1 convs.",
    ),
    Exercise(
        "inception_module",
        NOTEBOOK,
        "shown",
        same_block(
            lambda x, filters, name=None: inception(x, filters, name),
            [
                ((16, 16, 192), {"filters": (64, 96, 128, 16, 32, 32)}),
                ((8, 8, 256), {"filters": (128, 128, 192, 32, 96, 64)}),
            ],
            "inception module",
        ),
        "Four branches on the same input, concatenated on channels.",
    ),
    Exercise(
        "augment_experiment",
        NOTEBOOK,
        "experiment",
        run_of("augment", "none", "no augmentation"),
        "Report 2's Table VI compares GoogLeNet with and without augmentation.",
    ),
]
