"""Predict, observe, explain: a prediction recorded before an experiment runs (``predict``: in predictions.json, never
graded, no answer printed); ``observe`` holds it against the student's own histories in words and numbers (or says the
runs are too short or too close to tell); ``explain`` takes the student's why (only checked to be written)."""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from helpers.course.judges import scalar

FILE = "predictions.json"


@dataclass(frozen=True)
class Effect:
    """One experiment's prediction: which of two runs (``options``) has the larger ``measure`` and by about how much
    (``unit``), read from each run's history by ``value``; fewer than ``min_length`` rows is too short to tell."""

    name: str
    notebook: str
    options: tuple[str, str]
    measure: str  # "has the higher training error": said as "<option> <measure>"
    quantity: str  # what value() reads: "training error at the last epoch"
    unit: str  # "points" or "steps"
    value: Callable[[pd.DataFrame], float]
    min_length: int
    length_word: str  # "epochs" or "steps"
    noise_images: str = "train"  # which images the value is measured on ("train", "val"): its noise


def _last(history: pd.DataFrame, column: str) -> float:
    return float(history[column].iloc[-1])


def _steps_to_fit(history: pd.DataFrame) -> float:
    """The first step (counted from 1) at which training accuracy reached 100%; one past the last if never."""
    hit = [i for i, a in enumerate(history["accuracy"], 1) if a >= 1.0 - 1e-9]
    return float(hit[0] if hit else len(history) + 1)


# One row an experiment: name, notebook, the two runs, what the larger one has, what is measured, its unit, how it is
# read from a history, the fewest epochs/steps that can show it, their word, the images its noise comes from.
# fmt: off
EFFECTS = {e.name: e for e in (
    Effect("degradation", "03_resnet.ipynb", ("plain20", "plain56"), "has the higher training error",
           "training error at the last epoch", "points", lambda h: 100 * (1 - _last(h, "accuracy")), 3, "epochs"),
    Effect("augmentation", "04_googlenet.ipynb", ("augmented", "unaugmented"),
           "has the larger gap between training and validation accuracy",
           "training minus validation accuracy at the last epoch", "points",
           lambda h: 100 * (_last(h, "accuracy") - _last(h, "val_accuracy")), 3, "epochs", "val"),
    Effect("learning_rate", "02_vgg.ipynb", ("large_lr", "small_lr"), "needs more steps to fit the batch",
           "steps until 100% training accuracy on the batch", "steps", _steps_to_fit, 10, "steps"),
)}
# fmt: on


def _count(n: int, word: str) -> str:
    return f"{n} {word.removesuffix('s') if n == 1 else word}"


class Said(str):
    """What ``observe`` returns: "agree", "disagree", "too short", "too close" or "no prediction". As a cell's last
    value it shows nothing (the lines are printed)."""

    def _ipython_display_(self) -> None:
        pass


def _key(text) -> str:
    return str(text).strip().lower().replace("-", "").replace(" ", "").replace("_", "")


def _option(effect: Effect, text) -> str | None:
    return next((o for o in effect.options if _key(o) == _key(text)), None) if isinstance(text, str) else None


def _read(folder) -> dict:
    path = Path(folder) / FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _write(folder, name: str, entry: dict) -> Path:
    path = Path(folder) / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    records = _read(folder)
    records.setdefault(name, []).append({**entry, "time": datetime.datetime.now().isoformat(timespec="seconds")})
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(records, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def _form(effect: Effect, answer) -> tuple[dict | None, str | None]:
    """The prediction as a record, or None and a line naming what is off in its form (never in its content)."""
    options = " or ".join(repr(o) for o in effect.options)
    example = f"({effect.options[0]!r}, 5)"
    if isinstance(answer, dict):
        answer = (answer.get("run"), answer.get("by"))
    if isinstance(answer, str):
        answer = (answer, None)
    if not isinstance(answer, list | tuple) or len(answer) not in (1, 2):
        return None, f"write which run {effect.measure} and by about how much, e.g. {example}"
    run, by = (*answer, None)[:2]
    if _option(effect, run) is None:
        return None, f"the run is {options} (which one {effect.measure}?), got {run!r}"
    if by is None:
        return {"run": _option(effect, run), "by": None}, None
    size = scalar(by)
    if size is None:
        if isinstance(by, str) and by.strip().endswith("%"):
            return None, f"{by!r} is text: write the size as a number of {effect.unit}, e.g. {example}"
        return None, f"the size is a number of {effect.unit}, got {type(by).__name__} {by!r}"
    if not math.isfinite(float(size)) or size < 0:
        return None, f"{size!r} {effect.unit}: not a size (finite, not negative; the other run if it is higher)"
    if effect.unit == "points" and size > 100:
        return None, f"{float(size):g} points: accuracies and errors differ by at most 100 percentage points"
    return {"run": _option(effect, run), "by": float(size)}, None


def predict(name: str, answer, folder) -> bool:
    """Record a prediction (which run, by about how much) in ``folder``/predictions.json; print what was recorded
    and where, or what is off in its form. Never graded: the answer is not printed."""
    effect = EFFECTS[name]
    if answer is Ellipsis:
        print(f"[not answered] {name}: replace the ... with your prediction, then run the cell again.")
        return False
    record, problem = _form(effect, answer)
    if problem:
        print(f"[not recorded] {name}: {problem}")
        return False
    path = _write(folder, name, {"prediction": record})
    size = f", by about {record['by']:g} {effect.unit}" if record["by"] is not None else " (no size given)"
    print(
        f"[recorded] {name}: you predict that {record['run']} {effect.measure}{size}. Saved in {path} "
        "(not graded: run the experiment, then compare)."
    )
    return True


def recorded(name: str, folder) -> dict | None:
    """The latest prediction recorded for ``name`` in ``folder``, or None."""
    entries = [e for e in _read(folder).get(name, []) if "prediction" in e]
    return entries[-1]["prediction"] if entries else None


def _history(run) -> tuple[pd.DataFrame, dict]:
    """A run's history and config from a TrainResult, a Keras History, a DataFrame, a dict of lists or a folder."""
    if isinstance(run, str | Path) or hasattr(run, "path") and not hasattr(run, "history"):
        folder = Path(getattr(run, "path", run))
        config = folder / "config.json"
        return pd.read_csv(folder / "history.csv"), json.loads(config.read_text()) if config.is_file() else {}
    history = getattr(run, "history", run)
    config = getattr(run, "config", None) or {}
    return (history if isinstance(history, pd.DataFrame) else pd.DataFrame(dict(history))), config


def _noise(effect: Effect, config: dict) -> float:
    """Twice a measured accuracy's binomial standard error (points) on the run's images, at 50%: what one run can
    differ from another by chance; 2 points without a count. Steps: two steps, or a tenth of the run."""
    if effect.unit == "steps":
        return 2.0
    if effect.noise_images == "val":
        n = config.get("val_size")
    else:
        n = config.get("images_seen", 0) / max(1, int(config.get("epochs", 1) or 1))
    n = float(n or 0)
    return 2 * 100 * math.sqrt(0.25 / n) if n >= 1 else 2.0


def observe(name: str, runs: dict, folder) -> Said:
    """Compare the prediction recorded in ``folder`` with the runs (option -> TrainResult, History, DataFrame or run
    folder): the measured numbers, and whether they agree, disagree, or are too short or too close to tell."""
    effect = EFFECTS[name]
    named = {_option(effect, k): r for k, r in runs.items()}
    if None in named or len(named) != 2:
        print(f"[cannot observe] {name}: pass the two runs as {{{', '.join(f'{o!r}: ...' for o in effect.options)}}}")
        return Said("cannot observe")
    read = {o: _history(r) for o, r in named.items()}
    value = {o: effect.value(h) for o, (h, _) in read.items()}
    length = {o: len(h) for o, (h, _) in read.items()}
    fmt = (lambda v: f"{v:.1f} points") if effect.unit == "points" else (lambda v: f"{v:g} steps")
    shown = {o: f"{v:.1f}%" if effect.unit == "points" else f"{v:g} steps" for o, v in value.items()}
    shown |= {o: f"not within {length[o]} steps" for o in value if effect.unit == "steps" and value[o] > length[o]}
    numbers = ", ".join(f"{o} {shown[o]} ({_count(length[o], effect.length_word)})" for o in effect.options)
    print(f"[observed] {name}: {effect.quantity}: {numbers}.")
    a, b = effect.options
    higher, lower = (a, b) if value[a] >= value[b] else (b, a)
    gap = value[higher] - value[lower]
    noise = max(_noise(effect, c) for _, c in read.values())
    prediction = recorded(name, folder)
    said = f"you predicted {prediction['run']}" if prediction else "no prediction recorded (predict first next time)"
    if prediction and prediction["by"] is not None:
        said += f", by about {prediction['by']:g} {effect.unit}"
    if min(length.values()) < effect.min_length:
        print(
            f"Too short to tell: {_count(min(length.values()), effect.length_word)} ran, and the effect needs at least "
            f"{effect.min_length}; these numbers cannot confirm or refute it ({said}). Run more {effect.length_word}."
        )
        return Said("too short")
    if gap < noise:
        print(
            f"Too close to tell: the runs are {fmt(gap)} apart, within what chance alone gives on these images "
            f"(about {fmt(noise)}); they cannot confirm or refute it ({said}). More images or epochs would."
        )
        return Said("too close")
    if not prediction:
        print(f"{higher} {effect.measure}, by {fmt(gap)}; {said}.")
        return Said("no prediction")
    agree = prediction["run"] == higher
    size = ""
    if agree and prediction["by"] is not None:
        ratio = gap / max(prediction["by"], 1e-9)
        size = (
            " (about what you predicted)"
            if 0.5 <= ratio <= 2
            else f" ({'more' if ratio > 2 else 'less'} than you predicted)"
        )
    verdict = "agree" if agree else "disagree"
    print(f"Your runs {verdict} with your prediction ({said}): {higher} {effect.measure}, by {fmt(gap)}{size}.")
    return Said(verdict)


PLACEHOLDERS = {"", "...", "your answer", "your explanation", "todo"}


def explain(name: str, text, folder=None) -> bool:
    """Accept the student's explanation once written (a sentence or two of their own; not graded, only checked to be
    there) and record it beside the prediction in ``folder``/predictions.json when a folder is given."""
    if text is Ellipsis or isinstance(text, str) and text.strip().strip(".").lower() in PLACEHOLDERS:
        print(f"[not answered] {name}: replace the ... with your explanation, then run the cell again.")
        return False
    if not isinstance(text, str):
        print(f"[not recorded] {name}: write your explanation as text (in quotes), got {type(text).__name__}")
        return False
    words = len(text.split())
    if words < 5:
        print(f"[not recorded] {name}: {words} words are too few to say why: write a sentence or two")
        return False
    where = f" in {_write(folder, name, {'explanation': text.strip()})}" if folder is not None else ""
    print(f"[recorded] {name}: your explanation ({words} words) is saved{where} (not graded).")
    return True
