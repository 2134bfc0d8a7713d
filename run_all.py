#!/usr/bin/env python
"""Execute the course's notebooks headless with papermill, one experiment per process, and summarise.

    python run_all.py                      # the `quick` profile (real data, small subsets, 8-25 epochs)
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
import os
import re
import signal
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers.claims import read_holder  # noqa: E402
from helpers.experiments import NOTEBOOKS, PROFILES, Experiment, experiments_for, parameters_for  # noqa: E402
from helpers.folder import folder_row, last_to_finish, wait_for_others, write_summary  # noqa: E402
from helpers.jobs import run_jobs, worker  # noqa: E402
from helpers.markers import FAILED, is_finished  # noqa: E402
from helpers.preflight import check_data_access, check_output_dir, check_parameters, notebook_parameters  # noqa: E402
from helpers.runs import OUTPUT_DIR_ENV, default_output_dir  # noqa: E402
from helpers.shards import SHARD_COUNT_VAR, UsageError, in_shard, parse_shard, shard_from_env  # noqa: E402
from helpers.workers import Registration, claim_path  # noqa: E402

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
