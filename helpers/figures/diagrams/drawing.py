"""Drawing primitives of the kit's diagrams: a canvas in inches, boxes, arrows, titles, the layer colours and labels.
The diagram modules use them as ``draw.box(...)`` (``from helpers.figures.diagrams import drawing as draw``)."""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

from helpers.figures.style import use_style

FONT = 8
EDGE, STRIDE_COLOR = "0.35", "tab:orange"
COLORS = {
    "Conv2D": "#a6cee3",
    "BatchNormalization": "#e3e3e3",
    "Activation": "#c7e9b4",
    "ReLU": "#c7e9b4",
    "MaxPooling2D": "#fdd49e",
    "AveragePooling2D": "#fdd49e",
    "GlobalAveragePooling2D": "#fdd49e",
    "Add": "#fbb4ae",
    "Concatenate": "#fbb4ae",
    "Dense": "#decbe4",
    "Dropout": "#ffffcc",
}
_NAMES = {
    "InputLayer": "Input",
    "BatchNormalization": "BatchNorm",
    "GlobalAveragePooling2D": "GlobalAvgPool",
    "MaxPooling2D": "MaxPool",
    "AveragePooling2D": "AvgPool",
    "ZeroPadding2D": "ZeroPad",
}


def layer_label(layer) -> str:
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


def layer_shape(layer) -> str:
    """A layer's output shape without the batch axis, e.g. "16x16x128" ("?" if called several times)."""
    try:
        return "x".join(str(d) for d in layer.output.shape[1:])
    except (AttributeError, ValueError):
        return "?"


def layer_color(layer):
    return COLORS.get(type(layer).__name__, "white")


def canvas(width: float, height: float):
    """A figure with one axes spanning it, in inches (x to the right, y up), made without pyplot."""
    use_style()
    fig = Figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set(xlim=(0, width), ylim=(0, height))
    ax.set_axis_off()
    return fig, ax


def box(ax, x, y, w, h, text, sub="", color="white", gid=None, fontsize=FONT, **style):
    """A rounded box centred at (x, y) holding ``text`` and, smaller, an optional ``sub`` line."""
    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0,rounding_size=0.05",
            fc=color,
            **{"ec": EDGE, "lw": 0.8, **style},
        )
    )
    ax.text(x, y + (h * 0.17 if sub else 0), text, ha="center", va="center", fontsize=fontsize, gid=gid)
    if sub:
        ax.text(x, y - h * 0.23, sub, ha="center", va="center", fontsize=fontsize - 1, color="0.3")


def arrow(ax, *points, gid=None, **style):
    """An arrow along the straight segments through ``points`` (inches), its head at the last one."""
    style = {"color": "0.3", "lw": 0.9, "mutation_scale": 9, **style}
    ax.add_patch(FancyArrowPatch(path=Path(points), arrowstyle="-|>", gid=gid, **style))


def title(ax, text, y, subtitle="", x=None, **style):
    """A bold title (and a grey subtitle under it) with its top at ``y``."""
    x = ax.get_xlim()[1] / 2 if x is None else x
    ax.text(x, y, text, ha="center", va="top", **{"fontsize": 11, "weight": "bold", **style})
    if subtitle:
        ax.text(x, y - 0.32, subtitle, ha="center", va="top", fontsize=FONT + 0.5, color="0.25")
