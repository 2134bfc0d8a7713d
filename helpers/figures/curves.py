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


def plot_degradation(histories) -> Figure:
    """Return the paper's Fig. 6 from our runs: error (%) per epoch of the plain networks (left) and the residual
    ones (right) of the degradation study, one colour per depth (the same colour for plain-56 and ResNet-56),
    training error dashed and validation error solid, as in the paper (dashed: training, bold: testing).
    ``histories``: {"plain": {depth: history}, "residual": {depth: history}}."""
    histories = {
        kind: {d: history_frame(h) for d, h in sorted(by_depth.items())} for kind, by_depth in histories.items()
    }
    runs = [h for by_depth in histories.values() for h in by_depth.values()]
    if not runs:
        return note_figure("degradation: no finished run of the study to show")
    depths = sorted({d for by_depth in histories.values() for d in by_depth})
    colour = {depth: f"C{i}" for i, depth in enumerate(depths)}
    fig, axes = new_figure(1, 2, figsize=(MAX_WIDTH, 4.6), sharey=True)
    longest = max(len(h) for h in runs)
    for ax, (kind, title) in zip(axes, (("plain", "plain"), ("residual", "ResNet")), strict=True):
        for depth, history in histories.get(kind, {}).items():
            for column, style, width, what in (("accuracy", "--", 1.3, "train"), ("val_accuracy", "-", 2.4, "val")):
                if column in history and history[column].notna().any():
                    ax.plot(
                        history["epoch"],
                        100 * (1 - history[column]),
                        linestyle=style,
                        linewidth=width,
                        color=colour[depth],
                        marker="o" if longest <= 30 else None,
                        markersize=3,
                        label=f"{title}-{depth} {what}",
                    )
        ax.set(title=f"{title} networks", xlabel="epoch")
        epoch_axis(ax, np.concatenate([h["epoch"] for h in runs]))
        if ax.lines:
            ax.legend(fontsize=8, ncols=2)
    axes[0].set_ylabel("error (%)")
    fig.suptitle("Degradation (He et al. 2016, Fig. 6): dashed training error, solid validation error")
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
