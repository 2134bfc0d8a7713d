"""Faults injected (issue 36): a worker SIGKILLed while it writes metrics.json, a report build SIGKILLed, a disk
that fills up during training, an output folder on a read-only mount. Each names what it injects; nothing is lost,
nothing half-written stays, no run is trained twice."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import run_all
from helpers.runs import RunDir
from helpers.training.recovery import trained_before

ROOT = Path(__file__).resolve().parents[1]

# One small run, as a notebook does it: train, then evaluate (which writes metrics.json last). With FAULT set, the
# fault is injected in this very process: os.fsync of the named file's temporary copy cuts it to half and SIGKILLs.
SCRIPT = """
import os, signal, sys
fault = os.environ.get("FAULT")
if fault:
    real_fsync = os.fsync
    def fsync(fd):
        if os.path.basename(os.readlink(f"/proc/self/fd/{fd}")).startswith(f".{fault}."):
            os.ftruncate(fd, os.fstat(fd).st_size // 2)  # half of the file is on disk ...
            os.kill(os.getpid(), signal.SIGKILL)  # ... when the worker dies
        return real_fsync(fd)
    os.fsync = fsync
from helpers.data import load_dataset
from helpers.environment import setup
from helpers.evaluation import evaluate_run
from helpers.runs import RunDir
from helpers.training import make_config, train
out, model, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3])
setup(0)
ds = load_dataset("cifar10", synthetic=True, train_size=128, val_size=32, test_size=32, seed=0)
result = train(make_config("best", model, "cifar10", epochs=epochs, batch_size=32), ds, RunDir(out, "run"))
evaluate_run(result, ds)
print("RESUMED_FROM", result.resumed_from_epoch, flush=True)
"""


def run_script(out, model="plain20", epochs=2, fault=None, wait=True):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **({"FAULT": fault} if fault else {})}
    cmd = [sys.executable, "-c", SCRIPT, str(out), model, str(epochs)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if wait:
        proc.stdout_text, proc.stderr_text = proc.communicate(timeout=600)
    return proc


def temporaries(folder: Path) -> list[Path]:
    """What atomic_write leaves behind when its writer dies: '.<name>.<random>.tmp<suffixes>'."""
    return [p for p in folder.rglob(".*.tmp*")]


@pytest.mark.slow  # trains in two subprocesses
def test_sigkill_while_metrics_json_is_written_leaves_no_half_file_and_the_rerun_does_not_train_again(tmp_path):
    """Injected: SIGKILL in the middle of writing metrics.json (half the bytes on disk), after training ended."""
    run = tmp_path / "runs" / "run"
    killed = run_script(tmp_path, epochs=1, fault="metrics.json")
    assert killed.returncode == -signal.SIGKILL, killed.stderr_text[-2000:]
    assert not (run / "metrics.json").exists() and (run / "model.keras").is_file()
    assert temporaries(run), "the fault should have left metrics.json's half-written temporary file"
    history = pd.read_csv(run / "history.csv")
    model_written = (run / "model.keras").stat().st_mtime_ns

    rerun = run_script(tmp_path, epochs=1)
    assert rerun.returncode == 0, rerun.stderr_text[-3000:]
    assert "evaluated, not trained again" in rerun.stdout_text and "Epoch 1/1" not in rerun.stdout_text
    assert (run / "model.keras").stat().st_mtime_ns == model_written  # the same trained model, not a second one
    pd.testing.assert_frame_equal(pd.read_csv(run / "history.csv"), history)  # each epoch once
    metrics = json.loads((run / "metrics.json").read_text())
    assert 0.0 <= metrics["test_accuracy"] <= 1.0 and metrics["epochs_run"] == 1
    assert temporaries(run) == [], "the rerun should clear what the killed writer left"


def trained_run(tmp_path, **changes):
    """A run folder as train() leaves it after its last epoch: config.json, history.csv, model.keras."""
    config = {"model": "plain20", "epochs": 2, "lr": 0.1, "seed": 0}
    data = {"source": "synthetic", "train": 128}
    run = RunDir(tmp_path, "run").create()
    run.write_json(RunDir.CONFIG, {**config, "data": data, "environment": {"host": "x"}})
    run.write_csv(RunDir.HISTORY, pd.DataFrame({"epoch": [1, 2], "val_accuracy": [0.1, 0.2]}))
    run.write_text(RunDir.MODEL, "a trained model")
    return run, {**config, **changes}, data


@pytest.mark.parametrize(
    "change, trained",
    [
        ({}, True),  # the same settings: evaluate what is there
        ({"epochs": 3}, False),  # another run: more epochs
        ({"lr": 0.01}, False),
        ({"seed": np.int64(1)}, False),  # a NumPy integer is compared by value
        ({"seed": np.int64(0)}, True),
    ],
)
def test_only_the_same_settings_reuse_a_trained_model(tmp_path, change, trained):
    run, config, data = trained_run(tmp_path, **change)
    assert trained_before(run, config, data) is trained


def test_other_data_a_short_history_or_a_finished_run_train_again(tmp_path):
    run, config, data = trained_run(tmp_path)
    assert not trained_before(run, config, {**data, "train": 256})  # other images
    run.write_csv(RunDir.HISTORY, pd.DataFrame({"epoch": [1], "val_accuracy": [0.1]}))
    assert not trained_before(run, config, data)  # killed during epoch 2: BackupAndRestore resumes it
    run.write_csv(RunDir.HISTORY, pd.DataFrame({"epoch": [1, 2], "val_accuracy": [0.1, 0.2]}))
    run.write_json(RunDir.METRICS, {"test_accuracy": 0.5})
    assert not trained_before(run, config, data)  # finished: a rerun of the cell trains anew


def mount(*args) -> bool:
    return subprocess.run(["mount", *map(str, args)], capture_output=True).returncode == 0


@pytest.fixture
def small_disk(tmp_path):
    """A 64 MB tmpfs (skips, saying why, where this machine cannot mount one)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if shutil.which("mount") is None or not mount("-t", "tmpfs", "-o", "size=64m", "tmpfs", disk):
        pytest.skip("cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN): the full-disk case is not tried")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], capture_output=True)


@pytest.mark.slow  # trains in two subprocesses
def test_a_disk_that_fills_up_during_training_gives_one_clear_line_and_keeps_the_last_backup(small_disk):
    """Injected: the disk fills up (a file takes every free byte) once epoch 1's backup is written."""
    run = small_disk / "runs" / "run"
    proc = run_script(small_disk, epochs=4, wait=False)
    meta = run / "backup" / "training_metadata.json"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        try:
            if json.loads(meta.read_text())["epoch"] >= 1:  # epochs finished and backed up
                break
        except (OSError, ValueError, KeyError):
            time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()[1][-2000:]
    filler = small_disk / "filler"
    with open(filler, "wb", buffering=0) as f:  # every free byte, as a download or a dataset would take them
        for chunk in (1 << 20, 4096, 1):
            try:
                while True:
                    f.write(b"\0" * chunk)
            except OSError:
                pass
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode != 0, stdout[-2000:]
    last = stderr.strip().splitlines()[-1]
    assert "disk is full" in last and str(run / "backup") in last and "rerun" in last, stderr[-3000:]
    epoch = json.loads(meta.read_text())["epoch"]  # the last complete epoch's backup is readable ...
    assert epoch >= 1
    filler.unlink()
    rerun = run_script(small_disk, epochs=4)  # ... and the run resumes from it once there is room
    assert rerun.returncode == 0, rerun.stderr_text[-3000:]
    assert int(rerun.stdout_text.split("RESUMED_FROM")[1].split()[0]) >= epoch
    assert pd.read_csv(run / "history.csv")["epoch"].tolist() == [1, 2, 3, 4]


def test_an_output_folder_on_a_read_only_mount_is_refused_in_one_line(tmp_path, capsys):
    """Injected: --output-dir on a read-only bind mount."""
    source, target = tmp_path / "source", tmp_path / "read-only"
    source.mkdir()
    target.mkdir()
    if not (mount("--bind", source, target) and mount("-o", "remount,bind,ro", target)):
        pytest.skip("cannot make a read-only bind mount here (needs root and CAP_SYS_ADMIN)")
    try:
        assert run_all.main(["--profile", "smoke", "--output-dir", str(target / "outputs")]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "cannot be written" in err and "Read-only file system" in err, err
        assert list(source.iterdir()) == []  # nothing written
    finally:
        subprocess.run(["umount", "-l", str(target)], capture_output=True)


@pytest.mark.slow
def test_a_report_build_killed_leaves_no_half_pdf_and_a_rerun_builds_it(smoke, tmp_path):
    """Injected: SIGKILL to the report's build while XeLaTeX typesets report.pdf (on a copy of the smoke run)."""
    out = tmp_path / "out"
    shutil.copytree(smoke[0], out)
    (out / "report.pdf").unlink(missing_ok=True)
    metrics = {p: p.stat().st_mtime_ns for p in (out / "runs").glob("*/metrics.json")}
    build = f"from helpers.report.export import build_report; build_report({str(out)!r}, 'smoke', 'report')"
    proc = subprocess.Popen([sys.executable, "-c", build], cwd=ROOT, start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        typesetting = subprocess.run(["pgrep", "-s", str(proc.pid), "xelatex"], capture_output=True).returncode == 0
        if typesetting:
            break
        time.sleep(0.1)
    assert proc.poll() is None, "the build ended before XeLaTeX started: nothing was killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "report.pdf").exists() and temporaries(out) == []

    rerun = subprocess.run([sys.executable, "-c", build], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert (out / "report.pdf").read_bytes()[:5] == b"%PDF-" and temporaries(out) == []
    assert {p: p.stat().st_mtime_ns for p in (out / "runs").glob("*/metrics.json")} == metrics  # nothing retrained
