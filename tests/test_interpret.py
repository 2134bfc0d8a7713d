"""helpers.evaluation.interpret and graph: Grad-CAM with a known answer, the layers it picks in every model family,
filter pictures,
opening runs; and 06_what_cnns_see executed by papermill (on the smoke runs, and on an empty folder)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers

from helpers.evaluation import graph, interpret
from helpers.evaluation import trained as trained_runs
from helpers.figures import interpretation as interpret_plots
from helpers.models import MODEL_NAMES, build_model
from helpers.training import tensorboard

ROOT = Path(__file__).resolve().parents[1]
CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")


def corner_images(n, size=16, seed=0):
    """Faint noise; half the images have a bright 4x4 square in a random corner (class 1), half none (class 0)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 0.3, (n, size, size, 1)).astype(np.float32)
    y = np.arange(n) % 2
    corner = rng.integers(0, 4, n)
    for i in np.flatnonzero(y):
        r, c = divmod(int(corner[i]), 2)
        top, left = (1, size - 5)[r], (1, size - 5)[c]
        x[i, top : top + 4, left : left + 4] = 1.0
    return x, y, corner


def peak_corner(heatmap) -> int:
    """The corner (index into CORNERS) of the quadrant that holds the heatmap's maximum."""
    r, c = np.unravel_index(np.argmax(heatmap), heatmap.shape)
    h, w = heatmap.shape
    return 2 * int(r >= h / 2) + int(c >= w / 2)


@pytest.fixture(scope="module")
def square_model():
    keras.utils.set_random_seed(0)
    x, y, _ = corner_images(512)
    inputs = keras.Input((16, 16, 1))
    h = layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    h = layers.Conv2D(16, 3, padding="same", activation="relu", name="last_conv")(h)
    h = layers.GlobalAveragePooling2D()(h)
    model = keras.Model(inputs, layers.Activation("softmax")(layers.Dense(2)(h)))
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=8, batch_size=32, verbose=0)
    return model


def test_gradcam_peaks_in_the_corner_with_the_square(square_model):
    x, y, corner = corner_images(64, seed=1)
    assert (square_model.predict(x, verbose=0).argmax(-1) == y).mean() >= 0.95  # it learned the task
    squares = np.flatnonzero(y == 1)
    assert graph.gradcam_layer(square_model) == "last_conv"
    heat = interpret.gradcam(square_model, x[squares], classes=np.ones(len(squares), int))
    assert heat.shape == (len(squares), 16, 16) and heat.min() >= 0 and np.isclose(heat.max(), 1)
    found = np.array([peak_corner(h) for h in heat])
    assert (found == corner[squares]).all(), [CORNERS[c] for c in found]
    # The check can fail: a heatmap flipped upside down and left to right points at the opposite corner.
    flipped = np.array([peak_corner(np.flip(h)) for h in heat])
    assert not (flipped == corner[squares]).any()


def test_gradcam_of_the_predicted_class_by_default(square_model):
    x, y, _ = corner_images(8, seed=2)
    np.testing.assert_allclose(
        interpret.gradcam(square_model, x),
        interpret.gradcam(square_model, x, classes=square_model.predict(x, verbose=0).argmax(-1)),
    )


def test_gradient_is_per_sample():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    values, grads = interpret.gradient(lambda v: keras.ops.sum(v**2, axis=-1), x)
    np.testing.assert_allclose(values, (x**2).sum(-1))
    np.testing.assert_allclose(grads, 2 * x)


SHAPES = {"mnist": (28, 28, 1), "cifar10": (32, 32, 3)}
CASES = [(name, "cifar10") for name in MODEL_NAMES if name != "report_vgg16_mnist"] + [
    ("report_vgg16_mnist", "mnist"),
    ("vgg11", "mnist"),
    ("report_resnet50", "mnist"),
]


@pytest.mark.parametrize("name,dataset", CASES)
def test_every_model_family_gives_stages_heatmaps_and_filters(name, dataset):
    keras.backend.clear_session()
    shape = SHAPES[dataset]
    model = build_model(name, shape)
    stages = graph.stage_layers(model)
    x = np.random.default_rng(0).standard_normal((2, *shape)).astype(np.float32)
    maps = interpret.feature_maps(model, x, stages)
    sizes = [m.shape[1] for m in maps.values()]
    assert len(stages) >= 3 and sizes == sorted(sizes, reverse=True) and sizes[0] >= shape[0] // 2
    assert all(m.shape[0] == 2 and m.ndim == 4 and m.shape[-1] != shape[-1] for m in maps.values())
    heat = interpret.gradcam(model, x)
    assert heat.shape == (2, *shape[:2]) and 0 <= heat.min() and heat.max() <= 1
    assert graph.gradcam_layer(model) in graph.cut_layers(model)
    kernel = graph.first_conv(model).kernel
    pics = interpret.filter_images(kernel, 8)
    assert pics.shape == (8, *kernel.shape[:2], shape[-1]) and pics.min() >= 0 and pics.max() <= 1
    patterns = interpret.filter_patterns(model, stages[0], [0, 1], steps=2)
    assert patterns.shape == (2, *shape) and 0 <= patterns.min() and patterns.max() <= 1


def test_stages_follow_the_architecture():
    resnet = build_model("resnet18", (32, 32, 3))
    assert [graph._shape(resnet, n) for n in graph.stage_layers(resnet)] == [
        (32, 32, 64),
        (16, 16, 128),
        (8, 8, 256),
        (4, 4, 512),
    ]
    assert graph.stage_layers(resnet) == graph.stage_layers(build_model("plain18", (32, 32, 3)))
    googlenet = build_model("googlenet", (32, 32, 3))
    stages = graph.stage_layers(googlenet)
    assert "inception_3a_output" in stages and stages[-1] == "inception_5b_output"
    assert not any(n.startswith("aux") for n in graph.cut_layers(googlenet))  # the main output only
    assert graph.gradcam_layer(googlenet) == "inception_5b_output"
    vgg = build_model("vgg16", (32, 32, 3))
    assert graph.gradcam_layer(vgg) == "block4_conv3_relu"  # 4x4: the last map that can say where
    # a block's inner layer is not a cut: the shortcut passes around it
    assert "conv3_block1_1_relu" not in graph.cut_layers(resnet) and "block1_conv1_relu" in graph.cut_layers(vgg)


def test_logits_model_drops_the_softmax():
    model = build_model("vgg11", (32, 32, 3))
    x = np.random.default_rng(0).standard_normal((2, 32, 32, 3)).astype(np.float32)
    logits = np.asarray(graph.logits_model(model)(x))
    np.testing.assert_allclose(np.asarray(keras.ops.softmax(logits)), np.asarray(model(x)), rtol=1e-4, atol=1e-6)


def test_no_run_gives_one_clear_line(tmp_path):
    with pytest.raises(trained_runs.NoRunError) as e:
        trained_runs.best_run(tmp_path)
    message = str(e.value)
    assert "\n" not in message and "found: nothing" in message and "run_all.py --profile smoke" in message


def test_gallery_titles_say_true_predicted_and_confidence():
    x = np.zeros((2, 16, 16, 3), np.uint8)
    heat = np.zeros((2, 16, 16))
    probs = np.array([[0.9, 0.1], [0.3, 0.7]])
    fig = interpret_plots.gradcam_gallery(x, heat, [0, 0], [0, 1], probs, ["cat", "dog"])
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["true: cat\npred: cat 90%", "true: cat\npred: dog 70%"]


def run_notebook(out, parameters, tmp_path):
    executed = tmp_path / "06.ipynb"
    args = [
        sys.executable,
        "-m",
        "papermill",
        str(ROOT / "notebooks" / "06_what_cnns_see.ipynb"),
        str(executed),
        "--cwd",
        str(ROOT / "notebooks"),
        "-p",
        "output_dir",
        str(out),
    ]
    for key, value in parameters.items():
        args += ["-p", key, str(value)]
    proc = subprocess.run(
        args, capture_output=True, text=True, timeout=900, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    cells = json.loads(executed.read_text())["cells"]
    return [o for c in cells if c["cell_type"] == "code" for o in c.get("outputs", [])]


def test_06_without_runs_says_so_in_one_line(tmp_path):
    outputs = run_notebook(tmp_path / "empty", {}, tmp_path)
    text = "".join("".join(o.get("text", "")) for o in outputs)
    assert "No finished run to look into" in text and "run_all.py --profile smoke" in text
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert not any("image/png" in o.get("data", {}) for o in outputs)


def test_06_on_the_smoke_runs(smoke):
    out, _, _ = smoke
    executed = out / "notebooks" / "what_cnns_see.ipynb"
    cells = json.loads(executed.read_text())["cells"]
    outputs = [o for c in cells if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error" or o.get("name") == "stderr"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 6  # filters, maps, 2 galleries, patterns, pair
    text = json.dumps(outputs)
    assert "[correct] block3_pool_shape" in text and "[correct] center_share" in text
    # the smoke profile's plain-20 beside its ResNet-20 (the degradation study's shallowest pair)
    assert "20 layers: degradation_plain20_cifar10 (plain) vs degradation_resnet20_cifar10 (residual)" in text


def test_report_runs_have_gradcam_galleries(smoke):
    out, _, _ = smoke
    assert sorted(p.name for p in (out / "figures").glob("*-gradcam_incorrect.png"))


def test_tensorboard_without_the_package_is_one_line(monkeypatch, tmp_path, capsys):
    import io

    monkeypatch.setattr(tensorboard, "tensorboard_available", lambda: False)
    stream = io.StringIO()
    assert tensorboard.tensorboard_callback(tmp_path, stream) is None
    assert stream.getvalue().count("\n") == 1 and "pip install" in stream.getvalue()
    assert tensorboard.tensorboard_help(tmp_path, True) == tensorboard.MISSING


@pytest.mark.skipif(
    not tensorboard.tensorboard_available(), reason="the tensorboard package is not installed (pip install -e '.[lab]')"
)
def test_tensorboard_logs_go_into_the_run(tmp_path):
    callback = tensorboard.tensorboard_callback(tmp_path)
    model = keras.Sequential([keras.Input((4,)), layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(np.zeros((8, 4)), np.zeros(8), epochs=2, verbose=0, callbacks=[callback])
    assert list((tmp_path / "tensorboard" / "train").glob("events.out.tfevents.*"))
    help_text = tensorboard.tensorboard_help(tmp_path, True)
    assert "%load_ext tensorboard" in help_text and f"%tensorboard --logdir {tmp_path / 'tensorboard'}" in help_text


def test_feature_maps_are_stretched_for_display():
    """Activations of 0..3 are no pixel values: each map is shown from its own minimum to its own maximum."""
    maps = {"stage": np.linspace(0, 3, 2 * 4 * 4 * 2, dtype=np.float32).reshape(2, 4, 4, 2)}
    fig = interpret_plots.plot_feature_maps(maps, channels=2)
    shown = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert len(shown) == 2 and all(np.isclose(a.min(), 0) and np.isclose(a.max(), 1) for a in shown)
