"""The experiment matrix as data: named experiments (notebook + parameters + the reports' number) and profiles.

An *experiment* is one notebook executed with one set of parameters. A *profile* scales data and compute:

* ``smoke``: synthetic data, a few dozen images, 1 epoch: every notebook and code path in minutes (the tests),
* ``quick``: real data, stratified subsets, 5-40 epochs on 8 training runs, long enough to learn (the README gives
  its time on 2 cores, with the machine's speed),
* ``full``: full data and the recipe's epochs: for GPUs.

The rows live in ``matrix``, the profiles in ``profiles``, the recipes (named training settings) in ``recipes``,
the images a run trains on in ``budget``; ``notebook_path`` finds a notebook, in a checkout or an installed wheel.
Imports nothing from the kit (the bottom layer, beside ``runs`` and ``environment``): every package may import it.
"""

from __future__ import annotations

import fnmatch
import importlib.metadata
import re
from dataclasses import dataclass, field
from pathlib import Path

from helpers.experiments.matrix import MATRIX
from helpers.experiments.profiles import PROFILES

__all__ = [
    "EXPERIMENTS",
    "NEEDS",
    "NOTEBOOKS",
    "PROFILES",
    "Experiment",
    "degradation_experiments",
    "experiments_for",
    "notebook_path",
    "parameters_for",
]

DISTRIBUTION = "cnn-course-kit"  # the kit's name on pip (pyproject.toml)

NEEDS = {"interpret": "runs", "appendix": "all"}  # by notebook kind: see Experiment.needs

NOTEBOOKS = {
    "data": "01_data_loading.ipynb",
    "vgg": "02_vgg.ipynb",
    "resnet": "03_resnet.ipynb",
    "googlenet": "04_googlenet.ipynb",
    "appendix": "05_evaluation_appendix.ipynb",
    "interpret": "06_what_cnns_see.ipynb",
}


@dataclass(frozen=True)
class Experiment:
    """One notebook run: its parameters and, where a report ran the same thing, the report's test accuracy."""

    name: str
    notebook: str
    params: dict = field(default_factory=dict)
    report: str | None = None  # "report1" / "report2"
    table: str | None = None  # where in the report: "Exp. 1", "Table IV", ...
    reported: float | None = None  # the report's test accuracy in %
    tags: tuple[str, ...] = ()
    label: str = ""  # the row's name in the report's table ("VGG16 with lr=0.01")
    # What it reads, so what must exist before it runs: "runs" (at least one finished training run: 06 interprets
    # one) or "all" (every run of the profile: the evaluation appendix, the report). Such experiments run in the
    # report step (the last worker, or --report-only), after the runs, every time, over whatever exists then.
    needs: str = ""


def _experiment(name, notebook, model, dataset, recipe, overrides, table, reported, profiles, label=""):
    params = {"model": model, "dataset": dataset, "recipe": recipe, **overrides} if model else {}
    report = recipe if recipe in ("report1", "report2") else None
    needs = NEEDS.get(notebook, "")
    return Experiment(name, NOTEBOOKS[notebook], params, report, table, reported, tuple(profiles.split()), label, needs)


EXPERIMENTS: dict[str, Experiment] = {e.name: e for e in (_experiment(*row) for row in MATRIX)}


def experiments_for(profile: str, pattern: str | None = None) -> list[Experiment]:
    """The experiments a profile runs (the appendix last), optionally filtered by a glob or substring."""
    if profile not in PROFILES:
        raise ValueError(f"Unknown profile {profile!r}; valid: {', '.join(PROFILES)}.")
    tag = PROFILES[profile]["tag"]
    chosen = [e for e in EXPERIMENTS.values() if tag is None or tag in e.tags]
    if pattern:  # globs or substrings, comma-separated; the appendix stays (it reports on whatever exists)
        globs = [p if any(ch in p for ch in "*?[") else f"*{p}*" for p in pattern.split(",") if p.strip()]
        matched = [e for e in chosen if any(fnmatch.fnmatch(e.name, g.strip()) for g in globs)]
        if not [e for e in matched if e.notebook != NOTEBOOKS["appendix"]]:
            names = ", ".join(e.name for e in experiments_for(profile))
            raise ValueError(
                f"--only {pattern!r} matches no experiment of profile {profile!r}; its experiments: {names}."
            )
        chosen = [e for e in chosen if e in matched or e.notebook == NOTEBOOKS["appendix"]]
    return chosen


def parameters_for(
    experiment: Experiment, profile: str, output_dir: str, data_dir: str | None = None, seed: int | None = None
) -> dict:
    """Notebook parameters of one experiment under a profile (what run_all passes to papermill); ``seed`` (None:
    each notebook's own, 0) seeds every split, initialisation, shuffle and augmentation (run_all.py --seed)."""
    prof = PROFILES[profile]
    if experiment.notebook == NOTEBOOKS["appendix"]:
        return {"output_dir": output_dir, "profile": profile, "build_pdf": False}  # run_all builds it (--pdf)
    if experiment.notebook == NOTEBOOKS["interpret"]:
        return {"output_dir": output_dir, **({} if seed is None else {"seed": seed})}
    kind = "data" if experiment.notebook == NOTEBOOKS["data"] else "train"
    params = {**experiment.params, **prof[kind], "output_dir": output_dir}
    if kind == "train":
        params.update(prof.get("experiments", {}).get(experiment.name, {}))
        # Headless: one line per epoch in logs, executed notebooks and PDFs (the live bar is for people).
        params.update(experiment=experiment.name, run_name=experiment.name, progress="epoch")
    if data_dir and not params.get("synthetic"):
        params["data_dir"] = data_dir
    if seed is not None:
        params["seed"] = seed
    return params


def degradation_experiments() -> dict[str, dict[int, Experiment]]:
    """The degradation study from the matrix: {"plain": {depth: experiment}, "residual": {depth: experiment}}, the
    depths in order (the paper's Fig. 6: plain-20/32/44/56 on the left, ResNet-20/32/44/56/110 on the right)."""
    study = {"plain": {}, "residual": {}}
    for e in EXPERIMENTS.values():
        match = (
            re.fullmatch(r"(plain|resnet)(\d+)", e.params.get("model", ""))
            if e.name.startswith("degradation_")
            else None
        )
        if match:
            study["plain" if match[1] == "plain" else "residual"][int(match[2])] = e
    return {kind: dict(sorted(by_depth.items())) for kind, by_depth in study.items()}


def notebook_path(name: str) -> Path:
    """A course notebook: in the repository checkout, or where pip put the installed kit's copy.

    The wheel carries the notebooks as data files (``share/cnn-course-kit/notebooks``); where they land depends on
    the install scheme (a venv's prefix, ``~/.local`` for ``--user``, ``/usr/local`` for Debian's and Colab's system
    Python, whose ``sys.prefix`` is ``/usr``), so they are found from the installed distribution's own file list
    (its RECORD), which names every file pip wrote, wherever it wrote it.
    """
    checkout = Path(__file__).resolve().parents[2] / "notebooks" / name
    if checkout.is_file():
        return checkout
    try:
        installed = importlib.metadata.distribution(DISTRIBUTION)
        files = installed.files or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    for file in files:
        if file.name == name and file.parent.name == "notebooks":
            path = Path(installed.locate_file(file)).resolve()
            if path.is_file():
                return path
    raise FileNotFoundError(
        f"Notebook {name} is neither in a checkout of the kit nor among the files pip installed for "
        f"{DISTRIBUTION}: reinstall the kit (the notebook's first cell, or pip install --force-reinstall)."
    )
