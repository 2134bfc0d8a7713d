"""Jobs: each experiment's notebook executed in a process of its own (``run_all.py --worker``, ``worker.py``), a
few at a time, and what became of each in this worker's eyes (done here or elsewhere, running elsewhere, failed)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from helpers.experiments import Experiment, notebook_path
from helpers.experiments.budget import format_duration
from helpers.runner.claims import SESSION, Watch, release
from helpers.runner.markers import (
    FAILED,
    done_marker,
    executed_path,
    is_finished,
    is_training,
    ok_marker,
    read_result,
    test_accuracy,
    write_result,
)
from helpers.runner.workers import claim_path, work_dir
from helpers.runs import atomic_write

# The folder that holds this kit's ``helpers`` (a checkout, or site-packages): a worker started there with
# ``python -m helpers.runner`` imports the same kit (``-m`` puts its working directory first on the path).
KIT_ROOT = Path(__file__).resolve().parents[2]
KERNEL_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "PYTHONUNBUFFERED": "1",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
}


class Job:
    """One experiment executing in its own process (papermill chdirs: never threads)."""

    def __init__(self, exp: Experiment, params: dict, output_dir: Path, timeout: float | None, since: float, who: str):
        self.exp, self.params, self.timeout, self.output_dir, self.who = exp, params, timeout, output_dir, who
        self.output = executed_path(exp, output_dir)
        work = work_dir(output_dir)
        work.mkdir(parents=True, exist_ok=True)
        self.spec = work / f"{exp.name}.{SESSION}.json"  # per run_all: two workers never share these
        self.status_file = work / f"{exp.name}.{SESSION}.status.json"
        self.status_file.unlink(missing_ok=True)
        self.claim = claim_path(output_dir, exp.name)
        self.log = output_dir / "logs" / f"{exp.name}.log"
        done = done_marker(exp, output_dir) or ok_marker(exp, output_dir)  # the appendix: built since `since`
        atomic_write(
            self.spec,
            json.dumps(
                {
                    "experiment": exp.name,
                    "input": str(notebook_path(exp.notebook)),
                    "output": str(self.output),
                    "parameters": params,
                    "timeout": timeout,
                    "status": str(self.status_file),
                    "claim": str(self.claim),
                    "log": str(self.log),
                    "output_dir": str(output_dir),
                    "done": str(done) if done else None,
                    "since": since,
                    "ok_marker": None if is_training(exp) else str(ok_marker(exp, output_dir)),
                    "worker": who,
                }
            ),
        )

    def start(self) -> None:
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "helpers.runner", "--worker", str(self.spec)],
            env={**os.environ, **KERNEL_ENV},
            start_new_session=True,
            cwd=str(KIT_ROOT),
        )

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def poll(self) -> dict | None:
        """None while running; else the result (ending the worker and its kernel on timeout)."""
        if self.proc.poll() is None:
            if not (self.timeout and self.elapsed > self.timeout):
                return None
            self.stop(signal.SIGKILL)
            error = f"ran over --timeout {self.timeout:g} s"
            write_result(self.output_dir, self.exp.name, "timeout", error, round(self.elapsed, 1), self.who)
            return {"status": "timeout", "error": error, "worker": self.who}
        try:
            result = json.loads(self.status_file.read_text())
        except (OSError, ValueError):
            release(self.claim, pid=self.proc.pid)
            result = {
                "status": "failed",
                "error": f"worker exited with code {self.proc.returncode}; see {self.log}",
                "worker": self.who,
            }
        self.spec.unlink(missing_ok=True)
        self.status_file.unlink(missing_ok=True)
        return result

    def stop(self, sig: int) -> None:
        """End the worker and its kernel (their own process group) and free the claim it held."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        release(self.claim, pid=self.proc.pid)


def run_jobs(
    jobs, output_dir: Path, n_jobs: int, timeout: float | None, since: float, who: str, console=None
) -> dict[str, dict]:
    """Run our share, ``n_jobs`` at a time, and return what became of each experiment in this worker's eyes;
    ``console`` (a ``console.Console``) shows their progress meanwhile.

    An experiment finished meanwhile is 'done elsewhere'; one a live worker holds is left to it ('running
    elsewhere'); one whose holder stopped is taken over; one held from another machine that has not been seen
    beating yet is waited for, after the rest of the share (at most STALE_AFTER seconds).
    """
    pending, running, waiting, outcome = list(jobs), [], {}, {}
    watch, total, last_look = Watch(), len(jobs), 0.0

    def settle(exp: Experiment, res: dict, seconds: float | None = None) -> None:
        outcome[exp.name] = {
            "status": res["status"],
            "error": res.get("error"),
            "worker": res.get("worker"),
            "wall_seconds": round(seconds, 1) if seconds is not None else None,
        }
        acc = test_accuracy(exp, output_dir)
        took = f" in {seconds:.1f} s" if seconds is not None and res["status"] != "done elsewhere" else ""
        extra = f", test accuracy {acc:.4f}" if acc is not None and res["status"] == "ok" else ""
        by = f" ({res.get('worker')})" if res["status"].endswith("elsewhere") and res.get("worker") else ""
        why = f": {res['error']} (log: {output_dir / 'logs' / (exp.name + '.log')})" if res["status"] in FAILED else ""
        ran = seconds if res["status"] in ("ok", *FAILED) else None
        line = f"[{len(outcome)}/{total}] {exp.name}: {res['status']}{by}{took}{extra}{why}"
        if console is None:
            print(line, flush=True)
        else:
            console.finished(exp.name, ran)
            console.say(line)

    def look(exp: Experiment, params: dict, since_wait: float | None) -> bool:
        """Decide what to do with an experiment; True when settled or started, False to keep waiting for it."""
        if is_finished(exp, output_dir, since):
            settle(exp, {"status": "done elsewhere", "worker": read_result(output_dir, exp.name).get("worker")})
            return True
        state, holder = watch(claim_path(output_dir, exp.name))
        if state == "alive":
            settle(exp, {"status": "running elsewhere", "worker": holder.who})
            return True
        if state == "unknown":
            if since_wait is None:
                print(f"{exp.name}: claimed from another machine by {holder.who}; coming back to it", flush=True)
            return False
        last = read_result(output_dir, exp.name)
        if state == "free" and since_wait and last.get("at", 0) >= since_wait and last.get("status") in FAILED:
            settle(exp, {"status": "failed elsewhere", "error": last.get("error"), "worker": last.get("worker")})
            return True
        job = Job(exp, params, output_dir, timeout, since, who)
        job.start()
        running.append(job)
        if console is None:
            print(f"{exp.name}: started ({exp.notebook})", flush=True)
        else:
            console.say(
                f"{exp.name}: started ({exp.notebook}, estimated {format_duration(console.estimate.get(exp.name, 0))})"
            )
            console.started(exp)
        return True

    try:
        while pending or running or waiting:
            while pending and len(running) < n_jobs:
                exp, params = pending.pop(0)
                if not look(exp, params, None):
                    waiting[exp.name] = (exp, params, time.time())
            time.sleep(0.5)
            if console is not None:
                console.tick()
            for job in list(running):
                res = job.poll()
                if res is None:
                    continue
                running.remove(job)
                if res["status"] == "running elsewhere":  # another worker claimed it a moment before us
                    waiting[job.exp.name] = (job.exp, job.params, time.time())
                else:
                    settle(job.exp, res, job.elapsed)
            if waiting and not pending and len(running) < n_jobs and time.monotonic() - last_look > 2:
                last_look = time.monotonic()
                for name, (exp, params, since_wait) in list(waiting.items()):
                    if len(running) < n_jobs and look(exp, params, since_wait):
                        del waiting[name]
    finally:  # interrupted (Ctrl-C, SIGTERM from the cluster): end our notebooks and free their claims
        for job in running:
            job.stop(signal.SIGTERM)
    return outcome
