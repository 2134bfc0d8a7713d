"""Exercises: every check passes on the notebooks' solutions, answers wrong ones with a hint that names what is off,
and the student version (solutions removed) runs to the end with polite [not answered] checks."""

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
from test_check_battery import gradcam_no_relu, gradcam_not_averaged, gradcam_not_scaled, gradcam_tape  # noqa: E402

from helpers.course.exercises import EXERCISES, check, kit_copy
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


# --- answers students write: tests/test_check_battery.py holds them (issue 37), right and wrong, for every exercise


class Run:
    """What train() returns, as far as the experiment checks read it."""

    def __init__(self, epochs_done=2, **config):
        base = {"model": "vgg16", "dataset": "cifar10", "recipe": "best", "epochs": 2, "augment": "flip", "lr": 1e-3}
        self.config = {**base, "batch_size": 32, "experiment": "best_vgg16_cifar10", "images_seen": 128, **config}
        self.history = pd.DataFrame({"epoch": range(1, epochs_done + 1), "accuracy": 0.5})


NOTEBOOK_RUN = Run()  # the notebook's own run that the experiments are checked against


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
    assert student_source(answers, markdown=True) == MARKDOWN_STUB  # no "Model answers" heading over nothing


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
        assert "".join(answers["source"]) == MARKDOWN_STUB, name
        assert "model answer" not in text.lower(), name
    assert write_student_version([NOTEBOOKS / "02_vgg.ipynb"], tmp_path / "x")[0].is_file()


@pytest.fixture(scope="module")
def student_notebooks(tmp_path_factory) -> dict[str, list[dict]]:
    """The student version of every notebook, written by the kit's own function: name -> cells."""
    out = tmp_path_factory.mktemp("student")
    paths = write_student_version([NOTEBOOKS / name for name in NOTEBOOK_NAMES], out)
    return {path.name: json.loads(path.read_text())["cells"] for path in paths}


def stubs(cells: list[dict]) -> dict[str, str]:
    """The functions a student version's code cells define: name -> docstring."""
    found = {}
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        source = "\n".join(
            line for line in "".join(cell["source"]).splitlines() if not line.lstrip().startswith(("%", "!"))
        )
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef):
                found[node.name] = ast.get_docstring(node) or ""
    return found


def test_the_student_version_has_no_model_answers_heading(student_notebooks):
    for name, cells in student_notebooks.items():
        for cell in cells:
            if cell["cell_type"] == "markdown":
                assert not re.search(r"model answers?", "".join(cell["source"]), re.I), (name, cell["source"])


def test_the_student_version_does_not_say_where_the_stride_sits(student_notebooks):
    """plain_block's check names a stride on the wrong convolution: the stub's docstring must not say which one."""
    doc = stubs(student_notebooks["03_resnet.ipynb"])["plain_block"]
    where = r"\b(first|second|last|1x1)\b[^.;]*\bstrides?\b|\bstrides?\b[^.;]*\b(first|second|last|1x1|3x3)\b"
    assert not re.search(where, doc, re.I), doc


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_no_kit_answer_passes_a_code_check_from_where_the_student_imports(name, student_notebooks, capsys):
    """Whatever the student version imports from the kit, handed in to one of its notebook's code checks (the kit's
    gradcam to 06's "gradcam", say), is not [correct]; an object of the kit is said to be the kit's own."""
    import importlib

    imported = {}
    for cell in student_notebooks[name]:
        if cell["cell_type"] != "code":
            continue
        source = "\n".join(
            line for line in "".join(cell["source"]).splitlines() if not line.lstrip().startswith(("%", "!"))
        )
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("helpers"):
                module = importlib.import_module(node.module)
                imported |= {alias.asname or alias.name: getattr(module, alias.name) for alias in node.names}
    code = [e for e in EXERCISES.values() if e.notebook == name and e.kind in ("code", "shown")]
    for exercise in code:
        if exercise.name in imported:  # the kit hands out something under the exercise's own name
            assert kit_copy(imported[exercise.name], exercise.kit), exercise.name
        for thing, obj in imported.items():
            verdict = check(exercise.name, obj, against=NOTEBOOK_RUN)
            out = capsys.readouterr().out
            assert not verdict, (exercise.name, thing, out)
            if callable(obj) and not isinstance(obj, type(json)):
                assert "kit's own" in out, (exercise.name, thing, out)


@pytest.mark.parametrize("name", sorted(n for n, e in EXERCISES.items() if e.kit))
def test_the_kits_own_answers_are_never_right(name, capsys):
    for reference in EXERCISES[name].kit:
        assert not check(name, reference, against=NOTEBOOK_RUN)
        assert "kit's own" in capsys.readouterr().out


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

    from helpers.evaluation import gradcam_layer

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

    right, no_relu, not_averaged, not_scaled = gradcam_tape, gradcam_no_relu, gradcam_not_averaged, gradcam_not_scaled

    assert check("gradcam", right, against=run), capsys.readouterr().out
    raw = no_relu(run.model, run.inputs(run.x_test), gradcam_layer(run.model))
    assert (raw < 0).any()  # negative evidence exists on these images: a missing ReLU can be seen
    for wrong, word in ((no_relu, "positive part"), (not_averaged, "averaged"), (not_scaled, "maximum")):
        assert not check("gradcam", wrong, against=run)
        assert word in capsys.readouterr().out
    run.x_test, run.note = None, "no network"
    assert not check("gradcam", right, against=run) and "cannot be reloaded" in capsys.readouterr().out
