"""Predict, observe, explain (issue 37): a prediction is recorded, never graded (no verdict, no answer printed); the
observation compares it with the student's own histories, with the numbers (agree, disagree, too short, too close);
the explanation's model answer is stripped in the student version; no measured figure sits above a prediction."""

import json
import re
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.course.predict import EFFECTS, explain, observe, predict, recorded
from helpers.course.student import BEGIN, END, write_student_version

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
VERDICTS = ("[correct]", "[try again]", "correct", "wrong", "right", "agree", "well done")


def cells(name: str) -> list[dict]:
    return json.loads((NOTEBOOKS / name).read_text())["cells"]


def source(cell: dict) -> str:
    return "".join(cell["source"])


def run(accuracy, val_accuracy=None, images_seen=9600, epochs=None, val_size=300):
    """What train() returns, as observe reads it: a history per epoch and the config."""
    accuracy = list(accuracy)
    history = pd.DataFrame({"epoch": range(1, len(accuracy) + 1), "accuracy": accuracy})
    history["val_accuracy"] = val_accuracy if val_accuracy is not None else accuracy
    n = epochs or len(accuracy)
    return types.SimpleNamespace(
        history=history, config={"images_seen": images_seen, "epochs": n, "val_size": val_size}
    )


@pytest.mark.parametrize("name", sorted(EFFECTS))
def test_a_prediction_is_recorded_not_graded(name, tmp_path, capsys):
    """Either option gives the same line but for the option's name: nothing says which is right, no answer shows."""
    first, second = EFFECTS[name].options
    lines = []
    for option in (first, second):
        assert predict(name, (option, 4), tmp_path / option)
        lines.append(capsys.readouterr().out)
        assert recorded(name, tmp_path / option) == {"run": option, "by": 4.0}
    assert lines[0].replace(first, "X") == lines[1].replace(second, "X")
    for line in lines:
        assert line.startswith(f"[recorded] {name}: ") and "predictions.json" in line
        assert not any(word in line.lower() for word in VERDICTS), line
        assert "points" in line or "steps" in line  # the size is said back in its unit


def test_the_latest_prediction_counts_and_all_are_kept(tmp_path, capsys):
    predict("degradation", ("plain20", 5), tmp_path)
    predict("degradation", ("plain56", 20), tmp_path)
    capsys.readouterr()
    assert recorded("degradation", tmp_path) == {"run": "plain56", "by": 20.0}
    kept = json.loads((tmp_path / "predictions.json").read_text())["degradation"]
    assert [e["prediction"]["run"] for e in kept] == ["plain20", "plain56"] and all("time" in e for e in kept)


def test_the_runs_agree_with_numbers(tmp_path, capsys):
    predict("degradation", ("plain56", 10), tmp_path)
    capsys.readouterr()
    said = observe("degradation", {"plain20": run([0.2, 0.3, 0.374]), "plain56": run([0.1, 0.12, 0.154])}, tmp_path)
    out = capsys.readouterr().out
    assert said == "agree"
    assert "plain20 62.6%" in out and "plain56 84.6%" in out and "by 22.0 points" in out, out
    assert "more than you predicted" in out and "3 epochs" in out


def test_the_runs_disagree_with_numbers(tmp_path, capsys):
    predict("augmentation", ("augmented", 5), tmp_path)
    capsys.readouterr()
    augmented = run([0.5, 0.6, 0.62], [0.5, 0.58, 0.60])
    unaugmented = run([0.6, 0.8, 0.95], [0.5, 0.55, 0.57])
    said = observe("augmentation", {"augmented": augmented, "unaugmented": unaugmented}, tmp_path)
    out = capsys.readouterr().out
    assert said == "disagree" and "unaugmented 38.0%" in out and "augmented 2.0%" in out and "36.0 points" in out, out


def test_one_epoch_is_too_short_to_tell(tmp_path, capsys):
    """The smoke profile's exercise runs: one epoch on 64 synthetic images. The numbers, and no claim."""
    predict("degradation", ("plain56", 10), tmp_path)
    capsys.readouterr()
    said = observe(
        "degradation", {"plain20": run([0.3], images_seen=64), "plain56": run([0.1], images_seen=64)}, tmp_path
    )
    out = capsys.readouterr().out
    assert said == "too short" and "1 epoch ran" in out and "cannot confirm or refute" in out, out
    assert "70.0%" in out and "90.0%" in out and "agree" not in out


def test_a_difference_within_chance_is_too_close_to_tell(tmp_path, capsys):
    """Two runs 3 points apart on 64 training images (chance alone gives about 12): no verdict either way."""
    predict("degradation", ("plain20", 2), tmp_path)
    capsys.readouterr()
    runs = {"plain20": run([0.3, 0.35, 0.40], images_seen=192), "plain56": run([0.3, 0.35, 0.43], images_seen=192)}
    assert observe("degradation", runs, tmp_path) == "too close"
    out = capsys.readouterr().out
    assert "3.0 points apart" in out and "12.5 points" in out and "disagree" not in out, out


def test_observe_reads_keras_histories_and_run_folders(tmp_path, capsys):
    """The one-batch runs of 02 are Keras History objects; a finished run is a folder with history.csv."""
    predict("learning_rate", ("small_lr", 15), tmp_path)
    capsys.readouterr()
    large = types.SimpleNamespace(history={"accuracy": [0.1, 0.6, 1.0] + [1.0] * 27, "loss": [2.3] * 30})
    small = pd.DataFrame({"accuracy": np.linspace(0.1, 0.5, 30), "loss": 2.3})
    folder = tmp_path / "small"
    folder.mkdir()
    small.to_csv(folder / "history.csv", index=False)
    assert observe("learning_rate", {"large_lr": large, "small_lr": folder}, tmp_path) == "agree"
    out = capsys.readouterr().out
    assert "large_lr 3 steps" in out and "small_lr not within 30 steps" in out and "by 28 steps" in out, out


def test_observe_without_a_prediction_or_with_unknown_runs(tmp_path, capsys):
    assert observe("degradation", {"plain20": run([0.2, 0.3, 0.4]), "plain56": run([0.1] * 3)}, tmp_path) == (
        "no prediction"
    )
    assert "no prediction recorded" in capsys.readouterr().out
    assert observe("degradation", {"plain18": run([0.2] * 3), "plain56": run([0.1] * 3)}, tmp_path) == "cannot observe"
    assert "'plain20': ..." in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(EFFECTS))
def test_each_effect_is_predicted_observed_and_explained_in_that_order(name):
    effect = EFFECTS[name]
    code = [(i, source(c)) for i, c in enumerate(cells(effect.notebook)) if c["cell_type"] == "code"]
    where = {}
    for step in ("predict", "observe", "explain"):
        found = [i for i, text in code if f'{step}("{name}", ' in text]
        assert len(found) == 1, f"{effect.notebook}: {step}({name!r}) once"
        where[step] = found[0]
    assert where["predict"] < where["observe"] < where["explain"]
    for step in ("predict", "explain"):  # the student's prediction and explanation: a solution block before the call
        text = source(cells(effect.notebook)[where[step]])
        assert text.index(BEGIN) < text.index(END) < text.index(f'{step}("{name}", ')


def test_the_explanations_model_answer_is_stripped_in_the_student_version(tmp_path, capsys):
    names = sorted({e.notebook for e in EFFECTS.values()})
    written = write_student_version([NOTEBOOKS / n for n in names], tmp_path)
    for path in written:
        student = [source(c) for c in json.loads(path.read_text())["cells"]]
        for name in (n for n, e in EFFECTS.items() if e.notebook == path.name):
            solution = next(source(c) for c in cells(path.name) if f'explain("{name}", ' in source(c))
            model = re.search(r'\(\n\s+"(.+?)"', solution).group(1)  # the model answer's first line
            mine = next(text for text in student if f'explain("{name}", ' in text)
            assert model not in "\n".join(student), (path.name, name)
            assert re.search(rf"^{name if name != 'learning_rate' else 'lr'}_explanation = \.\.\.", mine, re.M), mine
            prediction = next(text for text in student if f'predict("{name}", ' in text)
            assert "_prediction = ...  # your answer" in prediction and not any(o in prediction for o in ("plain56",))
    assert explain("degradation", ...) is False and "[not answered]" in capsys.readouterr().out


# No measured figure (a number with %, points or steps about the experiment's runs) in the Markdown above a
# prediction; tests/test_notebooks_static.py holds the same rule with each notebook's wording.
FIGURE = re.compile(r"\d+(\.\d+)?\s?(%|points|steps)")
ABOUT = {  # the words a sentence about each experiment's runs uses
    "degradation": ("plain-20", "plain-56", "plain20", "plain56", "deeper plain"),
    "augmentation": ("without augmentation", "unaugmented", "with augmentation", "augmented"),
    "learning_rate": ("1e-6", "small_lr", "large_lr", "smaller learning rate", "times smaller"),
}


@pytest.mark.parametrize("name", sorted(EFFECTS))
def test_no_measured_figure_above_the_prediction(name):
    effect = EFFECTS[name]
    nb = cells(effect.notebook)
    asked = next(i for i, c in enumerate(nb) if f'predict("{name}", ' in source(c))
    words = ABOUT[name]
    for i, cell in enumerate(nb[:asked]):
        if cell["cell_type"] != "markdown":
            continue
        for sentence in re.split(r"(?<=[.!?])\s", " ".join(source(cell).split())):
            about = any(w in sentence.lower() for w in words) and ("measured" in sentence or "ended" in sentence)
            assert not (about and FIGURE.search(sentence)), f"{effect.notebook} cell {i}: {sentence}"
