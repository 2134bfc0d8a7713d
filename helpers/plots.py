"""The kit's figures of training and of test results (matplotlib + seaborn): learning curves, learning rate,
time per epoch, plain vs residual, ablations, confusion matrix, per-class metrics; and the style and the
``new_figure`` every figure starts from (``image_plots`` draws images, ``interpret_plots`` what a network sees).
Each function returns a `Figure` for the notebook to display.

Figures are closed in pyplot right after creation: a notebook shows the returned figure exactly once (as the
cell's value) and long runs do not pile up open figures. Widths stay within about 12 in to fit an A4 PDF page.
"""

from __future__ import annotations

import functools
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from helpers.evaluation import REPORT_COLUMNS, classification_report_frame

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


def _history_frame(history) -> pd.DataFrame:
    """Return a training history (DataFrame, dict of lists or Keras `History`) as a DataFrame with an epoch column."""
    frame = pd.DataFrame(getattr(history, "history", history))
    if "epoch" not in frame:
        frame.insert(0, "epoch", np.arange(1, len(frame) + 1))
    return frame


def _epoch_axis(ax, epochs) -> None:
    """Whole-number epoch ticks; a single epoch gets one tick instead of fractional ones around it."""
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    epochs = np.unique(np.asarray(epochs, dtype=float))
    if len(epochs) == 1:
        ax.set_xticks(epochs)
        ax.set_xlim(epochs[0] - 1, epochs[0] + 1)


def plot_history(history) -> Figure:
    """Return loss and accuracy per epoch, train vs validation (validation drawn only where present)."""
    history = _history_frame(history)
    metrics = [m for m in ("loss", "accuracy") if m in history]
    fig, axes = new_figure(1, len(metrics), figsize=(5.5 * len(metrics), 4))
    marker = "o" if len(history) <= 30 else None
    for ax, metric in zip(axes, metrics, strict=True):
        ax.plot(history["epoch"], history[metric], marker=marker, label="train")
        val = f"val_{metric}"
        if val in history and history[val].notna().any():
            ax.plot(history["epoch"], history[val], marker=marker, label="validation")
        ax.set(xlabel="epoch", ylabel=metric, title=metric)
        _epoch_axis(ax, history["epoch"])
        ax.legend()
    return fig


def _note_figure(text: str) -> Figure:
    """Return a small figure that only says ``text`` (nothing to draw)."""
    fig, (ax,) = new_figure(figsize=(6, 1))
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center")
    return fig


def _metric_name(column: str) -> str:
    """'val_accuracy' -> 'validation accuracy', 'loss' -> 'training loss'."""
    return column.replace("val_", "validation ") if column.startswith("val_") else f"training {column}"


def plot_degradation(pairs) -> Figure:
    """Return the degradation experiment: for each depth (key), its (plain, residual) histories overlaid, plain
    dashed and residual solid in the depth's colour; training (left) and validation (right), accuracy and loss."""
    pairs = {depth: tuple(_history_frame(h) for h in pair) for depth, pair in pairs.items()}
    if not pairs:
        return _note_figure("degradation: no pair of finished runs to show")
    columns = ("accuracy", "val_accuracy", "loss", "val_loss")
    fig, axes = new_figure(2, 2, figsize=(MAX_WIDTH, 7.5), sharex=True, sharey="row")
    longest = max(len(h) for pair in pairs.values() for h in pair)
    epochs = np.concatenate([h["epoch"] for pair in pairs.values() for h in pair])
    for i, (depth, (plain, residual)) in enumerate(pairs.items()):
        for history, name, style in ((plain, "plain", "--"), (residual, "ResNet", "-")):
            for ax, column in zip(axes, columns, strict=True):
                if column in history and history[column].notna().any():
                    ax.plot(history["epoch"], history[column], linestyle=style, color=f"C{i}", linewidth=2,
                            marker="o" if longest <= 30 else None, markersize=4, label=f"{name}-{depth}")
    for ax, column in zip(axes, columns, strict=True):
        ax.set_title(_metric_name(column))
        _epoch_axis(ax, epochs)
    axes[0].set_ylabel("accuracy")
    axes[2].set_ylabel("loss")
    for ax in axes[2:]:
        ax.set_xlabel("epoch")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2 * len(pairs))
    fig.suptitle("Degradation: plain (dashed) vs residual (solid) networks of the same depth")
    return fig


def plot_ablation_curves(histories, metric: str = "val_accuracy", title: str | None = None) -> Figure:
    """Return one curve of ``metric`` per epoch for each run (dict: legend label -> history) on one axes."""
    histories = {label: _history_frame(h) for label, h in histories.items()}
    histories = {label: h for label, h in histories.items() if metric in h and h[metric].notna().any()}
    if not histories:
        return _note_figure(f"{title or metric}: no run to show")
    fig, (ax,) = new_figure(figsize=(MAX_WIDTH, 4.5))
    longest = max(len(h) for h in histories.values())
    styles = ("-", "--", "-.", ":")
    for i, (label, history) in enumerate(histories.items()):
        ax.plot(history["epoch"], history[metric], linestyle=styles[i // 10 % len(styles)], linewidth=2,
                marker="o" if longest <= 30 else None, markersize=4, label=label)
    ax.set(xlabel="epoch", ylabel=_metric_name(metric), title=title or f"{_metric_name(metric)} per epoch")
    _epoch_axis(ax, np.concatenate([h["epoch"] for h in histories.values()]))
    fig.legend(loc="outside right upper")
    return fig


def plot_epoch_times(history) -> Figure:
    """Return a bar chart of the seconds each epoch took (column `epoch_seconds`)."""
    history = _history_frame(history)
    fig, (ax,) = new_figure(figsize=(8, 3.5))
    ax.bar(history["epoch"], history["epoch_seconds"], color="tab:blue")
    ax.set(
        xlabel="epoch",
        ylabel="seconds",
        title=f"Time per epoch (total {history['epoch_seconds'].sum():.0f} s)",
    )
    _epoch_axis(ax, history["epoch"])
    return fig


def plot_lr(history) -> Figure:
    """Return the learning rate per epoch (column `lr`), on a log scale when it spans more than a factor 10."""
    history = _history_frame(history)
    fig, (ax,) = new_figure(figsize=(8, 3.5))
    lr = history["lr"]
    ax.plot(history["epoch"], lr, marker="o" if len(history) <= 30 else None)
    if lr.min() > 0 and lr.max() / lr.min() > 10:
        ax.set_yscale("log")
    ax.set(xlabel="epoch", ylabel="learning rate", title="Learning rate schedule")
    _epoch_axis(ax, history["epoch"])
    return fig


def plot_confusion_matrix(cm, class_names, normalize: bool = True) -> Figure:
    """Return an annotated heatmap of a confusion matrix, rows "true", columns "predicted", optionally row-normalised."""
    counts = np.asarray(cm)
    if normalize:
        totals = counts.sum(axis=1, keepdims=True)
        data = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    else:
        data = counts.astype(np.int64)
    size = min(MAX_WIDTH - 1, 2.5 + 0.6 * len(class_names))
    fig, (ax,) = new_figure(figsize=(size + 1.2, size))
    sns.heatmap(
        data,
        annot=True,
        fmt=".2f" if normalize else "d",
        annot_kws={"fontsize": 9 if len(class_names) <= 10 else 7},
        cmap="Blues",
        vmin=0,
        vmax=1 if normalize else None,
        square=True,
        xticklabels=list(class_names),
        yticklabels=list(class_names),
        ax=ax,
    )
    ax.grid(False)
    ax.set(
        xlabel="predicted",
        ylabel="true",
        title="Confusion matrix" + (" (row-normalised)" if normalize else ""),
    )
    ax.tick_params(axis="x", labelrotation=45)
    ax.tick_params(axis="y", labelrotation=0)
    return fig


def plot_per_class_metrics(report, class_names) -> Figure:
    """Return grouped bars of precision, recall and F1 per class from a report table or sklearn's report dict."""
    frame = report if isinstance(report, pd.DataFrame) else classification_report_frame(report)
    data = (
        frame.loc[list(class_names), REPORT_COLUMNS[:3]]
        .rename_axis("class")
        .reset_index()
        .melt(id_vars="class", var_name="metric", value_name="score")
    )
    fig, (ax,) = new_figure(figsize=(min(MAX_WIDTH, 2 + 0.9 * len(class_names)), 4.5))
    sns.barplot(data=data, x="class", y="score", hue="metric", ax=ax)
    ax.set(ylim=(0, 1.15), xlabel="", ylabel="score", title="Per-class metrics")
    ax.legend(loc="upper center", ncols=3, frameon=False)
    if len(class_names) > 6:
        ax.tick_params(axis="x", labelrotation=30)
    return fig


def save_figure(fig: Figure, out_dir, name: str) -> list[Path]:
    """Write `<out_dir>/<name>.png` (150 dpi) and `<name>.pdf` (vector) atomically and return their paths."""
    from helpers.runs import atomic_write

    return [atomic_write(Path(out_dir) / f"{name}.{fmt}",
                         lambda tmp, fmt=fmt: fig.savefig(tmp, format=fmt, dpi=150, bbox_inches="tight"))
            for fmt in ("png", "pdf")]
