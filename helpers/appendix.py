"""The evaluation appendix's tables: our runs beside the reports, report 2's ablation tables, each run's pages
(the model table, summaries and pictures of the architectures are ``helpers.architectures``).

Everything reads run directories only (``load_runs``), so runs copied together from several machines merge.
Missing runs stay in the tables as "missing" rows: nothing is dropped silently. Every number about the reports
comes from the experiment matrix (``helpers.experiments``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.experiments import EXPERIMENTS, Experiment
from helpers.runs import RunDir, load_runs

__all__ = ["ABLATION_TABLES", "EPOCH_COLUMNS", "NOT_IN_PROFILE", "ablation_histories", "ablation_tables",
           "degradation_experiments", "degradation_histories", "epoch_table", "finished_runs", "missing_experiments",
           "results_table", "run_history", "run_sections"]

ABLATION_TABLES = {
    "Table I": "MNIST: VGG (depth, learning rate, optimizer, augmentation)",
    "Table II": "MNIST: ResNet-18",
    "Table III": "MNIST: GoogLeNet",
    "Table IV": "CIFAR-10: VGG (depth, learning rate, optimizer, augmentation)",
    "Table V": "CIFAR-10: ResNet-18",
    "Table VI": "CIFAR-10: GoogLeNet",
}
NOT_IN_PROFILE = "not run in this profile"
RUNNING = "running elsewhere"
# history.csv column -> per-epoch table column (the reports' Appendices E-H log these every epoch)
EPOCH_COLUMNS = {"epoch": "epoch", "loss": "loss", "accuracy": "accuracy", "val_loss": "val_loss",
                 "val_accuracy": "val_accuracy", "epoch_seconds": "seconds"}


def finished_runs(output_dir: str | Path) -> pd.DataFrame:
    """Finished runs keyed by experiment name (or run name for runs of one's own); the latest copy wins."""
    runs = load_runs(output_dir)
    done = runs[runs["status"] == "finished"].copy()
    done["key"] = done["experiment"].where(done["experiment"].notna() & (done["experiment"] != ""), done["run_name"])
    return done.drop_duplicates("key", keep="last").set_index("key")


def _ours(finished: pd.DataFrame, name: str) -> float:
    return round(100 * float(finished.loc[name, "test_accuracy"]), 2) if name in finished.index else np.nan


def results_table(finished: pd.DataFrame, expected: list[Experiment], running=()) -> pd.DataFrame:
    """One row per expected experiment: the report's accuracy, ours, the difference (points; + = we do better).

    Report 1's four headline experiments always come first, also when the profile leaves them out: status
    "not run in this profile" then, while "missing" means expected but not finished, and "running elsewhere" an
    experiment another run_all worker is still training (``running``, as run_all passes it).
    """
    names = {e.name for e in expected}
    headline = [e for e in EXPERIMENTS.values() if e.report == "report1"]
    rows = []
    for e in headline + [e for e in expected if e not in headline]:
        ours = _ours(finished, e.name)
        rows.append({
            "experiment": e.name,  # names carry model and dataset: r2_vgg16_sgd_cifar10
            "source": f"{e.report} {e.table}" if e.report else "ours",
            "reported (%)": e.reported if e.reported is not None else np.nan,
            "ours (%)": ours,
            "difference": round(ours - e.reported, 2) if e.reported is not None and not np.isnan(ours) else np.nan,
            "status": ("finished" if e.name in finished.index else RUNNING if e.name in running
                       else "missing" if e.name in names else NOT_IN_PROFILE),
        })
    return pd.DataFrame(rows, columns=["experiment", "source", "reported (%)", "ours (%)", "difference", "status"])


def missing_experiments(finished: pd.DataFrame, expected: list[Experiment]) -> list[Experiment]:
    return [e for e in expected if e.name not in finished.index]


def _table_rows(table: str) -> list[Experiment]:
    """Report 2's experiments of one table ("Table IV"), in the report's row order."""
    return [e for e in EXPERIMENTS.values() if e.report == "report2" and e.table == table]


def ablation_tables(finished: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Report 2's Tables I-VI, row for row, with our accuracy for the same setting beside theirs."""
    tables = {}
    for table, caption in ABLATION_TABLES.items():
        rows = _table_rows(table)
        frame = pd.DataFrame([{
            "setting": e.label or e.name,
            "report 2 (%)": e.reported,
            "ours (%)": _ours(finished, e.name),
            "difference": round(_ours(finished, e.name) - e.reported, 2) if e.name in finished.index else np.nan,
            "experiment": e.name,
        } for e in rows])
        tables[f"{table}. {caption}"] = frame
    return tables


def run_history(finished: pd.DataFrame, output_dir: str | Path, key: str) -> pd.DataFrame:
    """The per-epoch history of the finished run ``key`` (experiment name), empty when it has none."""
    return RunDir(output_dir, finished.loc[key, "run_name"]).history()


def ablation_histories(finished: pd.DataFrame, output_dir: str | Path) -> dict[str, dict[str, pd.DataFrame]]:
    """Per table of report 2 (the captions of ``ablation_tables``): the history of every finished run of that
    table, keyed by the report's row label, in the report's row order; {} for a table without finished runs."""
    out = {}
    for table, caption in ABLATION_TABLES.items():
        runs = {e.label or e.name: run_history(finished, output_dir, e.name)
                for e in _table_rows(table) if e.name in finished.index}
        out[f"{table}. {caption}"] = {label: h for label, h in runs.items() if len(h)}
    return out


def degradation_experiments() -> dict[int, tuple[Experiment, Experiment]]:
    """The degradation study from the experiment matrix: depth -> (plain, residual) network of that depth."""
    study = {e.params["model"]: e for e in EXPERIMENTS.values() if e.name.startswith("degradation_")}
    pairs = {}
    for model, plain in study.items():
        depth = re.fullmatch(r"plain(\d+)", model)
        if depth and f"resnet{depth[1]}" in study:
            pairs[int(depth[1])] = (plain, study[f"resnet{depth[1]}"])
    return dict(sorted(pairs.items()))


def degradation_histories(finished: pd.DataFrame, output_dir: str | Path
                          ) -> tuple[dict[int, tuple[pd.DataFrame, pd.DataFrame]], list[str]]:
    """Histories of each degradation pair whose two runs are finished (depth -> (plain, residual)), and one line
    per pair left out saying which run is missing."""
    pairs, notes = {}, []
    for depth, (plain, residual) in degradation_experiments().items():
        histories = [run_history(finished, output_dir, e.name) if e.name in finished.index else pd.DataFrame()
                     for e in (plain, residual)]
        absent = [e.name for e, h in zip((plain, residual), histories, strict=True) if not len(h)]
        if absent:
            notes.append(f"{depth} layers, plain vs residual: not drawn, {' and '.join(absent)} "
                         f"{'is' if len(absent) == 1 else 'are'} not finished.")
        else:
            pairs[depth] = tuple(histories)
    return pairs, notes


def epoch_table(history: pd.DataFrame) -> pd.DataFrame:
    """A run's log per epoch, as in the reports' Appendices E-H: epoch, loss, accuracy, val_loss, val_accuracy,
    seconds; losses and accuracies to 4 decimals (Keras' log), seconds to 0.1."""
    frame = history[[c for c in EPOCH_COLUMNS if c in history]].rename(columns=EPOCH_COLUMNS)
    return frame.round({c: 1 if c == "seconds" else 4 for c in frame.columns if c != "epoch"}).reset_index(drop=True)


def _epoch_formats(frame: pd.DataFrame) -> tuple[str, ...]:
    """show_table's per-column number formats for ``epoch_table``."""
    return tuple(".1f" if c == "seconds" else ".0f" if c == "epoch" else ".4f" for c in frame.columns)


def run_sections(output_dir: str | Path, run_name: str, key: str | None = None) -> list[tuple]:
    """What the appendix shows for one finished run, in order: ("text", str), ("table", DataFrame[, floatfmt]) and
    ("figure", name, Figure) items -- settings, curves, time per epoch, the per-epoch log, confusion matrix,
    per-class report, galleries. A table item's third entry, when there, is ``show_table``'s floatfmt."""
    from helpers import evaluation, image_plots, plots
    from helpers.data import load_test_split

    key = key or run_name
    run = RunDir(output_dir, run_name)
    config, metrics = run.read_json(RunDir.CONFIG), run.read_json(RunDir.METRICS)
    classes = config["data"]["class_names"]
    items = [("text", f"{config['model']} on {config['dataset']}, recipe {config['recipe']}: test accuracy "
                      f"{metrics['test_accuracy']:.2%} after {metrics['epochs_run']} epochs "
                      f"({config['environment']['hardware']['accelerator']}, data: {config['data']['source']}).")]
    settings = ["optimizer", "lr", "schedule", "batch_size", "epochs", "augment", "label_smoothing", "weight_decay"]
    items.append(("table", pd.DataFrame([{k: config.get(k) for k in settings}]), "g"))  # lr 0.0001, not 0.00
    history = run.history()
    if len(history):
        items.append(("figure", f"{key}-history", plots.plot_history(history)))
        items.append(("figure", f"{key}-epoch_times", plots.plot_epoch_times(history)))
        log = epoch_table(history)
        items.append(("text", f"Per epoch ({len(log)} epoch{'' if len(log) == 1 else 's'}; seconds: wall-clock "
                              "time of the epoch):"))
        items.append(("table", log, _epoch_formats(log)))
    items.append(("figure", f"{key}-confusion_matrix", plots.plot_confusion_matrix(metrics["confusion_matrix"], classes)))
    report = evaluation.classification_report_frame(metrics["classification_report"])
    items.append(("table", report.reset_index().rename(columns={"index": "class"})))
    items.append(("figure", f"{key}-per_class", plots.plot_per_class_metrics(report, classes)))
    pred = np.load(run / RunDir.PREDICTIONS)
    try:
        ds = load_test_split(config)
        same = np.array_equal(ds.y_test, pred["y_true"])
    except (OSError, ValueError) as e:  # e.g. Keras' download without internet
        items.append(("text", f"(Galleries skipped: the test images could not be reloaded: {e})"))
        return items
    if not same:
        items.append(("text", "(Galleries skipped: the reloaded test labels differ from the stored ones.)"))
        return items
    for correct, label in ((True, "correct"), (False, "incorrect")):
        idx = evaluation.sample_indices(pred["y_true"], pred["y_pred"], correct=correct, n=16, seed=0)
        title = f"{key}: {'correctly' if correct else 'wrongly'} classified test images"
        items.append(("figure", f"{key}-{label}",
                      image_plots.plot_predictions(ds.x_test, pred["y_true"], pred["y_pred"], classes, idx, title=title)))
    from helpers.interpret_plots import gradcam_items

    return items + gradcam_items(output_dir, run_name, key)
