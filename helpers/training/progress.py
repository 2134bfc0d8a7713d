"""What a student sees while a network trains: a live bar inside each epoch, one line per finished epoch, and an
estimate of the whole run's length measured from its first steps.

Two modes (the ``progress`` parameter of the notebooks and of ``train``):

* ``"bar"``: in JupyterLab and Colab, one line per epoch that updates in place (batches, ETA, running loss and
  accuracy) through an IPython display handle and ends as that epoch's summary line. Nothing but the final
  text is saved in the notebook: no ``\\r`` or backspace characters, no widget stubs, plain ASCII.
* ``"epoch"``: one printed line per epoch (run_all.py sets this for headless runs, logs and PDFs).

``EpochLogger`` is the Keras callback that shows either and writes the run's ``history.csv``.
"""

from __future__ import annotations

import time

import keras
import pandas as pd
from IPython import get_ipython
from IPython.display import display

from helpers.experiments.budget import format_duration
from helpers.runs import RunDir

__all__ = [
    "PROGRESS_MODES",
    "EpochLogger",
    "LiveLine",
    "bar_text",
    "estimate_text",
    "format_duration",
    "live_display_available",
    "resolve_mode",
]

PROGRESS_MODES = ("bar", "epoch")


def live_display_available() -> bool:
    """True inside a Jupyter kernel (JupyterLab, Colab, papermill), where a display can update in place."""
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def resolve_mode(mode: str) -> str:
    if mode not in PROGRESS_MODES:
        raise ValueError(f"Unknown progress {mode!r}; valid: {', '.join(PROGRESS_MODES)}.")
    return "bar" if mode == "bar" and live_display_available() else "epoch"


def bar_text(epoch: int, epochs: int, step: int, steps: int, seconds: float, logs: dict, width: int = 24) -> str:
    """``Epoch 3/30 [=========>..............] 120/390 - ETA 35 s - loss 1.2345 - accuracy 0.5678``."""
    done = min(width, width * step // max(steps, 1))
    bar = "=" * done + (">" + "." * (width - done - 1) if done < width else "")
    eta = seconds / step * (steps - step) if step else 0.0
    metrics = "".join(f" - {k} {float(logs[k]):.4f}" for k in ("loss", "accuracy", "main_accuracy") if k in logs)
    return f"Epoch {epoch}/{epochs} [{bar}] {step}/{steps} - ETA {format_duration(eta)}{metrics}"


def estimate_text(epoch_seconds: float, epochs_left: int, device: str, gpu: bool) -> str:
    """The honest expectation printed before a long wait, with what to change when it is too long."""
    total = epoch_seconds * epochs_left
    text = (
        f"~{format_duration(epoch_seconds)} per epoch on {device}: {epochs_left} epoch"
        f"{'s' if epochs_left != 1 else ''} ~ {format_duration(total)}"
    )
    if not gpu and total > 15 * 60:
        text += (
            ". Without a GPU that is long: for a short run set epochs=2 and train_size=2000 in the parameters "
            "cell (on Colab: Runtime > Change runtime type > T4 GPU)"
        )
    return text


class LiveLine:
    """One line of plain text that updates in place in a notebook (an IPython display handle), throttled."""

    def __init__(self, text: str = "", every: float = 0.25):
        self.every, self.last = every, 0.0
        self.handle = display({"text/plain": text}, raw=True, display_id=True)

    def update(self, text: str, force: bool = False) -> None:
        now = time.perf_counter()
        if force or now - self.last >= self.every:
            self.handle.update({"text/plain": text}, raw=True)
            self.last = now


class EpochLogger(keras.callbacks.Callback):
    """Keras callback: progress on screen (a live bar per epoch, or one line per epoch), an estimate of the run's
    length from its first steps, and ``history.csv`` rewritten atomically each epoch.

    Rows are keyed by epoch, so a resumed run replaces, never duplicates, epochs it trains again.
    """

    COLUMNS = ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "epoch_seconds", "images_per_s"]

    def __init__(self, run, n_train, epochs, resume, stream, progress="epoch", device="this CPU", gpu=False, n_val=0):
        super().__init__()
        self.run, self.n_train, self.epochs, self.stream = run, n_train, epochs, stream
        # Validation predicts (about 3x cheaper per image than a training step) after every epoch.
        self.val_share = n_val / max(n_train, 1) / 3
        self.mode, self.device, self.gpu = progress, device, gpu
        history = run.history() if resume else None
        self.rows = history.to_dict("records") if history is not None and len(history) else []
        self.estimated, self.line = False, None
        self.first_epoch = None  # the epoch fit() started at: > 0 when BackupAndRestore resumed the run

    def on_epoch_begin(self, epoch, logs=None):
        self.t0 = time.perf_counter()
        self.t_train, self.t_first = None, None
        self.epoch = epoch
        if self.first_epoch is None:
            self.first_epoch = epoch
        if self.mode == "bar":
            self.line = LiveLine(f"Epoch {epoch + 1}/{self.epochs} starting...")

    def on_train_batch_end(self, batch, logs=None):
        now, step, steps = time.perf_counter(), batch + 1, self.params.get("steps") or 0
        if self.t_first is None:
            self.t_first = now  # the first step includes tracing and compiling: not a fair sample
        elif not self.estimated and (now - self.t_first >= 2.0 or step == steps):
            self._estimate((now - self.t_first) / batch * steps * (1 + self.val_share))
        if self.line is not None and steps:
            self.line.update(
                bar_text(self.epoch + 1, self.epochs, step, steps, now - self.t0, logs or {}), force=step == steps
            )

    def _estimate(self, epoch_seconds):
        self.estimated = True
        left = self.epochs - self.epoch
        print(estimate_text(epoch_seconds, left, self.device, self.gpu), file=self.stream, flush=True)

    def on_test_begin(self, logs=None):
        if self.t_train is None and hasattr(self, "t0"):
            self.t_train = time.perf_counter() - self.t0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        seconds = time.perf_counter() - self.t0
        train_seconds = self.t_train or seconds
        if not self.estimated:  # an epoch of one step: the epoch itself is the measurement
            self._estimate(seconds)

        def pick(*keys):
            return next((float(logs[k]) for k in keys if k in logs), float("nan"))

        row = {
            "epoch": epoch + 1,
            "loss": pick("loss"),
            "accuracy": pick("accuracy", "main_accuracy"),
            "val_loss": pick("val_loss"),
            "val_accuracy": pick("val_accuracy", "val_main_accuracy"),
            "lr": _current_lr(self.model.optimizer),
            "epoch_seconds": seconds,
            "images_per_s": self.n_train / train_seconds if train_seconds > 0 else float("nan"),
        }
        self.rows = [r for r in self.rows if r["epoch"] < row["epoch"]] + [row]
        self.run.write_csv(RunDir.HISTORY, pd.DataFrame(self.rows, columns=EpochLogger.COLUMNS))
        text = (
            f"Epoch {row['epoch']}/{self.epochs} - loss {row['loss']:.4f} - accuracy {row['accuracy']:.4f}"
            f" - val_loss {row['val_loss']:.4f} - val_accuracy {row['val_accuracy']:.4f}"
            f" - lr {row['lr']:.2e} - {seconds:.1f}s ({row['images_per_s']:.0f} img/s)"
        )
        if self.line is not None:  # the live bar becomes the epoch's line
            self.line.update(text, force=True)
            self.line = None
        else:
            print(text, file=self.stream, flush=True)


def _current_lr(optimizer) -> float:
    """The learning rate the optimizer uses now (a schedule is evaluated at the current step)."""
    lr = optimizer.learning_rate
    if callable(lr):
        lr = lr(optimizer.iterations)
    return float(keras.ops.convert_to_numpy(lr))
