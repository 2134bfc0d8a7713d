"""One worker's session on the output folder: its share of the experiments, then (if it is the last to finish)
the evaluation appendix and the report, and the summary of the whole folder."""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

from helpers.experiments import PROFILES, Experiment, parameters_for
from helpers.report.export import build_report, xelatex_available
from helpers.runner.console import Console
from helpers.runner.estimate import Estimate
from helpers.runner.folder import folder_row, last_to_finish, wait_for_others, write_summary
from helpers.runner.jobs import run_jobs
from helpers.runner.markers import FAILED
from helpers.runner.preflight import notebook_parameters
from helpers.runner.workers import Registration
from helpers.runs import finished_runs

__all__ = ["appendix_parameters", "make_report", "run"]


def appendix_parameters(exp: Experiment, profile: str, output_dir: Path, only: str | None, running: list[str]) -> dict:
    """The appendix's parameters: its output folder and profile, and, where the notebook has them, the --only
    pattern (so that experiments left out are not 'missing') and the experiments still running elsewhere."""
    params = parameters_for(exp, profile, str(output_dir))
    declared = notebook_parameters(exp.notebook)
    if "only" in declared:
        params["only"] = only or ""
    if "running" in declared:
        params["running"] = sorted(running)
    return params


def report_step(exp: Experiment, args, output_dir: Path, running: list[str], who: str, console) -> dict:
    """One experiment of the report step, or why it did not run: 06 needs a finished run to interpret."""
    if exp.needs == "runs" and finished_runs(output_dir).empty:
        print(f"{exp.name}: skipped, no finished run in {output_dir / 'runs'} to interpret", flush=True)
        return {exp.name: {"status": "skipped", "error": "no finished run to interpret", "worker": who}}
    if exp.needs == "all":
        params = appendix_parameters(exp, args.profile, output_dir, args.only, running)
    else:
        params = parameters_for(exp, args.profile, str(output_dir), seed=args.seed)
    return run_jobs([(exp, params)], output_dir, 1, args.timeout, time.time(), who, console)


def make_report(output_dir: Path, profile: str, which: str) -> bool:
    """Export the report; False (after saying why in one line) when the PDF was not built."""
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


def start_console(todo, waiting, args, output_dir: Path, headline: str) -> Console:
    """Say where the logs are, what runs (``headline``) and how long the job will take on this machine; the console
    that shows its progress."""
    report = bool(waiting) and not args.no_report
    planned = list(todo) + ([(e, parameters_for(e, args.profile, str(output_dir))) for e in waiting] if report else [])
    estimate = Estimate(planned)
    print(
        f"Logs: {output_dir / 'logs'}/<experiment>.log, one an experiment (all its notebook printed); the executed "
        f"notebooks: {output_dir / 'runs'}/<experiment>/notebook.ipynb",
        flush=True,
    )
    then = ", ".join(e.notebook for e in waiting)
    print(headline + (f"; then, over the runs that exist, the report step ({then})" if report else ""), flush=True)
    for line in estimate.lines():
        print(line, flush=True)
    return Console(estimate.seconds, output_dir)


def run(args, selected, waiting, jobs, todo, shard, shard_source, output_dir: Path, n_jobs: int) -> int:
    """Work through our share, then (if last) the report step: the experiments that read the runs (``waiting``: 06,
    then the appendix), over the runs that exist by then; summarise the folder."""
    appendix = next((e for e in waiting if e.needs == "all"), None)
    started_at, t0 = time.time(), time.perf_counter()
    who = f"{socket.gethostname()} pid {os.getpid()}"
    since = started_at if args.force else 0.0  # --force: what another worker reran after we started counts
    if shard_source:
        print(f"Shard {shard[0]}/{shard[1]} (from {shard_source})", flush=True)
    registration = Registration(
        output_dir,
        worker=who,
        role="report" if args.report_only else "worker",
        profile=args.profile,
        only=args.only,
        shard=shard,
    )
    outcome, report_state, console = {}, None, None
    try:
        if args.report_only:
            print(f"Report only: profile {args.profile}, output in {output_dir}", flush=True)
            running = wait_for_others(selected, output_dir, args.wait, registration.path)
        else:
            share = f" (shard {shard[0]}/{shard[1]})" if shard else ""
            headline = (
                f"Profile {args.profile}{share}: {len(jobs)} experiments, {len(todo)} to run, "
                f"{len(jobs) - len(todo)} already finished; output in {output_dir}"
            )
            console = start_console(todo, waiting, args, output_dir, headline)
            outcome = run_jobs(todo, output_dir, n_jobs, args.timeout, since, who, console)
            running = []
            if appendix is None:
                report_state = "no appendix selected"
            elif args.no_report:
                report_state = "left to run_all.py --report-only (--no-report)"
            else:
                report_state = last_to_finish(registration, selected, output_dir)
            if appendix:
                built_here = "this worker is the last to finish: building it"
                print(
                    f"Report: {built_here if report_state is None else f'not built here, {report_state}'}", flush=True
                )
        if appendix and report_state is None:  # built after this moment by another worker: as good as ours
            for exp in waiting:
                outcome.update(report_step(exp, args, output_dir, running, who, console))
    finally:
        registration.close()
    names = {e.name for e, _ in jobs}
    rows = [folder_row(e, output_dir, names, started_at, outcome.get(e.name)) for e in selected]
    write_summary(rows, output_dir)
    counts = {s: sum(r["status"] == s for r in rows) for s in dict.fromkeys(r["status"] for r in rows)}
    failed = [r["experiment"] for r in rows if r["status"] in FAILED]
    done = ", ".join(f"{n} {s}" for s, n in counts.items() if s not in FAILED)
    print(
        f"Wall time {time.perf_counter() - t0:.0f} s; "
        + (f"{done}; " if done else "")
        + f"{len(failed)} failed"
        + (f": {', '.join(failed)}" if failed else "")
    )
    if console is not None and console.actual:
        print("\nTime on this machine, estimated vs actual\n" + console.comparison().to_string(index=False))
    asked = args.pdf or ("report" if args.report_only else None)
    which = asked or (None if args.no_pdf else PROFILES[args.profile].get("pdf"))  # quick and full: the PDF too
    failed_pdf = 3 if asked or xelatex_available() else 0  # by the profile's default, TeX missing is one line
    built = outcome.get(appendix.name, {}) if appendix else {}
    if built.get("status", "").endswith("elsewhere"):
        print(f"Report: built by {built.get('worker')} (another worker that finished at the same time)")
    elif which and appendix and report_state is None:
        if built.get("status") != "ok":
            print("Report: the evaluation appendix did not run through; no PDF (see its log).", file=sys.stderr)
            return 3
        if not make_report(output_dir, args.profile, which):
            return failed_pdf
    elif which and appendix is None and not make_report(output_dir, args.profile, which):
        return failed_pdf
    return 1 if failed else 0
