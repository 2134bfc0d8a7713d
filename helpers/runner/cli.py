"""``run_all.py``'s command line: its options, each checked in one line (a ``UsageError``) before anything runs,
and ``main``, which works out the experiments, checks them and hands them to ``session.run``."""

from __future__ import annotations

import argparse
import re
import signal
import sys
from pathlib import Path

from helpers.experiments import PROFILES, experiments_for, parameters_for
from helpers.runner.estimate import reference_seconds
from helpers.runner.folder import list_state
from helpers.runner.markers import is_finished
from helpers.runner.preflight import check_data_access, check_output_dir, check_parameters, keep_profile
from helpers.runner.session import run
from helpers.runner.shards import SHARD_COUNT_VAR, UsageError, parse_shard, shard_from_env, share_of
from helpers.runner.worker import worker
from helpers.runs import OUTPUT_DIR_ENV, default_output_dir

__all__ = ["build_parser", "main"]

DESCRIPTION = "Execute the course's notebooks headless with papermill, one experiment per process, and summarise."


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


def _whole(option: str, minimum: int):
    def whole(text: str) -> int:
        if not text.isdigit() or int(text) < minimum:
            raise UsageError(f"{option} {text!r}: expected a whole number >= {minimum}.")
        return int(text)

    return whole


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
    p = Parser(
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Profiles: " + "; ".join(f"{k}: {v['about']}" for k, v in PROFILES.items()),
    )
    p.add_argument("--profile", default="quick", type=_checked(_profile), help="smoke, quick (default) or full")
    p.add_argument("--list", action="store_true", help="list the profile's experiments and exit")
    p.add_argument(
        "--seed",
        type=_checked(_whole("--seed", 0)),
        help="seed every run's split, initial weights, shuffling and augmentation (default: the notebooks' 0); "
        "another seed is another sample of the same experiment: give it its own --output-dir",
    )
    p.add_argument(
        "--only",
        metavar="PATTERN",
        help="run only experiments whose name matches (glob or substring; several, comma-separated)",
    )
    p.add_argument(
        "--data-dir", type=_checked(_data_dir), help="folder with mnist.npz and cifar-10-python.tar.gz (offline use)"
    )
    p.add_argument(
        "--output-dir",
        default=str(default_output_dir()),
        help="where runs, notebooks and the summary go (default: outputs/ at the repository root, or "
        f"${OUTPUT_DIR_ENV}; the notebooks use the same folder)",
    )
    p.add_argument(
        "--jobs",
        default=1,
        type=_checked(_whole("--jobs", 1)),
        help="experiments to execute at once, each in its own process (default 1)",
    )
    p.add_argument("--force", action="store_true", help="rerun experiments that already finished")
    p.add_argument(
        "--shard",
        metavar="i/n",
        type=_checked(parse_shard),
        help="run only the i-th of n deterministic shares of the matrix (default: from SLURM_ARRAY_TASK_ID "
        f"in a SLURM array, or JOB_COMPLETION_INDEX and {SHARD_COUNT_VAR} in a Kubernetes Indexed Job)",
    )
    p.add_argument(
        "--timeout",
        type=_checked(_seconds("--timeout", 0, strict=True)),
        default=None,
        help="seconds allowed per notebook (default: no limit)",
    )
    p.add_argument(
        "--pdf",
        nargs="?",
        const="report",
        choices=["report", "all"],
        help="build <output-dir>/report.pdf and report.html from the results (the quick and full profiles do "
        "by default); 'all' also exports every executed notebook to its own PDF (needs xelatex; exit status 3 "
        "when the PDF was not built)",
    )
    p.add_argument(
        "--no-pdf", action="store_true", help="no report.pdf (quick and full build it by default when TeX is here)"
    )
    p.add_argument(
        "--report-only",
        action="store_true",
        help="train nothing: wait for the workers on --output-dir, then build the appendix and the PDF "
        "from every finished run (what a cluster's last step runs)",
    )
    p.add_argument(
        "--no-report",
        action="store_true",
        help="never build the report here, even as the last worker: a later --report-only step does "
        "(the SLURM recipe's array tasks)",
    )
    p.add_argument(
        "--wait",
        type=_checked(_seconds("--wait", 0, strict=False)),
        default=86400.0,
        metavar="SECONDS",
        help="with --report-only: how long to wait for experiments running elsewhere (default 86400)",
    )
    p.add_argument(
        "--count-shards",
        action="store_true",
        help="print how many shares of this selection get work (the most array tasks worth starting) and exit",
    )
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
        waiting = [e for e in selected if e.needs]  # they read the runs: the report step runs them, after the runs
        appendix = next((e for e in waiting if e.needs == "all"), None)  # the report (session.run finds it so too)
        output_dir = Path(args.output_dir).resolve()
        if args.count_shards:
            print(sum(not e.needs for e in selected))
            return 0

        def seconds(exp):  # the kit's reference time, the same on every machine: every worker cuts the same shares
            return reference_seconds(exp, parameters_for(exp, args.profile, str(output_dir)))

        share = [] if args.report_only else share_of(selected, shard, seconds)
        data_dir = str(Path(args.data_dir).resolve()) if args.data_dir else None
        jobs = [(e, parameters_for(e, args.profile, str(output_dir), data_dir, args.seed)) for e in share]
        if args.list:
            for exp in share + waiting:
                print(f"{exp.name:42s} {exp.notebook:30s} {list_state(exp, output_dir)}")
            return 0
        if args.report_only and appendix is None:
            raise UsageError(f"--report-only: profile {args.profile!r} has no evaluation appendix to build.")
        check_parameters(jobs + [(e, parameters_for(e, args.profile, str(output_dir))) for e in waiting])
        check_output_dir(output_dir, args.profile)
        todo = [(e, p) for e, p in jobs if args.force or not is_finished(e, output_dir)]
        check_data_access(todo, args.profile, data_dir)
        keep_profile(output_dir, args.profile)
    except UsageError as e:
        print(f"run_all.py: error: {e}", file=sys.stderr)
        return 2
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return run(args, selected, waiting, jobs, todo, shard, shard_source, output_dir, n_jobs)
    finally:
        signal.signal(signal.SIGTERM, previous)
