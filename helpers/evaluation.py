"""Evaluation: predictions, accuracy, classification report, confusion matrix, sample selection, speed, FLOPs.

Everything returned here is plain numpy / Python so that it can go into `metrics.json`. TensorFlow and Keras are
imported inside the functions that need a model, so importing this module stays cheap.
"""

from __future__ import annotations

import contextlib
import logging
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.metrics import classification_report, confusion_matrix

from helpers.runs import jsonable

REPORT_COLUMNS = ["precision", "recall", "f1-score", "support"]


def to_labels(y) -> np.ndarray:
    """Return integer class indices from labels (N,), (N, 1) or one-hot / probability rows (N, C)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    return y.reshape(-1).astype(np.int64)


def main_output_model(model):
    """Return `model` itself, or for a multi-output model (GoogLeNet: main, aux1, aux2) a model of its first output."""
    if len(getattr(model, "outputs", None) or []) <= 1:
        return model
    try:
        from helpers.models import inference_model
    except ImportError:
        import keras

        return keras.Model(model.inputs, model.outputs[0])
    return inference_model(model)


@contextlib.contextmanager
def _quiet_tensorflow():
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
    model = main_output_model(model)
    with _quiet_tensorflow():  # each new model traces its predict function once: not worth a warning in a PDF
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
    model = main_output_model(model)
    x = np.asarray(x)
    n_used = max(len(x) // batch_size * batch_size, min(len(x), batch_size))
    batches = [x[i : i + batch_size] for i in range(0, n_used, batch_size)]
    with _quiet_tensorflow():
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
    """Return floating-point operations per image (a multiply-add counts 2) from TensorFlow's profiler.

    The model's first output is traced at batch 1 in inference mode, its variables frozen to constants, and the
    profiler's `float_operation` counts summed: Conv2D/MatMul (2 x MACs) plus the small change of bias adds,
    element-wise arithmetic (batch norm, residual adds), pooling and softmax; ReLU and concatenation count
    nothing. Returns None with a warning where the profiler fails.
    """
    from helpers.environment import stderr_fd_silenced

    try:
        import tensorflow as tf
        from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

        model = main_output_model(model)
        shape = tuple(input_shape or model.input_shape[1:])
        # Freezing (grappler) and the profiler print C++ log lines to fd 2 (absl's "WARNING: All log messages
        # before absl::InitializeLog()..."): red text in a notebook that looks like an error but is not one.
        # Failures still arrive as Python exceptions, reported below.
        with _quiet_tensorflow(), stderr_fd_silenced():
            forward = tf.function(lambda images: model(images, training=False))
            concrete = forward.get_concrete_function(tf.TensorSpec((1, *shape), tf.float32))
            graph = convert_variables_to_constants_v2(concrete).graph
            options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
            options["output"] = "none"
            profile = tf.compat.v1.profiler.profile(
                graph=graph, run_meta=tf.compat.v1.RunMetadata(), cmd="op", options=options
            )
        return int(profile.total_float_ops)
    except Exception as error:  # the v1 profiler is not guaranteed to exist in every TensorFlow build
        warnings.warn(
            f"count_flops: TensorFlow profiler unavailable ({error!r}); returning None", stacklevel=2
        )
        return None
