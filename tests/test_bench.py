"""The benchmark scripts run end to end on tiny inputs and write the tables they promise."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT


def run_bench(script, *args, timeout=900):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )
    return proc


def test_throughput_table(tmp_path):
    out = tmp_path / "throughput.csv"
    proc = run_bench(
        "throughput.py",
        "--models",
        "vgg11",
        "--dataset",
        "mnist",
        "--images",
        "96",
        "--batch-size",
        "32",
        "--epochs",
        "1",
        "--repeats",
        "2",
        "--mixed-precision",
        "off",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Input pipeline alone" in proc.stdout and "GFLOP/s float32" in proc.stdout
    assert "Keras 3." in proc.stdout and "on tensorflow" in proc.stdout and "mixed precision False" in proc.stdout
    table = pd.read_csv(out)
    assert list(table["model"]) == ["vgg11"]
    row = table.iloc[0]
    assert not row["mixed precision"]
    assert row["params (M)"] == 9.23  # vgg11 on 28x28x1: 9,232,714 parameters
    assert row["GFLOPs/image"] > 0.05  # counted by the profiler, not 0 or NaN
    for column in ("train img/s (kit)", "train img/s (bare fit)", "inference img/s"):
        assert np.isfinite(row[column]) and row[column] > 1, column
    assert np.isclose(row["kit/bare"], row["train img/s (kit)"] / row["train img/s (bare fit)"], rtol=0.01)
    low, high = (float(v) for v in row["kit/bare pairs"].split("-"))
    assert 0 < low <= high
    assert 0 < row["achieved / matmul FLOP/s"] < 5
    assert row["T4 epoch floor (s)"] >= 0


def test_recipes_table_on_official_files(tmp_path, mnist_dir):
    out = tmp_path / "recipes.csv"
    proc = run_bench(
        "recipes.py",
        "--data-dir",
        str(mnist_dir),
        "--dataset",
        "mnist",
        "--models",
        "vgg11",
        "--epochs",
        "1",
        "--train-size",
        "256",
        "--val-size",
        "64",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = pd.read_csv(out)
    assert list(table["recipe"]) == ["report2", "best", "best+adamw"]  # issue 13's override as a named variant
    assert (table["epochs"] == 1).all() and (table["model"] == "vgg11").all()
    assert table["test accuracy"].between(0, 1).all() and (table["wall time (s)"] > 0).all()
    override = table.set_index("recipe").loc["best+adamw"]
    assert (override["optimizer"], override["lr"], override["weight decay"], override["batch"]) == (
        "adam",
        0.003,
        0.05,
        64,
    )
    assert override["augment"] == "shift_rotate"  # as issue 13 ran it: `best`'s own augmentation (never flips)


def test_recipes_with_a_variant_and_several_seeds(tmp_path, mnist_dir):
    out = tmp_path / "recipes.csv"
    proc = run_bench(
        "recipes.py",
        "--data-dir",
        str(mnist_dir),
        "--dataset",
        "mnist",
        "--models",
        "vgg11",
        "--epochs",
        "1",
        "--train-size",
        "128",
        "--val-size",
        "64",
        "--recipes",
        "report2",
        "--variant",
        "tuned:optimizer=adam,lr=1e-3,batch_size=32",
        "--seed",
        "0",
        "1",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = pd.read_csv(out)
    assert list(zip(table["seed"], table["recipe"])) == [(0, "report2"), (0, "tuned"), (1, "report2"), (1, "tuned")]
    tuned = table[table["recipe"] == "tuned"].iloc[0]
    assert (tuned["optimizer"], tuned["lr"], tuned["batch"]) == ("adam", 0.001, 32)  # 1e-3 read as a number
    assert tuned["label smoothing"] == 0.15  # the rest from `best` at this budget (its small band)
    assert "means over seeds 0, 1" in proc.stdout
    # Different seeds, different splits: not the same run twice.
    assert (
        table.groupby("seed")["test accuracy"].apply(tuple).nunique() == 2
        or table.groupby("seed")["best val acc"].apply(tuple).nunique() == 2
    )


@pytest.mark.parametrize(
    "variant, message",
    [
        ("tuned", "expected NAME:key=value"),
        ("tuned:lr", "expected key=value"),
        ("tuned:learning_rate=0.1", "Unknown setting"),
    ],
)
def test_recipes_bad_variant_is_one_clear_line(tmp_path, mnist_dir, variant, message):
    out = tmp_path / "r.csv"
    proc = run_bench(
        "recipes.py", "--data-dir", str(mnist_dir), "--dataset", "mnist", "--variant", variant, "--out", str(out)
    )
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_recipes_bad_data_dir_is_one_clear_line(tmp_path):
    proc = run_bench("recipes.py", "--data-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r.csv"))
    assert proc.returncode == 2
    assert "nowhere" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "r.csv").exists()


def test_tune_writes_a_trials_table(tmp_path, mnist_dir):
    pytest.importorskip("optuna")
    out = tmp_path / "tune.csv"
    proc = run_bench(
        "tune.py",
        "--data-dir",
        str(mnist_dir),
        "--dataset",
        "mnist",
        "--model",
        "vgg11",
        "--epochs",
        "1",
        "--trials",
        "2",
        "--train-size",
        "128",
        "--val-size",
        "64",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = pd.read_csv(out)
    assert list(table["trial"]) == [0, 1]
    assert list(table["name"]) == ["best", "issue13 override"]  # the baselines come first
    # Trial 0 is `best` as it is at this budget (1 epoch of 128 images: its small band, AdamW lr 1e-3).
    from helpers.training import make_config

    best = make_config("best", "vgg11", "mnist", train_size=128, epochs=1)
    assert (best["optimizer"], best["lr"]) == ("adam", 1e-3)
    assert table.loc[0, "optimizer"] == best["optimizer"] and table.loc[0, "lr"] == best["lr"]
    assert table.loc[0, "batch_size"] == best["batch_size"] == 32
    assert table.loc[0, "augment"] == best["augment"] == "shift_rotate"  # searched too, among MNIST's own choices
    assert table.loc[1, "optimizer"] == "adam" and table.loc[1, "weight_decay"] == 0.05
    assert (table["epochs_run"] == 1).all() and table["val_accuracy"].between(0, 1).all()
    assert set(table["state"]) <= {"complete", "pruned"} and (table["seconds"] > 0).all()
    assert "test" not in " ".join(table.columns)  # the search never looks at the test split
    assert "best trial" in proc.stdout


def test_tune_scores_several_models_and_shares_a_study(tmp_path, mnist_dir):
    """One setting for several models (their mean validation accuracy), and a second process joining the same
    study through the journal file: it takes the baseline the first one left waiting."""
    pytest.importorskip("optuna")
    common = [
        "--data-dir",
        str(mnist_dir),
        "--dataset",
        "mnist",
        "--model",
        "vgg11",
        "resnet18",
        "--epochs",
        "1",
        "--trials",
        "1",
        "--train-size",
        "64",
        "--val-size",
        "32",
        "--storage",
        str(tmp_path / "study.journal"),
    ]
    first = run_bench("tune.py", *common, "--out", str(tmp_path / "a.csv"))
    assert first.returncode == 0, first.stderr[-3000:]
    second = run_bench("tune.py", *common, "--no-baselines", "--out", str(tmp_path / "b.csv"))
    assert second.returncode == 0, second.stderr[-3000:]
    a, b = pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv")
    assert list(a["name"]) == ["best"] and list(b["trial"]) == [1] and list(b["name"]) == ["issue13 override"]
    for table in (a, b):
        row = table.iloc[0]
        assert row["state"] == "complete" and row["epochs_run"] == 2  # one epoch of each model
        assert row["val_accuracy"] == pytest.approx((row["val_vgg11"] + row["val_resnet18"]) / 2, abs=1e-4)


def test_gpu_session_picks_the_best_complete_trial_of_all_workers(tmp_path):
    """bench/gpu_session.py reads every worker's table of a budget (rows of several files share index labels)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from gpu_session import winner

    row = {
        "trial": 0,
        "name": "",
        "optimizer": "adam",
        "lr": 3e-4,
        "weight_decay": 0.01,
        "label_smoothing": 0.15,
        "batch_size": 32,
        "warmup_fraction": 0.2,
        "steps": 10,
        "state": "complete",
        "epochs_run": 8,
        "val_accuracy": 0.40,
        "seconds": 1.0,
    }
    pd.DataFrame([row, {**row, "trial": 2, "lr": 0.1, "val_accuracy": 0.9, "state": "pruned"}]).to_csv(
        tmp_path / "tune_8_w0.csv", index=False
    )
    pd.DataFrame(
        [
            {
                **row,
                "trial": 1,
                "optimizer": "sgd_momentum",
                "lr": 0.05,
                "batch_size": 128,
                "val_accuracy": 0.45,
                "augment": "flip",
            }
        ]
    ).to_csv(tmp_path / "tune_8_w1.csv", index=False)
    assert winner(tmp_path, 8) == {
        "optimizer": "sgd_momentum",
        "lr": 0.05,
        "weight_decay": 0.01,
        "label_smoothing": 0.15,
        "batch_size": 128,
        "warmup_fraction": 0.2,
        "augment": "flip",
    }
    assert winner(tmp_path, 30) is None  # no search at that budget


def test_recipes_variants_follow_bests_rules_for_each_model():
    """`best-adamw` is `best`'s small band with its rules for that model: crops for the ResNets, flips for VGG."""
    sys.path.insert(0, str(ROOT / "bench"))
    from recipes import variants

    assert variants("cifar10", "resnet18")["best-adamw"][1]["augment"] == "flip_crop"
    assert variants("cifar10", "plain18")["best-adamw"][1]["augment"] == "flip_crop"
    assert variants("cifar10", "vgg11")["best-adamw"][1]["augment"] == "flip"
    assert variants("mnist", "resnet18")["best-adamw"][1].get("augment") is None  # the recipe's shifts, rotations
    assert variants("cifar10", "resnet18")["best+adamw"][1]["augment"] == "flip_crop"  # as issue 13 ran it
