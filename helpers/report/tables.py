"""The evaluation appendix's tables: our runs beside the reports, report 2's ablation tables and their curves, the
degradation study's histories (each run's page is ``helpers.report.pages``, the architectures
``helpers.report.architectures``).

Everything reads run directories only (``finished_runs``), so runs copied together from several machines merge.
Missing runs stay in the tables as "missing" rows: nothing is dropped silently. Every number about the reports
comes from the experiment matrix (``helpers.experiments``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from helpers.experiments import EXPERIMENTS, Experiment, degradation_experiments
from helpers.runs import RunDir

__all__ = [
    "ABLATION_TABLES",
    "NOT_IN_PROFILE",
    "ablation_histories",
    "ablation_tables",
    "degradation_histories",
    "missing_experiments",
    "results_table",
    "run_history",
]

ABLATION_TABLES = {
    "Table I": "MNIST: VGG (depth, learning rate, optimizer, augmentation)",
    "Table II": "MNIST: ResNet-18",
    "Table III": "MNIST: GoogLeNet",
    "Table IV": "CIFAR-10: VGG (depth, learning rate, optimizer, augmentation)",
    "Table V": "CIFAR-10: ResNet-18",
    "Table VI": "CIFAR-10: GoogLeNet",
}
NOT_IN_PROFILE = "not run in this profile"
RUNNING = "running elsewhere"


def _ours(finished: pd.DataFrame, name: str) -> float:
    return round(100 * float(finished.loc[name, "test_accuracy"]), 2) if name in finished.index else np.nan


def results_table(finished: pd.DataFrame, expected: list[Experiment], running=()) -> pd.DataFrame:
    """One row per expected experiment: the report's accuracy, ours, the difference (points; + = we do better).

    Report 1's four headline experiments always come first, also when the profile leaves them out: status
    "not run in this profile" then, while "missing" means expected but not finished, and "running elsewhere" an
    experiment another run_all worker is still training (``running``, as run_all passes it).
    """
    names = {e.name for e in expected}
    headline = [e for e in EXPERIMENTS.values() if e.report == "report1"]
    rows = []
    for e in headline + [e for e in expected if e not in headline]:
        ours = _ours(finished, e.name)
        rows.append(
            {
                "experiment": e.name,  # names carry model and dataset: r2_vgg16_sgd_cifar10
                "source": f"{e.report} {e.table}" if e.report else "ours",
                "reported (%)": e.reported if e.reported is not None else np.nan,
                "ours (%)": ours,
                "difference": round(ours - e.reported, 2) if e.reported is not None and not np.isnan(ours) else np.nan,
                "status": (
                    "finished"
                    if e.name in finished.index
                    else RUNNING
                    if e.name in running
                    else "missing"
                    if e.name in names
                    else NOT_IN_PROFILE
                ),
            }
        )
    return pd.DataFrame(rows, columns=["experiment", "source", "reported (%)", "ours (%)", "difference", "status"])


def missing_experiments(finished: pd.DataFrame, expected: list[Experiment]) -> list[Experiment]:
    return [e for e in expected if e.name not in finished.index]


def _table_rows(table: str) -> list[Experiment]:
    """Report 2's experiments of one table ("Table IV"), in the report's row order."""
    return [e for e in EXPERIMENTS.values() if e.report == "report2" and e.table == table]


def ablation_tables(finished: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Report 2's Tables I-VI, row for row, with our accuracy for the same setting beside theirs."""
    tables = {}
    for table, caption in ABLATION_TABLES.items():
        rows = _table_rows(table)
        frame = pd.DataFrame(
            [
                {
                    "setting": e.label or e.name,
                    "report 2 (%)": e.reported,
                    "ours (%)": _ours(finished, e.name),
                    "difference": round(_ours(finished, e.name) - e.reported, 2)
                    if e.name in finished.index
                    else np.nan,
                    "experiment": e.name,
                }
                for e in rows
            ]
        )
        tables[f"{table}. {caption}"] = frame
    return tables


def run_history(finished: pd.DataFrame, output_dir: str | Path, key: str) -> pd.DataFrame:
    """The per-epoch history of the finished run ``key`` (experiment name), empty when it has none."""
    return RunDir(output_dir, finished.loc[key, "run_name"]).history()


def ablation_histories(finished: pd.DataFrame, output_dir: str | Path) -> dict[str, dict[str, pd.DataFrame]]:
    """Per table of report 2 (the captions of ``ablation_tables``): the history of every finished run of that
    table, keyed by the report's row label, in the report's row order; {} for a table without finished runs."""
    out = {}
    for table, caption in ABLATION_TABLES.items():
        runs = {
            e.label or e.name: run_history(finished, output_dir, e.name)
            for e in _table_rows(table)
            if e.name in finished.index
        }
        out[f"{table}. {caption}"] = {label: h for label, h in runs.items() if len(h)}
    return out


def degradation_histories(
    finished: pd.DataFrame, output_dir: str | Path, expected=None
) -> tuple[dict[str, dict[int, pd.DataFrame]], list[str]]:
    """The degradation study's finished runs as the paper's Fig. 6 needs them, {"plain": {depth: history},
    "residual": {depth: history}}, and one line naming the runs of ``expected`` (experiment names; None: the whole
    study) that are not finished."""
    histories, missing = {}, []
    for kind, by_depth in degradation_experiments().items():
        histories[kind] = {}
        for depth, e in by_depth.items():
            history = run_history(finished, output_dir, e.name) if e.name in finished.index else pd.DataFrame()
            if len(history):
                histories[kind][depth] = history
            elif expected is None or e.name in expected:
                missing.append(e.name)
    notes = [f"Not drawn, not finished: {', '.join(missing)}."] if missing else []
    return histories, notes
