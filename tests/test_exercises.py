"""Exercises: every check passes on the notebooks' solutions, answers wrong ones with a hint that names what is off,
and the student version (solutions removed) runs to the end with polite [not answered] checks."""

import json
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers

from helpers.course.exercises import EXERCISES, check
from helpers.course.student import BEGIN, END, student_source, write_student_version

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


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


WRONG = {  # a wrong answer for each exercise, and a word its hint must contain
    "mnist_val_images": (10000, "test set"),
    "report1_val_fraction": (12500, "fraction"),
    "standardize": (lambda x, m, s: (x - m) / s, "255"),
    "cifar_pixels": (1024, "channel"),
    "conv_params": (73728, "bias"),
    "vgg_final_shape": ((2, 2, 512), "height and width"),
    "vgg13_config": ([64, "M", 128, "M"], "pools"),
    "vgg_loop": (lambda x, cfg: layers.Conv2D(8, 3)(x), "output shape"),
    "budget_images": (300, "batch of 32"),
    "one_cycle_lr": (lambda step, total, peak: peak, "step 0"),
    "vgg11_experiment": (None, "train"),
    "bottleneck_params": (69632, "batch norm"),
    "stage_shape": ((32, 32, 128), "height and width"),
    "resnet34_layers": (16, "blocks"),
    "basic_block": (
        lambda x, filters, stride=1: layers.Conv2D(filters, 3, strides=stride, padding="same")(x),
        "parameters",
    ),
    "bottleneck_block": (lambda x, filters, stride=1: x, "0 parameters"),
    "plain_block": (lambda x, filters, stride=1: None, "returns None"),
    "plain_experiment": (type("R", (), {"config": {"model": "resnet18"}})(), "model='resnet18'"),
    "inception_channels": (192, "input"),
    "reduction_params": (153600, "1x1"),
    "naive_inception": (lambda x, f1, f3, f5: layers.Conv2D(f1, 1)(x), "output shape"),
    "inception_module": (lambda x, filters: 1 / 0, "ZeroDivisionError"),
    "augment_experiment": (type("R", (), {"config": {"augment": "flip_crop"}})(), "augment='flip_crop'"),
    "block3_pool_shape": ((8, 8, 256), "height and width"),
    "gradcam_cell_pixels": (64, "per side"),
    "center_share": (lambda h: 1 - h[8:24, 8:24].sum() / h.sum(), "border"),
}


def test_every_exercise_has_a_wrong_answer_case():
    assert set(WRONG) == set(EXERCISES)


@pytest.mark.parametrize("name", sorted(WRONG))
def test_wrong_answers_get_a_hint_that_names_what_is_off(name, capsys):
    keras.backend.clear_session()
    answer, word = WRONG[name]
    assert not check(name, answer)
    out = capsys.readouterr().out
    assert out.startswith(f"[try again] {name}: ") and out.count("\n") == 1, out
    assert word in out, out


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_unanswered_exercises_fail_politely(name, capsys):
    assert not check(name, ...)
    assert (
        capsys.readouterr().out
        == f"[not answered] {name}: replace the ... with your answer, then run the cell again.\n"
    )


def test_known_right_answers_pass(capsys):
    """The judges accept the right answers (the notebooks' own solutions pass in the smoke run's notebooks)."""
    from helpers.models.googlenet import inception
    from helpers.models.resnet import basic_block
    from helpers.models.vgg import CFG

    def features(x, cfg):
        for v in cfg:
            x = layers.MaxPooling2D(2)(x) if v == "M" else layers.Conv2D(v, 3, padding="same", activation="relu")(x)
        return x

    def standardize(x, mean, std):
        return (x / 255.0 - mean) / std

    def one_cycle_lr(step, total_steps, peak_lr):
        warm = int(total_steps * 0.15)
        if step < warm:
            return peak_lr / 25 + (peak_lr - peak_lr / 25) * step / warm
        t = (step - warm) / (total_steps - warm)
        return peak_lr * (0.0025 + (1 - 0.0025) * 0.5 * (1 + np.cos(np.pi * t)))

    right = {
        "mnist_val_images": 6000,
        "report1_val_fraction": 0.25,
        "cifar_pixels": 32 * 32 * 3,
        "standardize": standardize,
        "conv_params": 73856,
        "vgg_final_shape": (1, 1, 512),
        "vgg13_config": list(CFG["vgg13"]),
        "vgg_loop": features,
        "one_cycle_lr": one_cycle_lr,
        "budget_images": 8 * 1200,
        "bottleneck_params": 71168,
        "stage_shape": (16, 16, 128),
        "resnet34_layers": 34,
        "plain_block": lambda x, filters, stride=1: basic_block(x, filters, stride, shortcut=False, name="s"),
        "basic_block": lambda x, filters, stride=1: basic_block(x, filters, stride, name="s"),
        "inception_channels": 256,
        "reduction_params": 15872,
        "inception_module": lambda x, filters: inception(x, filters, "s"),
        "vgg11_experiment": type("R", (), {"config": {"model": "vgg11"}})(),
        "block3_pool_shape": (4, 4, 256),
        "gradcam_cell_pixels": 8,
        "center_share": lambda h: (
            h[h.shape[0] // 4 : -(h.shape[0] // 4), h.shape[1] // 4 : -(h.shape[1] // 4)].sum() / h.sum()
        ),
    }
    for name, answer in right.items():
        keras.backend.clear_session()
        assert check(name, answer), capsys.readouterr().out


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
    assert names == [
        "01_data_loading.ipynb",
        "02_vgg.ipynb",
        "03_resnet.ipynb",
        "04_googlenet.ipynb",
        "06_what_cnns_see.ipynb",
    ]
    for name in names:
        code = "\n".join(
            "".join(c["source"]) for c in json.loads((tmp_path / name).read_text())["cells"] if c["cell_type"] == "code"
        )
        assert BEGIN not in code and END not in code and "= ...  # your answer" in code
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
