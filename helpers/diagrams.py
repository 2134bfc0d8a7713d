"""A picture of every idea, drawn by code from the kit's own models, so each picture stays true to them.

* ``draw_graph(model)``: any small functional Keras model (a block, a module) as a top-to-bottom graph;
* ``residual_blocks_figure()``, ``inception_figure(name)``: the kit's ResNet blocks and inception module;
* ``vgg_figure(name)``, ``resnet_stages_figure(name)``, ``googlenet_figure()``: whole networks, read from
  the built models (channels, pools, strides, shapes); ``plain_vs_residual_figure(depth)``: ResNet Fig. 3;
* ``split_figure(...)``: a dataset's train / validation / test split.

Each function returns a matplotlib ``Figure`` made without pyplot (nothing to close, shown once as a cell's
PNG in JupyterLab, Colab and the PDF report). Drawings use inches: one axes spans the whole figure.
"""

from __future__ import annotations

import re

import keras
import matplotlib as mpl
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle
from matplotlib.path import Path

from helpers.data import _count
from helpers.models import build_model
from helpers.models.googlenet import AUX_AFTER, INCEPTION, build_googlenet, inception
from helpers.models.resnet import (
    CONFIGS,
    STAGE_FILTERS,
    STAGE_STRIDES,
    basic_block,
    bottleneck_block,
    build_resnet,
)
from helpers.models.summary import _tensor_sources
from helpers.plots import use_style

__all__ = ["draw_graph", "googlenet_figure", "inception_figure", "plain_vs_residual_figure",
           "residual_blocks_figure", "resnet_stages_figure", "split_figure", "vgg_figure"]

FONT = 8
EDGE, STRIDE_COLOR = "0.35", "tab:orange"
_COLORS = {"Conv2D": "#a6cee3", "BatchNormalization": "#e3e3e3", "Activation": "#c7e9b4", "ReLU": "#c7e9b4",
           "MaxPooling2D": "#fdd49e", "AveragePooling2D": "#fdd49e", "GlobalAveragePooling2D": "#fdd49e",
           "Add": "#fbb4ae", "Concatenate": "#fbb4ae", "Dense": "#decbe4", "Dropout": "#ffffcc"}
_NAMES = {"InputLayer": "Input", "BatchNormalization": "BatchNorm", "GlobalAveragePooling2D": "GlobalAvgPool",
          "MaxPooling2D": "MaxPool", "AveragePooling2D": "AvgPool", "ZeroPadding2D": "ZeroPad"}


def _label(layer) -> str:
    """A layer's type and key settings, e.g. "Conv2D 3x3, 64, /2", "MaxPool 3x3", "Concatenate 64+128"."""
    kind, c = type(layer).__name__, layer.get_config()
    text = _NAMES.get(kind, kind)
    if kind == "Conv2D":
        text += " {}x{}, {}".format(*c["kernel_size"], c["filters"])
    elif "pool_size" in c:
        text += " {}x{}".format(*c["pool_size"])
    elif kind == "Activation":
        text = {"relu": "ReLU"}.get(c["activation"], str(c["activation"]).capitalize())
    elif kind in ("Dense", "Dropout"):
        text += f" {c.get('units', c.get('rate')):g}"
    elif kind == "Concatenate":
        text += " " + "+".join(str(t.shape[-1]) for t in layer.input)
    strides = c.get("strides") or 1
    stride = max(strides) if isinstance(strides, tuple | list) else strides
    return text + (f", /{stride}" if stride > 1 else "")


def _shape(layer) -> str:
    """A layer's output shape without the batch axis, e.g. "16x16x128" ("?" if called several times)."""
    try:
        return "x".join(str(d) for d in layer.output.shape[1:])
    except (AttributeError, ValueError):
        return "?"


def _color(layer):
    return _COLORS.get(type(layer).__name__, "white")


def _canvas(width: float, height: float):
    """A figure with one axes spanning it, in inches (x to the right, y up), made without pyplot."""
    use_style()
    fig = Figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set(xlim=(0, width), ylim=(0, height))
    ax.set_axis_off()
    return fig, ax


def _box(ax, x, y, w, h, text, sub="", color="white", gid=None, fontsize=FONT, **style):
    """A rounded box centred at (x, y) holding ``text`` and, smaller, an optional ``sub`` line."""
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.05",
                                fc=color, **{"ec": EDGE, "lw": 0.8, **style}))
    ax.text(x, y + (h * 0.17 if sub else 0), text, ha="center", va="center", fontsize=fontsize, gid=gid)
    if sub:
        ax.text(x, y - h * 0.23, sub, ha="center", va="center", fontsize=fontsize - 1, color="0.3")


def _arrow(ax, *points, gid=None, **style):
    """An arrow along the straight segments through ``points`` (inches), its head at the last one."""
    style = {"color": "0.3", "lw": 0.9, "mutation_scale": 9, **style}
    ax.add_patch(FancyArrowPatch(path=Path(points), arrowstyle="-|>", gid=gid, **style))


def _title(ax, text, y, subtitle="", x=None, **style):
    """A bold title (and a grey subtitle under it) with its top at ``y``."""
    x = ax.get_xlim()[1] / 2 if x is None else x
    ax.text(x, y, text, ha="center", va="top", **{"fontsize": 11, "weight": "bold", **style})
    if subtitle:
        ax.text(x, y - 0.32, subtitle, ha="center", va="top", fontsize=FONT + 0.5, color="0.25")


# --- Graphs of small models ---------------------------------------------------------------------------------

def _graph(model):
    """The model as a layered DAG: parents from ``get_config()`` (public API), rows from the inputs down,
    lanes (columns): a fork's children take successive lanes, a merge spans the lanes of its parents."""
    layers = {layer.name: layer for layer in model.layers}
    if isinstance(model, keras.Sequential):  # a chain, whose config has no inbound nodes
        parents = {n: list(layers)[max(i - 1, 0):i] for i, n in enumerate(layers)}
    else:
        config = {c["name"]: c for c in model.get_config()["layers"]}
        sources = {n: [s.split("[")[0] for s in _tensor_sources(config[n].get("inbound_nodes", []))]
                   for n in layers}
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
    return {"model": model, "layers": layers, "row": row, "span": span, "edges": edges, "ncols": free,
            "nrows": max(row.values()) + 2}


def _draw_graph(ax, graph, left, top, col_w, row_h, fontsize=FONT):
    """Draw a ``_graph`` layout from its top-left corner (left, top): a box per layer, an arrow per edge."""
    bw, bh, prefix, row = col_w * 0.9, row_h * 0.72, graph["model"].name, graph["row"]

    def x(lane):
        return left + (lane + 0.5) * col_w

    def y(r):
        return top - (r + 0.5) * row_h

    for n, layer in graph["layers"].items():
        lo, hi = graph["span"][n]
        _box(ax, (x(lo) + x(hi)) / 2, y(row[n]), x(hi) - x(lo) + bw, bh, _label(layer), _shape(layer),
             _color(layer), gid=f"{prefix}:{n}", fontsize=fontsize)
    for p, c, lane in graph["edges"]:
        _arrow(ax, (x(lane), y(row[p]) - bh / 2), (x(lane), y(row[c]) + bh / 2), gid=f"{prefix}:{p}->{c}")
    for n in graph["layers"]:
        if not any(e[0] == n for e in graph["edges"]):  # a model output
            lane = graph["span"][n][0]
            _arrow(ax, (x(lane), y(row[n]) - bh / 2), (x(lane), y(row[n] + 1) + 0.08),
                   gid=f"{prefix}:{n}->output")
            ax.text(x(lane), y(row[n] + 1), "output", ha="center", va="center", fontsize=FONT, style="italic")


def draw_graph(model, title=None) -> Figure:
    """A small functional Keras model top to bottom: a box per layer (type, settings, output shape), an arrow
    per connection, parallel branches side by side."""
    graph, title = _graph(model), title or model.name
    col_w, row_h, head = 1.7, 0.5, 0.45 + 0.2 * title.count("\n")
    longest = max(len(line) for line in title.split("\n"))  # about 0.095 in a character at 11 pt bold
    width = max(graph["ncols"] * col_w, 3.5, 0.095 * longest) + 0.4
    fig, ax = _canvas(width, graph["nrows"] * row_h + head + 0.2)
    _title(ax, title, graph["nrows"] * row_h + head + 0.08)
    _draw_graph(ax, graph, (width - graph["ncols"] * col_w) / 2, graph["nrows"] * row_h + 0.1, col_w, row_h)
    return fig


def residual_blocks_figure() -> Figure:
    """The kit's basic and bottleneck blocks, each with an identity and a projection shortcut (stages 1 and 2
    of ``STAGE_FILTERS``/``STAGE_STRIDES``), built on an 8x8 input; the shortcut is the right-hand branch."""
    f1, f2, s1, s2 = *STAGE_FILTERS[:2], *STAGE_STRIDES[:2]
    wide = bottleneck_block(keras.Input((8, 8, f1)), f1, name="probe").shape[-1]  # the bottleneck's width
    cases = [(basic_block, "basic", f1, f1, s1), (basic_block, "basic", f1, f2, s2),
             (bottleneck_block, "bottleneck", wide, f1, s1), (bottleneck_block, "bottleneck", wide, f2, s2)]
    graphs, titles = [], []
    for block, kind, channels, filters, stride in cases:
        x = keras.Input((8, 8, channels), name="input")
        y = block(x, filters, stride, name="block")
        shortcut = "identity" if tuple(x.shape) == tuple(y.shape) else "projection"
        graphs.append(_graph(keras.Model(x, y, name=f"{kind}_{shortcut}")))
        titles.append(f"{kind} block\n{shortcut} shortcut\n" + " -> ".join("x".join(map(str, t.shape[1:]))
                                                                         for t in (x, y)))
    col_w, row_h, gap, nrows = 1.25, 0.42, 0.2, max(g["nrows"] for g in graphs)
    width, top = sum(g["ncols"] for g in graphs) * col_w + gap * (len(graphs) - 1) + 0.3, nrows * row_h + 0.15
    fig, ax = _canvas(width, top + 0.75)
    left = 0.15
    for graph, title in zip(graphs, titles):
        panel, row = graph["ncols"] * col_w, graph["row"]
        _title(ax, title, top + 0.65, x=left + panel / 2, fontsize=9)
        _draw_graph(ax, graph, left, top, col_w, row_h, fontsize=7.5)
        p, c, lane = max(graph["edges"], key=lambda e: (e[2], row[e[1]] - row[e[0]]))  # the shortcut's edge
        ax.text(left + (lane + 0.5) * col_w + 0.05, top - (row[p] + row[c] + 1) / 2 * row_h, "shortcut",
                rotation=90, ha="left", va="center", fontsize=8, style="italic", color="0.3")
        left += panel + gap
    return fig


def inception_figure(name="3a", input_shape=None) -> Figure:
    """Inception module ``name`` with the paper's filters (``INCEPTION``): four branches side by side,
    concatenated; ``input_shape`` defaults to the module's input in the kit's GoogLeNet on 32x32x3 images."""
    if input_shape is None:
        input_shape = build_googlenet((32, 32, 3)).get_layer(f"inception_{name}_1x1").input.shape[1:]
    x = keras.Input(tuple(input_shape), name="input")
    model = keras.Model(x, inception(x, INCEPTION[name], f"inception_{name}"), name=f"inception_{name}")
    return draw_graph(model, f"Inception {name}: four branches side by side, concatenated on channels\n"
                             "1x1 | 1x1 -> 3x3 | 1x1 -> 5x5 | 3x3 max-pool -> 1x1")


# --- Whole networks -----------------------------------------------------------------------------------------

def _columns_figure(title, subtitle, columns, col_w=1.45, row_h=0.42):
    """Columns left to right, each (header, boxes, footer, square side in inches): boxes (text, fill, edge)
    stacked with arrows, arrows between columns, then a square (a feature map to scale) and the footer."""
    gap, bw = row_h * 0.3, col_w * 0.88

    def height_of(text):
        return row_h * 0.7 + 0.14 * text.count("\n")

    body = max(sum(height_of(box[0]) + gap for box in boxes) for _, boxes, _, _ in columns)
    side = max(column[3] for column in columns)
    width, height = len(columns) * col_w + 0.4, body + side + 1.5
    fig, ax = _canvas(width, height)
    _title(ax, title, height - 0.1, subtitle)
    top, base = height - 0.75, height - 1.15 - body
    for i, (header, boxes, footer, square) in enumerate(columns):
        x, y = 0.2 + (i + 0.5) * col_w, top - 0.3
        ax.text(x, top, header, ha="center", va="top", fontsize=FONT + 0.5, weight="bold")
        for j, (text, color, edge) in enumerate(boxes):
            if j:
                _arrow(ax, (x, y + gap), (x, y), mutation_scale=7)
            h = height_of(text)
            _box(ax, x, y - h / 2, bw, h, text, color=color, ec=edge, lw=0.8 if edge == EDGE else 2.2)
            y -= h + gap
        if i:
            _arrow(ax, (x - col_w + bw / 2, top - 0.3 - row_h * 0.35), (x - bw / 2, top - 0.3 - row_h * 0.35))
        if square:
            ax.add_patch(Rectangle((x - square / 2, base - (square + side) / 2), square, square, fc="#9ecae1",
                                   ec="0.3", lw=0.8))
        ax.text(x, base - side - 0.1, footer, ha="center", va="top", fontsize=FONT + 0.5, weight="bold")
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
        fill = mpl.colormaps["Blues"](0.15 + 0.45 * shade) if layer in convs else _color(layer)
        return _label(layer) + (f" {_shape(layer)}" if shape else ""), fill, EDGE

    def then(layer):  # the BatchNorm, ReLU and Dropout layers that follow ``layer`` in the chain
        follow, extras = [], keras.layers.BatchNormalization | keras.layers.Activation | keras.layers.Dropout
        for after in model.layers[model.layers.index(layer) + 1:]:
            if not isinstance(after, extras):
                break
            follow.append(_label(after))
        return " + ".join(follow)

    own = _label(keras.layers.Activation(convs[0].activation))  # the reports' convs carry their ReLU
    recipe = f"each conv: 'same' padding, then {then(convs[0]) or own}"
    recipe += f"; each pool, then {then(pools[0])}" if pools and then(pools[0]) else ""
    columns = [("input", [box(layer, shape=True) for layer in prelude], _shape(prelude[-1]), 0.8)]
    columns += [(f"block {i}", [box(layer) for layer in block], _shape(block[-1]),
                 0.8 * block[-1].output.shape[1] / size) for i, block in enumerate(blocks, 1)]
    columns.append(("classifier", [box(layer) for layer in head], _shape(head[-1]), 0))
    sizes = "-".join(str(n) for n in [size] + [p.output.shape[1] for p in pools])
    return _columns_figure(f"{name}: {len(convs)} conv layers in {len(blocks)} blocks, {len(pools)} "
                           f"max-pools ({sizes} px)", f"{recipe}; squares: feature maps to scale; darker "
                           "blue: more channels", columns)


def _resnet_parts(name, input_shape):
    """A kit ResNet's stem convs, blocks and head layers, read from the built model (conv{stage}_block{i}_*):
    each block a dict of its stage, main convs, projection conv (or None) and output layer."""
    if name.replace("plain", "resnet") not in CONFIGS:
        raise ValueError(f"Unknown ResNet {name!r}; depths: {', '.join(n[6:] for n in CONFIGS)}")
    model = build_resnet(name, input_shape)
    stem, blocks, head = [], {}, []
    for layer in model.layers:
        match = re.match(r"conv(\d+)_block(\d+)_(\d+_conv|out)$", layer.name)
        if match:
            block = blocks.setdefault(match.group(1, 2),
                                      {"stage": int(match[1]), "convs": [], "projection": None})
            if match[3] == "out":
                block["out"] = layer
            elif match[3] == "0_conv":
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


def resnet_stages_figure(name="resnet18", input_shape=(32, 32, 3)) -> Figure:
    """ResNet ``name`` (``CONFIGS``) stage by stage: the stem, each block's convs (kernel, channels, stride),
    stride-2 blocks outlined, projection shortcuts, the map after each stage (to scale), then pool + dense."""
    model, stem, blocks, head = _resnet_parts(name, input_shape)
    size, kind, counts = model.input.shape[1], *CONFIGS[name.replace("plain", "resnet")]

    def conv(layer):
        return _label(layer).removeprefix("Conv2D ")

    def block_box(b):
        lines = [conv(layer) for layer in b["convs"]]
        lines += [f"shortcut {conv(b['projection'])}"] if b["projection"] is not None else []
        strided = max(_stride(layer) for layer in b["convs"]) > 1
        return "\n".join(lines), _COLORS["Conv2D"], STRIDE_COLOR if strided else EDGE

    def column(header, boxes, last):
        return header, boxes, _shape(last), 0.8 * last.output.shape[1] / size

    columns = [column("input", [("Input", "white", EDGE)], model.layers[0]),
               column("stem", [(_label(c), _COLORS["Conv2D"], EDGE) for c in stem], stem[-1])]
    for stage in sorted({b["stage"] for b in blocks}):
        mine = [b for b in blocks if b["stage"] == stage]
        boxes = [block_box(b) for b in mine]
        columns.append(column(f"conv{stage}_x: {len(mine)} blocks", boxes, mine[-1]["out"]))
    columns.append(("head", [(_label(layer), _color(layer), EDGE) for layer in head], _shape(head[-1]), 0))
    return _columns_figure(f"{name}: stem, {len(counts)} stages of {kind} blocks {counts}, pool + dense",
                           "one box per block: its convs top to bottom (each + BatchNorm), + shortcut, ReLU; "
                           "orange: stride 2 (halves the size)", columns, col_w=1.5)


def plain_vs_residual_figure(depth=18) -> Figure:
    """The plain network and the ResNet of ``depth`` layers side by side (the ResNet paper's Figure 3): the
    same convs, a box each; shortcut arcs on the residual side only, dashed (1x1 projection) where the
    shape changes."""
    model, stem, blocks, head = _resnet_parts(f"resnet{depth}", (32, 32, 3))
    layers = [model.layers[0], *stem, *(c for b in blocks for c in b["convs"]), *head]
    row_h, bw = min(0.34, 10.5 / len(layers)), 1.75
    bh, font = row_h * 0.72, min(FONT - 0.5, 25 * row_h)
    xs = {f"plain-{depth}": 1.25, f"ResNet-{depth}": 3.65}
    fig, ax = _canvas(6.2, len(layers) * row_h + 1.35)
    top = len(layers) * row_h + 0.35
    n_convs = sum(isinstance(layer, keras.layers.Conv2D) for layer in layers)
    _title(ax, f"plain-{depth} vs ResNet-{depth}: the same {n_convs} conv layers + 1 dense", top + 0.9,
           "orange: stride 2; arcs: shortcuts (solid: identity, dashed: 1x1 projection)")

    def y(i):
        return top - (i + 0.5) * row_h

    for header, x in xs.items():
        ax.text(x, top + 0.05, header, ha="center", va="bottom", fontsize=FONT + 1.5, weight="bold")
        ax.plot([x, x], [y(0), y(len(layers) - 1)], color="0.3", lw=0.9, zorder=0)
        for i, layer in enumerate(layers):
            strided = isinstance(layer, keras.layers.Conv2D) and _stride(layer) > 1
            _box(ax, x, y(i), bw, bh, _label(layer), color=_color(layer), fontsize=font,
                 ec=STRIDE_COLOR if strided else EDGE, lw=1.8 if strided else 0.8)
    index, x = {layer.name: i for i, layer in enumerate(layers)}, xs[f"ResNet-{depth}"]
    edge, reach, corner = x + bw / 2 + 0.03, x + bw / 2 + 0.2, row_h * 0.3  # slanted corners keep arcs apart
    for b in blocks:
        y0, y1 = y(index[b["convs"][0].name]) + row_h / 2, y(index[b["convs"][-1].name]) - row_h / 2
        style = {"ls": "--", "color": STRIDE_COLOR} if b["projection"] is not None else {"color": "0.15"}
        _arrow(ax, (x + 0.06, y0), (edge, y0), (reach, y0 - corner), (reach, y1 + corner), (edge, y1),
               (x + 0.06, y1), gid=f"shortcut:{b['out'].name}", **style)
        ax.add_patch(Circle((x, y1), 0.055, fc="white", ec="0.15", lw=0.8, zorder=3))
        ax.text(x, y1, "+", ha="center", va="center", fontsize=6, zorder=4)
        if b["projection"] is not None:
            ax.text(reach + 0.06, (y0 + y1) / 2, _label(b["projection"]).removeprefix("Conv2D "), va="center",
                    fontsize=font, color=STRIDE_COLOR)
    return fig


def googlenet_figure(input_shape=(32, 32, 3)) -> Figure:
    """GoogLeNet read from the built model: stem, inception modules (branch widths, their sum), pools, head,
    and the auxiliary heads where ``AUX_AFTER`` attaches them (training only, with the kit's loss weight)."""
    from helpers.recipes import BASE  # the auxiliary loss weight training uses

    model = build_googlenet(input_shape)
    config = {c["name"]: c for c in model.get_config()["layers"]}
    groups = {}  # branch -> box -> layers: a conv shares its box with its BN and ReLU, a module is one box
    for layer in model.layers:
        first = layer.name.split("_")[0]
        key = "_".join(layer.name.split("_")[:2]) if first == "inception" else re.sub(r"_(bn|relu)$", "",
                                                                                        layer.name)
        branch = first if first in AUX_AFTER.values() else "main"
        groups.setdefault(branch, {}).setdefault(key, []).append(layer)

    def text(key, group):
        if key.startswith("inception_"):
            widths = "+".join(str(t.shape[-1]) for t in group[-1].input)
            return f"Inception {key.removeprefix('inception_')}", f"{widths} -> {_shape(group[-1])}"
        return _label(group[0]), _shape(group[-1])

    main = list(groups.pop("main").items())
    owner = {layer.name: i for i, (_, group) in enumerate(main) for layer in group}
    first_layer = {aux: next(iter(items.values()))[0] for aux, items in groups.items()}
    attach = {aux: owner[_tensor_sources(config[layer.name]["inbound_nodes"])[0]]  # the box it branches off
              for aux, layer in first_layer.items()}
    row_h, bh, mw, aw = 0.4, 0.31, 2.3, 1.5
    nrows = max(len(main) + 1, *(attach[aux] + len(items) + 3 for aux, items in groups.items()))
    width, height = mw + 2 * (aw + 0.35) + 0.4, nrows * row_h + 0.95
    fig, ax = _canvas(width, height)
    modules = sum(key.startswith("inception_") for key, _ in main)
    _title(ax, f"GoogLeNet on {'x'.join(map(str, input_shape))} images: {modules} inception modules, "
               f"{len(groups)} auxiliary heads", height - 0.1, "inception boxes: branch widths "
           "1x1+3x3+5x5+pool -> output;\nevery conv + BatchNorm + ReLU; dashed: auxiliary heads")

    def y(r):
        return height - 0.85 - (r + 0.5) * row_h

    def column(x, items, start, w, gid, **style):
        for r, (key, group) in enumerate(items, start):
            color = _COLORS["Concatenate"] if key.startswith("inception_") else _color(group[0])
            _box(ax, x, y(r), w, bh, *text(key, group), color=color, gid=f"{gid}:{key}", **style)
            if r > start:
                _arrow(ax, (x, y(r - 1) - bh / 2), (x, y(r) + bh / 2), mutation_scale=7)
        _arrow(ax, (x, y(r) - bh / 2), (x, y(r + 1) + 0.1), mutation_scale=7)

    xm = width / 2
    column(xm, main, 0, mw, "main")
    ax.text(xm, y(len(main)), "main output (the prediction)", ha="center", va="top", fontsize=FONT,
            style="italic")
    for k, (aux, items) in enumerate(groups.items()):
        side, a = (1 if k % 2 == 0 else -1), attach[aux]  # alternate sides so that no edge crosses a head
        xa = xm + side * (mw / 2 + 0.35 + aw / 2)
        _arrow(ax, (xm + side * mw / 2, y(a)), (xa, y(a)), (xa, y(a + 1) + bh / 2),
               gid=f"{main[a][1][-1].name}->{first_layer[aux].name}")
        column(xa, list(items.items()), a + 1, aw, aux, ls="--")
        ax.text(xa, y(a + 1 + len(items)), f"{aux} output: training only,\nloss weight "
                f"{BASE['aux_loss_weight']:g}", ha="center", va="top", fontsize=FONT, style="italic")
    return fig


# --- Data ---------------------------------------------------------------------------------------------------

def split_figure(n_train_full, val_size, n_test, train_size=None) -> Figure:
    """A dataset's train / validation / test split as one stacked bar with counts and percentages;
    ``val_size`` and ``train_size`` are counts or fractions (of the training set, then of the rest), as in
    ``load_dataset``."""
    n_val = _count(val_size, n_train_full, "val_size")
    rest = n_train_full - n_val
    n_train = rest if train_size is None else _count(train_size, rest, "train_size")
    if rest < 1 or n_train > rest:
        raise ValueError(f"{n_train_full:,} training images cannot give {n_val:,} for validation and "
                         f"{n_train:,} for training.")
    parts = [("train", n_train, "#6baed6"), ("not used", rest - n_train, "#e5e5e5"),
             ("validation", n_val, "#fdae6b"), ("test", n_test, "#74c476")]
    total, x0, bar = n_train_full + n_test, 0.3, 1.6
    scale = 9.4 / total
    fig, ax = _canvas(10, 2.9)
    _title(ax, f"{total:,} images: {n_train:,} train / {n_val:,} validation "
               f"({100 * n_val / n_train_full:.3g}% of the training set) / {n_test:,} test", 2.82)
    left, centers = x0, {}
    for name, n, color in (part for part in parts if part[1]):
        w, label = n * scale, f"{name}\n{n:,} ({100 * n / total:.1f}%)"
        ax.add_patch(Rectangle((left, bar), w, 0.55, fc=color, ec="white", lw=1.5, gid=f"split:{name}"))
        inside = w > 0.075 * len(label.split("\n")[1])  # else the label goes above the bar
        ax.text(left + w / 2, bar + (0.275 if inside else 0.6), label, ha="center",
                va="center" if inside else "bottom", fontsize=FONT + 1)
        centers[name], left = left + w / 2, left + w
    a, b = x0 + 0.03, x0 + n_train_full * scale - 0.03  # a bracket under the training set
    ax.plot([a, a, b, b], [bar - 0.08, bar - 0.15, bar - 0.15, bar - 0.08], color="0.3", lw=1)
    ax.text((a + b) / 2, bar - 0.2, f"training set: {n_train_full:,}", ha="center", va="top",
            fontsize=FONT + 1)
    for name, note, y in (("validation", "validation: split off the training set, stratified, seeded", 0.85),
                          ("test", "test: touched once, at the end", 0.35)):
        ax.annotate(note, xy=(centers[name], bar - 0.02), xytext=(centers[name] + 0.05, y), ha="right",
                    va="center", fontsize=FONT + 1.5,
                    arrowprops={"arrowstyle": "-|>", "color": "0.3", "relpos": (1, 0.5)})
    return fig
