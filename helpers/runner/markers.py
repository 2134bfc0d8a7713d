"""What the output folder says of each experiment: where its executed notebook goes, the file that marks it
finished (its run's ``metrics.json``, or an ``.ok`` file), and how its last execution ended, whoever ran it."""

from __future__ import annotations

import json
import time
from pathlib import Path

from helpers.experiments import Experiment
from helpers.runner.workers import work_dir
from helpers.runs import RunDir, atomic_write

__all__ = [
    "FAILED",
    "done_marker",
    "executed_path",
    "is_finished",
    "is_training",
    "ok_marker",
    "read_result",
    "marked_since",
    "result_path",
    "test_accuracy",
    "write_result",
]

FAILED = ("failed", "timeout", "failed elsewhere")  # the statuses that make the exit status 1


def is_training(exp: Experiment) -> bool:
    return "model" in exp.params  # the data overview, 06 and the appendix train nothing


def executed_path(exp: Experiment, output_dir: Path) -> Path:
    """Training notebooks are kept in their run directory, the others under <output-dir>/notebooks/."""
    if is_training(exp):
        return RunDir(output_dir, exp.name).path / "notebook.ipynb"
    return output_dir / "notebooks" / f"{exp.name}.ipynb"


def ok_marker(exp: Experiment, output_dir: Path) -> Path:
    return output_dir / "notebooks" / f"{exp.name}.ok"


def done_marker(exp: Experiment, output_dir: Path) -> Path | None:
    """The file that says an experiment is finished: its run's metrics.json, or the data notebook's .ok file.

    The report step's experiments (06, the appendix) have none: they read whatever runs exist, so they run every time.
    """
    if exp.needs:
        return None
    return RunDir(output_dir, exp.name) / RunDir.METRICS if is_training(exp) else ok_marker(exp, output_dir)


def marked_since(marker: Path | None, since: float = 0.0) -> bool:
    try:
        return marker is not None and marker.stat().st_mtime >= since
    except OSError:
        return False


def is_finished(exp: Experiment, output_dir: Path, since: float = 0.0) -> bool:
    """Finished, and at or after ``since`` when given (--force reruns what was finished before a worker started)."""
    return marked_since(done_marker(exp, output_dir), since)


def result_path(output_dir: Path, name: str) -> Path:
    return work_dir(output_dir) / f"{name}.result.json"


def read_result(output_dir: Path, name: str) -> dict:
    """How the experiment's last execution in this folder ended, whoever ran it ({} when never)."""
    try:
        return json.loads(result_path(output_dir, name).read_text())
    except (OSError, ValueError):
        return {}


def write_result(output_dir: Path, name: str, status: str, error: str | None, wall_seconds: float, worker: str):
    atomic_write(
        result_path(output_dir, name),
        json.dumps(
            {"status": status, "error": error, "wall_seconds": wall_seconds, "worker": worker, "at": time.time()}
        ),
    )


def test_accuracy(exp: Experiment, output_dir: Path) -> float | None:
    run = RunDir(output_dir, exp.name)
    if is_training(exp) and run.finished:
        return run.read_json(RunDir.METRICS).get("test_accuracy")
    return None
