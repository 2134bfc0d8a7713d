"""The usual mistakes in 03_resnet's blocks, each built as a student writes it and paired with the line that names
it (``judges.block``'s variants)."""

from __future__ import annotations

from keras import layers


def conv_bn(x, filters, kernel, stride=1, relu=True, bias=False, relu_first=False):
    """Conv -> BN -> ReLU, or with a bias, or conv -> ReLU -> BN (``relu_first``)."""
    x = layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=bias)(x)
    if relu and relu_first:
        return layers.BatchNormalization()(layers.ReLU()(x))
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x) if relu else x


def shortcut(x, filters, stride, when="shape", kernel=1, bn=True):
    """The projection (1x1 conv + BN) where the shape changes; ``when``: "stride" (only with a stride), "always"."""
    changes = {"shape": stride != 1 or x.shape[-1] != filters, "stride": stride != 1, "always": True}[when]
    if not changes:
        return x
    if not bn:
        return layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=False)(x)
    return conv_bn(x, filters, kernel, stride, relu=False)


def plain(first_relu=True, second_relu=True, strides=(True, False), add_input=False, **conv):
    """A plain block with one of the usual mistakes (``strides``: which of the two convs has the stride)."""

    def build(x, filters, stride=1):
        y = conv_bn(x, filters, 3, stride if strides[0] else 1, relu=first_relu, **conv)
        y = conv_bn(y, filters, 3, stride if strides[1] else 1, relu=second_relu, **conv)
        return layers.Add()([x, y]) if add_input else y

    return build


def basic(relu_before_add=False, final_relu=True, stride_first=True, add=True, bias=False, **projection):
    """A basic block with one of the usual mistakes."""

    def build(x, filters, stride=1):
        y = conv_bn(x, filters, 3, stride if stride_first else 1, bias=bias)
        y = conv_bn(y, filters, 3, 1 if stride_first else stride, relu=relu_before_add, bias=bias)
        if add:
            y = layers.Add()([shortcut(x, filters, stride, **projection), y])
        return layers.ReLU()(y) if final_relu and not relu_before_add else y

    return build


def bottleneck(strides=(False, True, False), expand=4, final_relu=True, bias=False, **projection):
    """A bottleneck block with one of the usual mistakes (``strides``: which of the three convs has the stride)."""

    def build(x, filters, stride=1):
        y = x
        for i, (kernel, width) in enumerate(((1, filters), (3, filters), (1, expand * filters))):
            y = conv_bn(y, width, kernel, stride if strides[i] else 1, relu=i < 2, bias=bias)
        y = layers.Add()([shortcut(x, expand * filters, stride, **projection), y])
        return layers.ReLU()(y) if final_relu else y

    return build


NO_BIAS = "the convolutions have no bias (use_bias=False): the batch norm right after each adds its own shift"
RELU_AFTER_ADD = "after the addition comes a ReLU"
STRIDE_FIRST = "the stride sits on the first 3x3 convolution, not the second"
PROJECTION = [
    (dict(bn=False), "the projection shortcut is a 1x1 conv *followed by a batch norm*, like every conv of the block"),
    (dict(kernel=3), "the projection shortcut is a 1x1 convolution, not a 3x3"),
    (dict(when="always"), "the shortcut is the identity when the shape stays: project only where the shape changes"),
]
BASIC = [
    (basic(add=False), "nothing is added: the shortcut adds the block's input (or its projection) to the branch"),
    (basic(relu_before_add=True), "the ReLU after the second batch norm comes after the addition, not before it"),
    (basic(final_relu=False), RELU_AFTER_ADD),
    (basic(stride_first=False), STRIDE_FIRST),
    (basic(bias=True), NO_BIAS),
    *((basic(**settings), hint) for settings, hint in PROJECTION),
]
PLAIN = [
    (plain(first_relu=False, second_relu=False), "no ReLU: each conv-BN pair ends in a ReLU"),
    (plain(second_relu=False), "the second conv-BN pair has no ReLU: in a plain block both end in one"),
    (plain(first_relu=False), "the first conv-BN pair has no ReLU"),
    (plain(strides=(False, True)), STRIDE_FIRST),
    (plain(strides=(True, True)), "only the first convolution has the stride: the second keeps the size"),
    (plain(add_input=True), "it adds the input: that is a residual block; a plain block has no shortcut at all"),
    (plain(bias=True), NO_BIAS),
    (plain(relu_first=True), "in each pair the order is conv -> batch norm -> ReLU, not conv -> ReLU -> batch norm"),
]
BOTTLENECK = [
    (
        bottleneck(strides=(True, False, False)),
        "the stride sits on the 3x3 convolution (torchvision's v1.5), not the first 1x1",
    ),
    (bottleneck(strides=(False, False, True)), "the stride sits on the 3x3 convolution, not on the last 1x1"),
    (bottleneck(final_relu=False), RELU_AFTER_ADD),
    (bottleneck(expand=1), "the last 1x1 convolution expands to 4 x filters channels (the bottleneck's output)"),
    (bottleneck(bias=True), NO_BIAS),
    *((bottleneck(**settings), hint) for settings, hint in PROJECTION),
]
