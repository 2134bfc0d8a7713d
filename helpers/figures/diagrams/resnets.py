"""ResNets read from the built models: stage by stage (any of the kit's ResNets and plain twins), and a plain
network beside its ResNet (the ResNet paper's Fig. 3)."""

from __future__ import annotations

import re

import keras
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from helpers.figures.diagrams import drawing as draw
from helpers.figures.diagrams.networks import columns_figure
from helpers.models import MODEL_NAMES, build_model

__all__ = ["RESNETS", "plain_vs_residual_figure", "resnet_stages_figure"]

RESNETS = tuple(name for name in MODEL_NAMES if re.fullmatch(r"(resnet|plain)\d+", name))


def _resnet_parts(name, input_shape):
    """A kit ResNet's stem convs, blocks and head layers, read from the built model (conv{stage}_block{i}_*):
    each block a dict of its stage, main convs, shortcut layer where the shape changes (a 1x1 projection conv, or
    the CIFAR networks' parameter-free zero padding; else None) and output layer."""
    if name not in RESNETS:
        raise ValueError(f"Unknown ResNet {name!r}; valid: {', '.join(RESNETS)}")
    model = build_model(name, input_shape)
    stem, blocks, head = [], {}, []
    for layer in model.layers:
        match = re.match(r"conv(\d+)_block(\d+)_(\d+_conv|0_pad|out)$", layer.name)
        if match:
            block = blocks.setdefault(match.group(1, 2), {"stage": int(match[1]), "convs": [], "projection": None})
            if match[3] == "out":
                block["out"] = layer
            elif match[3] in ("0_conv", "0_pad"):
                block["projection"] = layer
            else:
                block["convs"].append(layer)
        elif isinstance(layer, keras.layers.Conv2D) and not blocks:
            stem.append(layer)
        elif blocks and not re.match(r"conv\d+_block", layer.name):
            head.append(layer)
    return model, stem, list(blocks.values()), head


def _stride(layer) -> int:
    return max(layer.get_config()["strides"])


def _shortcut_label(layer) -> str:
    """A shape-changing shortcut in words: its 1x1 projection conv, or option A's subsample + zero channels."""
    if isinstance(layer, keras.layers.Conv2D):
        return draw.layer_label(layer).removeprefix("Conv2D ")
    return f"/{layer.stride}, zero-pad"


def resnet_stages_figure(name="resnet18", input_shape=(32, 32, 3)) -> Figure:
    """ResNet ``name`` (any of ``RESNETS``) stage by stage: the stem, each block's convs (kernel, channels,
    stride), stride-2 blocks outlined, shape-changing shortcuts, the map after each stage (to scale), then pool +
    dense."""
    model, stem, blocks, head = _resnet_parts(name, input_shape)
    size = model.input.shape[1]
    counts = tuple(sum(b["stage"] == stage for b in blocks) for stage in sorted({b["stage"] for b in blocks}))
    kind = "basic" if len(blocks[0]["convs"]) == 2 else "bottleneck"

    def conv(layer):
        return draw.layer_label(layer).removeprefix("Conv2D ")

    def block_box(b):
        lines = [conv(layer) for layer in b["convs"]]
        lines += [f"shortcut {_shortcut_label(b['projection'])}"] if b["projection"] is not None else []
        strided = max(_stride(layer) for layer in b["convs"]) > 1
        return "\n".join(lines), draw.COLORS["Conv2D"], draw.STRIDE_COLOR if strided else draw.EDGE

    def column(header, boxes, last):
        return header, boxes, draw.layer_shape(last), 0.8 * last.output.shape[1] / size

    columns = [
        column("input", [("Input", "white", draw.EDGE)], model.layers[0]),
        column("stem", [(draw.layer_label(c), draw.COLORS["Conv2D"], draw.EDGE) for c in stem], stem[-1]),
    ]
    for stage in sorted({b["stage"] for b in blocks}):
        mine = [b for b in blocks if b["stage"] == stage]
        boxes = [block_box(b) for b in mine]
        columns.append(column(f"conv{stage}_x: {len(mine)} blocks", boxes, mine[-1]["out"]))
    columns.append(
        (
            "head",
            [(draw.layer_label(layer), draw.layer_color(layer), draw.EDGE) for layer in head],
            draw.layer_shape(head[-1]),
            0,
        )
    )
    return columns_figure(
        f"{name}: stem, {len(counts)} stages of {kind} blocks {counts}, pool + dense",
        "one box per block: its convs top to bottom (each + BatchNorm), + shortcut, ReLU; "
        "orange: stride 2 (halves the size)",
        columns,
        col_w=1.5,
    )


def plain_vs_residual_figure(depth=18) -> Figure:
    """The plain network and the ResNet of ``depth`` layers side by side (the ResNet paper's Figure 3): the
    same convs, a box each; shortcut arcs on the residual side only, dashed where the shape changes (a 1x1
    projection; the paper's CIFAR networks, ``depth`` 20, 32, 44, 56 or 110: a subsample and zero channels)."""
    model, stem, blocks, head = _resnet_parts(f"resnet{depth}", (32, 32, 3))
    layers = [model.layers[0], *stem, *(c for b in blocks for c in b["convs"]), *head]
    row_h, bw = min(0.34, 10.5 / len(layers)), 1.75
    bh, font = row_h * 0.72, min(draw.FONT - 0.5, 25 * row_h)
    xs = {f"plain-{depth}": 1.25, f"ResNet-{depth}": 3.65}
    fig, ax = draw.canvas(6.2, len(layers) * row_h + 1.35)
    top = len(layers) * row_h + 0.35
    n_convs = sum(isinstance(layer, keras.layers.Conv2D) for layer in layers)
    draw.title(
        ax,
        f"plain-{depth} vs ResNet-{depth}: the same {n_convs} conv layers + 1 dense",
        top + 0.9,
        "orange: stride 2; arcs: shortcuts (solid: identity, dashed: where the shape changes)",
    )

    def y(i):
        return top - (i + 0.5) * row_h

    for header, x in xs.items():
        ax.text(x, top + 0.05, header, ha="center", va="bottom", fontsize=draw.FONT + 1.5, weight="bold")
        ax.plot([x, x], [y(0), y(len(layers) - 1)], color="0.3", lw=0.9, zorder=0)
        for i, layer in enumerate(layers):
            strided = isinstance(layer, keras.layers.Conv2D) and _stride(layer) > 1
            draw.box(
                ax,
                x,
                y(i),
                bw,
                bh,
                draw.layer_label(layer),
                color=draw.layer_color(layer),
                fontsize=font,
                ec=draw.STRIDE_COLOR if strided else draw.EDGE,
                lw=1.8 if strided else 0.8,
            )
    index, x = {layer.name: i for i, layer in enumerate(layers)}, xs[f"ResNet-{depth}"]
    edge, reach, corner = x + bw / 2 + 0.03, x + bw / 2 + 0.2, row_h * 0.3  # slanted corners keep arcs apart
    for b in blocks:
        y0, y1 = y(index[b["convs"][0].name]) + row_h / 2, y(index[b["convs"][-1].name]) - row_h / 2
        style = {"ls": "--", "color": draw.STRIDE_COLOR} if b["projection"] is not None else {"color": "0.15"}
        draw.arrow(
            ax,
            (x + 0.06, y0),
            (edge, y0),
            (reach, y0 - corner),
            (reach, y1 + corner),
            (edge, y1),
            (x + 0.06, y1),
            gid=f"shortcut:{b['out'].name}",
            **style,
        )
        ax.add_patch(Circle((x, y1), 0.055, fc="white", ec="0.15", lw=0.8, zorder=3))
        ax.text(x, y1, "+", ha="center", va="center", fontsize=6, zorder=4)
        if b["projection"] is not None:
            ax.text(
                reach + 0.06,
                (y0 + y1) / 2,
                _shortcut_label(b["projection"]),
                va="center",
                fontsize=font,
                color=draw.STRIDE_COLOR,
            )
    return fig
