"""Evaluation: predictions, accuracy, classification report, confusion matrix, sample selection, speed, FLOPs,
and the test evaluation of a finished run (``evaluate_run``).

Everything returned here is plain numpy / Python so that it can go into `metrics.json`. Keras is imported inside
the functions that need a model, so importing this module stays cheap.
"""

from __future__ import annotations

import contextlib
import io
import logging
import time

import numpy as np
import pandas as pd
from sklearn.metrics import classification_report, confusion_matrix

from helpers.runs import RunDir, jsonable

REPORT_COLUMNS = ["precision", "recall", "f1-score", "support"]


def to_labels(y) -> np.ndarray:
    """Return integer class indices from labels (N,), (N, 1) or one-hot / probability rows (N, C)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    return y.reshape(-1).astype(np.int64)


@contextlib.contextmanager
def quiet_tensorflow():
    """Silence TensorFlow's Python logger inside the block (profiler deprecation notices, retracing notices)."""
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def predict(model, x, batch_size: int = 256) -> np.ndarray:
    """Return class probabilities (N, C) float32 for an array or a batched `tf.data.Dataset` of x or (x, y)."""
    from helpers.models import inference_model

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


def sample_indices(
    y_true, y_pred, correct: bool, n: int = 16, seed: int = 0, per_class: bool = False
) -> np.ndarray:
    """Return sorted indices of up to `n` correctly (or wrongly) predicted samples, or `n` per true class."""
    y_true, y_pred = to_labels(y_true), to_labels(y_pred)
    rng = np.random.default_rng(seed)
    candidates = np.flatnonzero((y_true == y_pred) == correct)
    groups = [candidates[y_true[candidates] == c] for c in np.unique(y_true)] if per_class else [candidates]
    chosen = [np.sort(rng.permutation(group)[:n]) for group in groups]
    return np.concatenate(chosen).astype(np.int64) if chosen else np.array([], dtype=np.int64)


def inference_throughput(model, x, batch_size: int = 256, repeats: int = 3, warmup: int = 1) -> float:
    """Return inference speed in images/s: median over `repeats` timed passes over the full batches of `x`.

    `warmup` batches run first and are not timed (tracing, memory allocation). A trailing partial batch is left
    out so that timing never includes a re-trace for a new batch shape.
    """
    from helpers.models import inference_model

    model = inference_model(model)
    x = np.asarray(x)
    n_used = max(len(x) // batch_size * batch_size, min(len(x), batch_size))
    batches = [x[i : i + batch_size] for i in range(0, n_used, batch_size)]
    with quiet_tensorflow():
        for i in range(warmup):
            model.predict_on_batch(batches[i % len(batches)])
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for batch in batches:
            model.predict_on_batch(batch)  # returns numpy, so the device work is finished when it returns
        rates.append(n_used / (time.perf_counter() - start))
    return float(np.median(rates))


def count_flops(model, input_shape=None) -> int | None:
    """Floating-point operations per image (a multiply-add counts 2), from TensorFlow's profiler
    (``helpers.tensorflow_only.count_flops``); None under Keras' JAX and PyTorch backends."""
    from helpers.environment import backend

    if backend() != "tensorflow":
        return None
    from helpers.tensorflow_only import count_flops as tf_count_flops

    return tf_count_flops(model, input_shape)


def evaluate_run(result, dataset, batch_size: int = 256) -> dict:
    """Test predictions, accuracy, per-class report, confusion matrix, throughput of a finished ``train()``
    (its ``TrainResult``) -> metrics.json, predictions.npz."""
    import keras

    from helpers.models import count_params, inference_model

    model = inference_model(result.model)
    x_test = keras.ops.convert_to_numpy(result.preprocessing(dataset.x_test))
    with contextlib.redirect_stdout(io.StringIO()):
        probs = predict(model, x_test, batch_size=batch_size)
    y_pred = probs.argmax(1)
    metrics = evaluate_predictions(dataset.y_test, probs, dataset.class_names)
    history = result.history
    n_infer = min(len(x_test), 1024)
    metrics.update({
        "test_accuracy": metrics["accuracy"],
        "val_accuracy": float(history["val_accuracy"].iloc[-1]) if len(history) else None,
        "epochs_run": len(history),
        "train_seconds": float(history["epoch_seconds"].sum()) if len(history) else result.train_seconds,
        "train_images_per_s": float(history["images_per_s"].median()) if len(history) else None,
        "inference_images_per_s": inference_throughput(model, x_test[:n_infer], batch_size=batch_size)
        if n_infer else None,
        "params": count_params(result.model),
        "flops_per_image": count_flops(model, dataset.input_shape),
        "resumed_from_epoch": result.resumed_from_epoch,
    })
    run = result.run
    run.write_npz(RunDir.PREDICTIONS, y_true=dataset.y_test, y_pred=y_pred, probs=probs.astype(np.float16))
    run.write_json(RunDir.METRICS, metrics)  # written last: its presence marks the run finished
    return metrics
