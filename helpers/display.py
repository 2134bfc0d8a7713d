"""What the notebooks show: a figure displayed once and saved with its run, and a run's whole evaluation in one call.

``02_vgg`` walks through the evaluation step by step; ``03_resnet`` and ``04_googlenet`` call ``show_evaluation``,
which shows the same figures and tables in the same order (and saves the figures where the report finds them).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["budget_table", "compare_with_reports", "figure_saver", "reports_table", "show_evaluation", "show_figure", "test_summary"]


def show_figure(fig, folder: str | Path, name: str) -> None:
    """Save ``fig`` as ``<folder>/<name>.png`` and ``.pdf``, display it once (PNG: JupyterLab, Colab, PDF) and close it."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    from helpers import plots

    plots.save_figure(fig, folder, name)
    display(fig)
    plt.close(fig)


def figure_saver(folder: str | Path):
    """A notebook's ``show(fig, name)``: save ``fig`` as ``<folder>/<name>.png`` and ``.pdf`` (where the PDF report
    finds it) and return it, so that the cell displays it once."""
    from helpers import plots

    def show(fig, name: str):
        plots.save_figure(fig, folder, name)
        return fig

    return show


def test_summary(metrics: dict) -> str:
    """Two lines on a finished run: test and validation accuracy; parameters, training and inference speed."""
    p = metrics["params"]
    return (f"test accuracy: {metrics['test_accuracy']:.2%} on {metrics['n']:,} images "
            f"(last validation accuracy {metrics['val_accuracy']:.2%})\n"
            f"parameters: {p['total']:,} ({p['trainable']:,} trainable); training {metrics['train_seconds']:.0f} s, "
            f"{metrics['train_images_per_s']:.0f} img/s; inference {metrics['inference_images_per_s']:.0f} img/s")


def reports_table(notebook: str, dataset: str) -> pd.DataFrame:
    """The reports' test accuracies for a notebook's networks on ``dataset``, from the experiment matrix (one
    source), each with the parameters that reproduce it: "the numbers to beat"."""
    from helpers.experiments import EXPERIMENTS

    return pd.DataFrame([
        {"experiment": e.name, "report": e.report, "where": e.table, "model": e.params["model"],
         "changes": ", ".join(f"{k}={v}" for k, v in e.params.items() if k not in ("model", "dataset", "recipe"))
         or "-", "test accuracy (%)": e.reported}
        for e in EXPERIMENTS.values()
        if e.notebook == notebook and e.params.get("dataset") == dataset and e.reported is not None
    ])


def compare_with_reports(metrics: dict, experiment: str, subset: bool) -> str:
    """One line: this run's test accuracy beside the report's number for the same experiment, if there is one."""
    from helpers.experiments import EXPERIMENTS

    ours = 100 * metrics["test_accuracy"]
    ref = EXPERIMENTS.get(experiment)
    if ref is not None and ref.reported is not None:
        line = (f"{ref.report}, {ref.table}: {ref.reported:.2f}%   this run: {ours:.2f}%   "
                f"difference: {ours - ref.reported:+.2f} points")
    else:
        line = f"this run: {ours:.2f}%  (no single report number for this exact setting: see 'The numbers to beat')"
    if subset:
        line += "\nnote: synthetic data or a subset was used, so this number says nothing about the method"
    return line


def show_evaluation(result, metrics: dict, ds, experiment: str = "", subset: bool = False, seed: int = 0) -> None:
    """A finished run's evaluation, as 02 shows it step by step: learning curves, learning rate, seconds per epoch,
    confusion matrix and top confusions, per-class report, right and wrong test images, the reports' number."""
    from IPython.display import Markdown, display

    from helpers import evaluation, image_plots, plots
    from helpers.report import show_table
    from helpers.runs import RunDir

    run, folder = result.run, result.run / "figures"
    display(Markdown("### Learning curves, learning rate and time per epoch"))
    show_figure(plots.plot_history(result.history), folder, "history")
    show_figure(plots.plot_lr(result.history), folder, "lr")
    show_figure(plots.plot_epoch_times(result.history), folder, "epoch_times")
    display(Markdown("### Which classes get confused?"))
    show_figure(plots.plot_confusion_matrix(metrics["confusion_matrix"], ds.class_names), folder, "confusion_matrix")
    show_table(pd.DataFrame(metrics["top_confusions"], columns=["true", "predicted as", "images"]))
    display(Markdown("### Per-class precision, recall and F1"))
    report = evaluation.classification_report_frame(metrics["classification_report"])
    show_table(report, floatfmt=".3f", index=True)
    show_figure(plots.plot_per_class_metrics(report, ds.class_names), folder, "per_class_metrics")
    display(Markdown("### Test images, right and wrong"))
    y_pred = np.load(run / RunDir.PREDICTIONS)["y_pred"]
    for correct, name, title in ((True, "correct", "Correctly classified test images"),
                                 (False, "incorrect", "Misclassified test images")):
        picked = evaluation.sample_indices(ds.y_test, y_pred, correct=correct, n=16, seed=seed)
        show_figure(image_plots.plot_predictions(ds.x_test, ds.y_test, y_pred, ds.class_names, picked, title=title),
                    folder, name)
    display(Markdown("### Beside the reports"))
    print(compare_with_reports(metrics, experiment, subset))


def budget_table(config: dict) -> pd.DataFrame:
    """A recipe's budget rule as a table (one row a band: up to how many images seen, the settings it sets for
    ``config``'s model and dataset), the band that ``config``'s run falls in marked."""
    from helpers.recipes import budget_band, budget_bands

    bands = budget_bands(config["recipe"], f"{config['model']}/{config['dataset']}")
    if not bands:
        return pd.DataFrame({"settings": ["one set for every budget"]}, index=[config["recipe"]])
    seen = config["images_seen"]
    chosen = budget_band(config["recipe"], seen)
    rows = []
    for i, (limit, shown) in enumerate(bands):
        rows.append({"images seen (epochs x training images)": "any more" if limit is None else f"up to {limit:,}",
                     "settings": ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                                           for k, v in shown.items()),
                     "this run": f"<- {seen:,} images seen" if i == chosen else ""})
    return pd.DataFrame(rows)
