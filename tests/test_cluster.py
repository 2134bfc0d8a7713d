"""Many workers on one output folder: claims and takeovers, shards from the cluster's environment, the folder's
summary, one report, and the SLURM and Kubernetes recipes in examples/ run the way their engines run them.

The end-to-end cases use the smoke profile restricted to its two quickest notebooks (``ONLY``) and count
executions in the logs (one header per execution, one Keras "Epoch 1/1" line per training), not files.
"""

import importlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpers.experiments import EXPERIMENTS, experiments_for, parameters_for  # noqa: E402
from helpers.report.export import xelatex_available  # noqa: E402
from helpers.runner import (  # noqa: E402
    claims,
    folder,
    jobs,
    markers,
    session,  # noqa: E402
    workers,
)
from helpers.runner import cli as run_all  # noqa: E402
from helpers.runner.estimate import reference_seconds  # noqa: E402
from helpers.runner.shards import shares  # noqa: E402

ONLY = "*v[ge]*[wt]"  # data_overview and r1_exp1_vgg16_mnist (and the appendix)
SELECTED = [e.name for e in experiments_for("smoke", ONLY)]
WORK = [n for n in SELECTED if not EXPERIMENTS[n].needs]
TRAINED = "r1_exp1_vgg16_mnist"
SMOKE = ["--profile", "smoke", "--only", ONLY]
EPOCH = r"^Epoch \d+/\d+\b"


def smoke_seconds(exp):
    return reference_seconds(exp, parameters_for(exp, "smoke", "out"))


# the kit's one line per epoch
PDF_CODE = 0 if xelatex_available() else 3  # 3: the report job ran, but no TeX for the PDF


# ------------------------------------------------------------------------------------------------ helpers


def start(cmd, out: Path, log: Path, env=None) -> subprocess.Popen:
    """A worker as the engine starts it: its own process group (so that it can be killed as a node dies)."""
    full_env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", **(env or {})}
    for var in ("SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"):
        if env is None or var not in env:
            full_env.pop(var, None)
    return subprocess.Popen(
        cmd, cwd=ROOT, env=full_env, stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True
    )


def finish(procs, timeout=600):
    return [p.wait(timeout=timeout) for p in procs]


def executions(out: Path) -> dict[str, dict[str, int]]:
    """Per experiment: executions started, executions that ended ok, and Keras epochs trained, from its log."""
    counts = {}
    for name in SELECTED:
        log = out / "logs" / f"{name}.log"
        text = log.read_text(errors="replace") if log.is_file() else ""
        counts[name] = {
            "started": len(re.findall(rf"^=== .*: executing {name} ===$", text, re.M)),
            "ok": len(re.findall(rf"^=== .*: {name} ok after .* ===$", text, re.M)),
            "epochs": len(re.findall(EPOCH, text, re.M)),
        }
    return counts


def stream_text(notebook: Path) -> str:
    """Everything an executed notebook printed."""
    nb = json.loads(notebook.read_text())
    return "".join(
        "".join(o.get("text", ""))
        for c in nb["cells"]
        if c["cell_type"] == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "stream"
    )


def appendix_missing(out: Path) -> tuple[list[str], str]:
    """The experiments the executed appendix lists as missing, and its whole text output."""
    text = stream_text(out / "notebooks" / "evaluation_appendix.ipynb")
    return re.findall(r"^  - (\S+)  \(", text, re.M), text


def check_folder(out: Path, retried: set[str] = frozenset()):
    """Each experiment trained to the end exactly once; one complete summary; no selected run missing in the
    report; every JSON and notebook readable."""
    counts = executions(out)
    for name in WORK:
        assert counts[name]["ok"] == 1, (name, counts)
        assert counts[name]["started"] == (2 if name in retried else 1), (name, counts)
    executed = stream_text(out / "runs" / TRAINED / "notebook.ipynb")  # the log holds one execution's epochs
    assert counts[TRAINED]["epochs"] == len(re.findall(EPOCH, executed, re.M)) >= 1, counts
    summary = pd.read_csv(out / "summary.csv")
    assert summary["experiment"].tolist() == SELECTED
    assert set(summary.set_index("experiment").loc[WORK, "status"]) <= {"ok", "done elsewhere", "skipped (finished)"}
    assert summary.set_index("experiment").loc[TRAINED, "test_accuracy"] >= 0
    missing, text = appendix_missing(out)
    assert not set(missing) & set(WORK) and "running elsewhere" not in text, missing
    for path in [*out.rglob("*.json"), *out.rglob("*.ipynb")]:
        json.loads(path.read_text())  # no half-written file
    assert not [p for p in out.rglob(".*.tmp*")]  # atomic_write's temporary files: all renamed or removed
    assert not list((out / ".run_all").glob("*.claim")) and not list((out / ".run_all" / "workers").iterdir())


def sbatch_directives(script: Path) -> dict[str, str]:
    """The #SBATCH options of a batch script (only those before its first command count, as for sbatch)."""
    options = {}
    for line in script.read_text().splitlines()[1:]:
        if line.startswith("#SBATCH"):
            key, _, value = line.split(None, 1)[1].partition("=")
            options[key] = value
        elif line.strip() and not line.startswith("#"):
            break
    return options


def command_of(script: Path) -> list[str]:
    return shlex.split(next(line for line in script.read_text().splitlines() if line.startswith("exec ")))


# ------------------------------------------------------------------------------------------- quick cases


def test_a_claim_is_exclusive_and_taken_over_only_from_a_stopped_holder(tmp_path):
    path = tmp_path / "x.claim"
    token, note = claims.claim(path, worker="me")
    assert note is None
    with pytest.raises(claims.Busy):  # held by a live process of this machine: us
        claims.claim(path)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    path.write_text(json.dumps({**claims.MACHINE, "pid": gone.pid, "worker": "old worker", "token": "t0"}))
    token, note = claims.claim(path)  # its process is gone: at once
    assert note.startswith("taking over from old worker, which stopped (its process") and "is gone" in note
    other = {"host": "node-b", "pid": 4242, "worker": "node-b pid 4242", "token": "t1", "stale_after": 300}
    path.write_text(json.dumps(other))
    with pytest.raises(claims.Busy):  # another machine's: alive while its heartbeat is recent
        claims.claim(path)
    watch = claims.Watch()
    assert watch(path)[0] == "unknown"
    os.utime(path, (time.time() + 1, time.time() + 1))  # its heartbeat moved: alive
    assert watch(path)[0] == "alive"
    os.utime(path, (time.time() - 301, time.time() - 301))
    token, note = claims.claim(path)  # silent for longer than its stale_after: taken over
    assert note == "taking over from node-b pid 4242, which stopped (no heartbeat for 301 s)"
    claims.release(path, "not ours")
    assert path.exists()
    claims.release(path, token)
    assert not path.exists() and not list(tmp_path.iterdir())


def test_the_worker_checks_again_once_it_holds_the_claim(tmp_path, monkeypatch):
    """A worker that planned an experiment another worker has finished meanwhile skips it (no --force)."""
    monkeypatch.setattr(run_all.signal, "signal", lambda *a: None)
    exp = EXPERIMENTS[TRAINED]
    job = jobs.Job(exp, {}, tmp_path, None, 0.0, "me")
    markers.write_result(tmp_path, TRAINED, "ok", None, 12.0, "the other worker")
    (tmp_path / "runs" / TRAINED).mkdir(parents=True)
    (tmp_path / "runs" / TRAINED / "metrics.json").write_text("{}")  # finished after we planned it
    assert run_all.worker(str(job.spec)) == 0
    assert json.loads(job.status_file.read_text()) == {
        "status": "done elsewhere",
        "error": None,
        "worker": "the other worker",
    }
    assert not (tmp_path / "logs").exists() and not job.claim.exists()  # nothing executed, claim released


def test_a_claim_held_from_another_machine_lives_by_its_heartbeat(tmp_path, monkeypatch):
    """On a cluster a claim held from another node cannot be judged by its process (PID liveness answers only on
    the node itself): its heartbeat alone says it is alive. The staleness limit is shrunk to 2 s (heartbeat 10x
    faster, as the kit's 30 s and 300 s): a worker's experiment that runs for three limits keeps its claim while
    another node tries to take it all along; a node that dies mid-run (no release, no more beats) loses it once
    its heartbeat has been silent for longer than the limit."""
    stale = 2.0
    monkeypatch.setattr(claims, "STALE_AFTER", stale)
    monkeypatch.setattr(claims, "HEARTBEAT", stale / 10)
    here = claims.MACHINE
    node_b = {**here, "host": "node-b.cluster", "boot": "boot-of-node-b"}

    # 1. The kit's worker (node A) runs an experiment for 3 x STALE_AFTER; node B tries to claim it all the while.
    monkeypatch.setattr(run_all.signal, "signal", lambda *a: None)
    job = jobs.Job(EXPERIMENTS[TRAINED], {}, tmp_path, None, 0.0, "node-a pid 1")
    seen, taken = [], []

    def long_experiment(spec):
        monkeypatch.setattr(claims, "MACHINE", node_b)  # from here on this process looks at the claim as node B
        try:
            watch, end = claims.Watch(), time.monotonic() + 3 * stale
            while time.monotonic() < end:
                try:
                    taken.append(claims.claim(job.claim, worker="node-b pid 2")[1])
                    break
                except claims.Busy as busy:
                    assert not busy.holder.local  # node A's process cannot be looked at from node B
                    seen.append(watch(job.claim)[0])
                time.sleep(stale / 20)
        finally:
            monkeypatch.setattr(claims, "MACHINE", here)
        return {"status": "ok", "error": None, "worker": spec["worker"]}

    monkeypatch.setattr(importlib.import_module("helpers.runner.worker"), "_execute", long_experiment)
    assert run_all.worker(str(job.spec)) == 0
    assert not taken, f"node B took over a claim whose heartbeat was beating: {taken}"
    assert len(seen) >= 10 and seen[-1] == "alive", seen  # B saw its time move
    assert json.loads(job.status_file.read_text())["status"] == "ok" and not job.claim.exists()

    # 2. Node A dies mid-run: its claim stays, its heartbeat stops; node B takes over once the limit has passed.
    path = tmp_path / "lost.claim"
    claims.claim(path, host="node-a.cluster", boot="boot-of-node-a", worker="node-a pid 7")  # as node A writes it
    beat = claims.Heartbeat(path)
    try:
        end = time.monotonic() + 1.5 * stale
        while time.monotonic() < end:  # beating: busy, although no process of this machine could vouch for it
            with pytest.raises(claims.Busy):
                claims.claim(path, worker="node-b pid 2")
            time.sleep(stale / 20)
    finally:
        beat.stop()  # the node is lost: no release
    deadline, note = time.monotonic() + 10 * stale, None
    while note is None:
        try:
            token, note = claims.claim(path, worker="node-b pid 2")
        except claims.Busy:
            assert time.monotonic() < deadline, "a claim whose heartbeat stopped was never taken over"
            time.sleep(stale / 20)
    assert re.fullmatch(r"taking over from node-a pid 7, which stopped \(no heartbeat for \d+ s\)", note), note
    assert json.loads(path.read_text())["worker"] == "node-b pid 2"
    claims.release(path, token)


@pytest.mark.parametrize(
    "env, shard",
    [
        ({"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "8"}, "5/8"),
        ({"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_COUNT": "8"}, "1/8"),
        (
            {
                "SLURM_ARRAY_TASK_ID": "7",
                "SLURM_ARRAY_TASK_MIN": "1",
                "SLURM_ARRAY_TASK_COUNT": "4",
                "SLURM_ARRAY_TASK_STEP": "2",
            },
            "4/4",
        ),
        ({"JOB_COMPLETION_INDEX": "2", "RUN_ALL_SHARD_COUNT": "3"}, "3/3"),
        ({}, None),
    ],
)
def test_shard_from_the_cluster_environment(env, shard):
    found = run_all.shard_from_env(env)
    assert (found[0] if found else None) == shard


@pytest.mark.parametrize(
    "env, message",
    [
        (
            {"JOB_COMPLETION_INDEX": "2"},
            "JOB_COMPLETION_INDEX=2 is set (a Kubernetes Indexed Job) but RUN_ALL_SHARD_COUNT",
        ),
        ({"JOB_COMPLETION_INDEX": "3", "RUN_ALL_SHARD_COUNT": "3"}, "JOB_COMPLETION_INDEX=3 is not below"),
        (
            {"SLURM_ARRAY_TASK_ID": "9", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "8"},
            "SLURM array task 9 is not one of 8",
        ),
        ({"SLURM_ARRAY_TASK_ID": "3"}, "need SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_COUNT"),
    ],
)
def test_a_bad_cluster_environment_gets_a_one_line_error(tmp_path, monkeypatch, capsys, env, message):
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    out = tmp_path / "out"
    assert run_all.main(["--profile", "smoke", "--output-dir", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_the_summary_describes_the_folder_not_the_share(tmp_path, monkeypatch, capsys):
    """Shard i/2 of three experiments: one it finds finished, one a live worker holds, one (in the other shard)
    that another worker failed: all three in summary.csv, and the failure elsewhere makes the exit status 1."""
    finished, held, failed = (EXPERIMENTS[n] for n in (TRAINED, "data_overview", "r1_exp3_resnet50_mnist"))
    cut = shares([finished, held, failed], 2, smoke_seconds)  # by time: ResNet-50 alone, the two others together
    mine = next(i for i, share in enumerate(cut, 1) if finished in share)
    assert cut[mine - 1] == [finished, held] or cut[mine - 1] == [held, finished]
    monkeypatch.setattr(run_all, "experiments_for", lambda profile, only=None: [finished, held, failed])
    (tmp_path / "runs" / TRAINED).mkdir(parents=True)
    (tmp_path / "runs" / TRAINED / "metrics.json").write_text(json.dumps({"test_accuracy": 0.5}))
    markers.write_result(tmp_path, failed.name, "failed", "ValueError: boom", 3.0, "node-c pid 7")
    claims.claim(workers.claim_path(tmp_path, held.name), worker="node-a pid 1")  # alive: this very process
    assert run_all.main(["--profile", "smoke", "--output-dir", str(tmp_path), "--shard", f"{mine}/2"]) == 1
    summary = pd.read_csv(tmp_path / "summary.csv").set_index("experiment")
    assert summary["status"].to_dict() == {
        TRAINED: "skipped (finished)",
        "data_overview": "running elsewhere",
        "r1_exp3_resnet50_mnist": "failed elsewhere",
    }
    assert summary.loc[TRAINED, "test_accuracy"] == 0.5 and summary.loc["data_overview", "worker"] == "node-a pid 1"
    assert "boom" in summary.loc["r1_exp3_resnet50_mnist", "error"]
    assert "1 failed: r1_exp3_resnet50_mnist" in capsys.readouterr().out
    assert not (tmp_path / "logs").exists()  # nothing executed


@pytest.mark.timeout(45)  # the second wait below, of up to 60 s, must end at once: nothing is left to wait for
def test_the_last_worker_builds_the_report_and_report_only_waits_for_the_others(tmp_path, capsys):
    selected = [EXPERIMENTS["data_overview"], EXPERIMENTS["evaluation_appendix"]]
    first, second = workers.Registration(tmp_path, worker="first"), workers.Registration(tmp_path, worker="second")
    assert "1 other worker(s) still running (second)" in folder.last_to_finish(first, selected, tmp_path)
    assert "1 experiment(s) neither finished nor failed yet (data_overview)" in folder.last_to_finish(
        second, selected, tmp_path
    )  # the last worker, but the folder is not complete: no partial report
    markers.write_result(tmp_path, "data_overview", "failed", "boom", 1.0, "third")
    third = workers.Registration(tmp_path, worker="third")
    assert folder.last_to_finish(third, selected, tmp_path) is None  # failed counts as settled
    assert not list((tmp_path / ".run_all" / "workers").iterdir())
    me = workers.Registration(tmp_path, worker="report")
    other = workers.Registration.__new__(workers.Registration)  # a worker of another machine, beating
    other.path = tmp_path / ".run_all" / "workers" / "node-b.1"
    other.path.write_text(json.dumps({"host": "node-b", "pid": 1, "worker": "node-b pid 1"}))
    held = workers.claim_path(tmp_path, "data_overview")
    held.write_text(json.dumps({"host": "node-b", "pid": 2, "worker": "node-b pid 2"}))
    t0 = time.monotonic()
    assert folder.wait_for_others(selected, tmp_path, 1.0, me.path) == ["data_overview"]
    assert time.monotonic() - t0 >= 1.0  # it waited its full wait for the holder that still beats
    assert "Waiting (up to 1 s) for 1 worker(s) and 1 running experiment(s): data_overview" in capsys.readouterr().out
    other.path.unlink()
    held.unlink()
    assert folder.wait_for_others(selected, tmp_path, 60.0, me.path) == []  # nothing left: at once
    me.close()


def test_the_slurm_submit_script_chains_the_report_after_the_array(tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "sbatch").write_text(f'#!/bin/sh\necho "$@" >> {tmp_path}/calls\necho "4242;cluster"\n')
    (fake / "sbatch").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "SBATCH_ARRAY_INX"}
    env["PATH"] = f"{fake}{os.pathsep}{os.environ['PATH']}"
    for args, array in (([], "1-8"), (["--profile", "smoke", "--only", "degradation_*20*"], "1-2")):
        (tmp_path / "calls").unlink(missing_ok=True)
        done = subprocess.run(
            ["bash", str(ROOT / "examples/slurm/submit.sh"), "--output-dir", "/scratch/x", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        train, report = (tmp_path / "calls").read_text().splitlines()
        rest = " ".join(["--output-dir", "/scratch/x", *args])
        # As many array tasks as experiments to share (run_all.py --count-shards), at most 8: no idle GPU.
        assert train == f"--parsable --array={array} examples/slurm/train.sbatch {rest}"
        assert report == f"--parsable --dependency=afterany:4242 examples/slurm/report.sbatch {rest}"
        assert f"array 4242 ({array}:" in done.stdout and done.stdout.strip().endswith("report job 4242")
    options = sbatch_directives(ROOT / "examples/slurm/train.sbatch")
    assert re.fullmatch(r"1-\d+", options["--array"]) and options["--gres"] == "gpu:1"  # one GPU per task
    assert "--gres" not in sbatch_directives(ROOT / "examples/slurm/report.sbatch")
    assert command_of(ROOT / "examples/slurm/train.sbatch")[:3] == ["exec", "python", "run_all.py"]
    assert "--report-only" in command_of(ROOT / "examples/slurm/report.sbatch")


# ------------------------------------------------------------------------------------- end-to-end cases


def test_three_workers_without_shards_run_each_experiment_once(tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, "run_all.py", *SMOKE, "--output-dir", str(out)]
    logs = [tmp_path / f"worker{i}.txt" for i in range(3)]
    codes = finish([start(cmd, out, log) for log in logs])
    texts = [log.read_text() for log in logs]
    assert codes == [0, 0, 0], texts
    assert sum("evaluation_appendix: ok in" in t for t in texts) == 1, texts  # one report
    check_folder(out)
    for name in WORK:  # the one that ran it says ok; the others, that it was done or running elsewhere
        assert sum(re.search(rf"{name}: ok in", t) is not None for t in texts) == 1, texts


@pytest.fixture(scope="module")
def slurm_folder(tmp_path_factory):
    """The SLURM recipe on three array tasks: the task with work is killed (as a lost node: no clean-up) once it
    has claimed the training, and started again; then the report job."""
    tmp = tmp_path_factory.mktemp("slurm")
    out = tmp / "out"
    train, report = ROOT / "examples/slurm/train.sbatch", ROOT / "examples/slurm/report.sbatch"
    array = {
        "SLURM_SUBMIT_DIR": str(ROOT),
        "SLURM_ARRAY_JOB_ID": "4242",
        "SLURM_ARRAY_TASK_MIN": "1",
        "SLURM_ARRAY_TASK_MAX": "3",
        "SLURM_ARRAY_TASK_COUNT": "3",
    }  # --array=1-3 instead of the script's
    args = [*SMOKE, "--output-dir", str(out)]
    cut = shares(experiments_for("smoke", ONLY), 3, smoke_seconds)
    victim = next(i for i, share in enumerate(cut, 1) if EXPERIMENTS[TRAINED] in share)

    def task(i, log):
        return start(["bash", str(train), *args], out, tmp / log, {**array, "SLURM_ARRAY_TASK_ID": str(i)})

    tasks = {i: task(i, f"task{i}.txt") for i in (1, 2, 3)}
    claim, log, t0 = workers.claim_path(out, TRAINED), out / "logs" / f"{TRAINED}.log", time.monotonic()
    while not (log.is_file() and f"executing {TRAINED}" in log.read_text()):  # the training's execution began
        assert time.monotonic() - t0 < 300 and tasks[victim].poll() is None, (tmp / f"task{victim}.txt").read_text()
        time.sleep(0.2)
    time.sleep(2)
    child = claims.read_holder(claim).record["pid"]
    for group in (child, tasks[victim].pid):  # the notebook's worker and kernel, and run_all itself
        os.killpg(group, signal.SIGKILL)
    tasks[victim].wait()
    tasks[victim] = task(victim, f"task{victim}-restarted.txt")
    codes = finish(tasks.values())
    done = subprocess.run(
        ["bash", str(report), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={
            **os.environ,
            "SLURM_SUBMIT_DIR": str(ROOT),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        },
    )
    texts = {p.stem: p.read_text() for p in tmp.glob("task*.txt")}
    return out, codes, texts, done, victim


def test_slurm_array_with_a_killed_task_trains_each_experiment_once(slurm_folder):
    out, codes, texts, done, victim = slurm_folder
    assert codes == [0, 0, 0], texts
    restarted = texts[f"task{victim}-restarted"]
    assert f"Shard {victim}/3 (from SLURM_ARRAY_TASK_ID={victim} (array of 3 from 1))" in restarted
    assert re.search(
        rf"{TRAINED}: taking over from \S+ pid \d+, which stopped \(its process \d+ is gone\)", restarted
    ), restarted
    assert all(
        "Report: not built here, left to run_all.py --report-only" in t
        for name, t in texts.items()
        if name != f"task{victim}"
    ), texts
    assert done.returncode == PDF_CODE, done.stdout[-3000:] + done.stderr[-3000:]
    check_folder(out, retried={TRAINED})
    summary = pd.read_csv(out / "summary.csv").set_index("experiment")
    assert (
        set(summary.loc[WORK, "status"]) == {"done elsewhere"} and summary.loc["evaluation_appendix", "status"] == "ok"
    )
    assert executions(out)["evaluation_appendix"]["started"] == 1  # one report, by the report job
    if PDF_CODE == 0:
        assert (out / "report.pdf").is_file()


def test_kubernetes_indexed_job_on_the_same_folder(slurm_folder, tmp_path):
    """The manifest's pods on the folder the SLURM tasks filled: nothing trains again, the last pod builds the
    report once."""
    out = slurm_folder[0]
    docs = list(yaml.safe_load_all((ROOT / "examples/kubernetes/run_all-job.yaml").read_text()))
    job = next(d for d in docs if d["kind"] == "Job")
    spec, pod = job["spec"], job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert spec["completionMode"] == "Indexed" and int(env["RUN_ALL_SHARD_COUNT"]) == spec["completions"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1 and pod["restartPolicy"] == "Never"
    claim = next(v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"])
    pvc = next(d for d in docs if d["kind"] == "PersistentVolumeClaim" and d["metadata"]["name"] == claim)
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    mount = container["volumeMounts"][0]["mountPath"]
    cmd = [
        sys.executable if a == "python" else str(out) if a.startswith(mount) else a
        for a in container["command"] + container["args"]
    ]
    assert cmd[1] == "run_all.py" and str(out) in cmd and container["workingDir"] == "/kit"
    before = executions(out)
    pods = [
        start(
            [*cmd, *SMOKE], out, tmp_path / f"pod{i}.txt", {"JOB_COMPLETION_INDEX": str(i), "RUN_ALL_SHARD_COUNT": "3"}
        )
        for i in range(3)
    ]
    codes = finish(pods)
    texts = [(tmp_path / f"pod{i}.txt").read_text() for i in range(3)]
    assert sum("evaluation_appendix: ok in" in t for t in texts) == 1, texts  # one report
    assert sorted(codes) == [0, 0, PDF_CODE], texts
    assert any("Shard 3/3 (from JOB_COMPLETION_INDEX=2 of RUN_ALL_SHARD_COUNT=3)" in t for t in texts)
    after = executions(out)
    assert all(after[n] == before[n] for n in WORK), (before, after)  # nothing trained again
    assert after["evaluation_appendix"]["started"] == before["evaluation_appendix"]["started"] + 1
    check_folder(out, retried={TRAINED})


def test_the_appendix_gets_only_and_running_where_its_notebook_has_them(monkeypatch):
    appendix = EXPERIMENTS["evaluation_appendix"]
    base = run_all.parameters_for(appendix, "smoke", "/o")
    declared = session.notebook_parameters(appendix.notebook)
    extra = {k: v for k, v in {"only": "vgg", "running": ["a", "b"]}.items() if k in declared}
    assert session.appendix_parameters(appendix, "smoke", Path("/o"), "vgg", ["b", "a"]) == {**base, **extra}
    monkeypatch.setattr(session, "notebook_parameters", lambda nb: declared | {"only", "running"})
    assert session.appendix_parameters(appendix, "smoke", Path("/o"), None, ["b", "a"]) == {
        **base,
        "only": "",
        "running": ["a", "b"],
    }
