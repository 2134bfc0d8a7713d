"""GoogLeNet as a picture, read from the built model: its stem, inception modules (branch widths and their sum),
pools, head, and the auxiliary heads where ``AUX_AFTER`` attaches them."""

from __future__ import annotations

import re

from matplotlib.figure import Figure

from helpers.experiments.recipes import BASE  # the auxiliary loss weight training uses
from helpers.figures.diagrams import drawing as draw
from helpers.models.googlenet import AUX_AFTER, build_googlenet
from helpers.models.summary import tensor_sources

__all__ = ["googlenet_figure"]


def googlenet_figure(input_shape=(32, 32, 3)) -> Figure:
    """GoogLeNet read from the built model: stem, inception modules (branch widths, their sum), pools, head,
    and the auxiliary heads where ``AUX_AFTER`` attaches them (training only, with the kit's loss weight)."""
    model = build_googlenet(input_shape)
    config = {c["name"]: c for c in model.get_config()["layers"]}
    groups = {}  # branch -> box -> layers: a conv shares its box with its BN and ReLU, a module is one box
    for layer in model.layers:
        first = layer.name.split("_")[0]
        key = "_".join(layer.name.split("_")[:2]) if first == "inception" else re.sub(r"_(bn|relu)$", "", layer.name)
        branch = first if first in AUX_AFTER.values() else "main"
        groups.setdefault(branch, {}).setdefault(key, []).append(layer)

    def text(key, group):
        if key.startswith("inception_"):
            widths = "+".join(str(t.shape[-1]) for t in group[-1].input)
            return f"Inception {key.removeprefix('inception_')}", f"{widths} -> {draw.layer_shape(group[-1])}"
        return draw.layer_label(group[0]), draw.layer_shape(group[-1])

    main = list(groups.pop("main").items())
    owner = {layer.name: i for i, (_, group) in enumerate(main) for layer in group}
    first_layer = {aux: next(iter(items.values()))[0] for aux, items in groups.items()}
    attach = {
        aux: owner[tensor_sources(config[layer.name]["inbound_nodes"])[0]]  # the box it branches off
        for aux, layer in first_layer.items()
    }
    row_h, bh, mw, aw = 0.4, 0.31, 2.3, 1.5
    nrows = max(len(main) + 1, *(attach[aux] + len(items) + 3 for aux, items in groups.items()))
    width, height = mw + 2 * (aw + 0.35) + 0.4, nrows * row_h + 0.95
    fig, ax = draw.canvas(width, height)
    modules = sum(key.startswith("inception_") for key, _ in main)
    draw.title(
        ax,
        f"GoogLeNet on {'x'.join(map(str, input_shape))} images: {modules} inception modules, "
        f"{len(groups)} auxiliary heads",
        height - 0.1,
        "inception boxes: branch widths "
        "1x1+3x3+5x5+pool -> output;\nevery conv + BatchNorm + ReLU; dashed: auxiliary heads",
    )

    def y(r):
        return height - 0.85 - (r + 0.5) * row_h

    def column(x, items, start, w, gid, **style):
        for r, (key, group) in enumerate(items, start):
            color = draw.COLORS["Concatenate"] if key.startswith("inception_") else draw.layer_color(group[0])
            draw.box(ax, x, y(r), w, bh, *text(key, group), color=color, gid=f"{gid}:{key}", **style)
            if r > start:
                draw.arrow(ax, (x, y(r - 1) - bh / 2), (x, y(r) + bh / 2), mutation_scale=7)
        draw.arrow(ax, (x, y(r) - bh / 2), (x, y(r + 1) + 0.1), mutation_scale=7)

    xm = width / 2
    column(xm, main, 0, mw, "main")
    ax.text(xm, y(len(main)), "main output (the prediction)", ha="center", va="top", fontsize=draw.FONT, style="italic")
    for k, (aux, items) in enumerate(groups.items()):
        side, a = (1 if k % 2 == 0 else -1), attach[aux]  # alternate sides so that no edge crosses a head
        xa = xm + side * (mw / 2 + 0.35 + aw / 2)
        draw.arrow(
            ax,
            (xm + side * mw / 2, y(a)),
            (xa, y(a)),
            (xa, y(a + 1) + bh / 2),
            gid=f"{main[a][1][-1].name}->{first_layer[aux].name}",
        )
        column(xa, list(items.items()), a + 1, aw, aux, ls="--")
        ax.text(
            xa,
            y(a + 1 + len(items)),
            f"{aux} output: training only,\nloss weight {BASE['aux_loss_weight']:g}",
            ha="center",
            va="top",
            fontsize=draw.FONT,
            style="italic",
        )
    return fig
