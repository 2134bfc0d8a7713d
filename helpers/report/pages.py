"""A finished run's page, one implementation for the training notebooks (``show_evaluation``, under the run) and
the evaluation appendix (``run_page``, one page per run): its settings, learning curves, learning rate, time per
epoch and the log of every epoch, confusion matrix and top confusions, per-class report, right and wrong test
images with Grad-CAM of the wrong ones, and its number beside the reports'. It reads the run directory only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from helpers.evaluation import (
    NoRunError,
    classification_report_frame,
    gradcam_layer,
    open_run,
    sample_indices,
)
from helpers.evaluation.trained import reload_test_images
from helpers.figures import (
    plot_confusion_matrix,
    plot_epoch_times,
    plot_history,
    plot_lr,
    plot_per_class_metrics,
    plot_predictions,
    run_gradcam_gallery,
)
from helpers.report.display import compare_with_reports, show_items, weights_note
from helpers.runs import RunDir

__all__ = ["EPOCH_COLUMNS", "epoch_table", "gradcam_items", "run_page", "show_evaluation"]

# history.csv column -> per-epoch table column (the reports' Appendices E-H log these every epoch)
EPOCH_COLUMNS = {
    "epoch": "epoch",
    "loss": "loss",
    "accuracy": "accuracy",
    "val_loss": "val_loss",
    "val_accuracy": "val_accuracy",
    "epoch_seconds": "seconds",
}
SETTINGS = ["optimizer", "lr", "schedule", "batch_size", "epochs", "augment", "label_smoothing", "weight_decay"]


def epoch_table(history: pd.DataFrame) -> pd.DataFrame:
    """A run's log per epoch, as in the reports' Appendices E-H: epoch, loss, accuracy, val_loss, val_accuracy,
    seconds; losses and accuracies to 4 decimals (Keras' log), seconds to 0.1."""
    frame = history[[c for c in EPOCH_COLUMNS if c in history]].rename(columns=EPOCH_COLUMNS)
    return frame.round({c: 1 if c == "seconds" else 4 for c in frame.columns if c != "epoch"}).reset_index(drop=True)


def _epoch_formats(frame: pd.DataFrame) -> tuple[str, ...]:
    """show_table's per-column number formats for ``epoch_table``."""
    return tuple(".1f" if c == "seconds" else ".0f" if c == "epoch" else ".4f" for c in frame.columns)


def run_page(output_dir: str | Path, run_name: str, key: str = "", subset: bool = False) -> list[tuple]:
    """One finished run's page, in order, as items for ``show_items``: ("heading", str), ("text", str),
    ("table", DataFrame[, floatfmt]) and ("figure", name, Figure). Figure names start with ``key-`` when a ``key``
    (the experiment's name in the appendix) is given. ``subset``: the run used synthetic data or a subset."""
    prefix = f"{key}-" if key else ""
    run = RunDir(output_dir, run_name)
    config, metrics = run.read_json(RunDir.CONFIG), run.read_json(RunDir.METRICS)
    classes = config["data"]["class_names"]
    items = [
        (
            "text",
            f"{config['model']} on {config['dataset']}, recipe {config['recipe']}: test accuracy "
            f"{metrics['test_accuracy']:.2%} with {weights_note(metrics)} ({metrics['epochs_run']} epochs; "
            f"{config['environment']['hardware']['accelerator']}, data: {config['data']['source']}).",
        )
    ]
    items.append(("table", pd.DataFrame([{k: config.get(k) for k in SETTINGS}]), "g"))  # lr 0.0001, not 0.00
    history = run.history()
    if len(history):
        log = epoch_table(history)
        items += [
            ("heading", "Learning curves, learning rate and time per epoch"),
            ("figure", f"{prefix}history", plot_history(history)),
            ("figure", f"{prefix}lr", plot_lr(history)),
            ("figure", f"{prefix}epoch_times", plot_epoch_times(history)),
            (
                "text",
                f"Per epoch ({len(log)} epoch{'' if len(log) == 1 else 's'}; seconds: wall-clock time of the epoch):",
            ),
            ("table", log, _epoch_formats(log)),
        ]
    report = classification_report_frame(metrics["classification_report"])
    items += [
        ("heading", "Which classes get confused?"),
        ("figure", f"{prefix}confusion_matrix", plot_confusion_matrix(metrics["confusion_matrix"], classes)),
        ("table", pd.DataFrame(metrics.get("top_confusions", []), columns=["true", "predicted as", "images"])),
        ("heading", "Per-class precision, recall and F1"),
        ("table", report.reset_index().rename(columns={"index": "class"}), ".3f"),
        ("figure", f"{prefix}per_class_metrics", plot_per_class_metrics(report, classes)),
        ("heading", "Test images, right and wrong"),
    ]
    items += _galleries(output_dir, run_name, config, prefix, key or run_name)
    items += [
        ("heading", "Beside the reports"),
        ("text", compare_with_reports(metrics, config.get("experiment") or "", subset).replace("\n", "  \n")),
    ]
    return items


def _galleries(output_dir, run_name: str, config: dict, prefix: str, title: str) -> list[tuple]:
    """Right and wrong test predictions (16 each, seed 0), then Grad-CAM of the wrong ones; a note instead when
    the test images cannot be reloaded here."""
    pred = np.load(RunDir(output_dir, run_name) / RunDir.PREDICTIONS)
    x_test, note = reload_test_images(config, pred["y_true"])
    if x_test is None:
        return [("text", f"(Galleries skipped: {note}.)")]
    items = []
    for correct, label in ((True, "correct"), (False, "incorrect")):
        idx = sample_indices(pred["y_true"], pred["y_pred"], correct=correct, n=16, seed=0)
        heading = f"{title}: {'correctly' if correct else 'wrongly'} classified test images"
        items.append(
            (
                "figure",
                f"{prefix}{label}",
                plot_predictions(
                    x_test, pred["y_true"], pred["y_pred"], config["data"]["class_names"], idx, title=heading
                ),
            )
        )
    return items + gradcam_items(output_dir, run_name, prefix, title)


def gradcam_items(output_dir, run_name: str, prefix: str, title: str) -> list[tuple]:
    """Grad-CAM of a run's wrong predictions (the same images as its gallery of wrong predictions), as page items;
    a text item instead when the run cannot be opened here."""
    try:
        run = open_run(output_dir, run_name)
    except (NoRunError, OSError, ValueError) as e:
        return [("text", f"(Grad-CAM skipped: {e})")]
    if run.x_test is None:
        return [("text", f"(Grad-CAM skipped: {run.note}.)")]
    heading = f"{title}: Grad-CAM of the wrongly classified test images (layer {gradcam_layer(run.model)})"
    return [("figure", f"{prefix}gradcam_incorrect", run_gradcam_gallery(run, correct=False, title=heading))]


def show_evaluation(result, subset: bool = False) -> None:
    """A finished ``train()`` + ``evaluate_run`` in a training notebook: its page (``run_page``), figures saved in
    the run's ``figures/`` folder."""
    run = result.run
    show_items(run_page(run.output_dir, run.name, subset=subset), run / "figures", heading="###")
