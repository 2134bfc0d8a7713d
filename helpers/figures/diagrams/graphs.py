"""Small models as graphs: any functional Keras model (``draw_graph``), the kit's ResNet blocks and an inception
module."""

from __future__ import annotations

import keras
from matplotlib.figure import Figure

from helpers.figures.diagrams import drawing as draw
from helpers.models.googlenet import INCEPTION, build_googlenet, inception
from helpers.models.resnet import (
    STAGE_FILTERS,
    STAGE_STRIDES,
    basic_block,
    bottleneck_block,
)
from helpers.models.summary import tensor_sources


def _graph(model):
    """The model as a layered DAG: parents from ``get_config()`` (public API), rows from the inputs down,
    lanes (columns): a fork's children take successive lanes, a merge spans the lanes of its parents."""
    layers = {layer.name: layer for layer in model.layers}
    if isinstance(model, keras.Sequential):  # a chain, whose config has no inbound nodes
        parents = {n: list(layers)[max(i - 1, 0) : i] for i, n in enumerate(layers)}
    else:
        config = {c["name"]: c for c in model.get_config()["layers"]}
        sources = {n: [s.split("[")[0] for s in tensor_sources(config[n].get("inbound_nodes", []))] for n in layers}
        parents = {n: [p for p in sources[n] if p != n] for n in layers}
    children = {n: [c for c in layers if n in parents[c]] for n in layers}
    row = {}
    for n in layers:  # parents come first in model.layers (a layer called twice may point back: ignored)
        row[n] = 1 + max((row[p] for p in parents[n] if p in row), default=-1)
    # Branches in the order the merge below reads them: a Concatenate's channel order; for a commutative
    # merge (Add) the longest branch first: a residual block's main path stays straight, the shortcut aside.
    rank, seen = {}, set()

    def visit(n):  # depth-first from the outputs; an edge's rank is when the search first walks it
        seen.add(n)
        ordered = isinstance(layers[n], keras.layers.Concatenate)
        for p in parents[n] if ordered else sorted(parents[n], key=lambda p: -row[p]):
            rank.setdefault((p, n), len(rank))
            if p not in seen:
                visit(p)

    for n in (n for n in layers if not children[n]):
        visit(n)
    lanes_in, span, edges, free = {n: [] for n in layers}, {}, [], 0
    for n in layers:
        home, out = min(lanes_in[n], default=free), []
        for i, c in enumerate(sorted(children[n], key=lambda c: rank[n, c])):
            out.append(home if i == 0 else max(free, home + 1, *out))
            free = max(free, home + 1, out[-1] + 1)
            edges.append((n, c, out[-1]))
            lanes_in[c].append(out[-1])
        span[n] = (min(home, *lanes_in[n], *out), max(home, *lanes_in[n], *out))
    order, ups = list(layers), {n: [p for p in parents[n] if row[p] < row[n]] for n in layers}

    def clash(n, m):  # boxes in one row whose lanes overlap: the wider (then the later) one moves down
        (a, b), (c, d) = span[n], span[m]
        return row[m] == row[n] and a <= d and c <= b and (b - a, order.index(n)) > (d - c, order.index(m))

    for _ in layers:
        before = dict(row)
        for n in layers:
            row[n] = 1 + max((row[p] for p in ups[n]), default=-1)
            while any(clash(n, m) for m in layers if m != n):
                row[n] += 1
        if row == before:
            break
    return {
        "model": model,
        "layers": layers,
        "row": row,
        "span": span,
        "edges": edges,
        "ncols": free,
        "nrows": max(row.values()) + 2,
    }


def _draw_graph(ax, graph, left, top, col_w, row_h, fontsize=draw.FONT):
    """Draw a ``_graph`` layout from its top-left corner (left, top): a box per layer, an arrow per edge."""
    bw, bh, prefix, row = col_w * 0.9, row_h * 0.72, graph["model"].name, graph["row"]

    def x(lane):
        return left + (lane + 0.5) * col_w

    def y(r):
        return top - (r + 0.5) * row_h

    for n, layer in graph["layers"].items():
        lo, hi = graph["span"][n]
        draw.box(
            ax,
            (x(lo) + x(hi)) / 2,
            y(row[n]),
            x(hi) - x(lo) + bw,
            bh,
            draw.layer_label(layer),
            draw.layer_shape(layer),
            draw.layer_color(layer),
            gid=f"{prefix}:{n}",
            fontsize=fontsize,
        )
    for p, c, lane in graph["edges"]:
        draw.arrow(ax, (x(lane), y(row[p]) - bh / 2), (x(lane), y(row[c]) + bh / 2), gid=f"{prefix}:{p}->{c}")
    for n in graph["layers"]:
        if not any(e[0] == n for e in graph["edges"]):  # a model output
            lane = graph["span"][n][0]
            draw.arrow(ax, (x(lane), y(row[n]) - bh / 2), (x(lane), y(row[n] + 1) + 0.08), gid=f"{prefix}:{n}->output")
            ax.text(x(lane), y(row[n] + 1), "output", ha="center", va="center", fontsize=draw.FONT, style="italic")


def draw_graph(model, title=None) -> Figure:
    """A small functional Keras model top to bottom: a box per layer (type, settings, output shape), an arrow
    per connection, parallel branches side by side."""
    graph, title = _graph(model), title or model.name
    col_w, row_h, head = 1.7, 0.5, 0.45 + 0.2 * title.count("\n")
    longest = max(len(line) for line in title.split("\n"))  # about 0.095 in a character at 11 pt bold
    width = max(graph["ncols"] * col_w, 3.5, 0.095 * longest) + 0.4
    fig, ax = draw.canvas(width, graph["nrows"] * row_h + head + 0.2)
    draw.title(ax, title, graph["nrows"] * row_h + head + 0.08)
    _draw_graph(ax, graph, (width - graph["ncols"] * col_w) / 2, graph["nrows"] * row_h + 0.1, col_w, row_h)
    return fig


def residual_blocks_figure() -> Figure:
    """The kit's basic and bottleneck blocks, each with an identity and a projection shortcut (stages 1 and 2
    of ``STAGE_FILTERS``/``STAGE_STRIDES``), built on an 8x8 input; the shortcut is the right-hand branch."""
    f1, f2, s1, s2 = *STAGE_FILTERS[:2], *STAGE_STRIDES[:2]
    wide = bottleneck_block(keras.Input((8, 8, f1)), f1, name="probe").shape[-1]  # the bottleneck's width
    cases = [
        (basic_block, "basic", f1, f1, s1),
        (basic_block, "basic", f1, f2, s2),
        (bottleneck_block, "bottleneck", wide, f1, s1),
        (bottleneck_block, "bottleneck", wide, f2, s2),
    ]
    graphs, titles = [], []
    for block, kind, channels, filters, stride in cases:
        x = keras.Input((8, 8, channels), name="input")
        y = block(x, filters, stride, name="block")
        shortcut = "identity" if tuple(x.shape) == tuple(y.shape) else "projection"
        graphs.append(_graph(keras.Model(x, y, name=f"{kind}_{shortcut}")))
        titles.append(
            f"{kind} block\n{shortcut} shortcut\n" + " -> ".join("x".join(map(str, t.shape[1:])) for t in (x, y))
        )
    col_w, row_h, gap, nrows = 1.25, 0.42, 0.2, max(g["nrows"] for g in graphs)
    width, top = sum(g["ncols"] for g in graphs) * col_w + gap * (len(graphs) - 1) + 0.3, nrows * row_h + 0.15
    fig, ax = draw.canvas(width, top + 0.75)
    left = 0.15
    for graph, title in zip(graphs, titles):
        panel, row = graph["ncols"] * col_w, graph["row"]
        draw.title(ax, title, top + 0.65, x=left + panel / 2, fontsize=9)
        _draw_graph(ax, graph, left, top, col_w, row_h, fontsize=7.5)
        p, c, lane = max(graph["edges"], key=lambda e: (e[2], row[e[1]] - row[e[0]]))  # the shortcut's edge
        ax.text(
            left + (lane + 0.5) * col_w + 0.05,
            top - (row[p] + row[c] + 1) / 2 * row_h,
            "shortcut",
            rotation=90,
            ha="left",
            va="center",
            fontsize=8,
            style="italic",
            color="0.3",
        )
        left += panel + gap
    return fig


def inception_figure(name="3a", input_shape=None) -> Figure:
    """Inception module ``name`` with the paper's filters (``INCEPTION``): four branches side by side,
    concatenated; ``input_shape`` defaults to the module's input in the kit's GoogLeNet on 32x32x3 images."""
    if input_shape is None:
        input_shape = build_googlenet((32, 32, 3)).get_layer(f"inception_{name}_1x1").input.shape[1:]
    x = keras.Input(tuple(input_shape), name="input")
    model = keras.Model(x, inception(x, INCEPTION[name], f"inception_{name}"), name=f"inception_{name}")
    return draw_graph(
        model,
        f"Inception {name}: four branches side by side, concatenated on channels\n"
        "1x1 | 1x1 -> 3x3 | 1x1 -> 5x5 | 3x3 max-pool -> 1x1",
    )
