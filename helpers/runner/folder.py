"""The shared output folder as every worker sees it: each experiment's state (done here, elsewhere, running,
failed), ``summary.csv``, and who builds the one report (the last worker to leave, or ``--report-only``)."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from helpers.experiments import Experiment
from helpers.runner.claims import read_holder
from helpers.runner.markers import FAILED, done_marker, executed_path, is_finished, read_result, test_accuracy
from helpers.runner.workers import Registration, claim_path, holder_of, holding, live_workers, work_dir
from helpers.runs import atomic_write

__all__ = ["folder_row", "last_to_finish", "list_state", "settled", "wait_for_others", "write_summary"]


def folder_row(exp: Experiment, output_dir: Path, share: set[str], started_at: float, own: dict | None) -> dict:
    """One line of summary.csv: what this worker did, else what the folder says (finished, claimed, failed)."""
    row = {
        "experiment": exp.name,
        "status": "not run",
        "test_accuracy": test_accuracy(exp, output_dir),
        "wall_seconds": None,
        "notebook": str(executed_path(exp, output_dir)),
        "error": None,
        "worker": None,
    }
    if own and not own["status"].endswith("elsewhere"):
        return {**row, **own}
    holder = read_holder(claim_path(output_dir, exp.name))
    stopped = holder.gone() if holder else None
    if holder and not stopped:
        return {**row, "status": "running elsewhere", "worker": holder.who}
    last = read_result(output_dir, exp.name)
    row.update(wall_seconds=last.get("wall_seconds"), worker=last.get("worker"))
    if is_finished(exp, output_dir):
        before = not is_finished(exp, output_dir, started_at)
        row["status"] = "skipped (finished)" if before and exp.name in share else "done elsewhere"
    elif done_marker(exp, output_dir) is None and last.get("at", 0) < started_at:
        row.update(wall_seconds=None, worker=None)  # the appendix: only this run's counts
    elif last.get("status") == "ok":
        row["status"] = "done elsewhere"
    elif last.get("status") in FAILED:
        row.update(status="failed elsewhere", error=f"{last['status']}: {last.get('error')}")
    if stopped and row["status"] == "not run":
        row["worker"] = f"{holder.who} (stopped: {stopped})"
    return row


def list_state(exp: Experiment, output_dir: Path) -> str:
    """What ``run_all.py --list`` says of an experiment: finished, running (by whom) or to run."""
    holder = holder_of(output_dir, exp.name)
    return "finished" if is_finished(exp, output_dir) else f"running ({holder.who})" if holder else "to run"


def settled(exp: Experiment, output_dir: Path) -> bool:
    """Finished or failed, and nobody working on it."""
    if holder_of(output_dir, exp.name):
        return False
    return is_finished(exp, output_dir) or read_result(output_dir, exp.name).get("status") in FAILED


def write_summary(rows: list[dict], output_dir: Path) -> Path:
    frame = pd.DataFrame(
        rows, columns=["experiment", "status", "test_accuracy", "wall_seconds", "notebook", "error", "worker"]
    )
    path = atomic_write(output_dir / "summary.csv", frame.to_csv(index=False))
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        shown = frame[["experiment", "status", "test_accuracy", "wall_seconds", "worker"]].astype(object)
        print("\nSummary of the folder\n" + shown.where(shown.notna(), "").to_string(index=False))
    print(f"\nSummary written to {path}")
    return path


def last_to_finish(registration: Registration, selected: list[Experiment], output_dir: Path) -> str | None:
    """Leave the folder; None when this worker builds the report (no other worker left, and every experiment
    finished or failed), else why it does not."""
    with holding(work_dir(output_dir) / "workers.claim"):  # two workers leaving at once: exactly one is last
        registration.close()
        others = live_workers(output_dir)
    if others:
        return (
            f"{len(others)} other worker(s) still running ({', '.join(h.who for h in others)}); the last one builds it"
        )
    open_ = [e.name for e in selected if not e.needs and not settled(e, output_dir)]
    if open_:
        return (
            f"{len(open_)} experiment(s) neither finished nor failed yet ({', '.join(open_)}); the last worker "
            "to finish them, or run_all.py --report-only, builds it"
        )
    return None


def wait_for_others(selected: list[Experiment], output_dir: Path, wait: float, me: Path) -> list[str]:
    """--report-only: wait, up to ``wait`` seconds, while other workers run or experiments (the appendix too) are
    claimed; return the experiments still running elsewhere."""
    t0, next_note = time.monotonic(), 0.0
    while True:
        workers = live_workers(output_dir, exclude=me)
        running = [e.name for e in selected if holder_of(output_dir, e.name)]
        waited = time.monotonic() - t0
        if not workers and not running:
            return []
        if waited >= wait:
            print(
                f"Report: waited {waited:.0f} s; still running elsewhere: {', '.join(running) or 'no experiment'}"
                f" ({len(workers)} worker(s) registered)",
                flush=True,
            )
            return [e.name for e in selected if e.name in running and not e.needs]
        if time.monotonic() >= next_note:
            print(
                f"Waiting (up to {wait:g} s) for {len(workers)} worker(s) and {len(running)} running experiment(s)"
                f"{': ' + ', '.join(running) if running else ''}",
                flush=True,
            )
            next_note = time.monotonic() + 60
        time.sleep(min(2.0, max(0.1, wait - waited)))
