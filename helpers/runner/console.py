"""What run_all's console says while notebooks run: where the logs are, then for every running experiment its epoch
k/N, the last validation accuracy, and the time left for it and for the whole job; at the end each run's time
beside its estimate. A tqdm bar per running experiment on a terminal; one line per epoch otherwise (logs).

The notebooks run in other processes; their progress is read from each run's ``history.csv``, which the training
loop rewrites after every epoch.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from helpers.experiments import Experiment
from helpers.experiments.budget import format_duration
from helpers.runs import RunDir

__all__ = ["Console"]


class Console:
    """Progress of a job's running experiments, from their run directories (``tick`` reads them, throttled)."""

    def __init__(
        self, estimate: dict[str, float], output_dir: Path, stream=None, live: bool | None = None, every: float = 2.0
    ):
        self.estimate, self.output_dir, self.every = dict(estimate), Path(output_dir), every
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty() if live is None else live
        self.running: dict[str, dict] = {}
        self.actual: dict[str, float] = {}
        self.last_tick = 0.0

    def say(self, text: str) -> None:
        """A line between the bars on a terminal, else a plain line."""
        if self.live:
            tqdm.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)

    def started(self, exp: Experiment) -> None:
        state = {"t0": time.monotonic(), "epochs": None, "done": 0, "bar": None}
        self.running[exp.name] = state
        if self.live:
            state["bar"] = tqdm(
                total=None,
                desc=exp.name,
                unit="epoch",
                file=self.stream,
                leave=False,
                position=len(self.running) - 1,
                dynamic_ncols=True,
            )
            self._refresh_bar(exp.name, state)

    def finished(self, name: str, seconds: float | None) -> None:
        """An experiment ended here after ``seconds`` (None: it did not run here, e.g. done elsewhere)."""
        state = self.running.pop(name, None)
        if state and state["bar"] is not None:
            state["bar"].close()
        if seconds is None:
            self.estimate.pop(name, None)
        else:
            self.actual[name] = seconds

    def tick(self, force: bool = False) -> None:
        """Read the running experiments' histories; a line (or a bar update) for each new epoch."""
        now = time.monotonic()
        if not force and now - self.last_tick < self.every:
            return
        self.last_tick = now
        for name, state in self.running.items():
            run = RunDir(self.output_dir, name)
            if state["epochs"] is None and (run / RunDir.CONFIG).is_file():
                try:
                    state["epochs"] = int(run.read_json(RunDir.CONFIG)["epochs"])
                except (OSError, ValueError, KeyError):
                    continue
            history = _read(run)
            if state["epochs"] is None or len(history) <= state["done"]:
                if state["bar"] is not None:
                    self._refresh_bar(name, state)
                continue
            state["done"], state["history"] = len(history), history
            if state["bar"] is not None:
                self._refresh_bar(name, state)
            else:
                self.say(f"  {name}: {self._status(name, state)}")

    def _status(self, name: str, state: dict) -> str:
        history = state.get("history")
        parts = []
        if history is not None and len(history):
            parts.append(f"epoch {len(history)}/{state['epochs']}")
            val = history["val_accuracy"].iloc[-1] if "val_accuracy" in history else float("nan")
            if pd.notna(val):
                parts.append(f"val_accuracy {val:.1%}")
        parts.append(f"this run ~{format_duration(self.run_left(name))} left")
        parts.append(f"the job ~{format_duration(self.job_left())} left")
        return ", ".join(parts)

    def _refresh_bar(self, name: str, state: dict) -> None:
        bar = state["bar"]
        if state["epochs"] is not None and bar.total != state["epochs"]:
            bar.total = state["epochs"]
        bar.n = state["done"]
        bar.set_postfix_str(self._status(name, state), refresh=False)
        bar.refresh()

    def run_left(self, name: str) -> float:
        """Seconds this experiment still needs: its remaining epochs at the pace of its later epochs, else its
        estimate less the time it has run (the first epoch also builds the graph)."""
        state, elapsed = self.running[name], time.monotonic() - self.running[name]["t0"]
        history, epochs = state.get("history"), state["epochs"]
        if history is not None and len(history) and epochs:
            seconds = history["epoch_seconds"]
            pace = seconds.iloc[1:].mean() if len(seconds) > 1 else seconds.iloc[0]
            return max(0.0, pace * (epochs - len(history)))
        return max(0.0, self.estimate.get(name, 0.0) - elapsed)

    def job_left(self) -> float:
        """Seconds the job still needs: the running experiments' time left, then every experiment not started,
        its estimate corrected by how the finished ones compared with theirs."""
        done = [n for n in self.actual if n in self.estimate]
        ratio = sum(self.actual[n] for n in done) / max(1e-9, sum(self.estimate[n] for n in done)) if done else 1.0
        ratio = min(3.0, max(1 / 3, ratio))
        waiting = [n for n in self.estimate if n not in self.actual and n not in self.running]
        return sum(self.run_left(n) for n in self.running) + ratio * sum(self.estimate[n] for n in waiting)

    def comparison(self) -> pd.DataFrame:
        """Each finished experiment's time beside its estimate (seconds, and actual / estimated)."""
        rows = [
            {
                "experiment": n,
                "estimated_s": round(self.estimate[n]),
                "actual_s": round(self.actual[n]),
                "actual/estimated": round(self.actual[n] / max(self.estimate[n], 1e-9), 2),
            }
            for n in self.estimate
            if n in self.actual
        ]
        return pd.DataFrame(rows, columns=["experiment", "estimated_s", "actual_s", "actual/estimated"])


def _read(run: RunDir) -> pd.DataFrame:
    try:
        return run.history()
    except (OSError, ValueError, pd.errors.ParserError):  # being rewritten: next time
        return pd.DataFrame()
