#!/usr/bin/env python
"""Execute the course's notebooks headless with papermill, one experiment per process, and summarise.

    python run_all.py                      # the `quick` profile (real data, small subsets, 2 epochs)
    python run_all.py --profile smoke      # synthetic data, every notebook in minutes (what the tests run)
    python run_all.py --profile full       # full data, each recipe's epochs (GPU)
    python run_all.py --list               # the experiments of a profile, and which are finished
    python run_all.py --profile smoke --pdf  # ... and outputs/report.pdf (exit status 3: PDF not built)
    python run_all.py --profile full --shard 2/8    # one of 8 workers sharing one output folder
    python run_all.py --profile full --report-only  # wait for the workers, then one report of every run

Executed notebooks: ``<output-dir>/runs/<experiment>/notebook.ipynb`` for training experiments, else
``<output-dir>/notebooks/<experiment>.ipynb``; logs in ``<output-dir>/logs/``; the summary in
``<output-dir>/summary.csv``. Finished experiments are skipped unless ``--force``.

Any number of workers (processes, machines, SLURM array tasks, Kubernetes pods) may share one output folder, a
network folder included: a worker claims an experiment before running it and, holding the claim, checks again
that nobody finished it meanwhile, so every experiment runs once. ``summary.csv`` describes the folder, not one
worker's share, and the last worker to finish (or ``--report-only``) builds the one report.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import signal
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers.claims import (  # noqa: E402
    Registration,
    claim_path,
    holding,
    live_workers,
    read_holder,
    work_dir,
)
from helpers.experiments import NOTEBOOKS, PROFILES, Experiment, experiments_for, parameters_for  # noqa: E402
from helpers.jobs import (  # noqa: E402
    FAILED,
    NOTEBOOK_DIR,
    done_marker,
    executed_path,
    is_finished,
    read_result,
    run_jobs,
    test_accuracy,
    worker,
)
from helpers.runs import OUTPUT_DIR_ENV, atomic_write, default_output_dir, make_writable_dir  # noqa: E402
from helpers.shards import SHARD_COUNT_VAR, UsageError, in_shard, parse_shard, shard_from_env  # noqa: E402

# ----------------------------------------------------------------------------------------------- checks


@functools.cache
def notebook_parameters(notebook: str) -> frozenset[str]:
    """The names in a notebook's `parameters` cell."""
    import papermill

    path = NOTEBOOK_DIR / notebook
    if not path.is_file():
        raise UsageError(f"Notebook {path} does not exist.")
    names = frozenset(papermill.inspect_notebook(str(path)))
    if not names:
        raise UsageError(f"{path} has no cell tagged 'parameters'.")
    return names


def check_parameters(jobs: list[tuple[Experiment, dict]]) -> None:
    """Every parameter must exist in its notebook's `parameters` cell (papermill would only warn)."""
    problems = []
    for exp, params in jobs:
        known = notebook_parameters(exp.notebook)
        unknown = sorted(set(params) - known)
        if unknown:
            problems.append(f"{exp.name}: {', '.join(unknown)} not in {exp.notebook} "
                            f"(its parameters: {', '.join(sorted(known))})")
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
        if not params.get("synthetic") and exp.notebook not in (NOTEBOOKS["appendix"], NOTEBOOKS["interpret"]):
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


# -------------------------------------------------------------------------------------- the folder's state


def folder_row(exp: Experiment, output_dir: Path, share: set[str], started_at: float, own: dict | None) -> dict:
    """One line of summary.csv: what this worker did, else what the folder says (finished, claimed, failed)."""
    row = {"experiment": exp.name, "status": "not run", "test_accuracy": test_accuracy(exp, output_dir),
           "wall_seconds": None, "notebook": str(executed_path(exp, output_dir)), "error": None, "worker": None}
    if own and not own["status"].endswith("elsewhere"):
        return {**row, **own}
    holder = read_holder(claim_path(output_dir, exp.name))
    stopped = holder.gone() if holder else None
    if holder and not stopped:
        return {**row, "status": "running elsewhere", "worker": holder.who}
    last = read_result(output_dir, exp.name)
    row.update(wall_seconds=last.get("wall_seconds"), worker=last.get("worker"))
    if is_finished(exp, output_dir):
        before = not is_finished(exp, output_dir, started_at)
        row["status"] = "skipped (finished)" if before and exp.name in share else "done elsewhere"
    elif done_marker(exp, output_dir) is None and last.get("at", 0) < started_at:
        row.update(wall_seconds=None, worker=None)  # the appendix: only this run's counts
    elif last.get("status") == "ok":
        row["status"] = "done elsewhere"
    elif last.get("status") in FAILED:
        row.update(status="failed elsewhere", error=f"{last['status']}: {last.get('error')}")
    if stopped and row["status"] == "not run":
        row["worker"] = f"{holder.who} (stopped: {stopped})"
    return row


def settled(exp: Experiment, output_dir: Path) -> bool:
    """Finished or failed, and nobody working on it."""
    holder = read_holder(claim_path(output_dir, exp.name))
    if holder is not None and not holder.gone():
        return False
    return is_finished(exp, output_dir) or read_result(output_dir, exp.name).get("status") in FAILED


def write_summary(rows: list[dict], output_dir: Path) -> Path:
    import pandas as pd

    frame = pd.DataFrame(rows, columns=["experiment", "status", "test_accuracy", "wall_seconds", "notebook", "error",
                                        "worker"])
    path = atomic_write(output_dir / "summary.csv", frame.to_csv(index=False))
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        shown = frame[["experiment", "status", "test_accuracy", "wall_seconds", "worker"]].astype(object)
        print("\nSummary of the folder\n" + shown.where(shown.notna(), "").to_string(index=False))
    print(f"\nSummary written to {path}")
    return path


# ----------------------------------------------------------------------------------------------- report


def appendix_parameters(exp: Experiment, profile: str, output_dir: Path, only: str | None,
                        running: list[str]) -> dict:
    """The appendix's parameters: its output folder and profile, and, where the notebook has them, the --only
    pattern (so that experiments left out are not 'missing') and the experiments still running elsewhere."""
    params = parameters_for(exp, profile, str(output_dir))
    declared = notebook_parameters(exp.notebook)
    if "only" in declared:
        params["only"] = only or ""
    if "running" in declared:
        params["running"] = sorted(running)
    return params


def last_to_finish(registration: Registration, selected: list[Experiment], output_dir: Path) -> str | None:
    """Leave the folder; None when this worker builds the report (no other worker left, and every experiment
    finished or failed), else why it does not."""
    with holding(work_dir(output_dir) / "workers.claim"):  # two workers leaving at once: exactly one is last
        registration.close()
        others = live_workers(output_dir)
    if others:
        return f"{len(others)} other worker(s) still running ({', '.join(h.who for h in others)}); the last one builds it"
    open_ = [e.name for e in selected if e.notebook != NOTEBOOKS["appendix"] and not settled(e, output_dir)]
    if open_:
        return (f"{len(open_)} experiment(s) neither finished nor failed yet ({', '.join(open_)}); the last worker "
                "to finish them, or run_all.py --report-only, builds it")
    return None


def wait_for_others(selected: list[Experiment], output_dir: Path, wait: float, me: Path) -> list[str]:
    """--report-only: wait, up to ``wait`` seconds, while other workers run or experiments (the appendix too) are
    claimed; return the experiments still running elsewhere."""
    t0, next_note = time.monotonic(), 0.0
    while True:
        workers = live_workers(output_dir, exclude=me)
        running = [e.name for e in selected if (h := read_holder(claim_path(output_dir, e.name))) and not h.gone()]
        waited = time.monotonic() - t0
        if not workers and not running:
            return []
        if waited >= wait:
            print(f"Report: waited {waited:.0f} s; still running elsewhere: {', '.join(running) or 'no experiment'}"
                  f" ({len(workers)} worker(s) registered)", flush=True)
            return [e.name for e in selected if e.name in running and e.notebook != NOTEBOOKS["appendix"]]
        if time.monotonic() >= next_note:
            print(f"Waiting (up to {wait:g} s) for {len(workers)} worker(s) and {len(running)} running experiment(s)"
                  f"{': ' + ', '.join(running) if running else ''}", flush=True)
            next_note = time.monotonic() + 60
        time.sleep(min(2.0, max(0.1, wait - waited)))


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


# ----------------------------------------------------------------------------------------------- main


class Parser(argparse.ArgumentParser):
    """argparse with its errors as one line (a UsageError), not usage text and an exit."""

    def error(self, message):
        raise UsageError(re.sub(r"^argument [^:]+: (?=--)", "", message))  # our messages name the option


def _checked(check):
    """An argparse ``type=`` from a check that raises UsageError."""

    def convert(text):
        try:
            return check(text)
        except UsageError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    convert.__name__ = check.__name__
    return convert


def _profile(text: str) -> str:
    if text not in PROFILES:
        raise UsageError(f"Unknown profile {text!r}; valid: {', '.join(PROFILES)}.")
    return text


def _jobs(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise UsageError(f"--jobs {text!r}: expected a whole number >= 1.")
    return int(text)


def _seconds(option: str, minimum: float, strict: bool):
    def seconds(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not (value > minimum if strict else value >= minimum):
            raise UsageError(f"{option} {text}: expected seconds {'>' if strict else '>='} {minimum:g}.")
        return value

    return seconds


def _data_dir(text: str) -> str:
    if not Path(text).is_dir():
        raise UsageError(f"--data-dir {text!r} does not exist or is not a folder.")
    return text


def build_parser() -> argparse.ArgumentParser:
    p = Parser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Profiles: " + "; ".join(f"{k}: {v['about']}" for k, v in PROFILES.items()))
    p.add_argument("--profile", default="quick", type=_checked(_profile), help="smoke, quick (default) or full")
    p.add_argument("--list", action="store_true", help="list the profile's experiments and exit")
    p.add_argument("--only", metavar="PATTERN", help="run only experiments whose name matches (glob or substring)")
    p.add_argument("--data-dir", type=_checked(_data_dir), help="folder with mnist.npz and cifar-10-python.tar.gz (offline use)")
    p.add_argument("--output-dir", default=str(default_output_dir()),
                   help="where runs, notebooks and the summary go (default: outputs/ at the repository root, or "
                        f"${OUTPUT_DIR_ENV}; the notebooks use the same folder)")
    p.add_argument("--jobs", default=1, type=_checked(_jobs), help="experiments to execute at once, each in its own process (default 1)")
    p.add_argument("--force", action="store_true", help="rerun experiments that already finished")
    p.add_argument("--shard", metavar="i/n", type=_checked(parse_shard),
                   help="run only the i-th of n deterministic shares of the matrix (default: from SLURM_ARRAY_TASK_ID "
                        f"in a SLURM array, or JOB_COMPLETION_INDEX and {SHARD_COUNT_VAR} in a Kubernetes Indexed Job)")
    p.add_argument("--timeout", type=_checked(_seconds("--timeout", 0, strict=True)), default=None, help="seconds allowed per notebook (default: no limit)")
    p.add_argument("--pdf", nargs="?", const="report", choices=["report", "all"],
                   help="build <output-dir>/report.pdf and report.html from the results; 'all' also exports every "
                        "executed notebook to its own PDF (needs xelatex; exit status 3 when the PDF was not built)")
    p.add_argument("--report-only", action="store_true",
                   help="train nothing: wait for the workers on --output-dir, then build the appendix and the PDF "
                        "from every finished run (what a cluster's last step runs)")
    p.add_argument("--no-report", action="store_true",
                   help="never build the report here, even as the last worker: a later --report-only step does "
                        "(the SLURM recipe's array tasks)")
    p.add_argument("--wait", type=_checked(_seconds("--wait", 0, strict=False)), default=86400.0, metavar="SECONDS",
                   help="with --report-only: how long to wait for experiments running elsewhere (default 86400)")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    return p


def _terminate(signum, frame):
    raise SystemExit(128 + signum)  # run_jobs ends its notebooks and frees their claims on the way out


def main(argv=None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.worker:
            return worker(args.worker)
        n_jobs = args.jobs
        shard, shard_source = None, None
        if not args.report_only:  # the report covers every share
            if args.shard:
                shard = args.shard
            else:
                text, shard_source = shard_from_env() or (None, None)
                shard = parse_shard(text)
        try:
            selected = experiments_for(args.profile, args.only)
        except ValueError as e:
            raise UsageError(str(e)) from None
        appendix = next((e for e in selected if e.notebook == NOTEBOOKS["appendix"]), None)
        share = [] if args.report_only else [e for e in selected if e is not appendix and in_shard(e, shard)]
        output_dir = Path(args.output_dir).resolve()
        data_dir = str(Path(args.data_dir).resolve()) if args.data_dir else None
        jobs = [(e, parameters_for(e, args.profile, str(output_dir), data_dir)) for e in share]
        if args.list:
            for exp in share + ([appendix] if appendix else []):
                holder = read_holder(claim_path(output_dir, exp.name))
                state = ("finished" if is_finished(exp, output_dir) else
                         f"running ({holder.who})" if holder and not holder.gone() else "to run")
                print(f"{exp.name:42s} {exp.notebook:30s} {state}")
            return 0
        if args.report_only and appendix is None:
            raise UsageError(f"--report-only: profile {args.profile!r} has no evaluation appendix to build.")
        check_parameters(jobs + ([(appendix, parameters_for(appendix, args.profile, str(output_dir)))]
                                 if appendix else []))
        check_output_dir(output_dir)
        todo = [(e, p) for e, p in jobs if args.force or not is_finished(e, output_dir)]
        check_data_access(todo, args.profile, data_dir)
    except UsageError as e:
        print(f"run_all.py: error: {e}", file=sys.stderr)
        return 2
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return run(args, selected, appendix, jobs, todo, shard, shard_source, output_dir, n_jobs)
    finally:
        signal.signal(signal.SIGTERM, previous)


def run(args, selected, appendix, jobs, todo, shard, shard_source, output_dir: Path, n_jobs: int) -> int:
    """Work through our share, then (if last) the report; summarise the folder."""
    started_at, t0 = time.time(), time.perf_counter()
    who = f"{socket.gethostname()} pid {os.getpid()}"
    since = started_at if args.force else 0.0  # --force: what another worker reran after we started counts
    if shard_source:
        print(f"Shard {shard[0]}/{shard[1]} (from {shard_source})", flush=True)
    registration = Registration(output_dir, worker=who, role="report" if args.report_only else "worker",
                                profile=args.profile, only=args.only, shard=shard)
    outcome, report_state = {}, None
    try:
        if args.report_only:
            print(f"Report only: profile {args.profile}, output in {output_dir}", flush=True)
            running = wait_for_others(selected, output_dir, args.wait, registration.path)
        else:
            share = f" (shard {shard[0]}/{shard[1]})" if shard else ""
            print(f"Profile {args.profile}{share}: {len(jobs)} experiments, {len(todo)} to run, "
                  f"{len(jobs) - len(todo)} already finished; output in {output_dir}", flush=True)
            outcome = run_jobs(todo, output_dir, n_jobs, args.timeout, since, who)
            running = []
            report_state = ("no appendix selected" if appendix is None else
                            "left to run_all.py --report-only (--no-report)" if args.no_report else
                            last_to_finish(registration, selected, output_dir))
            if appendix:
                print("Report: " + ("this worker is the last to finish: building it" if report_state is None else
                                    f"not built here, {report_state}"), flush=True)
        if appendix and report_state is None:  # built after this moment by another worker: as good as ours
            params = appendix_parameters(appendix, args.profile, output_dir, args.only, running)
            outcome.update(run_jobs([(appendix, params)], output_dir, 1, args.timeout, time.time(), who))
    finally:
        registration.close()
    names = {e.name for e, _ in jobs}
    rows = [folder_row(e, output_dir, names, started_at, outcome.get(e.name)) for e in selected]
    write_summary(rows, output_dir)
    counts = {s: sum(r["status"] == s for r in rows) for s in dict.fromkeys(r["status"] for r in rows)}
    failed = [r["experiment"] for r in rows if r["status"] in FAILED]
    print(f"Wall time {time.perf_counter() - t0:.0f} s; "
          + ", ".join(f"{n} {s}" for s, n in counts.items() if s not in FAILED)
          + f"; {len(failed)} failed" + (f": {', '.join(failed)}" if failed else ""))
    which = args.pdf or ("report" if args.report_only else None)
    built = outcome.get(appendix.name, {}) if appendix else {}
    if built.get("status", "").endswith("elsewhere"):
        print(f"Report: built by {built.get('worker')} (another worker that finished at the same time)")
    elif which and appendix and report_state is None:
        if built.get("status") != "ok":
            print("Report: the evaluation appendix did not run through; no PDF (see its log).", file=sys.stderr)
            return 3
        if not make_report(output_dir, args.profile, which):
            return 3
    elif which and appendix is None and not make_report(output_dir, args.profile, which):
        return 3
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
