"""Tests for helpers.evaluation: hand-computed metrics, sample selection, predictions, speed and FLOPs."""

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import pytest
import tensorflow as tf

from helpers import evaluation

CLASS_NAMES = ["a", "b", "c", "d"]  # "d" never occurs: labels=range(C) must still give it a row and column
Y_TRUE = np.array([0, 0, 0, 1, 1, 2])
Y_PRED = np.array([0, 0, 1, 1, 2, 2])


def tiny_model(n_classes=3, aux=False):
    """Conv2D(4, 3x3, same) on 8x8x1 -> Flatten -> Dense; optionally a second (auxiliary) output."""
    inputs = keras.Input((8, 8, 1))
    features = keras.layers.Flatten()(keras.layers.Conv2D(4, 3, padding="same")(inputs))
    main = keras.layers.Dense(n_classes, activation="softmax", name="main")(features)
    if not aux:
        return keras.Model(inputs, main)
    return keras.Model(inputs, [main, keras.layers.Dense(5, activation="softmax", name="aux1")(features)])


def images(n=10, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 8, 8, 1)).astype(np.float32)


def test_to_labels_accepts_indices_columns_and_probabilities():
    np.testing.assert_array_equal(evaluation.to_labels([2, 0]), [2, 0])
    np.testing.assert_array_equal(evaluation.to_labels([[2], [0]]), [2, 0])
    np.testing.assert_array_equal(evaluation.to_labels([[0.1, 0.2, 0.7], [0.9, 0.05, 0.05]]), [2, 0])


def test_evaluate_predictions_matches_hand_computed_values():
    y_prob = np.eye(4, dtype=np.float32)[Y_PRED]
    result = evaluation.evaluate_predictions(Y_TRUE, y_prob, CLASS_NAMES)
    assert result["n"] == 6
    assert result["accuracy"] == pytest.approx(4 / 6)
    assert result["confusion_matrix"] == [[2, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 0], [0, 0, 0, 0]]
    report = result["classification_report"]
    assert report["a"]["precision"] == pytest.approx(1.0)
    assert report["b"]["precision"] == pytest.approx(0.5)
    assert report["a"]["recall"] == pytest.approx(2 / 3)
    assert report["c"]["recall"] == pytest.approx(1.0)
    assert report["d"]["support"] == 0 and report["d"]["precision"] == 0
    assert result["top_confusions"] == [["a", "b", 1], ["b", "c", 1]]
    assert json.loads(json.dumps(result)) == result


def test_top_confusions_orders_by_count_and_skips_diagonal():
    cm = [[9, 1, 3], [0, 8, 0], [2, 5, 7]]
    assert evaluation.top_confusions(cm, ["x", "y", "z"], k=2) == [["z", "y", 5], ["x", "z", 3]]


def test_classification_report_frame_has_classes_and_averages():
    report = evaluation.evaluate_predictions(Y_TRUE, Y_PRED, CLASS_NAMES)["classification_report"]
    frame = evaluation.classification_report_frame(report)
    assert list(frame.index) == CLASS_NAMES + ["accuracy", "macro avg", "weighted avg"]
    assert list(frame.columns) == ["precision", "recall", "f1-score", "support"]
    assert frame.loc["b", "precision"] == 0.5
    assert frame.loc["a", "recall"] == 0.667  # rounded to 3 decimals
    assert frame.loc["accuracy", "f1-score"] == 0.667
    assert frame.loc["accuracy", "support"] == 6
    assert frame["support"].dtype.kind == "i"


@pytest.mark.parametrize("correct", [True, False])
def test_sample_indices_selects_only_requested_kind_deterministically(correct):
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 3, 200)
    y_pred = np.where(rng.random(200) < 0.7, y_true, (y_true + 1) % 3)
    chosen = evaluation.sample_indices(y_true, y_pred, correct=correct, n=16, seed=3)
    assert len(chosen) == 16 and len(set(chosen)) == 16
    assert np.all((y_true[chosen] == y_pred[chosen]) == correct)
    np.testing.assert_array_equal(chosen, evaluation.sample_indices(y_true, y_pred, correct, n=16, seed=3))
    assert not np.array_equal(chosen, evaluation.sample_indices(y_true, y_pred, correct, n=16, seed=4))


def test_sample_indices_per_class_and_none_available():
    y_true = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
    chosen = evaluation.sample_indices(y_true, y_true, correct=True, n=2, per_class=True)
    assert list(y_true[chosen]) == [0, 0, 1, 1, 2, 2]
    empty = evaluation.sample_indices(y_true, y_true, correct=False)
    assert empty.shape == (0,) and empty.dtype == np.int64


def test_predict_array_and_dataset():
    model, x = tiny_model(), images()
    expected = np.asarray(model(x))
    y_prob = evaluation.predict(model, x, batch_size=4)
    assert y_prob.shape == (10, 3) and y_prob.dtype == np.float32
    np.testing.assert_allclose(y_prob, expected, rtol=1e-5, atol=1e-6)
    with_labels = tf.data.Dataset.from_tensor_slices((x, np.zeros(10))).batch(4)
    np.testing.assert_allclose(evaluation.predict(model, with_labels), expected, rtol=1e-5, atol=1e-6)
    images_only = tf.data.Dataset.from_tensor_slices(x).batch(3)
    np.testing.assert_allclose(evaluation.predict(model, images_only), expected, rtol=1e-5, atol=1e-6)


def test_predict_uses_first_output_of_multi_output_model():
    model, x = tiny_model(aux=True), images()
    y_prob = evaluation.predict(model, x)
    assert y_prob.shape == (10, 3) and y_prob.dtype == np.float32
    np.testing.assert_allclose(y_prob, np.asarray(model(x)[0]), rtol=1e-5, atol=1e-6)


def test_inference_throughput_is_positive_and_finite():
    rate = evaluation.inference_throughput(tiny_model(), images(40), batch_size=16, repeats=2)
    assert isinstance(rate, float) and np.isfinite(rate) and rate > 0
    assert evaluation.inference_throughput(tiny_model(), images(5), batch_size=16, repeats=1) > 0


def test_count_flops_matches_hand_count():
    inputs = keras.Input((8, 8, 1))
    conv = keras.layers.Conv2D(4, 3, padding="same")(inputs)  # 2 * (8*8*4 outputs) * (3*3*1 MACs) = 4,608
    logits = keras.layers.Dense(10)(keras.layers.Flatten()(conv))  # 2 * 256 * 10 = 5,120
    macs_times_two = 4608 + 5120
    flops = evaluation.count_flops(keras.Model(inputs, logits))
    assert flops == macs_times_two + 256 + 10  # plus one add per bias
    # Only the main output counts: the auxiliary head of a GoogLeNet-style model is left out.
    assert evaluation.count_flops(tiny_model(aux=True)) == evaluation.count_flops(tiny_model())


def test_count_flops_of_the_kit_models_agree_with_tensorflows_profiler():
    """The counts TensorFlow's (v1) profiler gave before the kit counted from the layers, to within 0.01%."""
    from helpers.models import build_model

    profiler = {
        ("vgg11", (32, 32, 3)): 305_984_188,
        ("resnet18", (32, 32, 3)): 1_112_357_052,
        ("resnet50", (28, 28, 1)): 2_100_571_324,
        ("plain18", (32, 32, 3)): 1_099_408_316,
    }
    for (name, shape), expected in profiler.items():
        assert evaluation.count_flops(build_model(name, shape)) == pytest.approx(expected, rel=1e-4), name


def test_count_flops_returns_none_with_a_warning_naming_a_layer_it_cannot_count():
    inputs = keras.Input((8, 8, 1))
    odd = keras.layers.LayerNormalization(name="odd")(inputs)
    with pytest.warns(UserWarning, match="odd"):
        assert evaluation.count_flops(keras.Model(inputs, keras.layers.Dense(3)(keras.layers.Flatten()(odd)))) is None
