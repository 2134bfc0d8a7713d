"""When training is cut short by the machine: a run whose training ended but whose evaluation did not (evaluated as
it is, not trained twice), and a disk that fills up (one line: what is kept, how to go on)."""

from __future__ import annotations

import contextlib
import errno
import shutil

from helpers.runs import RunDir, jsonable

__all__ = ["disk_full_said", "trained_before"]


def trained_before(run: RunDir, config: dict, data: dict) -> bool:
    """True when this run's training ended (``model.keras`` is written after the last epoch) with these settings
    and data, but its evaluation did not (no ``metrics.json``): a worker killed in between. Training it again would
    train the run twice; it is evaluated as it is."""
    if run.finished or not (run / RunDir.MODEL).is_file() or not (run / RunDir.CONFIG).is_file():
        return False
    try:
        saved = run.read_json(RunDir.CONFIG)
    except (OSError, ValueError):
        return False
    history = run.history()
    same = all(saved.get(key) == value for key, value in jsonable(config).items())
    same_data = all(saved.get("data", {}).get(key) == value for key, value in jsonable(data).items())
    epochs = int(config["epochs"])
    return same and same_data and not history.empty and int(history["epoch"].max()) == epochs == len(history)


@contextlib.contextmanager
def disk_full_said(run: RunDir):
    """A disk that fills up while training (a backup, history.csv, a kept epoch) ends in one line that says what
    is kept and how to go on, not in a stack of Keras' and h5py's errors."""
    try:
        yield
    except Exception as e:
        chain = [e]
        while chain[-1].__cause__ or chain[-1].__context__:
            chain.append(chain[-1].__cause__ or chain[-1].__context__)
        if not any(getattr(x, "errno", None) == errno.ENOSPC or "No space left" in str(x) for x in chain):
            raise
        free = shutil.disk_usage(run.path).free / 1e6
        raise OSError(
            errno.ENOSPC,
            f"The disk is full ({free:.0f} MB free where {run.path} is): training stopped. The backup of the last "
            f"complete epoch is kept in {run / RunDir.BACKUP}: free some space, then rerun the same cell (or "
            "run_all.py) to resume from it",
        ) from None
