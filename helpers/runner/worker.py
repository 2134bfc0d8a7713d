"""The child process of one experiment (``run_all.py --worker SPEC``): claim it, check again that nobody finished
it meanwhile, execute its notebook with papermill (output appended to its log), record the result, release the
claim. ``jobs.Job`` starts it and reads the status file it writes."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import papermill
from nbclient.exceptions import CellTimeoutError

from helpers.runner.claims import Busy, Heartbeat, claim, release
from helpers.runner.markers import FAILED, marked_since, read_result, write_result
from helpers.runs import atomic_write

__all__ = ["worker"]


def worker(spec_path: str) -> int:
    """Child process: claim the experiment, check again that nobody finished it, execute it, record the result,
    release the claim. Writes a status file for the parent; prints only a takeover note, the rest goes to the log."""
    spec = json.loads(Path(spec_path).read_text())
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # cancelled: release the claim, record nothing
    name, path = spec["experiment"], Path(spec["claim"])
    try:
        token, note = claim(path, experiment=name, worker=spec["worker"])
    except Busy as e:
        return _finish(spec, {"status": "running elsewhere", "error": None, "worker": e.holder.who})
    heartbeat = Heartbeat(path)
    try:
        if note:
            print(f"{name}: {note}", flush=True)
        if spec["done"] and marked_since(Path(spec["done"]), spec["since"]):
            by = read_result(Path(spec["output_dir"]), name).get("worker")
            return _finish(spec, {"status": "done elsewhere", "error": None, "worker": by})
        return _finish(spec, _execute(spec))
    finally:
        heartbeat.stop()
        release(path, token)


def _finish(spec: dict, status: dict) -> int:
    atomic_write(spec["status"], json.dumps(status))
    return 1 if status["status"] in FAILED else 0


def _execute(spec: dict) -> dict:
    """Run the notebook with papermill, its output appended to the experiment's log (one header per execution)."""
    log = Path(spec["log"])
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    print(f"=== {time.strftime('%Y-%m-%d %H:%M:%S')} {spec['worker']}: executing {spec['experiment']} ===", flush=True)
    out, t0 = Path(spec["output"]), time.perf_counter()
    status = {"status": "ok", "error": None}
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        papermill.execute_notebook(
            spec["input"],
            str(out),
            parameters=spec["parameters"],
            kernel_name="python3",
            cwd=str(Path(spec["input"]).parent),
            execution_timeout=spec["timeout"],
            progress_bar=False,
            coalesce_streams=True,
            stdout_file=sys.stdout,
            stderr_file=sys.stderr,
        )
    except papermill.PapermillExecutionError as e:
        status = {"status": "failed", "error": f"{e.ename}: {e.evalue}"}
    except CellTimeoutError as e:  # papermill leaves a notebook that looks complete: record it ourselves
        status = {"status": "timeout", "error": str(e).splitlines()[0]}
    except Exception as e:  # kernel death, missing kernel, bad notebook
        status = {"status": "failed", "error": f"{type(e).__name__}: {e}"}
    wall = round(time.perf_counter() - t0, 1)
    if status["status"] == "ok" and spec["ok_marker"]:
        atomic_write(spec["ok_marker"], "ok\n")
    write_result(Path(spec["output_dir"]), spec["experiment"], wall_seconds=wall, worker=spec["worker"], **status)
    print(
        f"=== {time.strftime('%Y-%m-%d %H:%M:%S')} {spec['worker']}: {spec['experiment']} {status['status']} "
        f"after {wall} s ===",
        flush=True,
    )
    return {**status, "worker": spec["worker"]}
