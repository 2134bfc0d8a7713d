"""The exercises of 03_resnet: residual blocks, stages, and the degradation experiment (predict, then run)."""

from __future__ import annotations

from keras import layers

from helpers.course.judges import Exercise, block, choice, number, run_like, shape
from helpers.models.resnet import basic_block, bottleneck_block

NOTEBOOK = "03_resnet.ipynb"
IDENTITY_AND_PROJECTION = [((8, 8, 64), {"filters": 64, "stride": 1}), ((8, 8, 64), {"filters": 128, "stride": 2})]


def _conv_bn(x, filters, kernel, stride=1, relu=True):
    x = layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x) if relu else x


def _shortcut(x, filters, stride):
    return _conv_bn(x, filters, 1, stride, relu=False) if stride != 1 or x.shape[-1] != filters else x


def _plain(first_relu=True, second_relu=True, stride_first=True, add_input=False):
    """A plain block with one of the usual mistakes."""

    def build(x, filters, stride=1):
        y = _conv_bn(x, filters, 3, stride if stride_first else 1, relu=first_relu)
        y = _conv_bn(y, filters, 3, 1 if stride_first else stride, relu=second_relu)
        return layers.Add()([x, y]) if add_input else y

    return build


def _basic(relu_before_add=False, final_relu=True, stride_first=True, shortcut=True):
    """A basic block with one of the usual mistakes."""

    def build(x, filters, stride=1):
        y = _conv_bn(x, filters, 3, stride if stride_first else 1)
        y = _conv_bn(y, filters, 3, 1 if stride_first else stride, relu=relu_before_add)
        if shortcut:
            y = layers.Add()([_shortcut(x, filters, stride), y])
        return layers.ReLU()(y) if final_relu and not relu_before_add else y

    return build


def _bottleneck_v1(x, filters, stride=1):
    """The stride on the first 1x1 (the original ResNet v1), not on the 3x3."""
    y = _conv_bn(x, filters, 1, stride)
    y = _conv_bn(y, filters, 3)
    y = _conv_bn(y, 4 * filters, 1, relu=False)
    return layers.ReLU()(layers.Add()([_shortcut(x, 4 * filters, stride), y]))


def _bottleneck_without_final_relu(x, filters, stride=1):
    y = _conv_bn(_conv_bn(x, filters, 1), filters, 3, stride)
    return layers.Add()([_shortcut(x, 4 * filters, stride), _conv_bn(y, 4 * filters, 1, relu=False)])


NO_SHORTCUT = "nothing is added: the shortcut adds the block's input (or its projection) to the branch"
BASIC_MISTAKES = [
    (_basic(shortcut=False), NO_SHORTCUT),
    (_basic(relu_before_add=True), "the ReLU after the second batch norm comes after the addition, not before it"),
    (_basic(final_relu=False), "after the addition comes a ReLU"),
    (_basic(stride_first=False), "the stride sits on the first 3x3 convolution, not the second"),
]
PLAIN_MISTAKES = [
    (_plain(first_relu=False, second_relu=False), "no ReLU: each conv-BN pair ends in a ReLU"),
    (_plain(second_relu=False), "the second conv-BN pair has no ReLU: in a plain block both end in one"),
    (_plain(first_relu=False), "the first conv-BN pair has no ReLU"),
    (_plain(stride_first=False), "the stride sits on the first 3x3 convolution, not the second"),
    (_plain(add_input=True), "it adds the input: that is a residual block; a plain block has no shortcut at all"),
]

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
        block(
            lambda x, filters, stride=1: basic_block(x, filters, stride, name="ref"),
            IDENTITY_AND_PROJECTION,
            "basic block",
            BASIC_MISTAKES,
            "(a projection shortcut, 1x1 conv + BN, where the shape changes)",
        ),
        "Two 3x3 conv-BN pairs plus the shortcut: identity, or a 1x1 conv + BN when the shape changes.",
    ),
    Exercise(
        "bottleneck_block",
        NOTEBOOK,
        "shown",
        block(
            lambda x, filters, stride=1: bottleneck_block(x, filters, stride, name="ref"),
            [((8, 8, 256), {"filters": 64, "stride": 1}), ((8, 8, 256), {"filters": 128, "stride": 2})],
            "bottleneck block",
            [
                (_bottleneck_v1, "the stride sits on the 3x3 convolution (ResNet v1.5), not on the first 1x1"),
                (_bottleneck_without_final_relu, "after the addition comes a ReLU"),
            ],
            "(1x1, 3x3 and 1x1 convs without bias, each with batch norm; a projection where the shape changes)",
        ),
        "1x1 reduce, 3x3 (with the stride), 1x1 expand to 4x the width, shortcut, ReLU.",
    ),
    Exercise(
        "plain_block",
        NOTEBOOK,
        "code",
        block(
            lambda x, filters, stride=1: basic_block(x, filters, stride, False, name="ref"),
            IDENTITY_AND_PROJECTION,
            "plain block",
            PLAIN_MISTAKES,
            "(two 3x3 conv-BN pairs without bias, and no shortcut at all)",
        ),
        "The basic block without its shortcut: what the plain networks of the degradation experiment are made of.",
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
        "cifar_resnet_depth",
        NOTEBOOK,
        "predict",
        number(
            56,
            "the layers of the paper's CIFAR network with n = 9 blocks per stage (6n + 2)",
            {
                54: "6 x 9 = 54 convolutions in the blocks: add the stem conv and the dense layer",
                27: "27 is the blocks (3 stages x 9): each has two 3x3 convs",
            },
        ),
        "6 x 9 + 2 = 56: three stages of nine two-conv blocks, the stem conv and the dense layer (ResNet-56).",
    ),
    Exercise(
        "deeper_plain_prediction",
        NOTEBOOK,
        "predict",
        choice(
            "plain56",
            {
                "plain20": "more layers can represent more, but can the optimiser find those weights? "
                "The paper's Fig. 6 says which trains worse"
            },
            "which plain net ends with the *higher training error* after the same epochs",
        ),
        "plain-56: the deeper plain network fits its own training images worse (He et al. 2016, Fig. 6), the "
        "degradation problem. Now run both and see it.",
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
