"""run_all.py end to end: the smoke profile through papermill with real kernels, skips, failures, bad input."""

import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SHARD_ORDER, run_cli

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpers.experiments import EXPERIMENTS, NOTEBOOKS, PROFILES, Experiment, experiments_for, parameters_for  # noqa: E402
from helpers.runner import (  # noqa: E402
    claims,
    estimate,
    markers,
    preflight,
    workers,
)
from helpers.runner import cli as run_all  # noqa: E402
from helpers.training import make_config  # noqa: E402


def test_smoke_profile_runs_every_notebook(smoke):
    out, proc, seconds = smoke
    expected_code = 0 if shutil.which("xelatex") else 3  # 3: every experiment ok, but no TeX for the PDF
    assert proc.returncode == expected_code, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = pd.read_csv(out / "summary.csv")
    expected = [e.name for e in experiments_for("smoke")]
    assert summary["experiment"].tolist() == expected
    # The last share's summary covers the folder: what the other shares ran is "done elsewhere", its own "ok"
    assert summary["status"].isin(["ok", "done elsewhere"]).all() and (summary["status"] == "ok").any(), summary
    assert {e.notebook for e in experiments_for("smoke")} == set(NOTEBOOKS.values())  # every notebook
    assert "Summary" in proc.stdout and "[1/" in proc.stdout  # progress over experiments
    print(f"smoke profile: {seconds:.0f} s")  # its time limit is the fixture's (conftest.SMOKE_SECONDS)
    print(proc.stdout[-1500:])


def test_the_console_says_where_the_logs_are_how_long_it_will_take_and_how_far_it_is(smoke):
    """Each share's first lines: which share, where each run's log is, the estimate for this machine; then a line
    per epoch of every training run (not a terminal: no bars), and at the end each run's time beside its estimate."""
    out, proc, _ = smoke
    for i, share in zip(SHARD_ORDER, proc.shards):
        lines = share.stdout.splitlines()
        assert lines[0].startswith(f"Logs: {out / 'logs'}/<experiment>.log"), lines[:3]
        assert lines[1].startswith(f"Profile smoke (shard {i}/8): 1 experiments, 1 to run"), lines[1]  # none idle
        assert lines[2].startswith("Estimated time on this machine: ") and "GFLOP/s" in lines[2]
        printed = float(re.search(r"Estimated time on this machine: ([\d.]+) (s|min|h)\b", lines[2]).group(1))
        assert math.isfinite(printed) and printed > 0, lines[2]
        assert any(": started (" in line for line in lines[3:])
    lines = proc.stdout.splitlines()
    training = [e.name for e in experiments_for("smoke") if markers.is_training(e)]
    for name in training:
        assert any(line.startswith(f"  {name}: epoch 1/1, val_accuracy ") and "the job ~" in line for line in lines)
    rows = []
    for share in proc.shards:
        shown = share.stdout.splitlines()
        table = shown[shown.index("Time on this machine, estimated vs actual") + 1 :]
        names = {e.name for e in experiments_for("smoke")}
        rows += [line.split() for line in table[1:] if line.strip() and line.split()[0] in names]
    assert sorted(row[0] for row in rows) == sorted(e.name for e in experiments_for("smoke")), rows
    for row in rows:  # every run has an estimate and a measured time (how close they are depends on the machine)
        estimated, actual = float(row[1]), float(row[2])
        assert math.isfinite(estimated) and estimated > 0 and math.isfinite(actual) and actual > 0, row


def test_the_estimate_is_positive_finite_and_grows_with_the_epochs():
    """What the console's first lines estimate, without running anything: every job of every profile costs a
    positive, finite time, and more epochs cost more (the time on this machine is the smoke tests' business)."""
    speed = estimate.MachineSpeed.reference()
    for profile in PROFILES:
        jobs = [(e, run_all.parameters_for(e, profile, "/tmp/x", "/tmp/data")) for e in experiments_for(profile)]
        total = estimate.Estimate(jobs, speed=speed).total
        assert math.isfinite(total) and total > 0, profile
        for exp, params in jobs:
            seconds = estimate.reference_seconds(exp, params)
            assert math.isfinite(seconds) and seconds > 0, (profile, exp.name)
            if markers.is_training(exp):
                epochs = (
                    params.get("epochs")
                    or make_config(exp.params["recipe"], exp.params["model"], exp.params["dataset"])["epochs"]
                )
                longer = estimate.reference_seconds(exp, {**params, "epochs": 2 * epochs})
                assert longer > seconds, (profile, exp.name)
        doubled = [(e, {**p, "epochs": 2 * p["epochs"]} if p.get("epochs") else p) for e, p in jobs]
        if any(p.get("epochs") for _, p in jobs):
            assert estimate.Estimate(doubled, speed=speed).total > total, profile


def test_smoke_runs_write_complete_run_directories(smoke):
    out, _, _ = smoke
    for exp in experiments_for("smoke"):
        if not markers.is_training(exp):
            continue
        run = out / "runs" / exp.name
        for name in (
            "config.json",
            "history.csv",
            "metrics.json",
            "predictions.npz",
            "summary.txt",
            "model.keras",
            "notebook.ipynb",
        ):
            assert (run / name).is_file(), (exp.name, name)
        metrics = json.loads((run / "metrics.json").read_text())
        assert 0 <= metrics["test_accuracy"] <= 1 and metrics["params"]["total"] > 0
        config = json.loads((run / "config.json").read_text())
        assert config["experiment"] == exp.name and config["data"]["source"] == "synthetic"
        assert config["model"] == exp.params["model"] and config["epochs"] == 1
        # Contents, not only files: one prediction per test image, one history row per epoch.
        n_test, classes = config["data"]["test"], len(config["data"]["class_names"])
        assert n_test == PROFILES["smoke"]["train"]["test_size"], (exp.name, n_test)
        predictions = np.load(run / "predictions.npz")
        assert predictions["y_true"].shape == predictions["y_pred"].shape == (n_test,), exp.name
        assert predictions["probs"].shape == (n_test, classes), exp.name
        np.testing.assert_allclose(predictions["probs"].astype(np.float32).sum(1), 1.0, atol=1e-2)
        accuracy = float(np.mean(predictions["y_pred"] == predictions["y_true"]))
        assert accuracy == pytest.approx(metrics["test_accuracy"]), exp.name
        assert np.array(metrics["confusion_matrix"]).sum() == n_test, exp.name
        history = pd.read_csv(run / "history.csv")
        assert history["epoch"].tolist() == list(range(1, config["epochs"] + 1)), (exp.name, history)
        assert metrics["epochs_run"] == len(history) and np.isfinite(history["loss"]).all(), exp.name
        figures = list((run / "figures").glob("*.png"))
        assert len(figures) >= 3, (exp.name, figures)
        executed = json.loads((run / "notebook.ipynb").read_text())
        streams = "".join(
            "".join(o.get("text", ""))
            for c in executed["cells"]
            for o in c.get("outputs", [])
            if o.get("output_type") == "stream"
        )
        assert "\b" not in streams and "\r" not in streams.replace("\r\n", "")  # no progress bars


def test_appendix_shows_results_table_and_figures(smoke):
    out, _, _ = smoke
    nb = json.loads((out / "notebooks" / "evaluation_appendix.ipynb").read_text())
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    # The results table: our run's own test accuracy (its metrics.json) beside the report's 99.33%.
    ours = round(
        100 * json.loads((out / "runs" / "r1_exp1_vgg16_mnist" / "metrics.json").read_text())["test_accuracy"], 2
    )
    markdown = "\n".join("".join(o.get("data", {}).get("text/markdown", "")) for o in outputs)
    lines = markdown.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| experiment ") and "ours (%)" in line)
    columns = [cell.strip() for cell in lines[header].strip().strip("|").split("|")]
    rows = {}
    for line in lines[header + 2 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        rows[cells[0]] = dict(zip(columns, cells))
    row = rows["r1_exp1_vgg16_mnist"]
    assert row["reported (%)"] == "99.33" and row["ours (%)"] == f"{ours:.2f}", row
    assert row["difference"] == f"{round(ours - 99.33, 2):.2f}" and row["status"] == "finished", row
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 3
    assert list((out / "figures").glob("*.pdf"))


def test_second_run_skips_finished_experiments(smoke):
    out, _, _ = smoke
    trained = [e.name for e in experiments_for("smoke") if markers.is_training(e)]
    kept = [out / "runs" / name / f for name in trained for f in ("metrics.json", "model.keras", "notebook.ipynb")]
    before = {path: path.stat().st_mtime_ns for path in kept}
    logs = {name: (out / "logs" / f"{name}.log").read_text(errors="replace") for name in trained}
    proc, _ = run_cli("--profile", "smoke", "--output-dir", str(out), timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    summary = pd.read_csv(out / "summary.csv").set_index("experiment")
    assert (summary.loc[trained, "status"] == "skipped (finished)").all()
    assert summary.loc["evaluation_appendix", "status"] == "ok"  # the appendix always refreshes
    # Only the appendix ran again: no finished run was executed, retrained or rewritten.
    assert {path: path.stat().st_mtime_ns for path in kept} == before
    for name in trained:
        again = (out / "logs" / f"{name}.log").read_text(errors="replace")
        assert again == logs[name], f"{name} was executed again"
    listing = subprocess.run(
        [sys.executable, "run_all.py", "--profile", "smoke", "--list", "--output-dir", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    assert "best_vgg16_cifar10" in listing and "finished" in listing


def test_a_failing_notebook_is_reported_and_the_others_run(tmp_path, monkeypatch, capsys):
    bad = Experiment("broken_vgg", NOTEBOOKS["vgg"], {"model": "vgg17", "dataset": "mnist", "recipe": "report2"})
    good = EXPERIMENTS["data_overview"]
    monkeypatch.setattr(run_all, "experiments_for", lambda profile, only=None: [bad, good])
    code = run_all.main(["--profile", "smoke", "--output-dir", str(tmp_path)])
    assert code == 1
    summary = pd.read_csv(tmp_path / "summary.csv").set_index("experiment")
    assert summary.loc["broken_vgg", "status"] == "failed" and "vgg17" in summary.loc["broken_vgg", "error"]
    assert summary.loc["data_overview", "status"] == "ok"
    executed = (tmp_path / "runs" / "broken_vgg" / "notebook.ipynb").read_text()
    assert "An Exception was encountered" in executed  # papermill marks the failing cell
    assert "1 failed: broken_vgg" in capsys.readouterr().out


def test_timeout_is_a_failure_that_keeps_the_notebook(tmp_path, monkeypatch):
    monkeypatch.setattr(run_all, "experiments_for", lambda profile, only=None: [EXPERIMENTS["data_overview"]])
    code = run_all.main(["--profile", "smoke", "--output-dir", str(tmp_path), "--timeout", "3"])
    assert code == 1
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert summary.loc[0, "status"] == "timeout" and "--timeout 3" in summary.loc[0, "error"]


def test_misspelled_parameter_is_refused_before_anything_runs(tmp_path, monkeypatch, capsys):
    typo = Experiment("typo", NOTEBOOKS["vgg"], {"model": "vgg11", "dataset": "mnist", "recipe": "report2", "epoch": 1})
    monkeypatch.setattr(run_all, "experiments_for", lambda profile, only=None: [EXPERIMENTS["data_overview"], typo])
    assert run_all.main(["--profile", "smoke", "--output-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "typo: epoch not in 02_vgg.ipynb" in err and "epochs" in err
    assert not (tmp_path / "logs").exists() and not (tmp_path / "runs").exists()


def test_every_matrix_parameter_exists_in_its_notebook():
    for profile in PROFILES:
        jobs = [(e, run_all.parameters_for(e, profile, "/tmp/x", "/tmp/data")) for e in experiments_for(profile)]
        run_all.check_parameters(jobs)


def test_quick_adds_augmentation_to_report1_exp3_and_full_keeps_the_report_recipe():
    # 1,700 MNIST images without augmentation cap ResNet-50 at 92-94% in `quick`; with shifts and rotations, 40
    # epochs and a cosine schedule its last epoch measured 95.6-96.0%. `full` reproduces report 1: no augmentation,
    # a constant rate, the last epoch.
    exp3 = EXPERIMENTS["r1_exp3_resnet50_mnist"]
    quick = run_all.parameters_for(exp3, "quick", "/tmp/x", "/tmp/data")
    full = run_all.parameters_for(exp3, "full", "/tmp/x", "/tmp/data")
    assert quick["augment"] == "shift_rotate" and quick["epochs"] == 40 and quick["recipe"] == "report1"
    assert quick["schedule"] == "cosine" and quick["select_epoch"] == "last"
    assert not {"augment", "schedule", "select_epoch"} & set(full) and full["recipe"] == "report1"
    report = make_config("report1", "report_resnet50", "mnist")
    assert (report["schedule"], report["select_epoch"], report["augment"]) == ("constant", "last", "none")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--profile", "fast"], "Unknown profile 'fast'; valid: smoke, quick, full"),
        (["--profile", "smoke", "--only", "nothing_like_this"], "matches no experiment"),
        (["--data-dir", "/no/such/folder"], "--data-dir '/no/such/folder' does not exist"),
        (["--shard", "3/2"], "need 1 <= i <= n"),
        (["--shard", "a/b"], "expected i/n"),
        (["--jobs", "0"], "--jobs '0': expected a whole number >= 1"),
        (["--jobs", "two"], "--jobs 'two'"),
        (["--timeout", "-5"], "--timeout -5"),
    ],
)
def test_bad_command_lines_get_one_line_errors(tmp_path, capsys, args, message):
    out = tmp_path / "out"
    assert run_all.main([*args, "--output-dir", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not out.exists() or not any(out.iterdir())


def test_unwritable_output_dir(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert run_all.main(["--profile", "smoke", "--output-dir", str(blocker / "sub")]) == 2
    assert "cannot be written" in capsys.readouterr().err


@pytest.mark.timeout(120)  # refused before any notebook starts: no download attempt, no training
def test_no_data_and_no_network_names_both_ways_out(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(preflight, "_online", lambda *a, **k: False)
    monkeypatch.setattr(preflight, "_keras_cached", lambda dataset: False)
    assert run_all.main(["--output-dir", str(tmp_path)]) == 2  # no flags: the quick profile
    err = capsys.readouterr().err
    assert "--data-dir" in err and "--profile smoke" in err
    assert not (tmp_path / "runs").exists() and not (tmp_path / "logs").exists()


def test_shards_partition_the_matrix():
    from helpers.runner.estimate import reference_seconds
    from helpers.runner.shards import shares

    selected = experiments_for("full")
    cut = shares(selected, 3, lambda e: reference_seconds(e, parameters_for(e, "full", "out")))
    names = [e.name for share in cut for e in share]
    assert sorted(names) == sorted(e.name for e in selected if not e.needs) and all(cut)


def test_an_experiment_another_process_runs_is_left_alone(tmp_path, monkeypatch):
    monkeypatch.setattr(run_all, "experiments_for", lambda profile, only=None: [EXPERIMENTS["data_overview"]])
    # as a second run_all's worker would hold it (a live process of this machine: this one)
    claims.claim(workers.claim_path(tmp_path, "data_overview"), worker="the other run_all")
    code = run_all.main(["--profile", "smoke", "--output-dir", str(tmp_path)])
    assert code == 0
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert summary.loc[0, "status"] == "running elsewhere" and summary.loc[0, "worker"] == "the other run_all"
    assert not (tmp_path / "notebooks").exists() and not (tmp_path / "logs").exists()  # nothing written for it
