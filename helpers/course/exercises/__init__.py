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
from the notebook's own run, ``check(name, run, against=result)``, and compare). A piece of code that is the kit's
own (or calls the kit's answer, ``Exercise.kit``) proves nothing against the kit's copy: its check says so.

The notebooks hold the solutions between nbgrader's markers. ``python -m helpers.course student [DIR]``
writes the student version: each solution block becomes its stub (``name = ...`` for an assignment, the
signature, docstring and ``...`` for a function). run_all and the tests execute the solution version.
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap

from helpers.course.exercises import data, googlenet, resnet, sanity, seeing, vgg
from helpers.course.judges import Exercise

__all__ = ["EXERCISES", "Exercise", "Verdict", "check", "kit_copy"]

EXERCISES: dict[str, Exercise] = {
    e.name: e for module in (data, vgg, sanity, resnet, googlenet, seeing) for e in module.EXERCISES
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


def _unwrapped(obj):
    """What a ``functools.partial`` or a bound method wraps."""
    while isinstance(obj, functools.partial):
        obj = obj.func
    return getattr(obj, "__func__", obj)


def _of_the_kit(obj) -> str | None:
    """The module of the kit that ``obj`` comes from (a function, a class, a method, an instance of one of the kit's
    classes, a ``functools.partial`` of one), or None."""
    obj = _unwrapped(obj)
    owner = obj if inspect.isfunction(obj) or inspect.isclass(obj) or inspect.isbuiltin(obj) else type(obj)
    module = getattr(owner, "__module__", None) or ""
    return module if module.split(".")[0] == "helpers" else None


def _named_objects(fn, seen: set, depth: int = 3) -> list:
    """What a function's code (or a class's methods') names: its globals, its closure, attributes of the modules it
    names; into the functions and classes defined beside it (the student's own helpers) too, ``depth`` calls deep."""
    functions = [f for f in vars(fn).values() if inspect.isfunction(f)] if inspect.isclass(fn) else [fn]
    found = []
    for f in functions:
        if not inspect.isfunction(f) or id(f) in seen:
            continue
        seen.add(id(f))
        names, codes = set(), [f.__code__]
        while codes:
            code = codes.pop()
            names |= set(code.co_names)
            codes += [c for c in code.co_consts if inspect.iscode(c)]
        values = [f.__globals__[n] for n in names if n in f.__globals__]
        values += [c.cell_contents for c in f.__closure__ or () if c.cell_contents is not None]
        values += [getattr(v, n) for v in values if inspect.ismodule(v) for n in names if hasattr(v, n)]
        found += values
        if depth:
            home = [v for v in values if getattr(v, "__module__", None) == fn.__module__ and _of_the_kit(v) is None]
            found += [o for v in home for o in _named_objects(v, seen, depth - 1)]
    return found


def kit_copy(answer, kit: tuple) -> str | None:
    """A line when a piece of code handed in is the kit's own (or calls one of ``kit``, the kit's answers to the
    exercise), which its check compares with: such an answer proves nothing. None otherwise."""
    module = _of_the_kit(answer)
    if module:
        what = getattr(_unwrapped(answer), "__name__", type(answer).__name__)
        return f"that is the kit's own `{what}` (from {module}), which the check compares with: write your own"
    if inspect.isfunction(answer) or inspect.isclass(answer):
        used = next((k for k in kit for o in _named_objects(answer, set()) if o is k), None)
        if used is not None:
            return f"your code calls the kit's own `{used.__name__}`, which the check compares with: write it yourself"
    return None


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
    problem = kit_copy(answer, exercise.kit) if exercise.kind in ("code", "shown") else None
    try:
        problem = problem or (exercise.judge(answer, against) if exercise.compare else exercise.judge(answer))
    except Exception as e:  # the student's code failed inside the check: say so in one line, never crash
        problem = f"your code raised {type(e).__name__}: {' '.join(str(e).split())[:300]}"
    if problem:
        print(f"[try again] {name}: {problem}")
        return Verdict(False)
    print(f"[correct] {name}: {exercise.explanation}")
    return Verdict(True)
