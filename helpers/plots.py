"""Every figure of the kit (matplotlib + seaborn); each function returns a `Figure` for the notebook to display.

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

from helpers.evaluation import REPORT_COLUMNS, classification_report_frame, to_labels

MAX_WIDTH = 11.0  # inches: an A4 PDF page scales anything wider down
CORRECT_COLOR, WRONG_COLOR = "tab:green", "tab:red"


@functools.cache
def use_style() -> None:
    """Apply the kit's seaborn theme once (called by every plotting function, not at import)."""
    sns.set_theme(context="notebook", style="whitegrid")


def _figure(nrows: int = 1, ncols: int = 1, figsize=(8, 4.5), **kwargs):
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


def _display_image(image) -> np.ndarray:
    """Return an image ready for imshow: (H, W) or (H, W, 3), uint8 kept, floats mapped into [0, 1]."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.dtype == np.uint8:
        return image
    image = image.astype(np.float32)
    low, high = float(image.min()), float(image.max())
    if low >= 0 and 1 < high <= 255:  # raw pixel values stored as floats
        return image / 255.0
    if low < 0 or high > 1:  # standardised images: stretch each to the full range
        return (image - low) / (high - low)
    return image


def image_grid(
    images, titles=None, ncols: int = 8, cmap=None, title=None, title_colors=None, row_labels=None
) -> Figure:
    """Return a grid of images without ticks; a None entry leaves its cell empty, row_labels name the rows."""
    n = len(images)
    if n == 0:
        fig, (ax,) = _figure(figsize=(4, 1))
        ax.set_axis_off()
        ax.text(0.5, 0.5, f"{title or 'images'}: none to show", ha="center", va="center")
        return fig
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    label_width = 1.3 if row_labels is not None else 0.0
    cell = min(1.4, (MAX_WIDTH - label_width) / ncols)
    title_lines = max((str(t).count("\n") + 1 for t in titles), default=0) if titles is not None else 0
    height = nrows * (cell + 0.17 * title_lines) + (0.4 if title else 0)
    fig, axes = _figure(nrows, ncols, figsize=(ncols * cell + label_width, height))
    for i, ax in enumerate(axes):
        if i >= n:
            fig.delaxes(ax)
            continue
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(False)
        if images[i] is not None:
            image = _display_image(images[i])
            gray = image.ndim == 2
            vmax = 255 if image.dtype == np.uint8 else 1.0
            ax.imshow(
                image, cmap=(cmap or "gray") if gray else None, vmin=0, vmax=vmax, interpolation="nearest"
            )
        if titles is not None:
            color = {"color": title_colors[i]} if title_colors is not None else {}
            ax.set_title(titles[i], fontsize=8, **color)
    for row, label in enumerate(row_labels if row_labels is not None else []):
        axes[row * ncols].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=10)
    if title:
        fig.suptitle(title)
    return fig


def plot_class_samples(x, y, class_names, per_class: int = 8, seed: int = 0) -> Figure:
    """Return a grid with one row of `per_class` random samples for each class, rows labelled by class name."""
    y = to_labels(y)
    rng = np.random.default_rng(seed)
    images = []
    for c in range(len(class_names)):
        chosen = np.sort(rng.permutation(np.flatnonzero(y == c))[:per_class])
        images += [x[i] for i in chosen] + [None] * (per_class - len(chosen))
    return image_grid(images, ncols=per_class, row_labels=list(class_names))


def plot_predictions(x, y_true, y_pred, class_names, indices, title=None) -> Figure:
    """Return a gallery of the samples at `indices` titled "true: ... / pred: ...", green if right, red if wrong."""
    y_true, y_pred, indices = to_labels(y_true), to_labels(y_pred), np.asarray(indices, dtype=np.int64)
    titles = [f"true: {class_names[y_true[i]]}\npred: {class_names[y_pred[i]]}" for i in indices]
    colors = [CORRECT_COLOR if y_true[i] == y_pred[i] else WRONG_COLOR for i in indices]
    return image_grid([x[i] for i in indices], titles=titles, title=title, title_colors=colors)


def plot_history(history) -> Figure:
    """Return loss and accuracy per epoch, train vs validation (validation drawn only where present)."""
    history = _history_frame(history)
    metrics = [m for m in ("loss", "accuracy") if m in history]
    fig, axes = _figure(1, len(metrics), figsize=(5.5 * len(metrics), 4))
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
    fig, (ax,) = _figure(figsize=(6, 1))
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
    fig, axes = _figure(2, 2, figsize=(MAX_WIDTH, 7.5), sharex=True, sharey="row")
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
    fig, (ax,) = _figure(figsize=(MAX_WIDTH, 4.5))
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
    fig, (ax,) = _figure(figsize=(8, 3.5))
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
    fig, (ax,) = _figure(figsize=(8, 3.5))
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
    fig, (ax,) = _figure(figsize=(size + 1.2, size))
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
    fig, (ax,) = _figure(figsize=(min(MAX_WIDTH, 2 + 0.9 * len(class_names)), 4.5))
    sns.barplot(data=data, x="class", y="score", hue="metric", ax=ax)
    ax.set(ylim=(0, 1.15), xlabel="", ylabel="score", title="Per-class metrics")
    ax.legend(loc="upper center", ncols=3, frameon=False)
    if len(class_names) > 6:
        ax.tick_params(axis="x", labelrotation=30)
    return fig


def plot_pixel_histogram(x, channel_names=None) -> Figure:
    """Return per-channel histograms of pixel values (fraction of pixels), with each channel's mean and std."""
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., None]
    n_channels = x.shape[-1]
    default_names = {1: ["gray"], 3: ["red", "green", "blue"]}
    names = channel_names or default_names.get(n_channels) or [f"channel {c}" for c in range(n_channels)]
    colors = ["0.3"] if n_channels == 1 else ["tab:red", "tab:green", "tab:blue"] if n_channels == 3 else None
    edges = np.arange(257) if x.dtype == np.uint8 else np.linspace(float(x.min()), float(x.max()), 65)
    fig, (ax,) = _figure(figsize=(8, 4))
    for c, name in enumerate(names):
        values = x[..., c].ravel()
        counts, _ = np.histogram(values, bins=edges)
        label = f"{name} (mean {values.mean(dtype=np.float64):.4g}, std {values.std(dtype=np.float64):.4g})"
        ax.stairs(
            counts / max(counts.sum(), 1),
            edges,
            label=label,
            linewidth=1.5,
            color=colors[c] if colors else None,
        )
    ax.set(xlabel="pixel value", ylabel="fraction of pixels", title="Pixel value distribution")
    ax.legend()
    return fig


def save_figure(fig: Figure, out_dir, name: str) -> list[Path]:
    """Write `<out_dir>/<name>.png` (150 dpi) and `<name>.pdf` (vector) atomically and return their paths."""
    from helpers.runs import atomic_write

    return [atomic_write(Path(out_dir) / f"{name}.{fmt}",
                         lambda tmp, fmt=fmt: fig.savefig(tmp, format=fmt, dpi=150, bbox_inches="tight"))
            for fmt in ("png", "pdf")]
