"""The SLURM recipe on a real SLURM: slurmctld, slurmd and munge from Debian's packages on this machine
(``examples/slurm/single-node.sh``, which ``.ci/run`` starts), ``examples/slurm/submit.sh`` as a user submits it, one
array task requeued while it works, and the folder checked afterwards: every training run finished once, 06 drew its
pictures from the real runs in the report job, nothing missing or failed, report.pdf built."""

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from helpers.experiments import experiments_for

ROOT = Path(__file__).resolve().parents[1]
ONLY = "degradation_*20*,what_cnns_see"  # two small training runs (plain-20, ResNet-20), 06, and 05

pytestmark = pytest.mark.slow


def slurm_is_up() -> str | None:
    """None when a SLURM controller answers with an idle node, else why not."""
    if not shutil.which("sbatch"):
        return "no sbatch here: run examples/slurm/single-node.sh (root, Debian) to bring up a one-node SLURM"
    done = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True, timeout=30)
    if done.returncode or not {"idle", "mix"} & set(done.stdout.split()):
        return f"SLURM does not answer with an idle node ({(done.stderr or done.stdout).strip()[:200]})"
    return None


def ours(job_ids: list[str]) -> list[str]:
    """Our jobs' tasks still queued or running: "<id>_<task> <state>"."""
    done = subprocess.run(
        ["squeue", "-h", "-j", ",".join(job_ids), "-o", "%i %T"], capture_output=True, text=True, timeout=30
    )
    return [line for line in done.stdout.splitlines() if line.strip()]


def test_the_recipe_on_a_real_slurm_with_a_task_requeued(tmp_path):
    why = slurm_is_up()
    if why:
        pytest.skip(why)
    out = tmp_path / "out"
    env = {**os.environ, "SBATCH_OUTPUT": str(tmp_path / "slurm-%j.out")}  # not into the repository
    env.pop("SBATCH_ARRAY_INX", None)
    submit = subprocess.run(
        ["bash", "examples/slurm/submit.sh", "--profile", "smoke", "--only", ONLY, "--output-dir", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
    )
    assert submit.returncode == 0, submit.stdout + submit.stderr
    words = submit.stdout.split()  # "Submitted the array <id> (1-2: 2 experiments to share) and the report job <id>"
    array, report_job = words[words.index("array") + 1], words[-1]
    assert "(1-2: 2 experiments to share)" in submit.stdout, submit.stdout  # no task, no GPU, for an empty share

    # Requeue one array task once it has claimed its experiment (it is working on it).
    training = [e.name for e in experiments_for("smoke", ONLY) if not e.needs]
    deadline, requeued = time.monotonic() + 600, None
    while requeued is None and time.monotonic() < deadline:
        claimed = [n for n in training if (out / ".run_all" / f"{n}.claim").exists()]
        running = [line.split()[0] for line in ours([array]) if line.endswith("RUNNING")]
        if claimed and running:
            requeued = running[0]
            done = subprocess.run(["scontrol", "requeue", requeued], capture_output=True, text=True)
            assert done.returncode == 0, done.stderr
        time.sleep(0.5)
    assert requeued, "no array task started working within 10 minutes"

    deadline = time.monotonic() + 1500
    while ours([array, report_job]) and time.monotonic() < deadline:
        time.sleep(3)
    logs = "".join(p.read_text(errors="replace")[-3000:] for p in sorted(tmp_path.glob("slurm-*.out")))
    assert not ours([array, report_job]), "the jobs did not end within 25 minutes\n" + logs

    summary = pd.read_csv(out / "summary.csv").set_index("experiment")["status"]
    assert set(summary.index) == {*training, "what_cnns_see", "evaluation_appendix"}, summary
    assert not summary.str.contains("failed|not run|missing").any(), summary
    for name in training:  # finished exactly once: one metrics.json, one history row per epoch
        run = out / "runs" / name
        assert (run / "metrics.json").is_file(), logs
        history = pd.read_csv(run / "history.csv")
        assert list(history["epoch"]) == list(range(1, len(history) + 1)), history
    seeing = json.loads((out / "notebooks" / "what_cnns_see.ipynb").read_text())
    assert "No finished run" not in json.dumps(seeing)
    pictures = sum("image/png" in o.get("data", {}) for c in seeing["cells"] for o in c.get("outputs", []))
    assert pictures >= 5, pictures
    assert (out / "report.pdf").is_file(), logs
    text = subprocess.run(["pdftotext", str(out / "report.pdf"), "-"], capture_output=True, text=True).stdout
    assert "Grad-CAM" in text.split("What the network sees")[-1], text[-2000:]  # the interpretation chapter
