"""Whole networks as columns of boxes, read from the built models (channels, pools, strides, shapes): the layout
(``columns_figure``) and VGG. ResNets are ``resnets``, GoogLeNet ``googlenet``."""

from __future__ import annotations

import keras
import matplotlib as mpl
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from helpers.figures.diagrams import drawing as draw
from helpers.models import build_model


def columns_figure(title, subtitle, columns, col_w=1.45, row_h=0.42):
    """Columns left to right, each (header, boxes, footer, square side in inches): boxes (text, fill, edge)
    stacked with arrows, arrows between columns, then a square (a feature map to scale) and the footer."""
    gap, bw = row_h * 0.3, col_w * 0.88

    def height_of(text):
        return row_h * 0.7 + 0.14 * text.count("\n")

    body = max(sum(height_of(box[0]) + gap for box in boxes) for _, boxes, _, _ in columns)
    side = max(column[3] for column in columns)
    width, height = len(columns) * col_w + 0.4, body + side + 1.5
    fig, ax = draw.canvas(width, height)
    draw.title(ax, title, height - 0.1, subtitle)
    top, base = height - 0.75, height - 1.15 - body
    for i, (header, boxes, footer, square) in enumerate(columns):
        x, y = 0.2 + (i + 0.5) * col_w, top - 0.3
        ax.text(x, top, header, ha="center", va="top", fontsize=draw.FONT + 0.5, weight="bold")
        for j, (text, color, edge) in enumerate(boxes):
            if j:
                draw.arrow(ax, (x, y + gap), (x, y), mutation_scale=7)
            h = height_of(text)
            draw.box(ax, x, y - h / 2, bw, h, text, color=color, ec=edge, lw=0.8 if edge == draw.EDGE else 2.2)
            y -= h + gap
        if i:
            draw.arrow(ax, (x - col_w + bw / 2, top - 0.3 - row_h * 0.35), (x - bw / 2, top - 0.3 - row_h * 0.35))
        if square:
            ax.add_patch(
                Rectangle((x - square / 2, base - (square + side) / 2), square, square, fc="#9ecae1", ec="0.3", lw=0.8)
            )
        ax.text(x, base - side - 0.1, footer, ha="center", va="top", fontsize=draw.FONT + 0.5, weight="bold")
    return fig


def vgg_figure(name="vgg16", input_shape=(32, 32, 3)) -> Figure:
    """VGG ``name`` (a key of ``CFG``) block by block, read from the built model: the convs with their
    channels, the pools, the map after each block (to scale): "channels double as the size halves" shows."""
    model = build_model(name, input_shape)
    prelude, blocks, head = [], [], []
    for layer in model.layers:
        kind = type(layer).__name__
        if head or kind in ("Flatten", "GlobalAveragePooling2D", "Dense"):
            head.append(layer)
        elif kind == "Conv2D" or (kind == "MaxPooling2D" and blocks):
            if not blocks or isinstance(blocks[-1][-1], keras.layers.MaxPooling2D):
                blocks.append([])
            blocks[-1].append(layer)
        elif not blocks:
            prelude.append(layer)  # input, reshape, padding
    convs = [layer for block in blocks for layer in block if isinstance(layer, keras.layers.Conv2D)]
    pools = [layer for block in blocks for layer in block if isinstance(layer, keras.layers.MaxPooling2D)]
    size, bits = prelude[-1].output.shape[1], sorted({c.filters.bit_length() for c in convs})

    def box(layer, shape=False):  # darker blue for more channels
        shade = (layer.filters.bit_length() - bits[0]) / max(bits[-1] - bits[0], 1) if layer in convs else 0
        fill = mpl.colormaps["Blues"](0.15 + 0.45 * shade) if layer in convs else draw.layer_color(layer)
        return draw.layer_label(layer) + (f" {draw.layer_shape(layer)}" if shape else ""), fill, draw.EDGE

    def then(layer):  # the BatchNorm, ReLU and Dropout layers that follow ``layer`` in the chain
        follow, extras = [], keras.layers.BatchNormalization | keras.layers.Activation | keras.layers.Dropout
        for after in model.layers[model.layers.index(layer) + 1 :]:
            if not isinstance(after, extras):
                break
            follow.append(draw.layer_label(after))
        return " + ".join(follow)

    own = draw.layer_label(keras.layers.Activation(convs[0].activation))  # the reports' convs carry their ReLU
    recipe = f"each conv: 'same' padding, then {then(convs[0]) or own}"
    recipe += f"; each pool, then {then(pools[0])}" if pools and then(pools[0]) else ""
    columns = [("input", [box(layer, shape=True) for layer in prelude], draw.layer_shape(prelude[-1]), 0.8)]
    columns += [
        (
            f"block {i}",
            [box(layer) for layer in block],
            draw.layer_shape(block[-1]),
            0.8 * block[-1].output.shape[1] / size,
        )
        for i, block in enumerate(blocks, 1)
    ]
    columns.append(("classifier", [box(layer) for layer in head], draw.layer_shape(head[-1]), 0))
    sizes = "-".join(str(n) for n in [size] + [p.output.shape[1] for p in pools])
    return columns_figure(
        f"{name}: {len(convs)} conv layers in {len(blocks)} blocks, {len(pools)} max-pools ({sizes} px)",
        f"{recipe}; squares: feature maps to scale; darker blue: more channels",
        columns,
    )
