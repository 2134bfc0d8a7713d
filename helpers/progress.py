"""What a student sees while a network trains: a live bar inside each epoch, one line per finished epoch, and an
estimate of the whole run's length measured from its first steps.

Two modes (the ``progress`` parameter of the notebooks and of ``train``):

* ``"bar"``: in JupyterLab and Colab, one line per epoch that updates in place (batches, ETA, running loss and
  accuracy) through an IPython display handle and ends as that epoch's summary line. Nothing but the final
  text is saved in the notebook: no ``\\r`` or backspace characters, no widget stubs, plain ASCII.
* ``"epoch"``: one printed line per epoch (run_all.py sets this for headless runs, logs and PDFs).
"""

from __future__ import annotations

import time

__all__ = ["PROGRESS_MODES", "LiveLine", "bar_text", "estimate_text", "format_duration", "live_display_available",
           "resolve_mode"]

PROGRESS_MODES = ("bar", "epoch")


def live_display_available() -> bool:
    """True inside a Jupyter kernel (JupyterLab, Colab, papermill), where a display can update in place."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def resolve_mode(mode: str) -> str:
    if mode not in PROGRESS_MODES:
        raise ValueError(f"Unknown progress {mode!r}; valid: {', '.join(PROGRESS_MODES)}.")
    return "bar" if mode == "bar" and live_display_available() else "epoch"


def format_duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


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
    text = (f"~{format_duration(epoch_seconds)} per epoch on {device}: {epochs_left} epoch"
            f"{'s' if epochs_left != 1 else ''} ~ {format_duration(total)}")
    if not gpu and total > 15 * 60:
        text += (". Without a GPU that is long: for a short run set epochs=2 and train_size=2000 in the parameters "
                 "cell (on Colab: Runtime > Change runtime type > T4 GPU)")
    return text


class LiveLine:
    """One line of plain text that updates in place in a notebook (an IPython display handle), throttled."""

    def __init__(self, text: str = "", every: float = 0.25):
        from IPython.display import display

        self.every, self.last = every, 0.0
        self.handle = display({"text/plain": text}, raw=True, display_id=True)

    def update(self, text: str, force: bool = False) -> None:
        now = time.perf_counter()
        if force or now - self.last >= self.every:
            self.handle.update({"text/plain": text}, raw=True)
            self.last = now
