"""The judges of the exercises (``helpers.course.exercises``): each takes a student's answer and returns None when it
is right, or a one-line hint that names what is off (a shape, a parameter count, a value, a missing ReLU). Each is
tested with the wrong answers students write and with right ones written differently (tests/test_exercises.py)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from helpers.course.blocks import block_model, same_function


@dataclass(frozen=True)
class Exercise:
    """One exercise: where it is, its kind, and a judge that returns None (right) or a hint (wrong).

    A judge with ``compare=True`` also gets what the notebook passes as ``check(..., against=...)``: its own run,
    which an experiment's run must differ from in exactly the asked setting, or a run to check code on. ``kit``: the
    kit's own answers to a code exercise (what its judge compares with): ``check`` says so when one is handed in."""

    name: str
    notebook: str
    kind: str  # "predict", "code", "experiment", "questions"; "shown": a block written in plain sight and checked
    judge: Callable[..., str | None]
    explanation: str  # printed with [correct]
    compare: bool = False
    kit: tuple = ()  # the kit's own answers (code): handing one in, or calling one, is not an answer


NUMBER_TYPES = (numbers.Real, np.integer, np.floating)  # Python's, NumPy's, fractions.Fraction
FRACTION = "the question asks for a fraction between 0 and 1"


def scalar(value):
    """A Python or NumPy number, or a 0-d NumPy array of one, as itself; anything else (bools too) as None."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value[()]
    if isinstance(value, bool | np.bool_) or not isinstance(value, NUMBER_TYPES):
        return None
    return value


def _whole(value) -> int | None:
    """``value`` as an int when it is a whole number (7, np.int64(7), 7.0), else None (7.5, "7", True)."""
    value = scalar(value)
    if value is None:
        return None
    return int(value) if float(value).is_integer() else None


def number(expected: float, what: str, hints: dict[float, str] | None = None, rel: float = 1e-6):
    """A judge for a predicted number, written as a Python or NumPy number (a 0-d array too): a whole ``expected``
    (a count) needs a whole answer (6000 or 6000.0, not 6000.5), a fraction matches within ``rel``; hints for the
    usual wrong ones. A fraction (0 < ``expected`` < 1) is asked as a fraction: its percentage is told so."""

    def judge(answer):
        value = scalar(answer)
        if value is None:
            if isinstance(answer, list | tuple) and answer and all(scalar(v) is not None for v in answer):
                return f"{tuple(answer)} is a shape or a list; the question asks for one number ({what})"
            if isinstance(answer, str) and answer.strip().endswith("%") and 0 < expected < 1:
                return f"{answer!r} is a percentage written as text; {FRACTION}, as a number"
            return f"expected a number ({what}), got {type(answer).__name__} {answer!r}"
        value = float(value)
        for wrong, hint in (hints or {}).items():
            if math.isclose(value, wrong, rel_tol=rel):
                return hint
        if isinstance(expected, int) and _whole(answer) is None:
            return f"{value:g} is not a whole number, and {what} counts things"
        if math.isclose(value, expected, rel_tol=rel):
            return None
        if 0 < expected < 1 and math.isclose(value, 100 * expected, rel_tol=rel):
            return f"{value:g}: that is a percentage; {FRACTION} ({value:g}% is {value / 100:g})"
        if 0 < expected < 1 and value > 1:
            return f"{value:,g} is more than 1; {FRACTION} ({what})"
        return f"{value:,g} is too {'high' if value > expected else 'low'} for {what}"

    return judge


def choice(expected: str, wrong: dict[str, str], what: str):
    """A judge for a prediction among named options ("plain20", "plain56"), written in any case, with or without a
    hyphen or spaces ("Plain-56"); ``wrong`` maps each wrong option to its hint."""

    def key(text: str) -> str:
        return text.strip().lower().replace("-", "").replace(" ", "")

    def judge(answer):
        options = [expected, *wrong]
        if not isinstance(answer, str) or key(answer) not in map(key, options):
            return f"answer one of {', '.join(repr(o) for o in options)} ({what}), got {answer!r}"
        return None if key(answer) == key(expected) else next(h for o, h in wrong.items() if key(o) == key(answer))

    return judge


def shape(expected: tuple, what: str):
    """A judge for a predicted shape: a tuple, list, NumPy array or TensorShape of whole numbers."""

    def judge(answer):
        try:
            values = list(answer)
        except TypeError:
            return f"expected a shape such as (16, 16, 128) for {what}, got {answer!r}"
        got = [_whole(v) for v in values]
        if None in got:
            return f"{tuple(values)} is not a shape: height, width and channels are whole numbers"
        got = tuple(got)
        if got == expected:
            return None
        if sorted(got) == sorted(expected) and len(expected) == 3:
            return f"{got} has the right numbers in another order: Keras puts channels last (height, width, channels)"
        if len(got) != len(expected):
            return f"{what} has {len(expected)} dimensions (height, width, channels), your shape has {len(got)}"
        parts = [n for n, a, b in zip(("height", "width", "channels"), got, expected, strict=True) if a != b]
        return f"{' and '.join(parts)} of {what} {'is' if len(parts) == 1 else 'are'} off: got {got}"

    return judge


ORDER = "check the order conv -> batch norm -> ReLU, where the stride sits and what is added"


def _try_block(build, input_shape, kwargs):
    """``blocks.block_model``, or the exception the build raised."""
    try:
        return block_model(build, input_shape, kwargs)
    except Exception as e:  # a variant, or the student's block, that cannot be built on this case
        return e


def block(
    reference: Callable, cases: list[tuple], what: str, variants=(), hint: str = "", fallback: str = ORDER, sizes=""
):
    """A judge for a function that builds a Keras block, ``f(x, **kwargs)`` (or a subclassed layer, see
    ``blocks.block_model``): on every case (input shape, keyword arguments, and optionally what the case is for,
    said when the answer fails to build on it) the same output shape, parameter count and outputs on the same
    weights as the kit's ``reference`` (``blocks.same_function``). ``variants``: (builder, hint) pairs of the usual
    mistakes, each named when the answer computes what the mistake computes; ``hint``: what the parameters are,
    ``sizes``: what sets the output's shape, ``fallback``: what to check, said when no variant matches."""

    def judge(answer):
        if not callable(answer):
            return f"expected a function that builds {what}, got {answer!r}"
        for input_shape, kwargs, *note in cases:
            where = f"for input {input_shape} and {kwargs}"
            theirs, mine = block_model(reference, input_shape, kwargs), _try_block(answer, input_shape, kwargs)
            if isinstance(mine, Exception):
                if note and isinstance(mine, ValueError):  # Keras' word for shapes that do not fit
                    return f"{where}, your {what} cannot be built (its shapes do not fit): {note[0]}"
                raise mine
            if mine is None:
                return f"your {what} returns None: end it with `return` and the block's output"
            if same_function(mine, theirs):
                continue
            named = next((h for v, h in variants if same_function(mine, _try_block(v, input_shape, kwargs))), None)
            if named:
                return f"{where}: {named}"
            got, want = tuple(mine.output.shape[1:]), tuple(theirs.output.shape[1:])
            if got != want:
                return f"{where}, the output shape is {got}, expected {want}{': ' if sizes else ''}{sizes}"
            if mine.count_params() != theirs.count_params():
                return f"{where}, {mine.count_params():,} parameters instead of {theirs.count_params():,} {hint}"
            return f"{where}: the right shape and parameters, but other outputs than the kit's {what}: {fallback}"
        return None

    return judge


# Settings that name a run or follow from the others: never "a change" between two runs.
NOT_SETTINGS = {"experiment", "images_seen"}


def run_like(asked: dict, what: str):
    """A judge for an experiment: a finished ``train()`` (all its epochs in its history) that differs from the
    notebook's own run (``against``) in exactly the ``asked`` settings, no more."""

    def judge(answer, against):
        config, history = getattr(answer, "config", None), getattr(answer, "history", None)
        if not isinstance(config, dict) or history is None:
            return f"expected the result of train(...) for {what} (the object train returns), got {answer!r}"
        for key, value in asked.items():
            if config.get(key) != value:
                return f"this run has {key}={config.get(key)!r}; the experiment asks for {key}={value!r}"
        if all(against.config.get(k) == v for k, v in asked.items()):
            return f"this notebook's own run already has {asked}: the experiment is the other setting, run it first"
        if len(history) < int(config["epochs"]):
            return (
                f"this run stopped after {len(history)} of its {config['epochs']} epochs: run the cell again "
                "(training resumes) and let it finish"
            )
        mine = against.config
        changed = sorted(
            k for k in set(config) | set(mine) if k not in NOT_SETTINGS | set(asked) and config.get(k) != mine.get(k)
        )
        if changed:
            listed = ", ".join(f"{k}={config.get(k)!r} (this notebook's run: {mine.get(k)!r})" for k in changed)
            return f"this run also changes {listed}: change only {', '.join(asked)}, keep the rest of `cfg`"
        return None

    return judge
