"""Sessions die: a training killed with SIGKILL resumes from its last finished epoch; seeded runs repeat exactly."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import sys
from helpers.environment import setup
from helpers.data import load_dataset
from helpers.runs import RunDir
from helpers.evaluation import evaluate_run
from helpers.training import make_config
from helpers.training import train
out, name, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3])
setup(0)
ds = load_dataset("mnist", synthetic=True, train_size=256, val_size=64, test_size=64, seed=0)
cfg = make_config("best", "vgg11", "mnist", epochs=epochs, batch_size=32)
result = train(cfg, ds, RunDir(out, name))
evaluate_run(result, ds)
print("RESUMED_FROM", result.resumed_from_epoch, flush=True)
"""


def start(out, name, epochs):
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(out), name, str(epochs)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigkilled_training_resumes_from_its_last_epoch(tmp_path):
    run = tmp_path / "runs" / "killed"
    proc = start(tmp_path, "killed", 6)
    deadline = time.time() + 300
    meta = run / "backup" / "training_metadata.json"
    while time.time() < deadline:  # wait until two epochs are finished and backed up
        try:
            if json.loads(meta.read_text())["epoch"] >= 2:
                break
        except (OSError, ValueError, KeyError):
            pass
        assert proc.poll() is None, proc.stderr.read()[-2000:]
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)  # what a dying Colab session does to the kernel
    proc.wait()
    done_before = pd.read_csv(run / "history.csv")["epoch"].tolist()
    assert done_before[:2] == [1, 2] and not (run / "metrics.json").exists() and (run / "backup").is_dir()

    proc = start(tmp_path, "killed", 6)
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, stderr[-3000:]
    resumed_from = int(stdout.split("RESUMED_FROM")[1].split()[0])
    assert 2 <= resumed_from <= len(done_before)  # the last backed-up epoch (history may hold one more)
    assert f"Epoch {resumed_from + 1}/6" in stdout and "Epoch 1/6" not in stdout
    assert pd.read_csv(run / "history.csv")["epoch"].tolist() == [1, 2, 3, 4, 5, 6]  # each epoch once
    assert (run / "metrics.json").is_file() and not (run / "backup").exists()


def test_same_seed_same_metrics(tmp_path):
    for name in ("a", "b"):
        proc = start(tmp_path, name, 2)
        _, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0, stderr[-3000:]
    a, b = (tmp_path / "runs" / n for n in ("a", "b"))
    ha, hb = pd.read_csv(a / "history.csv"), pd.read_csv(b / "history.csv")
    cols = ["loss", "accuracy", "val_loss", "val_accuracy", "lr"]
    pd.testing.assert_frame_equal(ha[cols], hb[cols], check_exact=True)
    ma, mb = (json.loads((r / "metrics.json").read_text()) for r in (a, b))
    assert ma["test_accuracy"] == mb["test_accuracy"] and ma["confusion_matrix"] == mb["confusion_matrix"]
    np.testing.assert_array_equal(np.load(a / "predictions.npz")["probs"], np.load(b / "predictions.npz")["probs"])
    config = json.loads((a / "config.json").read_text())
    assert config["environment"]["versions"]["tensorflow"] and config["environment"]["hardware"]["cpu_count"]
