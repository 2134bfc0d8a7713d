"""The evaluation appendix's tables: our runs beside the reports, report 2's ablation tables, the model table.

Everything reads run directories only (``load_runs``), so runs copied together from several machines merge.
Missing runs stay in the tables as "missing" rows: nothing is dropped silently.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from helpers.experiments import EXPERIMENTS, Experiment
from helpers.runs import RunDir, load_runs

__all__ = ["ABLATION_TABLES", "ablation_tables", "architecture_summaries", "finished_runs", "missing_experiments",
           "model_table", "results_table"]

ABLATION_TABLES = {
    "Table I": "MNIST: VGG (depth, learning rate, optimizer, augmentation)",
    "Table II": "MNIST: ResNet-18",
    "Table III": "MNIST: GoogLeNet",
    "Table IV": "CIFAR-10: VGG (depth, learning rate, optimizer, augmentation)",
    "Table V": "CIFAR-10: ResNet-18",
    "Table VI": "CIFAR-10: GoogLeNet",
}


def finished_runs(output_dir: str | Path) -> pd.DataFrame:
    """Finished runs keyed by experiment name (or run name for runs of one's own); the latest copy wins."""
    runs = load_runs(output_dir)
    done = runs[runs["status"] == "finished"].copy()
    done["key"] = done["experiment"].where(done["experiment"].notna() & (done["experiment"] != ""), done["run_name"])
    return done.drop_duplicates("key", keep="last").set_index("key")


def _ours(finished: pd.DataFrame, name: str) -> float:
    return round(100 * float(finished.loc[name, "test_accuracy"]), 2) if name in finished.index else np.nan


def results_table(finished: pd.DataFrame, expected: list[Experiment]) -> pd.DataFrame:
    """One row per expected experiment: the report's accuracy, ours, the difference (points; + = we do better)."""
    rows = []
    for e in expected:
        ours = _ours(finished, e.name)
        rows.append({
            "experiment": e.name,  # names carry model and dataset: r2_vgg16_sgd_cifar10
            "source": f"{e.report} {e.table}" if e.report else "ours",
            "reported (%)": e.reported if e.reported is not None else np.nan,
            "ours (%)": ours,
            "difference": round(ours - e.reported, 2) if e.reported is not None and not np.isnan(ours) else np.nan,
            "status": "finished" if e.name in finished.index else "missing",
        })
    return pd.DataFrame(rows, columns=["experiment", "source", "reported (%)", "ours (%)", "difference", "status"])


def missing_experiments(finished: pd.DataFrame, expected: list[Experiment]) -> list[Experiment]:
    return [e for e in expected if e.name not in finished.index]


def ablation_tables(finished: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Report 2's Tables I-VI, row for row, with our accuracy for the same setting beside theirs."""
    tables = {}
    for table, caption in ABLATION_TABLES.items():
        rows = [e for e in EXPERIMENTS.values() if e.report == "report2" and e.table == table]
        frame = pd.DataFrame([{
            "setting": e.label or e.name,
            "report 2 (%)": e.reported,
            "ours (%)": _ours(finished, e.name),
            "difference": round(_ours(finished, e.name) - e.reported, 2) if e.name in finished.index else np.nan,
            "experiment": e.name,
        } for e in rows])
        tables[f"{table}. {caption}"] = frame
    return tables


def model_table(finished: pd.DataFrame) -> pd.DataFrame:
    """Per model and dataset: parameters, FLOPs per image, training and inference images/s, seconds per epoch."""
    if finished.empty:
        return pd.DataFrame(columns=["model", "dataset", "params (M)", "trainable (M)", "GFLOPs",
                                     "train img/s", "inference img/s", "s/epoch", "accelerator"])
    rows = []
    for (model, dataset), group in finished.groupby(["model", "dataset"], sort=False):
        r = group.iloc[-1]
        per_epoch = (r["train_seconds"] / r["epochs_run"]) if r["epochs_run"] else np.nan
        flops = r.get("flops_per_image")
        rows.append({
            "model": model, "dataset": dataset,
            "params (M)": round(r["params_total"] / 1e6, 2),
            "trainable (M)": round(r["params_trainable"] / 1e6, 2),
            "GFLOPs": round(flops / 1e9, 3) if flops and not pd.isna(flops) else np.nan,
            "train img/s": round(r["train_images_per_s"], 1) if r["train_images_per_s"] else np.nan,
            "inference img/s": round(r["inference_images_per_s"], 1) if r["inference_images_per_s"] else np.nan,
            "s/epoch": round(per_epoch, 1),
            "accelerator": r["accelerator"],
        })
    return pd.DataFrame(rows).sort_values(["dataset", "model"]).reset_index(drop=True)


def architecture_summaries(finished: pd.DataFrame, output_dir: str | Path) -> dict[str, str]:
    """Each model's summary (as in the reports' Appendices A-D), once per model and input shape."""
    out = {}
    for _, r in finished.iterrows():
        run = RunDir(output_dir, r["run_name"])
        shape = tuple(run.read_json(RunDir.CONFIG)["data"]["input_shape"])
        key = f"{r['model']} on {r['dataset']} {shape}"
        if key not in out and (run / RunDir.SUMMARY).is_file():
            out[key] = (run / RunDir.SUMMARY).read_text(encoding="utf-8")
    return dict(sorted(out.items()))


def run_sections(output_dir: str | Path, run_name: str, key: str | None = None) -> list[tuple]:
    """What the appendix shows for one finished run, in order: ("text", str), ("table", DataFrame) and
    ("figure", name, Figure) items -- curves, time per epoch, confusion matrix, per-class report, galleries."""
    from helpers import evaluation, plots
    from helpers.data import load_test_split

    key = key or run_name
    run = RunDir(output_dir, run_name)
    config, metrics = run.read_json(RunDir.CONFIG), run.read_json(RunDir.METRICS)
    classes = config["data"]["class_names"]
    items = [("text", f"{config['model']} on {config['dataset']}, recipe {config['recipe']}: test accuracy "
                      f"{metrics['test_accuracy']:.2%} after {metrics['epochs_run']} epochs "
                      f"({config['environment']['hardware']['accelerator']}, data: {config['data']['source']}).")]
    settings = ["optimizer", "lr", "schedule", "batch_size", "epochs", "augment", "label_smoothing", "weight_decay"]
    items.append(("table", pd.DataFrame([{k: config.get(k) for k in settings}])))
    history = run.history()
    if len(history):
        items.append(("figure", f"{key}-history", plots.plot_history(history)))
        items.append(("figure", f"{key}-epoch_times", plots.plot_epoch_times(history)))
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
                      plots.plot_predictions(ds.x_test, pred["y_true"], pred["y_pred"], classes, idx, title=title)))
    return items
