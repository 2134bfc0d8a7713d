"""Finished runs, opened to look into (``06_what_cnns_see``, the report's Grad-CAM galleries): the most accurate one,
its trained model, settings, predictions and test images, and the plain-vs-residual pairs of the degradation study.

    run = open_run(output_dir)            # the most accurate finished run with a saved model
    run = open_run(output_dir, "name")    # or one by name; NoRunError says what exists when there is none
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from helpers.data import Preprocessing, load_test_split
from helpers.experiments import degradation_experiments
from helpers.models import inference_model
from helpers.runs import RunDir, finished_runs, load_runs

__all__ = ["NoRunError", "OpenedRun", "best_run", "open_run", "plain_residual_pairs", "reload_test_images"]


class NoRunError(LookupError):
    """No finished run with a saved model where one was looked for; the message says what exists and what to do."""


def _candidates(output_dir):
    runs = load_runs(output_dir)
    if runs.empty:
        return runs, runs
    has_model = runs["run_name"].map(lambda n: (RunDir(output_dir, n) / RunDir.MODEL).is_file())
    return runs, runs[(runs["status"] == "finished") & has_model]


def best_run(output_dir) -> str:
    """The name of the most accurate finished run with a saved model in ``<output_dir>/runs`` (NoRunError: none)."""
    runs, usable = _candidates(output_dir)
    if usable.empty:
        folder = Path(output_dir) / "runs"
        found = ", ".join(f"{r.run_name} ({r.status})" for r in runs.itertuples()) or "nothing"
        raise NoRunError(
            f"No finished run to look into in {folder} (found: {found}). Train one first: run "
            "02_vgg.ipynb, 03_resnet.ipynb or 04_googlenet.ipynb (on Colab from its badge, with use_drive: its "
            "runs reach this notebook through your Google Drive), or `python run_all.py --profile smoke`, then "
            "run this notebook again."
        )
    return str(usable.sort_values("test_accuracy", ascending=False, kind="stable")["run_name"].iloc[0])


@dataclass
class OpenedRun:
    """A finished run, ready to look into: its trained model, settings, results and test images."""

    name: str
    config: dict
    metrics: dict
    model: object  # the trained keras.Model (GoogLeNet: its main output only)
    y_true: np.ndarray
    y_pred: np.ndarray
    probs: np.ndarray
    x_test: np.ndarray | None  # uint8 test images as stored, or None when they cannot be reloaded here
    note: str = ""  # why x_test is None

    @property
    def class_names(self) -> list[str]:
        return self.config["data"]["class_names"]

    def inputs(self, images) -> np.ndarray:
        """Pixels 0..255 -> what the model takes: the run's own ``Preprocessing`` (its training split's statistics)."""
        preprocessing = Preprocessing(
            tuple(self.config.get("normalization_mean", (0.0,))), tuple(self.config.get("normalization_std", (1.0,)))
        )
        return preprocessing(np.asarray(images))


def reload_test_images(config: dict, y_true) -> tuple[np.ndarray | None, str]:
    """A finished run's test images again (run directories keep predictions, not images), from its own source,
    subset and seed: (uint8 images, "") or (None, why not) when they cannot be reloaded here or their labels
    differ from the stored ``y_true``."""
    try:
        ds = load_test_split(config)
    except (OSError, ValueError) as e:  # e.g. Keras' download without internet
        return None, f"the test images could not be reloaded: {e}"
    if not np.array_equal(ds.y_test, y_true):
        return None, "the reloaded test labels differ from the stored ones"
    return ds.x_test, ""


def open_run(output_dir, run_name: str = "") -> OpenedRun:
    """Load a finished run (``run_name``; "": ``best_run``): its model, config, metrics, predictions and test images
    (reloaded from the run's own data source, subset and seed)."""
    name = run_name or best_run(output_dir)
    run = RunDir(output_dir, name)
    if not (run.finished and (run / RunDir.MODEL).is_file()):
        _, usable = _candidates(output_dir)
        raise NoRunError(
            f"Run {name!r} has no finished model in {run.path}; finished runs there: "
            f"{', '.join(usable['run_name']) or 'none'}."
        )
    config, metrics = run.read_json(RunDir.CONFIG), run.read_json(RunDir.METRICS)
    pred = np.load(run / RunDir.PREDICTIONS)
    model = inference_model(keras.saving.load_model(run / RunDir.MODEL, compile=False))
    x_test, note = reload_test_images(config, pred["y_true"])
    return OpenedRun(
        name,
        config,
        metrics,
        model,
        pred["y_true"],
        pred["y_pred"],
        np.asarray(pred["probs"], np.float32),
        x_test,
        note,
    )


def plain_residual_pairs(output_dir) -> tuple[list[tuple[int, str, str]], list[str]]:
    """The degradation study's finished pairs: (depth, plain run, residual run) on the same data, for every depth
    of the study with both a plain and a residual network, and one line naming the depths left out (none when no
    run of the study is finished at all). A pair's run is its experiment (``degradation_plain20_cifar10``...) or,
    when that is not finished, another finished run of the same model, dataset and recipe."""
    finished = finished_runs(output_dir)
    study = degradation_experiments()

    def run_of(e) -> str | None:
        if e.name in finished.index:
            return str(finished.loc[e.name, "run_name"])
        same = finished[
            (finished["model"] == e.params["model"])
            & (finished["dataset"] == e.params["dataset"])
            & (finished["recipe"] == e.params["recipe"])
        ]
        return str(same["run_name"].iloc[-1]) if len(same) else None

    pairs, left_out = [], []
    for depth in sorted(study["plain"].keys() & study["residual"].keys()):
        plain, residual = run_of(study["plain"][depth]), run_of(study["residual"][depth])
        if plain and residual:
            pairs.append((depth, plain, residual))
        else:
            left_out.append(str(depth))
    notes = [f"Plain vs residual: no finished pair at {', '.join(left_out)} layers."] if left_out else []
    return pairs, notes
