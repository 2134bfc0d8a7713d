"""What a notebook cell shows: tables as Markdown (they survive the PDF export), figures displayed once and saved
where the report finds them, a page of items, and the one-line summaries of a run beside the reports."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from helpers.experiments import EXPERIMENTS
from helpers.figures.style import save_figure
from helpers.training import budget_band, budget_bands

__all__ = [
    "budget_table",
    "compare_with_reports",
    "figure_saver",
    "reports_table",
    "show_figure",
    "show_items",
    "show_table",
    "test_summary",
]


def show_table(frame, floatfmt: str = ".2f", index: bool = False):
    """Display a DataFrame as a Markdown table: it renders in Jupyter and HTML and becomes a real LaTeX table
    in the PDF (HTML-only outputs such as pandas' Styler vanish from LaTeX)."""
    if frame is None or len(frame) == 0:
        display(Markdown("*(no rows)*"))
        return
    frame = frame.astype(object).where(frame.notna(), None)  # tabulate writes missingval for None, not for NaN
    display(Markdown(frame.to_markdown(index=index, floatfmt=floatfmt, missingval="–")))


def show_figure(fig, folder: str | Path | None, name: str) -> None:
    """Save ``fig`` as ``<folder>/<name>.png`` and ``.pdf`` (unless ``folder`` is None), display it once (PNG:
    JupyterLab, Colab, PDF) and close it."""
    if folder is not None:
        save_figure(fig, folder, name)
    display(fig)
    plt.close(fig)


def figure_saver(folder: str | Path):
    """A notebook's ``show(fig, name)``: save ``fig`` as ``<folder>/<name>.png`` and ``.pdf`` (where the PDF report
    finds it) and return it, so that the cell displays it once."""

    def show(fig, name: str):
        save_figure(fig, folder, name)
        return fig

    return show


def show_items(items: list[tuple], folder: str | Path | None, heading: str = "####") -> None:
    """Display a page of items (``helpers.report.pages``): ("heading", text) at the Markdown level ``heading``,
    ("text", markdown), ("table", frame[, floatfmt]) and ("figure", name, Figure), figures saved into ``folder``."""
    for kind, *rest in items:
        if kind == "heading":
            display(Markdown(f"{heading} {rest[0]}"))
        elif kind == "text":
            display(Markdown(rest[0]))
        elif kind == "table":
            show_table(*rest)
        else:
            show_figure(rest[1], folder, rest[0])


def weights_note(metrics: dict) -> str:
    """Which epoch's weights a run was tested with, and the last epoch's test accuracy when that differs."""
    epoch, runs = metrics.get("selected_epoch"), metrics.get("epochs_run")
    if metrics.get("select_epoch") != "best_val" or epoch is None:
        return "the last epoch's weights"
    if epoch == runs:
        return f"the weights of epoch {epoch}, the last and the best on validation"
    return (
        f"the weights of epoch {epoch} of {runs}, the best on validation; the last epoch's: "
        f"{metrics['last_epoch_test_accuracy']:.2%}"
    )


def test_summary(metrics: dict) -> str:
    """Two lines on a finished run: test and validation accuracy, with which epoch's weights; parameters,
    training and inference speed."""
    p = metrics["params"]
    return (
        f"test accuracy: {metrics['test_accuracy']:.2%} on {metrics['n']:,} images with {weights_note(metrics)} "
        f"(validation accuracy {metrics['val_accuracy']:.2%})\n"
        f"parameters: {p['total']:,} ({p['trainable']:,} trainable); training {metrics['train_seconds']:.0f} s, "
        f"{metrics['train_images_per_s']:.0f} img/s; inference {metrics['inference_images_per_s']:.0f} img/s"
    )


def reports_table(notebook: str, dataset: str) -> pd.DataFrame:
    """The reports' test accuracies for a notebook's networks on ``dataset``, from the experiment matrix (one
    source), each with the parameters that reproduce it: "the numbers to beat"."""
    return pd.DataFrame(
        [
            {
                "experiment": e.name,
                "report": e.report,
                "where": e.table,
                "model": e.params["model"],
                "changes": ", ".join(f"{k}={v}" for k, v in e.params.items() if k not in ("model", "dataset", "recipe"))
                or "-",
                "test accuracy (%)": e.reported,
            }
            for e in EXPERIMENTS.values()
            if e.notebook == notebook and e.params.get("dataset") == dataset and e.reported is not None
        ]
    )


def compare_with_reports(metrics: dict, experiment: str, subset: bool) -> str:
    """One line: a run's test accuracy beside the report's number for the same experiment, if there is one."""
    ours = 100 * metrics["test_accuracy"]
    ref = EXPERIMENTS.get(experiment)
    if ref is not None and ref.reported is not None:
        line = (
            f"{ref.report}, {ref.table}: {ref.reported:.2f}%   this run: {ours:.2f}%   "
            f"difference: {ours - ref.reported:+.2f} points"
        )
    else:
        line = f"this run: {ours:.2f}%  (no single report number for this exact setting: see 'The numbers to beat')"
    if subset:
        line += "\nnote: synthetic data or a subset was used, so this number says nothing about the method"
    return line


def budget_table(config: dict) -> pd.DataFrame:
    """A recipe's budget rule as a table (one row a band: up to how many images seen, the settings it sets for
    ``config``'s model and dataset), the band that ``config``'s run falls in marked."""
    bands = budget_bands(config["recipe"], f"{config['model']}/{config['dataset']}")
    if not bands:
        return pd.DataFrame({"settings": ["one set for every budget"]}, index=[config["recipe"]])
    seen = config["images_seen"]
    chosen = budget_band(config["recipe"], seen)
    rows = []
    for i, (limit, shown) in enumerate(bands):
        rows.append(
            {
                "images seen (epochs x training images)": "any more" if limit is None else f"up to {limit:,}",
                "settings": ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in shown.items()),
                "this run": f"<- {seen:,} images seen" if i == chosen else "",
            }
        )
    return pd.DataFrame(rows)
