"""Test results: predictions, accuracy, classification report, confusion matrix, sample selection, and the test
evaluation of a finished run (``evaluate_run``). Everything returned is plain NumPy / Python, for ``metrics.json``.
"""

from __future__ import annotations

import contextlib
import io

import keras
import numpy as np
import pandas as pd
from sklearn.metrics import classification_report, confusion_matrix

from helpers.environment import quiet_tensorflow
from helpers.evaluation.speed import count_flops, inference_throughput
from helpers.models import count_params, inference_model
from helpers.runs import RunDir, jsonable

REPORT_COLUMNS = ["precision", "recall", "f1-score", "support"]


def to_labels(y) -> np.ndarray:
    """Return integer class indices from labels (N,), (N, 1) or one-hot / probability rows (N, C)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    return y.reshape(-1).astype(np.int64)


def predict(model, x, batch_size: int = 256) -> np.ndarray:
    """Return class probabilities (N, C) float32 for an array or a batched `tf.data.Dataset` of x or (x, y)."""
    model = inference_model(model)
    with quiet_tensorflow():  # each new model traces its predict function once: not worth a warning in a PDF
        if hasattr(x, "element_spec"):  # a tf.data.Dataset is already batched; Keras ignores the y of (x, y)
            y_prob = model.predict(x, verbose=0)
        else:
            y_prob = model.predict(x, batch_size=batch_size, verbose=0)
    if isinstance(y_prob, dict | list | tuple):  # a model whose outputs are not exposed as `model.outputs`
        y_prob = next(iter(y_prob.values())) if isinstance(y_prob, dict) else y_prob[0]
    return np.asarray(y_prob, dtype=np.float32)


def top_confusions(cm, class_names, k: int = 5) -> list[list]:
    """Return the `k` largest off-diagonal cells of a confusion matrix as [true_name, pred_name, count]."""
    cm = np.asarray(cm)
    cells = [(int(cm[i, j]), i, j) for i in range(len(cm)) for j in range(len(cm)) if i != j and cm[i, j] > 0]
    cells.sort(key=lambda c: (-c[0], c[1], c[2]))
    return [[class_names[i], class_names[j], count] for count, i, j in cells[:k]]


def evaluate_predictions(y_true, y_prob, class_names) -> dict:
    """Return accuracy, n, sklearn's classification report, confusion matrix and top confusions as plain types."""
    y_true, y_pred = to_labels(y_true), to_labels(y_prob)
    labels = list(range(len(class_names)))
    cm = confusion_matrix(y_true, y_pred, labels=labels)
    report = classification_report(
        y_true, y_pred, labels=labels, target_names=list(class_names), output_dict=True, zero_division=0
    )
    return jsonable(
        {
            "accuracy": float(np.mean(y_true == y_pred)) if len(y_true) else 0.0,
            "n": len(y_true),
            "classification_report": report,
            "confusion_matrix": cm,
            "top_confusions": top_confusions(cm, list(class_names)),
        }
    )


def classification_report_frame(report: dict) -> pd.DataFrame:
    """Return sklearn's report dict as a table: one row per class plus accuracy, macro avg, weighted avg.

    The accuracy row, like sklearn's text report, has only f1-score (the accuracy) and support; precision and
    recall are NaN there.
    """
    rows = {}
    for name, value in report.items():
        if isinstance(value, dict):
            rows[name] = value
        else:  # "accuracy" is a bare number in sklearn's dict
            support = report.get("macro avg", {}).get("support", np.nan)
            rows[name] = {"precision": np.nan, "recall": np.nan, "f1-score": value, "support": support}
    frame = pd.DataFrame.from_dict(rows, orient="index")[REPORT_COLUMNS].round(3)
    frame["support"] = frame["support"].astype(int)
    return frame


def sample_indices(y_true, y_pred, correct: bool, n: int = 16, seed: int = 0, per_class: bool = False) -> np.ndarray:
    """Return sorted indices of up to `n` correctly (or wrongly) predicted samples, or `n` per true class."""
    y_true, y_pred = to_labels(y_true), to_labels(y_pred)
    rng = np.random.default_rng(seed)
    candidates = np.flatnonzero((y_true == y_pred) == correct)
    groups = [candidates[y_true[candidates] == c] for c in np.unique(y_true)] if per_class else [candidates]
    chosen = [np.sort(rng.permutation(group)[:n]) for group in groups]
    return np.concatenate(chosen).astype(np.int64) if chosen else np.array([], dtype=np.int64)


def evaluate_run(result, dataset, batch_size: int = 256) -> dict:
    """Test predictions, accuracy, per-class report, confusion matrix, throughput of a finished ``train()``
    (its ``TrainResult``) -> metrics.json, predictions.npz. The test uses the weights the run kept
    (``selected_epoch``); when that is not the last epoch, the last epoch's weights are tested too
    (``last_epoch_test_accuracy``), so that a page can show both."""
    model = inference_model(result.model)
    x_test = keras.ops.convert_to_numpy(result.preprocessing(dataset.x_test))

    def test_probabilities():
        with contextlib.redirect_stdout(io.StringIO()):
            return predict(model, x_test, batch_size=batch_size)

    probs = test_probabilities()
    y_pred = probs.argmax(1)
    metrics = evaluate_predictions(dataset.y_test, probs, dataset.class_names)
    last = metrics["accuracy"]
    if result.last_weights is not None:
        kept = result.model.get_weights()
        result.model.set_weights(result.last_weights)
        last = float(np.mean(test_probabilities().argmax(1) == dataset.y_test))
        result.model.set_weights(kept)
    history = result.history
    chosen = history[history["epoch"] == result.selected_epoch] if len(history) else history
    n_infer = min(len(x_test), 1024)
    metrics.update(
        {
            "test_accuracy": metrics["accuracy"],
            "select_epoch": result.config["select_epoch"],
            "selected_epoch": result.selected_epoch,
            "last_epoch_test_accuracy": last,
            "val_accuracy": float(chosen["val_accuracy"].iloc[0]) if len(chosen) else None,
            "last_epoch_val_accuracy": float(history["val_accuracy"].iloc[-1]) if len(history) else None,
            "epochs_run": len(history),
            "train_seconds": float(history["epoch_seconds"].sum()) if len(history) else result.train_seconds,
            "train_images_per_s": float(history["images_per_s"].median()) if len(history) else None,
            "inference_images_per_s": inference_throughput(model, x_test[:n_infer], batch_size=batch_size)
            if n_infer
            else None,
            "params": count_params(result.model),
            "flops_per_image": count_flops(model),
            "resumed_from_epoch": result.resumed_from_epoch,
        }
    )
    run = result.run
    run.write_npz(RunDir.PREDICTIONS, y_true=dataset.y_test, y_pred=y_pred, probs=probs.astype(np.float16))
    run.write_json(RunDir.METRICS, metrics)  # written last: its presence marks the run finished
    return metrics
