"""Figures of training (matplotlib): learning curves, learning rate, time per epoch, plain vs residual, ablations.
Each function returns a ``Figure`` for the notebook to display (``helpers.figures.style``)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from helpers.figures.style import MAX_WIDTH, epoch_axis, history_frame, metric_name, new_figure, note_figure

__all__ = ["plot_ablation_curves", "plot_degradation", "plot_epoch_times", "plot_history", "plot_lr"]


def plot_history(history) -> Figure:
    """Return loss and accuracy per epoch, train vs validation (validation drawn only where present)."""
    history = history_frame(history)
    metrics = [m for m in ("loss", "accuracy") if m in history]
    fig, axes = new_figure(1, len(metrics), figsize=(5.5 * len(metrics), 4))
    marker = "o" if len(history) <= 30 else None
    for ax, metric in zip(axes, metrics, strict=True):
        ax.plot(history["epoch"], history[metric], marker=marker, label="train")
        val = f"val_{metric}"
        if val in history and history[val].notna().any():
            ax.plot(history["epoch"], history[val], marker=marker, label="validation")
        ax.set(xlabel="epoch", ylabel=metric, title=metric)
        epoch_axis(ax, history["epoch"])
        ax.legend()
    return fig


def plot_degradation(pairs) -> Figure:
    """Return the degradation experiment: for each depth (key), its (plain, residual) histories overlaid, plain
    dashed and residual solid in the depth's colour; training (left) and validation (right), accuracy and loss."""
    pairs = {depth: tuple(history_frame(h) for h in pair) for depth, pair in pairs.items()}
    if not pairs:
        return note_figure("degradation: no pair of finished runs to show")
    columns = ("accuracy", "val_accuracy", "loss", "val_loss")
    fig, axes = new_figure(2, 2, figsize=(MAX_WIDTH, 7.5), sharex=True, sharey="row")
    longest = max(len(h) for pair in pairs.values() for h in pair)
    epochs = np.concatenate([h["epoch"] for pair in pairs.values() for h in pair])
    for i, (depth, (plain, residual)) in enumerate(pairs.items()):
        for history, name, style in ((plain, "plain", "--"), (residual, "ResNet", "-")):
            for ax, column in zip(axes, columns, strict=True):
                if column in history and history[column].notna().any():
                    ax.plot(
                        history["epoch"],
                        history[column],
                        linestyle=style,
                        color=f"C{i}",
                        linewidth=2,
                        marker="o" if longest <= 30 else None,
                        markersize=4,
                        label=f"{name}-{depth}",
                    )
    for ax, column in zip(axes, columns, strict=True):
        ax.set_title(metric_name(column))
        epoch_axis(ax, epochs)
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
    histories = {label: history_frame(h) for label, h in histories.items()}
    histories = {label: h for label, h in histories.items() if metric in h and h[metric].notna().any()}
    if not histories:
        return note_figure(f"{title or metric}: no run to show")
    fig, (ax,) = new_figure(figsize=(MAX_WIDTH, 4.5))
    longest = max(len(h) for h in histories.values())
    styles = ("-", "--", "-.", ":")
    for i, (label, history) in enumerate(histories.items()):
        ax.plot(
            history["epoch"],
            history[metric],
            linestyle=styles[i // 10 % len(styles)],
            linewidth=2,
            marker="o" if longest <= 30 else None,
            markersize=4,
            label=label,
        )
    ax.set(xlabel="epoch", ylabel=metric_name(metric), title=title or f"{metric_name(metric)} per epoch")
    epoch_axis(ax, np.concatenate([h["epoch"] for h in histories.values()]))
    fig.legend(loc="outside right upper")
    return fig


def plot_epoch_times(history) -> Figure:
    """Return a bar chart of the seconds each epoch took (column `epoch_seconds`)."""
    history = history_frame(history)
    fig, (ax,) = new_figure(figsize=(8, 3.5))
    ax.bar(history["epoch"], history["epoch_seconds"], color="tab:blue")
    ax.set(
        xlabel="epoch",
        ylabel="seconds",
        title=f"Time per epoch (total {history['epoch_seconds'].sum():.0f} s)",
    )
    epoch_axis(ax, history["epoch"])
    return fig


def plot_lr(history) -> Figure:
    """Return the learning rate per epoch (column `lr`), on a log scale when it spans more than a factor 10."""
    history = history_frame(history)
    fig, (ax,) = new_figure(figsize=(8, 3.5))
    lr = history["lr"]
    ax.plot(history["epoch"], lr, marker="o" if len(history) <= 30 else None)
    if lr.min() > 0 and lr.max() / lr.min() > 10:
        ax.set_yscale("log")
    ax.set(xlabel="epoch", ylabel="learning rate", title="Learning rate schedule")
    epoch_axis(ax, history["epoch"])
    return fig
