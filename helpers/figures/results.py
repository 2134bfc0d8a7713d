"""Figures of test results (seaborn): the confusion matrix and per-class precision, recall and F1."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from helpers.evaluation import REPORT_COLUMNS, classification_report_frame
from helpers.figures.style import MAX_WIDTH, new_figure

__all__ = ["plot_confusion_matrix", "plot_per_class_metrics"]


def plot_confusion_matrix(cm, class_names, normalize: bool = True) -> Figure:
    """Return an annotated heatmap of a confusion matrix, rows "true", columns "predicted", optionally
    row-normalised."""
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
