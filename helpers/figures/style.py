"""What every figure of the kit starts from: one seaborn style, figures detached from pyplot (a notebook shows
the returned figure exactly once; long runs do not pile up open figures), widths that fit an A4 PDF page, the
colours of right and wrong, and saving a figure as PNG and PDF."""

from __future__ import annotations

import functools
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from helpers.runs import atomic_write

__all__ = [
    "CORRECT_COLOR",
    "MAX_WIDTH",
    "WRONG_COLOR",
    "epoch_axis",
    "history_frame",
    "metric_name",
    "new_figure",
    "note_figure",
    "save_figure",
    "use_style",
]

MAX_WIDTH = 11.0  # inches: an A4 PDF page scales anything wider down
CORRECT_COLOR, WRONG_COLOR = "tab:green", "tab:red"


@functools.cache
def use_style() -> None:
    """Apply the kit's seaborn theme once (called by every plotting function, not at import)."""
    sns.set_theme(context="notebook", style="whitegrid")


def new_figure(nrows: int = 1, ncols: int = 1, figsize=(8, 4.5), **kwargs):
    """Return a constrained-layout figure and its flat array of axes, detached from pyplot."""
    use_style()
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, layout="constrained", squeeze=False, **kwargs)
    plt.close(fig)
    return fig, axes.ravel()


def history_frame(history) -> pd.DataFrame:
    """Return a training history (DataFrame, dict of lists or Keras `History`) as a DataFrame with an epoch column."""
    frame = pd.DataFrame(getattr(history, "history", history))
    if "epoch" not in frame:
        frame.insert(0, "epoch", np.arange(1, len(frame) + 1))
    return frame


def epoch_axis(ax, epochs) -> None:
    """Whole-number epoch ticks; a single epoch gets one tick instead of fractional ones around it."""
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    epochs = np.unique(np.asarray(epochs, dtype=float))
    if len(epochs) == 1:
        ax.set_xticks(epochs)
        ax.set_xlim(epochs[0] - 1, epochs[0] + 1)


def note_figure(text: str) -> Figure:
    """Return a small figure that only says ``text`` (nothing to draw)."""
    fig, (ax,) = new_figure(figsize=(6, 1))
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center")
    return fig


def metric_name(column: str) -> str:
    """'val_accuracy' -> 'validation accuracy', 'loss' -> 'training loss'."""
    return column.replace("val_", "validation ") if column.startswith("val_") else f"training {column}"


def save_figure(fig: Figure, out_dir, name: str) -> list[Path]:
    """Write `<out_dir>/<name>.png` (150 dpi) and `<name>.pdf` (vector) atomically and return their paths."""
    return [
        atomic_write(
            Path(out_dir) / f"{name}.{fmt}",
            lambda tmp, fmt=fmt: fig.savefig(tmp, format=fmt, dpi=150, bbox_inches="tight"),
        )
        for fmt in ("png", "pdf")
    ]
