"""Exercises: every check passes on the notebooks' solutions, answers wrong ones with a hint that names what is off,
and the student version (solutions removed) runs to the end with polite [not answered] checks."""

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
from keras import layers

from helpers.course.exercises import EXERCISES, check
from helpers.course.student import BEGIN, END, MARKDOWN_STUB, student_source, write_student_version
from helpers.experiments import NOTEBOOKS as NOTEBOOK_KINDS

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
NOTEBOOK_NAMES = list(NOTEBOOK_KINDS.values())


def code_cells(name: str) -> list[str]:
    nb = json.loads((NOTEBOOKS / name).read_text())
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def test_at_least_16_exercises_of_three_kinds_in_01_to_04():
    real = [e for e in EXERCISES.values() if e.kind != "shown"]
    assert len(real) >= 16
    assert {e.kind for e in real} == {"predict", "code", "experiment"}
    assert {e.notebook for e in real} == {
        "01_data_loading.ipynb",
        "02_vgg.ipynb",
        "03_resnet.ipynb",
        "04_googlenet.ipynb",
        "06_what_cnns_see.ipynb",
    }


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_every_exercise_is_checked_in_its_notebook(name):
    exercise = EXERCISES[name]
    cells = [c for c in code_cells(exercise.notebook) if f'check("{name}", ' in c]
    assert len(cells) == 1, f"{exercise.notebook} should check {name} exactly once"
    cell = cells[0]
    if exercise.kind == "shown":  # written in plain sight: the student version keeps it
        assert BEGIN not in cell
    else:  # the solution block comes right before its check, in the same cell
        assert cell.index(BEGIN) < cell.index(END) < cell.index(f'check("{name}", '), cell


# --- answers students write ----------------------------------------------------------------------------------
# Wrong and right answers as students write them: NumPy numbers, lists for tuples, blocks with a missing ReLU or
# the stride on the wrong convolution, runs that are unfinished or change more than asked. Each wrong answer comes
# with a word its hint must contain.


def conv_bn(x, filters, kernel, stride=1, relu=True):
    x = layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x) if relu else x


def shortcut(x, filters, stride):
    return conv_bn(x, filters, 1, stride, relu=False) if stride != 1 or x.shape[-1] != filters else x


def basic_block_reversed(x, filters, stride=1):
    """Right, written differently: the shortcut built first, ReLU as layers.ReLU."""
    s = shortcut(x, filters, stride)
    y = conv_bn(x, filters, 3, stride)
    y = conv_bn(y, filters, 3, relu=False)
    return layers.ReLU()(layers.Add()([y, s]))


def basic_block_relu_before_add(x, filters, stride=1):
    y = conv_bn(conv_bn(x, filters, 3, stride), filters, 3)
    return layers.Add()([shortcut(x, filters, stride), y])


def basic_block_no_final_relu(x, filters, stride=1):
    y = conv_bn(conv_bn(x, filters, 3, stride), filters, 3, relu=False)
    return layers.Add()([shortcut(x, filters, stride), y])


def bottleneck_right(x, filters, stride=1):
    y = conv_bn(conv_bn(x, filters, 1), filters, 3, stride)
    y = conv_bn(y, 4 * filters, 1, relu=False)
    return layers.Activation("relu")(layers.add([y, shortcut(x, 4 * filters, stride)]))


def bottleneck_stride_on_1x1(x, filters, stride=1):
    y = conv_bn(conv_bn(x, filters, 1, stride), filters, 3)
    return layers.ReLU()(layers.Add()([shortcut(x, 4 * filters, stride), conv_bn(y, 4 * filters, 1, relu=False)]))


def plain_right(x, filters, stride=1):
    """Right, written differently: Conv2D objects made first, ReLU as an Activation."""
    convs = [layers.Conv2D(filters, 3, strides=s, padding="same", use_bias=False) for s in (stride, 1)]
    for conv in convs:
        x = layers.Activation("relu")(layers.BatchNormalization()(conv(x)))
    return x


def plain_no_relu(x, filters, stride=1):
    return conv_bn(conv_bn(x, filters, 3, stride, relu=False), filters, 3, relu=False)


def plain_stride_second(x, filters, stride=1):
    return conv_bn(conv_bn(x, filters, 3), filters, 3, stride)


def plain_with_shortcut(x, filters, stride=1):
    return layers.Add()([shortcut(x, filters, stride), conv_bn(conv_bn(x, filters, 3, stride), filters, 3)])


def naive_right(x, f1, f3, f5):
    branches = [layers.ReLU()(layers.Conv2D(f, k, padding="same")(x)) for f, k in ((f1, 1), (f3, 3), (f5, 5))]
    return layers.concatenate([*branches, layers.MaxPool2D(pool_size=3, strides=1, padding="same")(x)])


def naive_without_relu(x, f1, f3, f5):
    branches = [layers.Conv2D(f, k, padding="same")(x) for f, k in ((f1, 1), (f3, 3), (f5, 5))]
    return layers.Concatenate()([*branches, layers.MaxPooling2D(3, strides=1, padding="same")(x)])


def naive_pool_first(x, f1, f3, f5):
    branches = [layers.Conv2D(f, k, padding="same", activation="relu")(x) for f, k in ((f1, 1), (f3, 3), (f5, 5))]
    return layers.Concatenate()([layers.MaxPooling2D(3, strides=1, padding="same")(x), *branches])


def inception_right(x, filters):
    f1, f3r, f3, f5r, f5, fp = filters
    pooled = layers.MaxPooling2D(3, strides=1, padding="same")(x)
    branches = [conv_bn(x, f1, 1), conv_bn(conv_bn(x, f3r, 1), f3, 3), conv_bn(conv_bn(x, f5r, 1), f5, 5)]
    return layers.Concatenate()([*branches, conv_bn(pooled, fp, 1)])


def inception_without_pool_projection(x, filters):
    f1, f3r, f3, f5r, f5, _ = filters
    pooled = layers.MaxPooling2D(3, strides=1, padding="same")(x)
    branches = [conv_bn(x, f1, 1), conv_bn(conv_bn(x, f3r, 1), f3, 3), conv_bn(conv_bn(x, f5r, 1), f5, 5)]
    return layers.Concatenate()([*branches, pooled])


def features_right(x, cfg):
    for v in cfg:
        if v == "M":
            x = layers.MaxPool2D()(x)
        else:
            x = layers.ReLU()(layers.Conv2D(v, (3, 3), padding="same")(x))
    return x


def features_without_relu(x, cfg):
    for v in cfg:
        x = layers.MaxPooling2D(2)(x) if v == "M" else layers.Conv2D(v, 3, padding="same")(x)
    return x


def features_valid(x, cfg):
    for v in cfg:
        x = layers.MaxPooling2D(2)(x) if v == "M" else layers.Conv2D(v, 3, activation="relu")(x)
    return x


class Run:
    """What train() returns, as far as the experiment checks read it."""

    def __init__(self, epochs_done=2, **config):
        base = {"model": "vgg16", "dataset": "cifar10", "recipe": "best", "epochs": 2, "augment": "flip", "lr": 1e-3}
        self.config = {**base, "batch_size": 32, "experiment": "best_vgg16_cifar10", "images_seen": 128, **config}
        self.history = pd.DataFrame({"epoch": range(1, epochs_done + 1), "accuracy": 0.5})


NOTEBOOK_RUN = Run()  # the notebook's own run that the experiments are checked against


def one_cycle_right(step, total_steps, peak_lr):
    """Right, written differently: warm-up by interpolation, the cosine with math."""
    warm = int(0.15 * total_steps)
    if step < warm:
        return float(np.interp(step, [0, warm], [peak_lr / 25, peak_lr]))
    t = (step - warm) / (total_steps - warm)
    return peak_lr * 0.0025 + (peak_lr - peak_lr * 0.0025) * (1 + math.cos(math.pi * t)) / 2


def one_cycle_no_warmup(step, total_steps, peak_lr):
    return peak_lr * (0.0025 + (1 - 0.0025) * 0.5 * (1 + math.cos(math.pi * step / total_steps)))


def center_right(h):
    h = np.asarray(h)
    r, c = h.shape[0] // 4, h.shape[1] // 4
    return h[r : h.shape[0] - r, c : h.shape[1] - c].sum() / h.sum()


VGG13 = (64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M")
VGG13_WRONG_ORDER = [64, "M", 64, 128, "M", 128, 256, "M", 256, 512, "M", 512, 512, "M", 512]

# name -> (right answers written differently from the solution, [(wrong answer, word its hint must contain)])
CASES = {
    "mnist_val_images": ([np.int64(6000), 0.1 * 60_000], [(10000, "test set"), (6000.5, "whole"), ("6000", "number")]),
    "report1_val_fraction": ([np.float32(0.25), 12_500 / 50_000], [(12500, "fraction"), (1 / 3, "over all")]),
    "standardize": (
        [lambda x, m, s: (x.astype("float32") / 255 - m) / s],
        [(lambda x, m, s: (x - m) / s, "255"), (lambda x, m, s: x / 255.0, "subtract"), (lambda x, m, s: None, "None")],
    ),
    "cifar_pixels": ([np.int32(3072), 32.0 * 32 * 3], [(1024, "channel"), (784, "MNIST")]),
    "conv_params": ([np.int64(73856), 3 * 3 * 64 * 128 + 128.0], [(73728, "bias"), (576, "128"), (True, "number")]),
    "vgg_final_shape": ([[1, 1, 512], np.array([1, 1, 512])], [((2, 2, 512), "height and width"), ((1, 512), "dim")]),
    "vgg13_config": ([VGG13], [([64, "M", 128, "M"], "pools"), (VGG13_WRONG_ORDER, "order")]),
    "vgg_loop": ([features_right], [(features_without_relu, "ReLU"), (features_valid, "output shape")]),
    "budget_images": ([np.int64(9600), 8 * 1200.0], [(300, "batch of 32"), (1200, "8 passes")]),
    "one_cycle_lr": ([one_cycle_right], [(lambda step, total, peak: peak, "step 0"), (one_cycle_no_warmup, "step 0")]),
    "vgg11_experiment": (
        [Run(model="vgg11", experiment=None, images_seen=999)],
        [
            (Run(model="vgg11", epochs_done=1), "stopped after 1 of its 2"),
            (Run(model="vgg11", lr=3e-3), "also changes lr"),
            (type("R", (), {"config": {"model": "vgg11"}})(), "train(...)"),
            (Run(model="vgg13"), "model='vgg13'"),
        ],
    ),
    "bottleneck_params": ([np.int64(71168)], [(69632, "batch norm"), (71168.5, "whole")]),
    "stage_shape": (
        [[16, 16, 128], np.array([16, 16, 128], dtype=np.int64)],
        [((32, 32, 128), "height and width"), ((16.9, 16.2, 128), "whole numbers")],
    ),
    "basic_block": (
        [basic_block_reversed],
        [
            (basic_block_relu_before_add, "after the addition"),
            (basic_block_no_final_relu, "after the addition comes a ReLU"),
            (plain_right, "nothing is added"),
        ],
    ),
    "bottleneck_block": (
        [bottleneck_right],
        [(bottleneck_stride_on_1x1, "3x3"), (lambda x, filters, stride=1: x, "0 parameters")],
    ),
    "plain_block": (
        [plain_right],
        [
            (plain_no_relu, "no ReLU"),
            (plain_stride_second, "stride"),
            (plain_with_shortcut, "shortcut"),
            (lambda x, filters, stride=1: None, "returns None"),
        ],
    ),
    "resnet34_layers": ([np.int64(34)], [(16, "blocks"), (33, "dense")]),
    "cifar_resnet_depth": ([np.int16(56), 6 * 9 + 2.0], [(54, "stem"), (27, "blocks")]),
    "deeper_plain_prediction": (["Plain-56", " plain56 "], [("plain20", "optimiser"), ("resnet56", "answer one of")]),
    "plain20_run": (
        [Run(model="plain20")],
        [(Run(model="plain56"), "model='plain56'"), (Run(model="plain20", epochs_done=0), "stopped")],
    ),
    "plain56_run": (
        [Run(model="plain56", experiment=None)],
        [(Run(model="plain56", augment="none"), "also changes augment"), (Run(model="plain20"), "plain56")],
    ),
    "inception_channels": ([np.int64(256)], [(192, "input"), (320, "reductions")]),
    "reduction_params": ([np.int64(15872), 192 * 16 + 5 * 5 * 16 * 32.0], [(153600, "1x1"), (12800, "192 x 16")]),
    "naive_inception": ([naive_right], [(naive_without_relu, "ReLU"), (naive_pool_first, "order")]),
    "inception_module": (
        [inception_right],
        [(inception_without_pool_projection, "output shape"), (lambda x, filters: 1 / 0, "ZeroDivisionError")],
    ),
    "augment_experiment": (
        [Run(augment="none")],
        [
            (Run(augment="flip_crop"), "augment='flip_crop'"),
            (Run(augment="none", epochs=3, epochs_done=3), "also changes epochs"),
        ],
    ),
    "block3_pool_shape": ([[4, 4, 256]], [((8, 8, 256), "height and width"), ((4.0, 4.5, 256), "whole numbers")]),
    "gradcam_cell_pixels": ([np.int64(8), 32 / 4], [(64, "per side"), (4, "how many image pixels")]),
    "center_share": (
        [center_right],
        [(lambda h: 1 - center_right(h), "border"), (lambda h: h[8:24, 8:24].sum(), "more than 1")],
    ),
}


def test_every_exercise_has_right_and_wrong_answers():
    assert set(CASES) == set(EXERCISES) - {"gradcam"}  # gradcam needs a trained run: test_gradcam_exercise_*
    for name, (right, wrong) in CASES.items():
        assert len(right) >= 1 and len(wrong) >= 2, name


@pytest.mark.parametrize("name", sorted(CASES))
def test_wrong_answers_get_a_hint_that_names_what_is_off(name, capsys):
    for answer, word in CASES[name][1]:
        keras.backend.clear_session()
        assert not check(name, answer, against=NOTEBOOK_RUN if EXERCISES[name].compare else None)
        out = capsys.readouterr().out
        assert out.startswith(f"[try again] {name}: ") and out.count("\n") == 1, out
        assert word in out, (word, out)


@pytest.mark.parametrize("name", sorted(CASES))
def test_right_answers_written_differently_pass(name, capsys):
    for answer in CASES[name][0]:
        keras.backend.clear_session()
        verdict = check(name, answer, against=NOTEBOOK_RUN if EXERCISES[name].compare else None)
        assert verdict, capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_unanswered_exercises_fail_politely(name, capsys):
    assert not check(name, ..., against=NOTEBOOK_RUN)
    assert (
        capsys.readouterr().out
        == f"[not answered] {name}: replace the ... with your answer, then run the cell again.\n"
    )


def test_an_experiment_check_needs_the_notebooks_run():
    with pytest.raises(TypeError, match="against"):
        check("vgg11_experiment", Run(model="vgg11"))


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_every_notebook_ends_with_a_questionnaire_and_its_model_answers(name):
    """5-10 "why / what if" questions, as fastbook ends its chapters; the answers between the solution markers."""
    cells = json.loads((NOTEBOOKS / name).read_text())["cells"]
    tagged = [c for c in cells if "questionnaire" in c["metadata"].get("tags", [])]
    assert [c["cell_type"] for c in tagged] == ["markdown", "markdown"] and tagged[-1] is cells[-1]
    questions, answers = ("".join(c["source"]) for c in tagged)
    asked = re.findall(r"^(\d+)\. .*\?", questions, re.M)
    assert 5 <= len(asked) <= 10 and asked == [str(i) for i in range(1, len(asked) + 1)]
    inside = answers.split(BEGIN)[1].split(END)[0]
    assert re.findall(r"^(\d+)\. ", inside, re.M) == asked  # one model answer a question
    assert student_source(answers, markdown=True) == f"**Model answers**\n\n{MARKDOWN_STUB}"


def test_student_source_replaces_solutions_by_stubs():
    source = f"a = 1\n{BEGIN}\nx = 3 * 4\ndef f(a, b=2):\n    '''Doc.'''\n    return a\n{END}\ncheck('x', x)"
    assert student_source(source) == (
        'a = 1\nx = ...  # your answer\ndef f(a, b=2):\n    """Doc."""\n    ...  # your code\ncheck(\'x\', x)'
    )
    with pytest.raises(ValueError, match="without"):
        student_source(f"{BEGIN}\nx = 1\n")


def test_student_version_command_writes_notebooks_without_solutions(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "helpers.course", "student", str(tmp_path)], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in tmp_path.glob("*.ipynb"))
    assert names == sorted(NOTEBOOK_NAMES)
    with_code = {e.notebook for e in EXERCISES.values() if e.kind != "shown"}
    for name in names:
        cells = json.loads((tmp_path / name).read_text())["cells"]
        text = "\n".join("".join(c["source"]) for c in cells)
        markers = [line for line in text.splitlines() if line.strip() in (BEGIN, END)]
        assert not markers, name  # no solution left, in code or in Markdown
        assert ("= ...  # your answer" in text) == (name in with_code), name
        answers = [c for c in cells if "questionnaire" in c["metadata"].get("tags", [])][-1]
        assert "".join(answers["source"]) == f"**Model answers**\n\n{MARKDOWN_STUB}", name
    assert write_student_version([NOTEBOOKS / "02_vgg.ipynb"], tmp_path / "x")[0].is_file()


@pytest.mark.slow
def test_student_version_runs_to_the_end_with_polite_checks(tmp_path):
    """The student's 02, smoke parameters: no crash, every exercise [not answered], the shown check [correct]."""
    import papermill

    from helpers.experiments import EXPERIMENTS, parameters_for

    write_student_version([NOTEBOOKS / "02_vgg.ipynb"], tmp_path)
    params = parameters_for(EXPERIMENTS["best_vgg16_cifar10"], "smoke", str(tmp_path / "out"))
    params["experiment_exercises"] = True  # smoke runs them in r1_exp1's 02; here they must say [not answered]
    nb = papermill.execute_notebook(
        str(tmp_path / "02_vgg.ipynb"),
        str(tmp_path / "done.ipynb"),
        parameters=params,
        kernel_name="python3",
        progress_bar=False,
        cwd=str(tmp_path),
    )
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []) if o.get("name") == "stdout")
    for e in EXERCISES.values():
        if e.notebook == "02_vgg.ipynb":
            expected = f"[correct] {e.name}" if e.kind == "shown" else f"[not answered] {e.name}"
            assert expected in text, e.name
    assert "[try again]" not in text


def test_smoke_notebooks_pass_every_check_on_the_solutions(smoke):
    """run_all and CI execute the solution version: every exercise of 01-04 prints [correct]."""
    out, _, _ = smoke
    executed = sorted(out.glob("runs/*/notebook.ipynb")) + sorted((out / "notebooks").glob("*.ipynb"))
    text = ""
    for path in executed:
        nb = json.loads(path.read_text())
        text += "".join(
            "".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []) if o.get("name") == "stdout"
        )
    for name in EXERCISES:
        assert f"[correct] {name}" in text, name
    assert "[try again]" not in text and "[not answered]" not in text


def test_a_stub_function_of_the_student_version_is_not_answered(tmp_path, monkeypatch, capsys):
    """The student's ``def standardize(...): ...`` stub says [not answered]; a real body that returns None is
    judged (and told it returns None). The Verdict shows no Out[] value in a notebook."""
    import importlib

    source = f"{BEGIN}\ndef standardize(images, mean, std):\n    '''Standardise.'''\n    return images\n{END}\n"
    (tmp_path / "student_stub.py").write_text(
        student_source(source) + "\n\ndef forgot(images, mean, std):\n    x = images\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("student_stub")
    assert not check("standardize", module.standardize)
    assert capsys.readouterr().out.startswith("[not answered] standardize")
    verdict = check("standardize", module.forgot)
    assert not verdict and "returns None" in capsys.readouterr().out
    assert repr(verdict) == "False" and verdict._ipython_display_() is None


def small_functional_network() -> keras.Model:
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(8, 3, activation="relu")(inputs)
    x = keras.layers.MaxPooling2D(4)(x)
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    return keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(x)))


def test_gradcam_exercise_checked_on_a_runs_own_model(capsys):
    """The student's Grad-CAM against the kit's on a run's model and test images: right when written another way
    (TensorFlow's own GradientTape), named mistakes when the ReLU, the averaging or the scaling is missing."""
    import types

    import tensorflow as tf

    from helpers.evaluation import gradcam_layer
    from helpers.evaluation.graph import activation_model, logits_model

    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)
    run = types.SimpleNamespace(
        # A small network whose last convolution feeds a dense layer through Flatten: the gradients differ between
        # positions and the weighted sums change sign, so each named mistake changes the maps (an untrained VGG's
        # sums are all positive here; a ResNet's last block feeds global average pooling, where averaging the
        # gradients changes nothing).
        model=small_functional_network(),
        x_test=rng.integers(0, 256, (16, 32, 32, 3), dtype=np.uint8),
        note="",
        inputs=lambda images: (np.asarray(images, np.float32) / 255.0 - 0.5) / 0.25,
    )

    def parts(model, images, layer):
        maps = tf.convert_to_tensor(activation_model(model, layer)(images, training=False))
        head = logits_model(model, layer)
        with tf.GradientTape() as tape:
            tape.watch(maps)
            scores = head(maps, training=False)
            picked = tf.reduce_max(scores, axis=-1)  # the predicted class's score
        return maps.numpy(), tape.gradient(picked, maps).numpy()

    def right(model, images, layer):
        maps, grads = parts(model, images, layer)
        cam = tf.nn.relu(tf.einsum("nhwc,nc->nhw", maps, grads.mean(axis=(1, 2)))).numpy()
        return cam / np.maximum(cam.max(axis=(1, 2), keepdims=True), 1e-12)

    def no_relu(model, images, layer):
        maps, grads = parts(model, images, layer)
        cam = (maps * grads.mean(axis=(1, 2), keepdims=True)).sum(-1)
        return cam / np.abs(cam).max(axis=(1, 2), keepdims=True)

    def not_averaged(model, images, layer):
        maps, grads = parts(model, images, layer)
        cam = np.maximum((maps * grads).sum(-1), 0)
        return cam / np.maximum(cam.max(axis=(1, 2), keepdims=True), 1e-12)

    def not_scaled(model, images, layer):
        maps, grads = parts(model, images, layer)
        return np.maximum((maps * grads.mean(axis=(1, 2), keepdims=True)).sum(-1), 0)

    assert check("gradcam", right, against=run), capsys.readouterr().out
    raw = no_relu(run.model, run.inputs(run.x_test), gradcam_layer(run.model))
    assert (raw < 0).any()  # negative evidence exists on these images: a missing ReLU can be seen
    for wrong, word in ((no_relu, "positive part"), (not_averaged, "averaged"), (not_scaled, "maximum")):
        assert not check("gradcam", wrong, against=run)
        assert word in capsys.readouterr().out
    run.x_test, run.note = None, "no network"
    assert not check("gradcam", right, against=run) and "cannot be reloaded" in capsys.readouterr().out
