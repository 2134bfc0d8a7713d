"""The exercises of 03_resnet: residual blocks, stages, and the degradation experiment's runs (its prediction,
observation and explanation: ``helpers.course.predict``)."""

from __future__ import annotations

from helpers.course.exercises.resnet_mistakes import BASIC, BOTTLENECK, PLAIN
from helpers.course.judges import Exercise, block, number, run_like, shape
from helpers.models.resnet import basic_block, bottleneck_block

NOTEBOOK = "03_resnet.ipynb"
WIDENS = (
    "the width changes at stride 1 here: the shortcut needs a projection wherever the shape changes (a stride *or* "
    "another number of channels), not only with a stride"
)
# an identity shortcut, a projection with a stride, and a projection without one (the width changes at stride 1)
IDENTITY_AND_PROJECTIONS = [
    ((8, 8, 16), {"filters": 16, "stride": 1}),
    ((8, 8, 16), {"filters": 32, "stride": 2}),
    ((8, 8, 8), {"filters": 16, "stride": 1}, WIDENS),
]
BOTTLENECK_CASES = [
    ((8, 8, 64), {"filters": 16, "stride": 1}),
    ((8, 8, 64), {"filters": 32, "stride": 2}),
    ((8, 8, 16), {"filters": 16, "stride": 1}, WIDENS),
]
SIZES = "only the stride changes the height and width (once, on one conv); the output has `filters` channels"
PAIRS = "check each pair: 3x3 conv -> batch norm -> ReLU, the first conv with the block's stride, nothing added"

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
                "scale, shift, moving mean, moving variance)",
                69632 + 2 * 384: "batch norm has 4 numbers per channel of which 2 are trained (scale, shift): "
                "the moving mean and variance are parameters too, not trained ones",
                71168 + 384: "no conv biases here: the batch norm after each conv has its own shift",
                69632 + 384: "no conv biases here; and add the batch norms (4 numbers per channel)",
                71168 + 256 * 256 + 4 * 256: "an identity block has no projection: its input already has 256 channels",
                71168 - 1536 + 4 * 64: "count a batch norm on every conv's output: 64, 64 and 256 channels",
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
        block(
            lambda x, filters, stride=1: basic_block(x, filters, stride, name="ref"),
            IDENTITY_AND_PROJECTIONS,
            "basic block",
            BASIC,
            "(two 3x3 conv-BN pairs without bias; a projection shortcut, 1x1 conv + BN, where the shape changes)",
            sizes=SIZES,
        ),
        "Two 3x3 conv-BN pairs plus the shortcut: identity, or a 1x1 conv + BN when the shape changes.",
        kit=(basic_block, bottleneck_block),
    ),
    Exercise(
        "bottleneck_block",
        NOTEBOOK,
        "shown",
        block(
            lambda x, filters, stride=1: bottleneck_block(x, filters, stride, name="ref"),
            BOTTLENECK_CASES,
            "bottleneck block",
            BOTTLENECK,
            "(1x1, 3x3 and 1x1 convs without bias, each with batch norm; a projection where the shape changes)",
            sizes="only the stride changes the height and width (on the 3x3); the output has 4 x filters channels",
        ),
        "1x1 reduce, 3x3 (with the stride), 1x1 expand to 4x the width, shortcut, ReLU.",
        kit=(basic_block, bottleneck_block),
    ),
    Exercise(
        "plain_block",
        NOTEBOOK,
        "code",
        block(
            lambda x, filters, stride=1: basic_block(x, filters, stride, False, name="ref"),
            IDENTITY_AND_PROJECTIONS,
            "plain block",
            PLAIN,
            "(two 3x3 conv-BN pairs without bias, and no shortcut at all)",
            PAIRS,
            SIZES,
        ),
        "The basic block without its shortcut: what the plain networks of the degradation experiment are made of.",
        kit=(basic_block, bottleneck_block),
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
                33: "one layer is missing: the stem conv and the final dense layer both count",
                37: "projection shortcuts are not counted as layers: 2 x 16 convs + the stem conv + the dense layer",
                36: "projection shortcuts are not counted as layers, and neither is anything without weights",
                50: "50 is ResNet-50, whose bottleneck blocks have three convs; ResNet-34's basic blocks have two",
                18: "18 is ResNet-18 ([2, 2, 2, 2]); ResNet-34 has [3, 4, 6, 3] blocks of two convs",
            },
        ),
        "16 basic blocks x 2 convs + the stem conv + the dense layer = 34 (shortcut projections are "
        "not counted, as in the paper).",
    ),
    Exercise(
        "cifar_resnet_depth",
        NOTEBOOK,
        "predict",
        number(
            56,
            "the layers of the paper's CIFAR network with n = 9 blocks per stage (6n + 2)",
            {
                54: "6 x 9 = 54 convolutions in the blocks: add the stem conv and the dense layer",
                27: "27 is the blocks (3 stages x 9): each has two 3x3 convs",
                55: "55 leaves out one of the two: the stem conv and the dense layer both count",
                58: "projection shortcuts are not counted as layers (the paper's CIFAR networks have none: their "
                "shortcuts pad with zeros)",
                9: "9 is n, the blocks per stage: there are three stages of blocks of two convs",
                20: "20 is the depth for n = 3 (6 x 3 + 2); here n = 9",
            },
        ),
        "6 x 9 + 2 = 56: three stages of nine two-conv blocks, the stem conv and the dense layer (ResNet-56).",
    ),
    Exercise(
        "plain20_run",
        NOTEBOOK,
        "experiment",
        run_like({"model": "plain20"}, "plain-20"),
        "plain-20 trained with this notebook's settings: the shallow side of the comparison.",
        compare=True,
    ),
    Exercise(
        "plain56_run",
        NOTEBOOK,
        "experiment",
        run_like({"model": "plain56"}, "plain-56"),
        "plain-56 trained with the same settings: compare its training accuracy with plain-20's.",
        compare=True,
    ),
]
