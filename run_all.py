#!/usr/bin/env python
"""Execute the course's notebooks headless with papermill, one experiment per process, and summarise.

    python run_all.py                      # the `quick` profile (real data, small subsets, 2 epochs)
    python run_all.py --profile smoke      # synthetic data, every notebook in minutes (what the tests run)
    python run_all.py --profile full       # full data, each recipe's epochs (GPU)
    python run_all.py --list               # the experiments of a profile, and which are finished
    python run_all.py --profile smoke --pdf  # ... and outputs/report.pdf (exit status 3: PDF not built)

Executed notebooks: ``<output-dir>/runs/<experiment>/notebook.ipynb`` for training experiments, else
``<output-dir>/notebooks/<experiment>.ipynb``; logs in ``<output-dir>/logs/``; the summary in
``<output-dir>/summary.csv``. Finished experiments are skipped unless ``--force``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent
NOTEBOOK_DIR = ROOT / "notebooks"
sys.path.insert(0, str(ROOT))

from helpers.experiments import NOTEBOOKS, PROFILES, Experiment, experiments_for, parameters_for  # noqa: E402
from helpers.runs import RunDir, atomic_write, make_writable_dir  # noqa: E402

KERNEL_ENV = {"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1", "MPLBACKEND": "module://matplotlib_inline.backend_inline"}


class UsageError(Exception):
    """Bad command-line input: reported in one line, before anything runs."""


# ----------------------------------------------------------------------------------------------- checks


def parse_shard(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    try:
        i, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise UsageError(f"--shard {text!r}: expected i/n with whole numbers, e.g. 1/3.") from None
    if not (n >= 1 and 1 <= i <= n):
        raise UsageError(f"--shard {text!r}: need 1 <= i <= n, e.g. 1/3, 2/3, 3/3.")
    return i, n


def in_shard(exp: Experiment, shard: tuple[int, int] | None) -> bool:
    """A deterministic share: the same experiment always lands in the same shard (CRC32 of its name)."""
    if shard is None or exp.notebook == NOTEBOOKS["appendix"]:  # every machine writes its own appendix
        return True
    i, n = shard
    return zlib.crc32(exp.name.encode()) % n == i - 1


def check_parameters(jobs: list[tuple[Experiment, dict]]) -> None:
    """Every parameter must exist in its notebook's `parameters` cell (papermill would only warn)."""
    import papermill

    known, problems = {}, []
    for exp, params in jobs:
        path = NOTEBOOK_DIR / exp.notebook
        if exp.notebook not in known:
            if not path.is_file():
                raise UsageError(f"Notebook {path} of experiment {exp.name!r} does not exist.")
            known[exp.notebook] = set(papermill.inspect_notebook(str(path)))
            if not known[exp.notebook]:
                raise UsageError(f"{path} has no cell tagged 'parameters'.")
        unknown = sorted(set(params) - known[exp.notebook])
        if unknown:
            problems.append(f"{exp.name}: {', '.join(unknown)} not in {exp.notebook} "
                            f"(its parameters: {', '.join(sorted(known[exp.notebook]))})")
    if problems:
        raise UsageError("Unknown notebook parameter(s), nothing was run:\n  " + "\n  ".join(problems))


def _keras_cached(dataset: str) -> bool:
    cache = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets"
    return (cache / "mnist.npz").is_file() if dataset == "mnist" else (cache / "cifar-10-batches-py").is_dir()


def _online(host: str = "storage.googleapis.com", port: int = 443, timeout: float = 3.0) -> bool:
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return True
    except OSError:
        return False


def check_data_access(jobs, profile: str, data_dir: str | None) -> None:
    """Real-data profiles need --data-dir (checked earlier), Keras' cache or the network: stop at once otherwise."""
    if data_dir:
        return
    needed = set()
    for exp, params in jobs:
        if not params.get("synthetic") and exp.notebook != NOTEBOOKS["appendix"]:
            needed |= {params["dataset"]} if "dataset" in params else {"mnist", "cifar10"}
    missing = sorted(d for d in needed if not _keras_cached(d))
    if missing and not _online():
        raise UsageError(
            f"Profile {profile!r} needs the real {' and '.join(missing)} data, which is not in Keras' cache, and there "
            "is no network to download it. Either pass --data-dir DIR (a folder with mnist.npz and "
            "cifar-10-python.tar.gz), or run offline with --profile smoke (synthetic data)."
        )


def check_output_dir(output_dir: Path) -> None:
    try:
        make_writable_dir(output_dir)
    except OSError as e:
        raise UsageError(f"--output-dir {str(output_dir)!r} cannot be written ({e.strerror or e}).") from None


# -------------------------------------------------------------------------------------------- running


def is_training(exp: Experiment) -> bool:
    return exp.notebook not in (NOTEBOOKS["data"], NOTEBOOKS["appendix"])


def executed_path(exp: Experiment, output_dir: Path) -> Path:
    """Training notebooks are kept in their run directory, the others under <output-dir>/notebooks/."""
    if is_training(exp):
        return RunDir(output_dir, exp.name).path / "notebook.ipynb"
    return output_dir / "notebooks" / f"{exp.name}.ipynb"


def is_finished(exp: Experiment, output_dir: Path) -> bool:
    """Training experiments are finished when their run has metrics.json; the data notebook when it ran ok.

    The appendix is never 'finished': it summarises whatever exists, so it runs every time.
    """
    if exp.notebook == NOTEBOOKS["appendix"]:
        return False
    if is_training(exp):
        return RunDir(output_dir, exp.name).finished
    return (output_dir / "notebooks" / f"{exp.name}.ok").is_file()


def worker(spec_path: str) -> int:
    """Child process: execute one notebook with papermill; write a status file; exit 0 / 1."""
    import papermill
    from filelock import FileLock, Timeout
    from nbclient.exceptions import CellTimeoutError

    spec = json.loads(Path(spec_path).read_text())
    out = Path(spec["output"])
    status = {"status": "ok", "error": None}
    try:
        # One process per experiment at a time: a second run_all on the same output folder leaves it alone.
        with FileLock(spec["lock"], timeout=0):
            out.parent.mkdir(parents=True, exist_ok=True)
            papermill.execute_notebook(
                spec["input"], str(out), parameters=spec["parameters"], kernel_name="python3",
                cwd=str(NOTEBOOK_DIR), execution_timeout=spec["timeout"], log_output=True, progress_bar=False,
                coalesce_streams=True,
            )
    except Timeout:
        status = {"status": "locked", "error": f"another process is running it (lock {spec['lock']})"}
    except papermill.PapermillExecutionError as e:
        status = {"status": "failed", "error": f"{e.ename}: {e.evalue}"}
    except CellTimeoutError as e:  # papermill leaves a notebook that looks complete: record it ourselves
        status = {"status": "timeout", "error": str(e).splitlines()[0]}
    except Exception as e:  # kernel death, missing kernel, bad notebook
        status = {"status": "failed", "error": f"{type(e).__name__}: {e}"}
    atomic_write(spec["status"], json.dumps(status))
    return 0 if status["status"] in ("ok", "locked") else 1


class Job:
    """One experiment executing in its own process (papermill chdirs: never threads)."""

    def __init__(self, exp: Experiment, params: dict, output_dir: Path, timeout: float | None):
        self.exp, self.params, self.timeout = exp, params, timeout
        self.output = executed_path(exp, output_dir)
        work = output_dir / ".run_all"
        work.mkdir(parents=True, exist_ok=True)
        self.spec = work / f"{exp.name}.{os.getpid()}.json"  # per process: two run_alls never share these
        self.status_file = work / f"{exp.name}.{os.getpid()}.status.json"
        self.status_file.unlink(missing_ok=True)
        self.log = output_dir / "logs" / f"{exp.name}.log"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(self.spec, json.dumps({
            "input": str(NOTEBOOK_DIR / exp.notebook), "output": str(self.output), "parameters": params,
            "timeout": timeout, "status": str(self.status_file), "lock": str(work / f"{exp.name}.lock"),
        }))

    def start(self) -> None:
        env = {**os.environ, **KERNEL_ENV}
        self.t0 = time.perf_counter()
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--worker", str(self.spec)],
                                         stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
                                         cwd=str(ROOT))

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def poll(self) -> dict | None:
        """None while running; else the result (killing the whole process group on timeout)."""
        if self.proc.poll() is None:
            if self.timeout and self.elapsed > self.timeout:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                return {"status": "timeout", "error": f"ran over --timeout {self.timeout:g} s"}
            return None
        try:
            return json.loads(self.status_file.read_text())
        except (OSError, ValueError):
            return {"status": "failed", "error": f"worker exited with code {self.proc.returncode}; see {self.log}"}


def test_accuracy(exp: Experiment, output_dir: Path) -> float | None:
    run = RunDir(output_dir, exp.name)
    if is_training(exp) and run.finished:
        return run.read_json(RunDir.METRICS).get("test_accuracy")
    return None


def run_jobs(jobs, output_dir: Path, n_jobs: int, timeout: float | None) -> list[dict]:
    pending, running, results = list(jobs), [], []
    total, started = len(jobs), 0
    while pending or running:
        while pending and len(running) < n_jobs:
            exp, params = pending.pop(0)
            job = Job(exp, params, output_dir, timeout)
            job.start()
            running.append(job)
            started += 1
            print(f"[{started}/{total}] {exp.name}: started ({exp.notebook})", flush=True)
        time.sleep(0.5)
        for job in list(running):
            res = job.poll()
            if res is None:
                continue
            running.remove(job)
            if res["status"] == "ok" and not is_training(job.exp):
                (output_dir / "notebooks").mkdir(parents=True, exist_ok=True)
                atomic_write(output_dir / "notebooks" / f"{job.exp.name}.ok", "ok\n")
            acc = test_accuracy(job.exp, output_dir)
            row = {"experiment": job.exp.name, "status": res["status"], "test_accuracy": acc,
                   "wall_seconds": round(job.elapsed, 1), "notebook": str(job.output), "error": res.get("error")}
            results.append(row)
            done = len(results)
            extra = f", test accuracy {acc:.4f}" if acc is not None else ""
            why = f": {res['error']} (log: {job.log})" if res["status"] != "ok" else ""
            print(f"[{done}/{total}] {job.exp.name}: {res['status']} in {job.elapsed:.1f} s{extra}{why}", flush=True)
    return results


def write_summary(rows: list[dict], output_dir: Path) -> Path:
    import pandas as pd

    frame = pd.DataFrame(rows, columns=["experiment", "status", "test_accuracy", "wall_seconds", "notebook", "error"])
    path = atomic_write(output_dir / "summary.csv", frame.to_csv(index=False))
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print("\nSummary\n" + frame[["experiment", "status", "test_accuracy", "wall_seconds"]].to_string(index=False))
    print(f"\nSummary written to {path}")
    return path


# ----------------------------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Profiles: " + "; ".join(f"{k}: {v['about']}" for k, v in PROFILES.items()))
    p.add_argument("--profile", default="quick", help="smoke, quick (default) or full")
    p.add_argument("--list", action="store_true", help="list the profile's experiments and exit")
    p.add_argument("--only", metavar="PATTERN", help="run only experiments whose name matches (glob or substring)")
    p.add_argument("--data-dir", help="folder with mnist.npz and cifar-10-python.tar.gz (offline use)")
    p.add_argument("--output-dir", default="outputs", help="where runs, notebooks and the summary go (default outputs/)")
    p.add_argument("--jobs", default="1", help="experiments to execute at once, each in its own process (default 1)")
    p.add_argument("--force", action="store_true", help="rerun experiments that already finished")
    p.add_argument("--shard", metavar="i/n", help="run only the i-th of n deterministic shares of the matrix")
    p.add_argument("--timeout", type=float, default=None, help="seconds allowed per notebook (default: no limit)")
    p.add_argument("--pdf", nargs="?", const="report", choices=["report", "all"],
                   help="build <output-dir>/report.pdf and report.html from the results; 'all' also exports every "
                        "executed notebook to its own PDF (needs xelatex; exit status 3 when the PDF was not built)")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.worker:
        return worker(args.worker)
    try:
        if args.profile not in PROFILES:
            raise UsageError(f"Unknown profile {args.profile!r}; valid: {', '.join(PROFILES)}.")
        try:
            n_jobs = int(args.jobs)
        except ValueError:
            n_jobs = 0
        if n_jobs < 1:
            raise UsageError(f"--jobs {args.jobs!r}: expected a whole number >= 1.")
        if args.timeout is not None and args.timeout <= 0:
            raise UsageError(f"--timeout {args.timeout:g}: expected seconds > 0.")
        shard = parse_shard(args.shard)
        try:
            chosen = experiments_for(args.profile, args.only)
        except ValueError as e:
            raise UsageError(str(e)) from None
        chosen = [e for e in chosen if in_shard(e, shard)]
        output_dir = Path(args.output_dir).resolve()
        data_dir = str(Path(args.data_dir).resolve()) if args.data_dir else None
        jobs = [(e, parameters_for(e, args.profile, str(output_dir), data_dir)) for e in chosen]
        if args.list:
            for exp, _ in jobs:
                state = "finished" if is_finished(exp, output_dir) else "to run"
                print(f"{exp.name:42s} {exp.notebook:30s} {state}")
            return 0
        check_parameters(jobs)
        if args.data_dir and not Path(args.data_dir).is_dir():
            raise UsageError(f"--data-dir {args.data_dir!r} does not exist or is not a folder.")
        check_output_dir(output_dir)
        todo = [(e, p) for e, p in jobs if args.force or not is_finished(e, output_dir)]
        check_data_access(todo, args.profile, data_dir)
    except UsageError as e:
        print(f"run_all.py: error: {e}", file=sys.stderr)
        return 2
    skipped = [{"experiment": e.name, "status": "skipped (finished)", "test_accuracy": test_accuracy(e, output_dir),
                "wall_seconds": 0.0, "notebook": str(executed_path(e, output_dir)), "error": None}
               for e, p in jobs if (e, p) not in todo]
    print(f"Profile {args.profile}: {len(jobs)} experiments, {len(todo)} to run, {len(skipped)} already finished; "
          f"output in {output_dir}", flush=True)
    t0 = time.perf_counter()
    results = run_jobs(todo, output_dir, n_jobs, args.timeout)
    order = {e.name: i for i, (e, _) in enumerate(jobs)}
    rows = sorted(skipped + results, key=lambda r: order[r["experiment"]])
    write_summary(rows, output_dir)
    failed = [r["experiment"] for r in results if r["status"] not in ("ok", "locked")]
    print(f"Wall time {time.perf_counter() - t0:.0f} s; {len(results) - len(failed)} ok, {len(failed)} failed"
          + (f": {', '.join(failed)}" if failed else ""))
    if args.pdf and not make_report(output_dir, args.profile, args.pdf):
        return 3
    return 1 if failed else 0


def make_report(output_dir: Path, profile: str, which: str) -> bool:
    """Export the report; False (after saying why in one line) when the PDF was not built."""
    from helpers.report import build_report

    t0 = time.perf_counter()
    result = build_report(output_dir, profile, which)
    if result.html:
        print(f"Report (HTML): {result.html}")
    for path in result.notebook_pdfs:
        print(f"Notebook PDF: {path}")
    if result.pdf:
        print(f"Report (PDF): {result.pdf} ({time.perf_counter() - t0:.0f} s)")
    for problem in result.problems:
        print(problem, file=sys.stderr)
    return result.pdf_built


if __name__ == "__main__":
    sys.exit(main())
