"""Exercises with instant checks, and the command that writes the student version of the notebooks.

Each exercise ends a notebook section and has a check in the next line or cell::

    ### BEGIN SOLUTION
    conv_params = 3 * 3 * 64 * 128 + 128
    ### END SOLUTION
    check("conv_params", conv_params)

``check`` prints ``[correct]`` with a one-line explanation, or ``[try again]`` with a hint that names what is off
(a shape, a parameter count, a value), or ``[not answered]`` while the answer is still ``...``. It never raises,
so a notebook with unsolved exercises still runs from top to bottom (JupyterLab, Colab and papermill alike).

Three kinds: *predict* (a number, a shape or a choice, then check), *code* (a function or a Keras block, checked
against the kit's tested copy by its outputs on the same weights and inputs) and *experiment* (train with one change
from the notebook's own run, ``check(name, run, against=result)``, and compare).

The notebooks hold the solutions between nbgrader's markers. ``python -m helpers.course student [DIR]``
writes the student version: each solution block becomes its stub (``name = ...`` for an assignment, the
signature, docstring and ``...`` for a function). run_all and the tests execute the solution version.
"""

from __future__ import annotations

import ast
import inspect
import textwrap

from helpers.course.exercises import data, googlenet, resnet, seeing, vgg
from helpers.course.judges import Exercise

__all__ = ["EXERCISES", "Exercise", "Verdict", "check"]

EXERCISES: dict[str, Exercise] = {
    e.name: e for module in (data, vgg, resnet, googlenet, seeing) for e in module.EXERCISES
}


class Verdict(int):
    """What ``check`` returns: true when the answer is right. As a cell's last value it shows nothing (the check
    has printed its line), so a cell ending in ``check(...)`` has no ``Out: True``."""

    def __repr__(self) -> str:
        return repr(bool(self))

    def _ipython_display_(self) -> None:
        pass


def _unwritten(answer) -> bool:
    """True for a stub of the student version: a function whose body is only a docstring and ``...``."""
    if not inspect.isfunction(answer):
        return False
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(answer)))
    except (OSError, TypeError, SyntaxError):  # no source (built in a string, say): judge it normally
        return False
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.FunctionDef) else None
    if not body:
        return False
    if (
        isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        body = body[1:]
    return (
        len(body) == 1
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and body[0].value.value is Ellipsis
    )


def check(name: str, answer, against=None) -> Verdict:
    """Check an exercise's answer: print [correct], [try again] with a hint, or [not answered]; true if right.
    ``against``: what an experiment or a piece of code is checked with (the notebook's own run)."""
    if name not in EXERCISES:
        print(f"[unknown exercise] {name!r}; exercises: {', '.join(EXERCISES)}")
        return Verdict(False)
    exercise = EXERCISES[name]
    if answer is Ellipsis or _unwritten(answer):
        print(f"[not answered] {name}: replace the ... with your answer, then run the cell again.")
        return Verdict(False)
    if exercise.compare and against is None:
        raise TypeError(f"check({name!r}, ...) needs against=<this notebook's run> to compare with")
    try:
        problem = exercise.judge(answer, against) if exercise.compare else exercise.judge(answer)
    except Exception as e:  # the student's code failed inside the check: say so, never crash the notebook
        problem = f"your code raised {type(e).__name__}: {e}"
    if problem:
        print(f"[try again] {name}: {problem}")
        return Verdict(False)
    print(f"[correct] {name}: {exercise.explanation}")
    return Verdict(True)
