"""The exercises of 03_resnet: residual blocks, stages and the degradation experiment."""

from __future__ import annotations

from helpers.course.judges import Exercise, number, run_of, same_block, shape
from helpers.models.resnet import basic_block, bottleneck_block

NOTEBOOK = "03_resnet.ipynb"

EXERCISES = [
    Exercise(
        "bottleneck_params",
        NOTEBOOK,
        "predict",
        number(
            71168,
            "an identity bottleneck block on 256 channels (width 64, no conv biases)",
            {
                69632: "the convolutions are right; add the batch norms (4 parameters per channel: "
                "scale, shift, moving mean, moving variance)"
            },
        ),
        "1x1 256->64, 3x3 64->64, 1x1 64->256 (69,632 weights) plus 3 batch norms (1,536): 71,168.",
    ),
    Exercise(
        "stage_shape",
        NOTEBOOK,
        "predict",
        shape((16, 16, 128), "the output of ResNet-18's second stage (conv3) on a 32x32 image"),
        "Its first block has stride 2 (32 -> 16) and the width doubles to 128.",
    ),
    Exercise(
        "basic_block",
        NOTEBOOK,
        "shown",
        same_block(
            basic_block,
            [((8, 8, 64), {"filters": 64, "stride": 1}), ((8, 8, 64), {"filters": 128, "stride": 2})],
            "basic block",
        ),
        "Two 3x3 conv-BN pairs plus the shortcut: identity, or a 1x1 conv + BN when the shape changes.",
    ),
    Exercise(
        "bottleneck_block",
        NOTEBOOK,
        "shown",
        same_block(
            bottleneck_block,
            [((8, 8, 256), {"filters": 64, "stride": 1}), ((8, 8, 256), {"filters": 128, "stride": 2})],
            "bottleneck block",
        ),
        "1x1 reduce, 3x3 (with the stride), 1x1 expand to 4x the width, shortcut, ReLU.",
    ),
    Exercise(
        "plain_block",
        NOTEBOOK,
        "code",
        same_block(
            lambda x, filters, stride=1, name=None: basic_block(x, filters, stride, False, name),
            [((8, 8, 64), {"filters": 64, "stride": 1}), ((8, 8, 64), {"filters": 128, "stride": 2})],
            "plain block",
            "two 3x3 conv-BN pairs without bias, ReLU after each, and no shortcut at all",
        ),
        "The basic block without its shortcut: what plain-18 and plain-34 are made of.",
    ),
    Exercise(
        "resnet34_layers",
        NOTEBOOK,
        "predict",
        number(
            34,
            "the weight layers of ResNet-34 (blocks [3, 4, 6, 3])",
            {
                16: "16 is the number of blocks: each has two 3x3 convs",
                32: "32 convs in the blocks: add the stem conv and the final dense layer",
                33: "add the final dense layer",
            },
        ),
        "16 basic blocks x 2 convs + the stem conv + the dense layer = 34 (shortcut projections are "
        "not counted, as in the paper).",
    ),
    Exercise(
        "plain_experiment",
        NOTEBOOK,
        "experiment",
        run_of("model", "plain18", "plain-18"),
        "Plain and residual nets of the same depth: the degradation problem appears as depth grows.",
    ),
]
