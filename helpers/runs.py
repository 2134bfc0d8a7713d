"""Run directories: one folder per experiment run, written atomically, read back as a table.

``<output_dir>/runs/<run_name>/`` holds ``config.json`` (every parameter, library versions, hardware),
``history.csv`` (one row per epoch), ``metrics.json`` (test results), ``predictions.npz``, ``summary.txt``
(the model summary), ``model.keras`` (the final model), ``backup/`` (while training: resume point) and the
executed notebook when run_all ran it. A run is finished when ``metrics.json`` exists; since every file is
written to a temporary name and renamed, a killed run never leaves a half-written file behind.
"""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "KAGGLE_VAR",
    "KAGGLE_WORKING",
    "OUTPUT_DIR_ENV",
    "RunDir",
    "atomic_write",
    "default_output_dir",
    "finished_runs",
    "jsonable",
    "load_runs",
    "make_writable_dir",
    "safe_run_name",
]


OUTPUT_DIR_ENV = "CNN_KIT_OUTPUT_DIR"
KAGGLE_VAR = "KAGGLE_KERNEL_RUN_TYPE"  # set in every Kaggle notebook
KAGGLE_WORKING = Path("/kaggle/working")  # the one folder Kaggle keeps (and offers as the notebook's output)


def default_output_dir() -> Path:
    """The kit's one outputs folder, the same for every way of running it.

    ``$CNN_KIT_OUTPUT_DIR`` when set; else ``outputs/`` at the root of the repository the kit was installed from
    (editable install or checkout: JupyterLab's kernel in ``notebooks/``, papermill from anywhere and run_all.py
    all find the same folder); else, for an installed copy, ``/kaggle/working/outputs`` on Kaggle (the folder Kaggle
    keeps) and ``outputs/`` in the working directory elsewhere (Colab: ``/content/outputs``).
    """
    if os.environ.get(OUTPUT_DIR_ENV):
        return Path(os.environ[OUTPUT_DIR_ENV]).expanduser().resolve()
    root = Path(__file__).resolve().parents[1]
    if (root / "pyproject.toml").is_file() and (root / "notebooks").is_dir():
        return root / "outputs"
    if os.environ.get(KAGGLE_VAR):
        return KAGGLE_WORKING / "outputs"
    return Path.cwd() / "outputs"


def atomic_write(path: str | Path, data: bytes | str | Callable[[str], object]) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and an atomic rename.

    ``data`` may also be a function that writes the file itself (``model.save``, ``figure.savefig``): it gets the
    temporary file's name, which ends in ``path``'s suffixes (Keras reads the format from them: ``.weights.h5``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{''.join(path.suffixes)}", dir=path.parent)
    try:
        if callable(data):
            os.close(fd)
            data(tmp)
        else:
            with os.fdopen(fd, "wb") as f:
                f.write(data.encode("utf-8") if isinstance(data, str) else data)
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def make_writable_dir(folder: str | Path) -> Path:
    """Create ``folder`` and prove a file can be written in it (raises OSError otherwise)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    probe = folder / f".write-test-{os.getpid()}"
    probe.write_bytes(b"")
    probe.unlink()
    return folder


def jsonable(obj):
    """numpy scalars and arrays, Paths and tuples become plain JSON types."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    return obj


def safe_run_name(name: str) -> str:
    """Run names become folder names: letters, digits, '-', '_', '.' only."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", str(name)).strip("-.")
    if not cleaned:
        raise ValueError(f"run_name {name!r} has no usable characters (use letters, digits, '-', '_').")
    return cleaned


class RunDir:
    """The folder of one run and the names of the files in it."""

    CONFIG = "config.json"
    HISTORY = "history.csv"
    METRICS = "metrics.json"
    PREDICTIONS = "predictions.npz"
    SUMMARY = "summary.txt"
    MODEL = "model.keras"
    BEST = "best.weights.h5"  # the weights of the best validation accuracy (select_epoch="best_val")
    BACKUP = "backup"

    def __init__(self, output_dir: str | Path, run_name: str):
        self.output_dir = Path(output_dir)
        self.name = safe_run_name(run_name)
        self.path = self.output_dir / "runs" / self.name

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    def create(self) -> RunDir:
        """Make the folder, failing early and clearly when ``output_dir`` cannot be written."""
        try:
            make_writable_dir(self.path)
        except OSError as e:
            raise PermissionError(
                f"output_dir {str(self.output_dir)!r} cannot be written ({e.strerror or e}); "
                "choose another folder (notebook parameter output_dir, run_all.py --output-dir)."
            ) from e
        for stale in self.path.glob(".*.tmp*"):  # what a writer killed mid-write left (see atomic_write)
            stale.unlink(missing_ok=True)
        return self

    @property
    def finished(self) -> bool:
        return (self.path / self.METRICS).is_file()

    def write_json(self, name: str, obj) -> Path:
        return atomic_write(self.path / name, json.dumps(jsonable(obj), indent=2, sort_keys=False) + "\n")

    def read_json(self, name: str):
        return json.loads((self.path / name).read_text(encoding="utf-8"))

    def write_text(self, name: str, text: str) -> Path:
        return atomic_write(self.path / name, text)

    def write_npz(self, name: str, **arrays) -> Path:
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        return atomic_write(self.path / name, buf.getvalue())

    def write_csv(self, name: str, frame) -> Path:
        return atomic_write(self.path / name, frame.to_csv(index=False))

    def history(self):
        """The per-epoch history as a DataFrame (empty when training has not finished an epoch)."""
        path = self.path / self.HISTORY
        return pd.read_csv(path) if path.is_file() else pd.DataFrame()


# What load_runs reads from each run's config.json and metrics.json, in the table's column order.
CONFIG_COLUMNS = (
    "experiment dataset model recipe optimizer lr schedule epochs batch_size augment loss label_smoothing "
    "weight_decay seed"
).split()
METRIC_COLUMNS = [
    "test_accuracy",
    "val_accuracy",
    "epochs_run",
    "train_seconds",
    "train_images_per_s",
    "inference_images_per_s",
]


def load_runs(output_dir: str | Path):
    """One row per run directory under ``<output_dir>/runs``: settings, status and test results."""
    rows = []
    for run_path in sorted((Path(output_dir) / "runs").glob("*/")):
        run = RunDir(output_dir, run_path.name)
        row = {"run_name": run.name, "status": "finished" if run.finished else "unfinished", "path": str(run.path)}
        try:
            config = run.read_json(RunDir.CONFIG) if (run / RunDir.CONFIG).is_file() else {}
            metrics = run.read_json(RunDir.METRICS) if run.finished else {}
        except (OSError, ValueError) as e:
            row["status"] = f"unreadable: {e}"
            rows.append(row)
            continue
        row.update({key: config.get(key) for key in CONFIG_COLUMNS})
        row["accelerator"] = config.get("environment", {}).get("hardware", {}).get("accelerator")
        row.update({key: metrics.get(key) for key in METRIC_COLUMNS})
        params = metrics.get("params", {})
        row["params_total"] = params.get("total")
        row["params_trainable"] = params.get("trainable")
        row["flops_per_image"] = metrics.get("flops_per_image")
        rows.append(row)
    columns = [
        "run_name",
        "status",
        *CONFIG_COLUMNS,
        *METRIC_COLUMNS,
        "params_total",
        "params_trainable",
        "flops_per_image",
        "accelerator",
        "path",
    ]
    return pd.DataFrame(rows, columns=columns)


def finished_runs(output_dir: str | Path) -> pd.DataFrame:
    """Finished runs keyed by experiment name (or run name for runs of one's own); the latest copy wins."""
    runs = load_runs(output_dir)
    done = runs[runs["status"] == "finished"].copy()
    done["key"] = done["experiment"].where(done["experiment"].notna() & (done["experiment"] != ""), done["run_name"])
    return done.drop_duplicates("key", keep="last").set_index("key")
